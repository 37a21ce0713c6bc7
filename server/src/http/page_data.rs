//! Loads what a signed-in page shows before Leptos renders it, into the request's extensions
//! (see `app::page_data`). Runs after the page guard, so the user is known.

use std::sync::Arc;

use app::{
    page_data::{AdminPageData, ChatPageData, SettingsPageData, UsagePageData},
    routes::AppRoute,
    session::SessionUser,
    wire::SettingsView,
};
use axum::{
    extract::{Request, State},
    middleware::Next,
    response::{IntoResponse, Response},
};
use uuid::Uuid;

use super::{error::ApiError, session::PageSession};
use crate::{db::now, state::AppState};

pub async fn load_page_data(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let Some(user) = request.extensions().get::<SessionUser>().cloned() else {
        return next.run(request).await;
    };
    let Some(settings) = request.extensions().get::<SettingsView>().cloned() else {
        return next.run(request).await;
    };
    let session = request.extensions().get::<PageSession>().copied();
    let route = AppRoute::parse(request.uri().path());
    let extensions = request.extensions_mut();
    let loaded = match route {
        Some(AppRoute::Home) => chat_page(&state, user.id, settings, None)
            .await
            .map(|data| put(extensions, data)),
        Some(AppRoute::Conversation(id)) => chat_page(&state, user.id, settings, Some(id))
            .await
            .map(|data| put(extensions, data)),
        Some(AppRoute::Settings) => settings_page(&state, user.id, session, settings)
            .await
            .map(|data| put(extensions, data)),
        Some(AppRoute::Usage) => {
            crate::usage::report(&state.db, user.id, now(), crate::usage::DEFAULT_DAYS)
                .await
                .map(|report| put(extensions, UsagePageData { report }))
                .map_err(ApiError::from)
        }
        // Nobody else gets data; the page then answers 404, as the admin API does.
        Some(AppRoute::Admin) if user.role.is_admin() => {
            admin_page(&state).await.map(|data| put(extensions, data))
        }
        _ => Ok(()),
    };
    match loaded {
        Ok(()) => next.run(request).await,
        Err(e) => e.into_response(),
    }
}

/// Page data goes in behind an `Arc` (see `app::page_data`).
fn put<T: Send + Sync + 'static>(extensions: &mut http::Extensions, data: T) {
    extensions.insert(Arc::new(data));
}

async fn admin_page(state: &AppState) -> Result<AdminPageData, ApiError> {
    let now = now();
    Ok(AdminPageData {
        users: crate::admin::users(&state.db, now).await?,
        models: crate::admin::models(&state.db, &state.chat.providers).await?,
        settings: crate::admin::settings(&state.db).await?,
        month: crate::chat::budget::month_of(now),
    })
}

async fn settings_page(
    state: &AppState,
    user_id: Uuid,
    session: Option<PageSession>,
    settings: SettingsView,
) -> Result<SettingsPageData, ApiError> {
    let sessions = match session {
        Some(PageSession(current)) => state.auth.sessions(user_id, current).await?,
        None => Vec::new(),
    };
    Ok(SettingsPageData {
        settings,
        models: state.chat.model_views().await?,
        sessions,
    })
}

/// `id`: `None` for `/`, `Some(None)` for a `/c/…` that is not a UUID.
async fn chat_page(
    state: &AppState,
    user_id: Uuid,
    settings: SettingsView,
    id: Option<Option<Uuid>>,
) -> Result<ChatPageData, ApiError> {
    let conversations = state
        .chat
        .list_conversations(user_id, None, 200)
        .await?
        .items;
    let models = state.chat.model_views().await?;
    let mut data = ChatPageData {
        conversations,
        current: None,
        messages: Vec::new(),
        models,
        settings,
        not_found: false,
        budget: crate::chat::budget::status(&state.db, user_id, now()).await?,
    };
    let Some(id) = id else { return Ok(data) };
    let Some(conversation) =
        id.and_then(|id| data.conversations.iter().find(|c| c.id == id).cloned())
    else {
        data.not_found = true;
        return Ok(data);
    };
    let messages = state
        .chat
        .recent_messages(user_id, conversation.id, PAGE_MESSAGES)
        .await?;
    data.messages = messages
        .into_iter()
        .map(|m| state.chat.message_item(m, &data.settings))
        .collect();
    data.current = Some(conversation);
    Ok(data)
}

/// The most messages a conversation page shows: its latest ones.
pub const PAGE_MESSAGES: u64 = 1_000;
