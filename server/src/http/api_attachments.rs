//! Uploads: `POST /api/attachments` (multipart, field `file`), `GET /api/attachments/{id}`
//! and `GET /api/attachments/{id}/content`. The file streams from the request to storage; its
//! bytes are served back with the type sniffed at upload, never sniffed again by the browser,
//! and as a download unless it is an image.

use app::wire::{AttachmentKind, AttachmentView};
use axum::{
    body::Body,
    extract::{multipart::MultipartRejection, Multipart, Path, State},
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use uuid::Uuid;

use super::openapi;
use crate::{
    attachments::AttachmentError, http::error::ApiError, http::session::AuthUser, state::AppState,
};

/// A multipart form with one file.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // Only describes the form for the OpenAPI document.
pub struct UploadForm {
    /// The file: a PNG, JPEG, WebP or GIF image, a PDF or DOCX document, or a UTF-8 text or
    /// source file.
    #[schema(content_media_type = "application/octet-stream")]
    file: Vec<u8>,
}

fn id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| ApiError::NotFound)
}

#[utoipa::path(
    post,
    path = "/api/attachments",
    tag = "attachments",
    request_body(content = inline(UploadForm), content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "The file is stored; send its id with a message.", body = AttachmentView),
        (status = 400, response = openapi::BadRequest),
        (status = 401, response = openapi::Unauthorized),
        (status = 403, response = openapi::Forbidden),
        (status = 413, description = "The file is past `MAX_UPLOAD_BYTES` (`file_too_large`) or the person's storage quota (`quota_exceeded`).", body = super::error::ErrorBody),
        (status = 415, description = "The bytes are not a type we take (`unsupported_file_type`), whatever the file's name says.", body = super::error::ErrorBody),
        (status = 422, response = openapi::Unprocessable),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn upload(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<(StatusCode, Json<AttachmentView>), ApiError> {
    let mut multipart = multipart.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    // The first field must be the file: anything before it would have to be read (and held)
    // to get there.
    let field = multipart
        .next_field()
        .await
        .map_err(|e| ApiError::BadRequest(e.body_text()))?
        .filter(|field| field.name() == Some("file"))
        .ok_or(AttachmentError::NoFile)?;
    let file_name = field.file_name().map(str::to_owned);
    let field = std::pin::pin!(field);
    let view = state
        .chat
        .attachments
        .upload(user.id, file_name.as_deref(), field)
        .await?;
    Ok((StatusCode::CREATED, Json(view)))
}

#[utoipa::path(
    get,
    path = "/api/attachments/{id}",
    tag = "attachments",
    params(("id" = Uuid, Path, description = "An attachment id.")),
    responses(
        (status = 200, description = "The attachment.", body = AttachmentView),
        (status = 401, response = openapi::Unauthorized),
        (status = 403, response = openapi::Forbidden),
        (status = 404, response = openapi::NotFound),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn get_attachment(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(raw): Path<String>,
) -> Result<Json<AttachmentView>, ApiError> {
    Ok(Json(state.chat.attachments.view(user.id, id(&raw)?).await?))
}

#[utoipa::path(
    get,
    path = "/api/attachments/{id}/content",
    tag = "attachments",
    params(("id" = Uuid, Path, description = "An attachment id.")),
    responses(
        (status = 200, description = "The bytes, with the type sniffed at upload, `X-Content-Type-Options: nosniff`, and `Content-Disposition: attachment` for everything but images.",
            content(
                ("image/png"), ("image/jpeg"), ("image/webp"), ("image/gif"),
                ("application/pdf"),
                ("application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
                ("text/plain; charset=utf-8"),
            )
        ),
        (status = 401, response = openapi::Unauthorized),
        (status = 403, response = openapi::Forbidden),
        (status = 404, response = openapi::NotFound),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn content(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    let (view, bytes) = state.chat.attachments.content(user.id, id(&raw)?).await?;
    let disposition = if view.kind == AttachmentKind::Image {
        "inline"
    } else {
        "attachment"
    };
    let mut response = Body::from_stream(bytes).into_response();
    let headers = response.headers_mut();
    let header_value = |value: &str| {
        HeaderValue::from_str(value).map_err(|e| ApiError::Internal(format!("header: {e}")))
    };
    headers.insert(header::CONTENT_TYPE, header_value(&view.content_type)?);
    headers.insert(header::CONTENT_LENGTH, view.size_bytes.into());
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        header_value(&content_disposition(disposition, &view.filename))?,
    );
    // Whatever a file holds, it runs nothing if opened directly.
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; img-src 'self'; sandbox"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=86400, immutable"),
    );
    Ok(response)
}

/// `inline` or `attachment` with the name twice: plain ASCII for old clients, and RFC 5987's
/// UTF-8 form for everyone else.
pub(super) fn content_disposition(disposition: &str, file_name: &str) -> String {
    let ascii: String = file_name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = file_name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("{disposition}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::content_disposition;

    #[test]
    fn the_download_name_is_quoted_safely_and_in_utf8() {
        assert_eq!(
            content_disposition("attachment", "résumé \"v2\".pdf"),
            "attachment; filename=\"r_sum_ _v2_.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%22v2%22.pdf"
        );
    }
}
