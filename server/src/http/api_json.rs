use axum::{
    body::Body,
    extract::{FromRequest, Request},
    middleware::Next,
    response::{IntoResponse, Response},
};
use serde::de::DeserializeOwned;

use super::error::ApiError;

/// `Json<T>` whose rejections (bad syntax, wrong content type, an empty body, missing fields)
/// answer in the API's error shape, and which refuses text no database can store: a NUL
/// character (`\u0000`) anywhere in the body is a 422 `invalid_text`, on SQLite as on
/// PostgreSQL (whose text columns cannot hold it), before any handler sees it.
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let axum::Json(value) = axum::Json::<serde_json::Value>::from_request(request, state)
            .await
            .map_err(ApiError::from)?;
        if holds_nul(&value) {
            return Err(nul_refused());
        }
        serde_json::from_value(value)
            .map(ApiJson)
            .map_err(|e| ApiError::BadRequest(format!("Invalid JSON body: {e}")))
    }
}

fn nul_refused() -> ApiError {
    ApiError::validation(
        "invalid_text",
        "Text cannot contain the NUL character (\\u0000); remove it and try again.",
    )
}

/// The same refusal for the page forms (`application/x-www-form-urlencoded`): a NUL in any
/// field is a 422 before the form's handler runs. Forms are small: a body over 1 MiB is
/// refused as well.
pub async fn refuse_nul_in_form(request: Request, next: Next) -> Response {
    let is_form = request
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 1 << 20).await else {
        return ApiError::BadRequest("The form is too large.".into()).into_response();
    };
    let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes).unwrap_or_default();
    if fields
        .iter()
        .any(|(name, value)| name.contains('\0') || value.contains('\0'))
    {
        return nul_refused().into_response();
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// Whether any string of the document, or any key, holds a NUL.
fn holds_nul(value: &serde_json::Value) -> bool {
    use serde_json::Value;
    match value {
        Value::String(text) => text.contains('\0'),
        Value::Array(items) => items.iter().any(holds_nul),
        Value::Object(fields) => fields
            .iter()
            .any(|(key, value)| key.contains('\0') || holds_nul(value)),
        Value::Null | Value::Bool(_) | Value::Number(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn a_nul_is_found_at_any_depth_and_in_keys() {
        assert!(!super::holds_nul(&json!({"a": ["b", {"c": "d"}], "n": 1})));
        assert!(super::holds_nul(&json!({"a": ["b", {"c": "d\u{0}"}]})));
        assert!(super::holds_nul(&json!({"k\u{0}": 1})));
        // An escaped backslash followed by `u0000` is ordinary text.
        let escaped: serde_json::Value = serde_json::from_str(r#"{"a": "\\u0000"}"#).unwrap();
        assert!(!super::holds_nul(&escaped));
    }
}
