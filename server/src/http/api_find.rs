//! Finding and moving: `GET /api/search`, the exports (`/api/conversations/{id}/export`,
//! `/api/export`) and `POST /api/import`.

use app::wire::{ImportSummary, Page, SearchHit};
use axum::{
    body::Body,
    extract::{Path, State},
    http::{header, HeaderMap, HeaderValue},
    response::{IntoResponse, Response},
    Json,
};
use futures::StreamExt;
use serde::Deserialize;
use tokio::io::AsyncWriteExt;
use uuid::Uuid;

use super::{api_attachments::content_disposition, api_query::ApiQuery, openapi};
use crate::{
    chat::transfer::export::{all_start, ALL_END},
    http::{error::ApiError, session::AuthUser},
    state::AppState,
};

fn id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| ApiError::NotFound)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// The words to find, every one in the same message (the last also as a word's start).
    q: String,
    /// Hits per page, 1 to 50 (default 20).
    limit: Option<u64>,
    cursor: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/search",
    tag = "search",
    params(SearchQuery),
    responses(
        (status = 200, description = "The user's messages with every word, newest first, on any branch; `snippet` is plain text.", body = Page<SearchHit>),
        (status = 400, response = openapi::BadRequest),
        (status = 401, response = openapi::Unauthorized),
        (status = 403, response = openapi::Forbidden),
        (status = 422, response = openapi::Unprocessable),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn search(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiQuery(query): ApiQuery<SearchQuery>,
) -> Result<Json<Page<SearchHit>>, ApiError> {
    Ok(Json(
        state
            .chat
            .search(
                user.id,
                &query.q,
                query.cursor.as_deref(),
                query.limit.unwrap_or(20),
            )
            .await?,
    ))
}

#[derive(Clone, Copy, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    /// Every branch, with usage, prices and attachment metadata; `POST /api/import` reads it.
    #[default]
    Json,
    /// The branch shown, to read.
    Markdown,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    format: Option<ExportFormat>,
}

/// A file name from a title: its letters and digits, dashes between.
fn file_stem(title: &str) -> String {
    let words: Vec<String> = title
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    let mut stem: String = words.join("-").chars().take(60).collect();
    if stem.is_empty() {
        stem = "conversation".into();
    }
    stem
}

fn download(body: Body, content_type: &'static str, file_name: &str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(value) = HeaderValue::from_str(&content_disposition("attachment", file_name)) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[utoipa::path(
    get,
    path = "/api/conversations/{id}/export",
    tag = "export",
    params(("id" = Uuid, Path, description = "A conversation id."), ExportQuery),
    responses(
        (status = 200, description = "A download: JSON `{format: \"rustchat.conversation.v1\", conversation, messages}` with every branch, or Markdown of the branch shown.", content((serde_json::Value = "application/json"), (String = "text/markdown"))),
        (status = 400, response = openapi::BadRequest),
        (status = 401, response = openapi::Unauthorized),
        (status = 403, response = openapi::Forbidden),
        (status = 404, response = openapi::NotFound),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn export_conversation(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(raw): Path<String>,
    ApiQuery(query): ApiQuery<ExportQuery>,
) -> Result<Response, ApiError> {
    let id = id(&raw)?;
    match query.format.unwrap_or_default() {
        ExportFormat::Json => {
            let exported = state.chat.export_conversation(user.id, id).await?;
            let name = format!("{}.json", file_stem(&exported.conversation.title));
            let body = serde_json::to_vec_pretty(&exported)
                .map_err(|e| ApiError::Internal(e.to_string()))?;
            Ok(download(Body::from(body), "application/json", &name))
        }
        ExportFormat::Markdown => {
            let conversation = state.chat.conversation(user.id, id).await?;
            let text = state.chat.export_markdown(user.id, id).await?;
            let name = format!("{}.md", file_stem(&conversation.title));
            Ok(download(
                Body::from(text),
                "text/markdown; charset=utf-8",
                &name,
            ))
        }
    }
}

#[utoipa::path(
    get,
    path = "/api/export",
    tag = "export",
    responses(
        (status = 200, description = "A download of all the user's conversations: `{format: \"rustchat.export.v1\", conversations: [..]}`, each as the conversation export. Written as it is read, one conversation at a time.", content_type = "application/json"),
        (status = 401, response = openapi::Unauthorized),
        (status = 403, response = openapi::Forbidden),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn export_all(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> Result<Response, ApiError> {
    let ids = state.chat.conversation_ids(user.id).await?;
    let chat = state.chat.clone();
    let user_id = user.id;
    // The opening, each conversation (a comma before all but the first), the closing.
    let conversations =
        futures::stream::unfold((ids.into_iter(), true), move |(mut ids, first)| {
            let chat = chat.clone();
            async move {
                loop {
                    let id = ids.next()?;
                    match chat.exported_json(user_id, id).await {
                        Ok(Some(json)) => {
                            let piece = if first { json } else { format!(",{json}") };
                            return Some((Ok(piece), (ids, false)));
                        }
                        // Deleted since the list was read.
                        Ok(None) => continue,
                        Err(e) => {
                            tracing::error!(error = %e, "the export of everything broke off");
                            let cut: std::io::Error = std::io::Error::other(e.to_string());
                            return Some((Err(cut), (Vec::new().into_iter(), false)));
                        }
                    }
                }
            }
        });
    let body = futures::stream::once(async { Ok(all_start()) })
        .chain(conversations)
        .chain(futures::stream::once(async { Ok(ALL_END.to_owned()) }));
    let date = chrono::Utc::now().format("%Y-%m-%d");
    Ok(download(
        Body::from_stream(body),
        "application/json",
        &format!("rustchat-export-{date}.json"),
    ))
}

#[utoipa::path(
    post,
    path = "/api/import",
    tag = "export",
    request_body(content = serde_json::Value, description = "The file as it was saved: our export of everything or of one conversation, or ChatGPT's `conversations.json`.", content_type = "application/json"),
    responses(
        (status = 200, description = "What was imported. Conversations already here (by their source id) are skipped, so importing a file again imports nothing.", body = ImportSummary),
        (status = 400, response = openapi::BadRequest),
        (status = 401, response = openapi::Unauthorized),
        (status = 403, response = openapi::Forbidden),
        (status = 413, description = "The file is larger than `MAX_IMPORT_BYTES` (`payload_too_large`); nothing was imported.", body = super::error::ErrorBody),
        (status = 422, response = openapi::Unprocessable),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn import(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<ImportSummary>, ApiError> {
    let limit = state.config.chat_limits.max_import_bytes;
    let too_large = || ApiError::TooLarge {
        code: "payload_too_large",
        message: format!(
            "The file is larger than this server imports ({} MB). Nothing was imported.",
            limit / 1_000_000
        ),
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit) {
        return Err(too_large());
    }
    // Spooled to an unnamed file (gone when closed) in the data folder: the import reads it
    // twice, and never holds more than one conversation of it in memory.
    let dir = state.config.data_dir.clone();
    let file = tokio::task::spawn_blocking(move || tempfile::tempfile_in(dir))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(|e| ApiError::Internal(format!("a file for the import: {e}")))?;
    let mut spool = tokio::fs::File::from_std(
        file.try_clone()
            .map_err(|e| ApiError::Internal(e.to_string()))?,
    );
    let mut stream = body.into_data_stream();
    let mut total: u64 = 0;
    while let Some(chunk) = stream.next().await {
        let chunk =
            chunk.map_err(|e| ApiError::BadRequest(format!("The upload broke off: {e}")))?;
        total += chunk.len() as u64;
        if total > limit {
            return Err(too_large());
        }
        spool
            .write_all(&chunk)
            .await
            .map_err(|e| ApiError::Internal(format!("writing the import: {e}")))?;
    }
    spool
        .flush()
        .await
        .map_err(|e| ApiError::Internal(format!("writing the import: {e}")))?;
    if total == 0 {
        return Err(ApiError::validation(
            "invalid_import",
            "The file is empty. Nothing was imported.",
        ));
    }
    Ok(Json(state.chat.import(user.id, file).await?))
}

#[cfg(test)]
mod tests {
    use super::file_stem;

    #[test]
    fn file_names_keep_a_titles_words() {
        assert_eq!(
            file_stem("Rust: ownership & borrowing!"),
            "rust-ownership-borrowing"
        );
        assert_eq!(file_stem("«»"), "conversation");
    }
}
