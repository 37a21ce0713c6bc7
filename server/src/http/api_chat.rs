//! Conversations, messages, models: `/api/conversations/*`, `/api/messages/*`, `/api/models`.

use app::wire::{ConversationView, MessageView, ModelView, Page, SendResponse};
use axum::{
    extract::{Path, State},
    http::StatusCode,
    Json,
};
use serde::Deserialize;
use uuid::Uuid;

use super::{api_json::ApiJson, api_query::ApiQuery, openapi};
use crate::{
    chat::{
        conversations::{ConversationChanges, NewConversation},
        views::conversation_view,
    },
    http::error::ApiError,
    http::session::AuthUser,
    state::AppState,
};

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    cursor: Option<String>,
    limit: Option<u64>,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct SendBody {
    content: String,
    /// Files uploaded with `POST /api/attachments` to send with the message: at most 10, the
    /// sender's own (another id answers 404 and nothing is stored).
    #[serde(default)]
    #[schema(max_items = 10)]
    attachment_ids: Vec<Uuid>,
}

/// An id that is not a UUID cannot name anything: 404, like any id that is not yours.
fn id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| ApiError::NotFound)
}

#[utoipa::path(
    get,
    path = "/api/models",
    tag = "chat",
    responses(
        (status = 200, description = "The models that can be used now, in one page.", body = Page<ModelView>),
        (status = 401, response = openapi::Unauthorized),
        (status = 403, response = openapi::Forbidden),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn models(
    State(state): State<AppState>,
    _user: AuthUser,
) -> Result<Json<Page<ModelView>>, ApiError> {
    Ok(Json(Page {
        items: state.chat.model_views().await?,
        next_cursor: None,
    }))
}

#[utoipa::path(
    get,
    path = "/api/conversations",
    tag = "chat",
    params(PageQuery),
    responses(
        (status = 200, description = "The user's conversations, most recently updated first.", body = Page<ConversationView>),
        (status = 400, response = openapi::BadRequest),
        (status = 401, response = openapi::Unauthorized),
        (status = 403, response = openapi::Forbidden),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn list_conversations(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> Result<Json<Page<ConversationView>>, ApiError> {
    let page = state
        .chat
        .list_conversations(user.id, page.cursor.as_deref(), page.limit.unwrap_or(50))
        .await?;
    Ok(Json(page))
}

#[utoipa::path(
    post,
    path = "/api/conversations",
    tag = "chat",
    request_body = NewConversation,
    responses(
        (status = 201, description = "The new conversation; absent fields take the user's defaults.", body = ConversationView),
        (status = 400, response = openapi::BadRequest),
        (status = 401, response = openapi::Unauthorized),
        (status = 403, response = openapi::Forbidden),
        (status = 413, response = openapi::PayloadTooLarge),
        (status = 422, response = openapi::Unprocessable),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn create_conversation(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    // `{}` is a new chat with the user's defaults; no body at all is a malformed request.
    ApiJson(input): ApiJson<NewConversation>,
) -> Result<(StatusCode, Json<ConversationView>), ApiError> {
    let view = state.chat.create_conversation(user.id, input).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

#[utoipa::path(
    get,
    path = "/api/conversations/{id}",
    tag = "chat",
    params(("id" = Uuid, Path, description = "A conversation id.")),
    responses(
        (status = 200, description = "The conversation.", body = ConversationView),
        (status = 401, response = openapi::Unauthorized),
        (status = 403, response = openapi::Forbidden),
        (status = 404, response = openapi::NotFound),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn get_conversation(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(raw): Path<String>,
) -> Result<Json<ConversationView>, ApiError> {
    let conversation = state.chat.conversation(user.id, id(&raw)?).await?;
    Ok(Json(conversation_view(conversation)))
}

#[utoipa::path(
    patch,
    path = "/api/conversations/{id}",
    tag = "chat",
    params(("id" = Uuid, Path, description = "A conversation id.")),
    request_body = ConversationChanges,
    responses(
        (status = 200, description = "The conversation as changed.", body = ConversationView),
        (status = 400, response = openapi::BadRequest),
        (status = 401, response = openapi::Unauthorized),
        (status = 403, response = openapi::Forbidden),
        (status = 404, response = openapi::NotFound),
        (status = 413, response = openapi::PayloadTooLarge),
        (status = 422, response = openapi::Unprocessable),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn update_conversation(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(raw): Path<String>,
    ApiJson(changes): ApiJson<ConversationChanges>,
) -> Result<Json<ConversationView>, ApiError> {
    Ok(Json(
        state
            .chat
            .update_conversation(user.id, id(&raw)?, changes)
            .await?,
    ))
}

#[utoipa::path(
    delete,
    path = "/api/conversations/{id}",
    tag = "chat",
    params(("id" = Uuid, Path, description = "A conversation id.")),
    responses(
        (status = 204, description = "Deleted with its messages; its usage stays in the reports."),
        (status = 401, response = openapi::Unauthorized),
        (status = 403, response = openapi::Forbidden),
        (status = 404, response = openapi::NotFound),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn delete_conversation(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(raw): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.chat.delete_conversation(user.id, id(&raw)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    get,
    path = "/api/conversations/{id}/messages",
    tag = "chat",
    params(("id" = Uuid, Path, description = "A conversation id."), PageQuery),
    responses(
        (status = 200, description = "The conversation's messages, oldest first.", body = Page<MessageView>),
        (status = 400, response = openapi::BadRequest),
        (status = 401, response = openapi::Unauthorized),
        (status = 403, response = openapi::Forbidden),
        (status = 404, response = openapi::NotFound),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn list_messages(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(raw): Path<String>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> Result<Json<Page<MessageView>>, ApiError> {
    let page = state
        .chat
        .list_messages(
            user.id,
            id(&raw)?,
            page.cursor.as_deref(),
            page.limit.unwrap_or(100),
        )
        .await?;
    Ok(Json(page))
}

#[utoipa::path(
    post,
    path = "/api/conversations/{id}/messages",
    tag = "chat",
    params(("id" = Uuid, Path, description = "A conversation id.")),
    request_body = SendBody,
    responses(
        (status = 202, description = "The prompt is stored and the reply streams over the WebSocket.", body = SendResponse),
        (status = 400, response = openapi::BadRequest),
        (status = 401, response = openapi::Unauthorized),
        (status = 402, response = openapi::PaymentRequired),
        (status = 403, response = openapi::Forbidden),
        (status = 404, response = openapi::NotFound),
        (status = 413, response = openapi::PayloadTooLarge),
        (status = 422, response = openapi::Unprocessable),
        (status = 429, response = openapi::TooManyRequests),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn send_message(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(raw): Path<String>,
    ApiJson(body): ApiJson<SendBody>,
) -> Result<(StatusCode, Json<SendResponse>), ApiError> {
    state.limits.check_send(user.id).map_err(|retry_after| {
        ApiError::too_many_requests(
            "too_many_requests",
            "You are sending messages faster than this server allows. Wait a moment, then send again.",
            retry_after,
        )
    })?;
    let sent = state
        .chat
        .send_message(user.id, id(&raw)?, body.content, body.attachment_ids)
        .await?;
    Ok((StatusCode::ACCEPTED, Json(sent)))
}

#[utoipa::path(
    post,
    path = "/api/messages/{id}/stop",
    tag = "chat",
    params(("id" = Uuid, Path, description = "A message id.")),
    responses(
        (status = 200, description = "The reply as it stands: stopped, or already finished.", body = MessageView),
        (status = 401, response = openapi::Unauthorized),
        (status = 403, response = openapi::Forbidden),
        (status = 404, response = openapi::NotFound),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn stop_message(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(raw): Path<String>,
) -> Result<Json<MessageView>, ApiError> {
    Ok(Json(state.chat.stop(user.id, id(&raw)?).await?))
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct RenderedMessage {
    html: String,
}

/// A message's body as the chat page shows it after a reload, with the user's markdown and
/// highlighting settings: the island swaps it in when a reply finishes.
#[utoipa::path(
    get,
    path = "/api/messages/{id}/html",
    tag = "chat",
    params(("id" = Uuid, Path, description = "A message id.")),
    responses(
        (status = 200, description = "The body rendered to safe HTML with the user's settings.", body = RenderedMessage),
        (status = 401, response = openapi::Unauthorized),
        (status = 403, response = openapi::Forbidden),
        (status = 404, response = openapi::NotFound),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn message_html(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(raw): Path<String>,
) -> Result<Json<RenderedMessage>, ApiError> {
    let message = state.chat.owned_message(user.id, id(&raw)?).await?;
    let settings = crate::settings::load(&state.db, user.id).await?;
    let item = state.chat.message_item(message, &settings);
    Ok(Json(RenderedMessage {
        html: item.html.unwrap_or_default(),
    }))
}
