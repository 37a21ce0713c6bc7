//! Conversations, messages, models: `/api/conversations/*`, `/api/messages/*`, `/api/models`.

use app::wire::{ConversationView, MessageView, ModelView, Page, SendResponse};
use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    Json,
};
use serde::Deserialize;
use uuid::Uuid;

use super::api_json::ApiJson;
use crate::{
    chat::{
        conversations::{ConversationChanges, NewConversation},
        views::conversation_view,
    },
    http::error::ApiError,
    http::session::AuthUser,
    state::AppState,
};

#[derive(Deserialize)]
pub struct PageQuery {
    cursor: Option<String>,
    limit: Option<u64>,
}

#[derive(Deserialize)]
pub struct SendBody {
    content: String,
}

/// An id that is not a UUID cannot name anything: 404, like any id that is not yours.
fn id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| ApiError::NotFound)
}

pub async fn models(
    State(state): State<AppState>,
    _user: AuthUser,
) -> Result<Json<Page<ModelView>>, ApiError> {
    Ok(Json(Page {
        items: state.chat.model_views().await?,
        next_cursor: None,
    }))
}

pub async fn list_conversations(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Query(page): Query<PageQuery>,
) -> Result<Json<Page<ConversationView>>, ApiError> {
    let page = state
        .chat
        .list_conversations(user.id, page.cursor.as_deref(), page.limit.unwrap_or(50))
        .await?;
    Ok(Json(page))
}

pub async fn create_conversation(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    // `{}` is a new chat with the user's defaults; no body at all is a malformed request.
    ApiJson(input): ApiJson<NewConversation>,
) -> Result<(StatusCode, Json<ConversationView>), ApiError> {
    let view = state.chat.create_conversation(user.id, input).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

pub async fn get_conversation(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(raw): Path<String>,
) -> Result<Json<ConversationView>, ApiError> {
    let conversation = state.chat.conversation(user.id, id(&raw)?).await?;
    Ok(Json(conversation_view(conversation)))
}

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

pub async fn delete_conversation(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(raw): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.chat.delete_conversation(user.id, id(&raw)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn list_messages(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(raw): Path<String>,
    Query(page): Query<PageQuery>,
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
        .send_message(user.id, id(&raw)?, body.content)
        .await?;
    Ok((StatusCode::ACCEPTED, Json(sent)))
}

pub async fn stop_message(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(raw): Path<String>,
) -> Result<Json<MessageView>, ApiError> {
    Ok(Json(state.chat.stop(user.id, id(&raw)?).await?))
}

#[derive(serde::Serialize)]
pub struct RenderedMessage {
    html: String,
}

/// A message's body as the chat page shows it after a reload, with the user's markdown and
/// highlighting settings: the island swaps it in when a reply finishes.
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
