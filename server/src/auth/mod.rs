//! Accounts and sessions: password hashing, JWTs and the register/log-in workflow. Turning a
//! request's cookie or bearer header into a user is the HTTP edge's job (`http::session`).

pub mod credentials;
mod error;
pub mod password;
pub mod service;
pub mod token;

pub use error::AuthError;
