use axum::extract::FromRequest;

use super::error::ApiError;

/// `Json<T>` whose rejections (bad syntax, wrong content type, missing fields) answer in the
/// API's error shape.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);
