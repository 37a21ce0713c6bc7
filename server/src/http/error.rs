//! The one error type of the HTTP edge. Every variant maps to a status and a stable
//! `{"error": {"code", "message"}}` body; internal causes are logged, never shown. The
//! services' own errors become it here, in one place, so no service knows about statuses.

use axum::{
    http::{header::RETRY_AFTER, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use serde::Serialize;

use crate::{
    admin::AdminError, attachments::AttachmentError, auth::AuthError, chat::ChatError,
    domain::Invalid, limits::RetryAfter, settings::SettingsError, usage::UsageError,
};

/// How long a client told `too_many_replies` waits before trying again: about a short reply.
const REPLY_SLOT_RETRY: RetryAfter = RetryAfter(std::time::Duration::from_secs(5));
/// How long a client told `server_busy` waits: a few hashes' time.
const BUSY_RETRY: RetryAfter = RetryAfter(std::time::Duration::from_secs(2));

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{message}")]
    Validation { code: &'static str, message: String },
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    #[error("{message}")]
    Unauthorized { code: &'static str, message: String },
    #[error("{message}")]
    Forbidden { code: &'static str, message: String },
    #[error("not found")]
    NotFound,
    /// The request names a host this server does not answer for (see `http::host_check`).
    #[error("This server does not answer for that host name. Its operator sets PUBLIC_URL to the address people use.")]
    UnknownHost,
    /// The send's worst-case cost does not fit what is left of the monthly budget.
    #[error("{0}")]
    BudgetExceeded(String),
    #[error("{0}")]
    BadRequest(String),
    /// An upload past a size limit: 413.
    #[error("{message}")]
    TooLarge { code: &'static str, message: String },
    /// An upload of a type we do not take: 415.
    #[error("{message}")]
    UnsupportedMediaType { code: &'static str, message: String },
    /// A limit of ours: 429 with `Retry-After`.
    #[error("{message}")]
    TooManyRequests {
        code: &'static str,
        message: String,
        retry_after: RetryAfter,
    },
    /// The server is saturated: 503 `server_busy` with `Retry-After`.
    #[error("The server is busy. Please try again in a moment.")]
    Busy(RetryAfter),
    #[error("database error: {0}")]
    Database(#[from] sea_orm::DbErr),
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn validation(code: &'static str, message: impl Into<String>) -> Self {
        Self::Validation {
            code,
            message: message.into(),
        }
    }

    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> Self {
        Self::Unauthorized {
            code,
            message: message.into(),
        }
    }

    pub fn too_many_requests(
        code: &'static str,
        message: impl Into<String>,
        retry_after: RetryAfter,
    ) -> Self {
        Self::TooManyRequests {
            code,
            message: message.into(),
            retry_after,
        }
    }

    /// The wait a refusal asks for, for its `Retry-After` header.
    pub fn retry_after(&self) -> Option<RetryAfter> {
        match self {
            Self::TooManyRequests { retry_after, .. } | Self::Busy(retry_after) => {
                Some(*retry_after)
            }
            _ => None,
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::Validation { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            Self::Forbidden { .. } => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::UnknownHost => StatusCode::MISDIRECTED_REQUEST,
            Self::BudgetExceeded(_) => StatusCode::PAYMENT_REQUIRED,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Busy(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Database(_) | Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The machine-readable code clients can branch on.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Validation { code, .. }
            | Self::Conflict { code, .. }
            | Self::Unauthorized { code, .. }
            | Self::Forbidden { code, .. }
            | Self::TooLarge { code, .. }
            | Self::UnsupportedMediaType { code, .. }
            | Self::TooManyRequests { code, .. } => code,
            Self::NotFound => "not_found",
            Self::UnknownHost => "unknown_host",
            Self::BudgetExceeded(_) => "budget_exceeded",
            Self::BadRequest(_) => "bad_request",
            Self::Busy(_) => "server_busy",
            Self::Database(_) | Self::Internal(_) => "internal",
        }
    }

    fn public_message(&self) -> String {
        match self {
            Self::Database(_) | Self::Internal(_) => {
                "Something went wrong on our side. Please try again.".into()
            }
            Self::NotFound => "Not found.".into(),
            other => other.to_string(),
        }
    }
}

/// The body of every error answer, as the OpenAPI document describes it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable and machine-readable: `not_found`, `invalid_title`, `budget_exceeded`, …
    pub code: String,
    /// A sentence for a person.
    pub message: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status().is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code().to_owned(),
                message: self.public_message(),
            },
        };
        let mut response = (self.status(), Json(body)).into_response();
        if let Some(retry_after) = self.retry_after() {
            response
                .headers_mut()
                .insert(RETRY_AFTER, retry_after.seconds().into());
        }
        response
    }
}

/// Malformed JSON bodies get our error shape instead of axum's plain-text rejection.
impl From<axum::extract::rejection::JsonRejection> for ApiError {
    fn from(rejection: axum::extract::rejection::JsonRejection) -> Self {
        Self::BadRequest(format!("Invalid JSON body: {}", rejection.body_text()))
    }
}

impl From<Invalid> for ApiError {
    fn from(invalid: Invalid) -> Self {
        Self::Validation {
            code: invalid.code,
            message: invalid.message,
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(error: AuthError) -> Self {
        let message = error.to_string();
        match error {
            AuthError::Invalid(invalid) => invalid.into(),
            AuthError::InvalidCredentials => Self::unauthorized("invalid_credentials", message),
            AuthError::EmailTaken => Self::Conflict {
                code: "email_taken",
                message,
            },
            AuthError::NotLoggedIn => Self::unauthorized("unauthorized", message),
            AuthError::SessionExpired | AuthError::AccountGone => {
                Self::unauthorized("session_expired", message)
            }
            AuthError::InvalidToken => Self::unauthorized("invalid_token", message),
            AuthError::AccountDisabled => Self::unauthorized("account_disabled", message),
            AuthError::PendingApproval => Self::Forbidden {
                code: "pending_approval",
                message,
            },
            AuthError::RegistrationClosed => Self::Forbidden {
                code: "registration_closed",
                message,
            },
            AuthError::InviteRequired => Self::Forbidden {
                code: "invite_required",
                message,
            },
            AuthError::InvalidInvite => Self::Forbidden {
                code: "invalid_invite",
                message,
            },
            AuthError::LastAdmin => Self::Conflict {
                code: "last_admin",
                message,
            },
            AuthError::SessionNotFound | AuthError::NotFound => Self::NotFound,
            AuthError::Busy => Self::Busy(BUSY_RETRY),
            AuthError::Database(e) => Self::Database(e),
            AuthError::Internal(e) => Self::Internal(e),
        }
    }
}

impl From<ChatError> for ApiError {
    fn from(error: ChatError) -> Self {
        match error {
            ChatError::Invalid(invalid) => invalid.into(),
            ChatError::NotFound => Self::NotFound,
            ChatError::BudgetExceeded(message) => Self::BudgetExceeded(message),
            ChatError::TooManyReplies(_) => {
                Self::too_many_requests("too_many_replies", error.to_string(), REPLY_SLOT_RETRY)
            }
            ChatError::BadCursor => Self::BadRequest(error.to_string()),
            // The conversation was deleted between the ownership check and the write (a send
            // racing a delete): it is gone, not a server fault.
            ChatError::Database(e)
                if matches!(
                    e.sql_err(),
                    Some(sea_orm::SqlErr::ForeignKeyConstraintViolation(_))
                ) =>
            {
                Self::NotFound
            }
            ChatError::Database(e) => Self::Database(e),
            ChatError::Internal(e) => Self::Internal(e),
        }
    }
}

impl From<AdminError> for ApiError {
    fn from(error: AdminError) -> Self {
        match error {
            AdminError::Invalid(invalid) => invalid.into(),
            AdminError::NotFound => Self::NotFound,
            AdminError::ModelExists => Self::Conflict {
                code: "model_exists",
                message: error.to_string(),
            },
            AdminError::Database(e) => Self::Database(e),
        }
    }
}

impl From<SettingsError> for ApiError {
    fn from(error: SettingsError) -> Self {
        match error {
            SettingsError::Invalid(invalid) => invalid.into(),
            SettingsError::Model(e) => e.into(),
            SettingsError::Database(e) => Self::Database(e),
        }
    }
}

impl From<UsageError> for ApiError {
    fn from(error: UsageError) -> Self {
        match error {
            UsageError::Invalid(invalid) => invalid.into(),
            UsageError::Database(e) => Self::Database(e),
        }
    }
}

impl From<AttachmentError> for ApiError {
    fn from(error: AttachmentError) -> Self {
        let message = error.to_string();
        match error {
            AttachmentError::FileTooLarge(_) => Self::TooLarge {
                code: "file_too_large",
                message,
            },
            AttachmentError::QuotaExceeded(_) => Self::TooLarge {
                code: "quota_exceeded",
                message,
            },
            AttachmentError::UnsupportedType => Self::UnsupportedMediaType {
                code: "unsupported_file_type",
                message,
            },
            AttachmentError::NoFile => Self::validation("missing_file", message),
            AttachmentError::BadUpload(_) => Self::BadRequest(message),
            AttachmentError::NotFound => Self::NotFound,
            AttachmentError::Database(e) => Self::Database(e),
            AttachmentError::Storage(e) => Self::Internal(e.to_string()),
            AttachmentError::Internal(e) => Self::Internal(e),
        }
    }
}
