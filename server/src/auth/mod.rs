//! Accounts and sessions: password hashing, JWTs, the register/log-in workflow, the revocable
//! sessions tokens belong to, personal API tokens, invites, and who may do what (status and
//! role, changed by admins and the operator). Turning a request's cookie or bearer header into
//! a user is the HTTP edge's job (`http::session`).

pub mod access;
pub mod api_tokens;
pub mod credentials;
mod error;
pub mod invites;
pub mod password;
pub mod service;
pub mod sessions;
pub mod token;

pub use error::AuthError;
