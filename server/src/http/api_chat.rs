//! Conversations, messages, models: `/api/conversations/*`, `/api/messages/*`, `/api/models`.

use app::wire::{
    ConversationView, MessageItem, MessageView, ModelView, Page, RegenerateResponse, SendResponse,
};
use axum::{
    extract::{Path, State},
    http::StatusCode,
    Json,
};
use serde::Deserialize;
use uuid::Uuid;

use super::{api_json::ApiJson, api_query::ApiQuery, openapi};
use crate::{
    chat::tree::Siblings,
    chat::{
        branches::{Branch, BranchWindow, MAX_PAGE_MESSAGES, PAGE_MESSAGES},
        conversations::{ConversationChanges, NewConversation},
        views::conversation_view,
    },
    http::error::ApiError,
    http::session::AuthUser,
    state::AppState,
};

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConversationsQuery {
    cursor: Option<String>,
    limit: Option<u64>,
    /// `true` lists the archived conversations instead of the others.
    archived: Option<bool>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MessagesQuery {
    cursor: Option<String>,
    limit: Option<u64>,
    /// `current` (default): the branch shown; `all`: every message of the tree.
    branch: Option<Branch>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BranchQuery {
    /// The earlier messages: those above this message on its branch (whichever is shown).
    before: Option<Uuid>,
    /// Reach back at least to this message of the branch shown (and the one before it).
    through: Option<Uuid>,
    /// How many of the newest messages (default 50, at most 1,000).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u64>,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct SendBody {
    content: String,
    /// The message the new one follows. Absent: the branch shown (its current leaf). Null: a
    /// new first message. A message that already has children gets a new branch beside them:
    /// this is how a message is edited.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Uuid>)]
    parent_id: Option<Option<Uuid>>,
    /// Files uploaded with `POST /api/attachments` to send with the message: at most 10, the
    /// sender's own (another id answers 404 and nothing is stored).
    #[serde(default)]
    #[schema(max_items = 10)]
    attachment_ids: Vec<Uuid>,
}

/// `Some(None)` for an explicit null, told apart from an absent field (`None`).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<Uuid>>, D::Error> {
    Option::<Uuid>::deserialize(d).map(Some)
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
pub struct RegenerateBody {
    /// Another provider and model for the new reply (both or neither); neither: the
    /// conversation's.
    provider: Option<String>,
    model: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct CurrentBranch {
    /// A message of the conversation: the branch through it is shown, to its newest leaf.
    message_id: Uuid,
}

/// A send or a regeneration past `SENDS_PER_MINUTE`: 429 with `Retry-After`.
fn check_send_rate(state: &AppState, user_id: Uuid) -> Result<(), ApiError> {
    state.limits.check_send(user_id).map_err(|retry_after| {
        ApiError::too_many_requests(
            "too_many_requests",
            "You are sending messages faster than this server allows. Wait a moment, then send again.",
            retry_after,
        )
    })
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
    params(ConversationsQuery),
    responses(
        (status = 200, description = "The user's conversations (not archived, or only archived ones with `archived=true`), pinned first, then most recently updated first.", body = Page<ConversationView>),
        (status = 400, response = openapi::BadRequest),
        (status = 401, response = openapi::Unauthorized),
        (status = 403, response = openapi::Forbidden),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn list_conversations(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiQuery(page): ApiQuery<ConversationsQuery>,
) -> Result<Json<Page<ConversationView>>, ApiError> {
    let page = state
        .chat
        .list_conversations(
            user.id,
            page.archived.unwrap_or(false),
            page.cursor.as_deref(),
            page.limit.unwrap_or(50),
        )
        .await?;
    Ok(Json(page))
}

#[utoipa::path(
    post,
    path = "/api/conversations",
    tag = "chat",
    request_body = NewConversation,
    responses(
        (status = 201, description = "The new conversation; absent fields take the user's defaults (or the preset's).", body = ConversationView),
        (status = 400, response = openapi::BadRequest),
        (status = 401, response = openapi::Unauthorized),
        (status = 403, response = openapi::Forbidden),
        (status = 404, description = "`preset_id` names no preset of the user's (`not_found`).", body = super::error::ErrorBody),
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
    params(("id" = Uuid, Path, description = "A conversation id."), MessagesQuery),
    responses(
        (status = 200, description = "The branch shown (or with `branch=all` every message of the tree), oldest first.", body = Page<MessageView>),
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
    ApiQuery(page): ApiQuery<MessagesQuery>,
) -> Result<Json<Page<MessageView>>, ApiError> {
    let page = state
        .chat
        .list_messages(
            user.id,
            id(&raw)?,
            page.branch.unwrap_or_default(),
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
    check_send_rate(&state, user.id)?;
    let sent = state
        .chat
        .send_message(
            user.id,
            id(&raw)?,
            body.content,
            body.parent_id,
            body.attachment_ids,
        )
        .await?;
    Ok((StatusCode::ACCEPTED, Json(sent)))
}

#[utoipa::path(
    post,
    path = "/api/messages/{id}/regenerate",
    tag = "chat",
    params(("id" = Uuid, Path, description = "A reply's id.")),
    request_body = RegenerateBody,
    responses(
        (status = 202, description = "A new reply beside this one, to the same question, streaming over the WebSocket; the conversation now shows it.", body = RegenerateResponse),
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
pub async fn regenerate_message(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(raw): Path<String>,
    ApiJson(body): ApiJson<RegenerateBody>,
) -> Result<(StatusCode, Json<RegenerateResponse>), ApiError> {
    check_send_rate(&state, user.id)?;
    let regenerated = state
        .chat
        .regenerate(user.id, id(&raw)?, body.provider, body.model)
        .await?;
    Ok((StatusCode::ACCEPTED, Json(regenerated)))
}

#[utoipa::path(
    delete,
    path = "/api/messages/{id}",
    tag = "chat",
    params(("id" = Uuid, Path, description = "A message id.")),
    responses(
        (status = 200, description = "The message and every message after it on every branch are deleted (replies streaming there are stopped first); usage keeps what they cost. Answers the conversation, showing the branch left.", body = ConversationView),
        (status = 401, response = openapi::Unauthorized),
        (status = 403, response = openapi::Forbidden),
        (status = 404, response = openapi::NotFound),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn delete_message(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(raw): Path<String>,
) -> Result<Json<ConversationView>, ApiError> {
    Ok(Json(state.chat.delete_message(user.id, id(&raw)?).await?))
}

#[utoipa::path(
    put,
    path = "/api/conversations/{id}/current",
    tag = "chat",
    params(("id" = Uuid, Path, description = "A conversation id.")),
    request_body = CurrentBranch,
    responses(
        (status = 200, description = "The conversation, now showing the branch through the message (to the most recently created leaf under it).", body = ConversationView),
        (status = 400, response = openapi::BadRequest),
        (status = 401, response = openapi::Unauthorized),
        (status = 403, response = openapi::Forbidden),
        (status = 404, response = openapi::NotFound),
        (status = 413, response = openapi::PayloadTooLarge),
        (status = 422, response = openapi::Unprocessable),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn switch_branch(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(raw): Path<String>,
    ApiJson(body): ApiJson<CurrentBranch>,
) -> Result<Json<ConversationView>, ApiError> {
    Ok(Json(
        state
            .chat
            .switch_branch(user.id, id(&raw)?, body.message_id)
            .await?,
    ))
}

/// A page of the branch shown as the chat page renders it (the newest messages, each finished
/// one with its HTML): what the chat island shows after switching branches, and, with
/// `before`, what "Load earlier" adds above the first message shown. The first message of the
/// page has a parent when there are earlier ones.
#[utoipa::path(
    get,
    path = "/api/conversations/{id}/branch",
    tag = "chat",
    params(("id" = Uuid, Path, description = "A conversation id."), BranchQuery),
    responses(
        (status = 200, description = "Messages of the branch, oldest first, rendered with the user's settings.", body = Vec<MessageItem>),
        (status = 400, response = openapi::BadRequest),
        (status = 401, response = openapi::Unauthorized),
        (status = 403, response = openapi::Forbidden),
        (status = 404, response = openapi::NotFound),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn branch_items(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(raw): Path<String>,
    ApiQuery(query): ApiQuery<BranchQuery>,
) -> Result<Json<Vec<MessageItem>>, ApiError> {
    let limit = query.limit.unwrap_or(PAGE_MESSAGES);
    if !(1..=MAX_PAGE_MESSAGES).contains(&limit) {
        return Err(ApiError::BadRequest(format!(
            "limit must be between 1 and {MAX_PAGE_MESSAGES}."
        )));
    }
    let settings = crate::settings::load(&state.db, user.id).await?;
    let window = BranchWindow {
        limit,
        before: query.before,
        through: query.through,
    };
    Ok(Json(
        state
            .chat
            .branch_items(user.id, id(&raw)?, window, &settings)
            .await?,
    ))
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
    // Only the body is answered: its place among its siblings does not matter here.
    let item = state.chat.message_item(message, Siblings::ONLY, &settings);
    Ok(Json(RenderedMessage {
        html: item.html.unwrap_or_default(),
    }))
}
