//! What registering, logging in and checking a session can fail with.

use sea_orm::DbErr;

use crate::domain::Invalid;

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// The same for an unknown email and a wrong password.
    #[error("Email or password is incorrect.")]
    InvalidCredentials,
    #[error("An account with this email already exists.")]
    EmailTaken,
    /// No session was presented.
    #[error("Log in to continue.")]
    NotLoggedIn,
    #[error("Your session has expired. Log in again.")]
    SessionExpired,
    #[error("Your session is not valid. Log in again.")]
    InvalidToken,
    /// A session id that is not one of the user's active sessions.
    #[error("No such session.")]
    SessionNotFound,
    /// A valid token of an account that was deleted since.
    #[error("Your account no longer exists.")]
    AccountGone,
    /// The account was disabled by an admin: its sessions and tokens let nobody in.
    #[error("This account is disabled. Ask an admin of this instance.")]
    AccountDisabled,
    /// Signed in, but an admin has not approved the account yet.
    #[error("Your account is waiting for an admin's approval.")]
    PendingApproval,
    #[error("Registration is closed on this instance.")]
    RegistrationClosed,
    #[error("Registration on this instance needs an invite. Ask an admin for a link.")]
    InviteRequired,
    /// Unknown, used, revoked, expired, or for another email: one answer for all, so codes
    /// cannot be probed.
    #[error("This invite is not valid any more (used, revoked or expired), or it is for another email address.")]
    InvalidInvite,
    /// The change would leave the instance without an active admin.
    #[error("This is the last active admin: make another admin first.")]
    LastAdmin,
    /// A user, token or invite that does not exist (or is not the caller's).
    #[error("not found")]
    NotFound,
    /// Every password-hashing slot stayed busy for the whole wait: the server is saturated.
    #[error("The server is busy. Please try again in a moment.")]
    Busy,
    #[error("database error: {0}")]
    Database(#[from] DbErr),
    #[error("internal error: {0}")]
    Internal(String),
}

impl AuthError {
    pub fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid(Invalid::new(code, message))
    }

    /// The presented credential does not (or no longer) prove who someone is.
    pub fn is_session_problem(&self) -> bool {
        matches!(
            self,
            Self::NotLoggedIn
                | Self::SessionExpired
                | Self::InvalidToken
                | Self::AccountGone
                | Self::AccountDisabled
        )
    }
}
