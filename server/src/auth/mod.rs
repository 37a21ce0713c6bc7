//! Accounts and sessions: password hashing, JWTs, the register/log-in workflow, and the
//! extractors that turn a cookie or `Authorization: Bearer` header into a user.

pub mod credentials;
pub mod password;
pub mod service;
pub mod session;
pub mod token;
