//! What every workflow shares: [`Invalid`], the refusal of input that breaks a rule, with a
//! stable code for clients and a sentence for people. Services wrap it in their own error
//! enums; only the HTTP and WebSocket edges decide which status it becomes.

/// Input a workflow refuses.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Invalid {
    /// Stable and machine-readable, e.g. `invalid_title`.
    pub code: &'static str,
    pub message: String,
}

impl Invalid {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}
