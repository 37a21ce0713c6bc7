//! Loads what a signed-in page shows before Leptos renders it, into the request's extensions
//! (see `app::page_data`). Runs after the page guard, so the user is known.

use std::sync::Arc;

use app::{
    page_data::{AdminPageData, ChatPageData, SettingsPageData, UsagePageData},
    session::SessionUser,
    wire::{MessageItem, SettingsView},
};
use axum::{
    extract::{Request, State},
    middleware::Next,
    response::{IntoResponse, Response},
};
use uuid::Uuid;

use crate::markdown::{render_message, RenderOptions};
use crate::{
    chat::{generation::STORED_RENDERING, views::message_view},
    db::{entities::messages, now},
    error::ApiError,
    state::AppState,
};

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
    let path = request.uri().path().to_owned();
    let loaded = if path == "/" || path.starts_with("/c/") {
        let id = path
            .strip_prefix("/c/")
            .map(|raw| Uuid::parse_str(raw).ok());
        chat_page(&state, user.id, settings, id).await.map(|data| {
            request.extensions_mut().insert(Arc::new(data));
        })
    } else if path == "/settings" {
        settings_page(&state, settings).await.map(|data| {
            request.extensions_mut().insert(Arc::new(data));
        })
    } else if path == "/usage" {
        crate::usage::report(&state.db, user.id, now(), crate::usage::DEFAULT_DAYS)
            .await
            .map(|report| {
                request
                    .extensions_mut()
                    .insert(Arc::new(UsagePageData { report }));
            })
    } else if path == "/admin" && user.role == "admin" {
        // Nobody else gets data; the page then answers 404, as the admin API does.
        admin_page(&state).await.map(|data| {
            request.extensions_mut().insert(Arc::new(data));
        })
    } else {
        Ok(())
    };
    match loaded {
        Ok(()) => next.run(request).await,
        Err(e) => e.into_response(),
    }
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
    settings: SettingsView,
) -> Result<SettingsPageData, ApiError> {
    Ok(SettingsPageData {
        settings,
        models: state.chat.model_views().await?,
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
        .map(|m| message_item(state, m, &data.settings))
        .collect();
    data.current = Some(conversation);
    Ok(data)
}

/// The most messages a conversation page shows: its latest ones.
pub const PAGE_MESSAGES: u64 = 1_000;

/// A finished message comes with its HTML (the rendering stored when it finished, when the
/// user's settings are the defaults it was made with; else rendered now), so it looks the same
/// after a reload as when it streamed in; a streaming one carries its text so far and the seq
/// it has reached.
pub fn message_item(
    state: &AppState,
    mut row: messages::Model,
    settings: &SettingsView,
) -> MessageItem {
    let stored_html = row.content_html.take();
    let mut message = message_view(row);
    if message.status == "streaming" {
        let seq = match state.chat.active.get(message.id) {
            Some(active) => {
                let (deltas, seq) = active.deltas_after(0);
                message.content = deltas.concat();
                seq
            }
            // Generated by another process: the page resubscribes from seq 0 and the replay
            // brings the whole text, so showing the flushed text too would double it.
            None => {
                message.content.clear();
                0
            }
        };
        return MessageItem {
            message,
            html: None,
            seq,
        };
    }
    let options = RenderOptions {
        markdown: settings.markdown && message.role == "assistant",
        highlight: settings.code_highlight,
    };
    let html = match stored_html {
        Some(html) if options == STORED_RENDERING => html,
        _ => render_message(&message.content, options),
    };
    let html = Some(html);
    MessageItem {
        message,
        html,
        seq: 0,
    }
}
