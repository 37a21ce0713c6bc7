//! What the chat workflows can fail with. The HTTP edge maps each to a status and a code.

use sea_orm::DbErr;

use crate::domain::Invalid;

#[derive(Debug, thiserror::Error)]
pub enum ChatError {
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// Not there, or someone else's: the two are never told apart.
    #[error("not found")]
    NotFound,
    /// The send's worst-case cost does not fit what is left of the monthly budget.
    #[error("{0}")]
    BudgetExceeded(String),
    /// As many of the user's replies as allowed are streaming; nothing was stored.
    #[error(
        "You already have {0} replies in progress. Wait for one to finish, or stop one, \
         then send again."
    )]
    TooManyReplies(u32),
    #[error("The cursor is not valid.")]
    BadCursor,
    #[error("database error: {0}")]
    Database(#[from] DbErr),
    #[error("internal error: {0}")]
    Internal(String),
}

impl ChatError {
    pub fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid(Invalid::new(code, message))
    }
}
