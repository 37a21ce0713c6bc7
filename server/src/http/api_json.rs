use axum::extract::{FromRequest, Request};
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
            return Err(ApiError::validation(
                "invalid_text",
                "Text cannot contain the NUL character (\\u0000); remove it and try again.",
            ));
        }
        serde_json::from_value(value)
            .map(ApiJson)
            .map_err(|e| ApiError::BadRequest(format!("Invalid JSON body: {e}")))
    }
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
