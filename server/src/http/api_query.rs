use axum::extract::{rejection::QueryRejection, FromRequestParts};

use super::error::ApiError;

/// `Query<T>` whose rejection (a parameter that is not of its type, such as `limit=abc`)
/// answers 400 in the API's error shape instead of axum's plain text.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        Self::BadRequest(format!("Invalid query string: {}", rejection.body_text()))
    }
}
