//! Accounts and sessions: password hashing, JWTs, the register/log-in workflow and the
//! revocable sessions tokens belong to. Turning a request's cookie or bearer header into a
//! user is the HTTP edge's job (`http::session`).

pub mod credentials;
mod error;
pub mod password;
pub mod service;
pub mod sessions;
pub mod token;

pub use error::AuthError;
