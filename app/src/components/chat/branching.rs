//! Moving through the conversation tree from the chat island: the delegated listener behind
//! every message's tools ([`super::message_tools`]), and the API calls they make — switch to
//! another version, send an edited question, regenerate a reply (with another model), delete.
//!
//! The history rendered by the server is not the island's; the first move through the tree
//! hides it and the island shows the whole branch itself ([`load_branch`]).

use leptos::prelude::*;
use serde::Serialize;
use uuid::Uuid;
use wasm_bindgen::JsCast;

use super::{
    actions::refresh_budget,
    api::{announce_conversation, call},
    feed::{request_scroll, resubscribe},
    state::{Chat, RegenerateMenu},
};
use crate::wire::{ConversationView, MessageItem, ProviderId, RegenerateResponse, SendResponse};

/// The chat island's one click listener for message tools.
pub fn on_click(chat: Chat, ev: leptos::ev::MouseEvent) {
    let Some(button) = ev
        .target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        .and_then(|el| el.closest("[data-action]").ok().flatten())
    else {
        return;
    };
    let id = |name: &str| {
        button
            .get_attribute(name)
            .and_then(|raw| Uuid::parse_str(&raw).ok())
    };
    // The message a tool acts on is the one it sits in.
    let message = || {
        button
            .closest("[data-message-id]")
            .ok()
            .flatten()
            .and_then(|article| article.get_attribute("data-message-id"))
            .and_then(|raw| Uuid::parse_str(&raw).ok())
    };
    match button.get_attribute("data-action").as_deref() {
        Some("branch") => {
            if let Some(target) = id("data-target") {
                leptos::task::spawn_local(switch_to(chat, target));
            }
        }
        Some("edit") => {
            if let Some(message) = message() {
                leptos::task::spawn_local(async move {
                    if chat.history_shown.get_untracked() && !chat.is_earlier(message) {
                        load_branch(chat, Some(message)).await;
                    }
                    chat.editing.set(Some(message));
                });
            }
        }
        Some("regenerate") => {
            if let Some(message) = message() {
                leptos::task::spawn_local(regenerate(chat, message, None));
            }
        }
        Some("regenerate-menu") => {
            if let Some(message_id) = message() {
                let rect = button.get_bounding_client_rect();
                chat.menu.set(Some(RegenerateMenu {
                    message_id,
                    top: rect.bottom() + 4.0,
                    left: rect.left(),
                }));
            }
        }
        Some("delete") => {
            if let Some(message) = message() {
                let sure = web_sys::window()
                    .and_then(|w| {
                        w.confirm_with_message(
                            "Delete this message and everything after it, on every branch? \
                             What they cost stays in your usage.",
                        )
                        .ok()
                    })
                    .unwrap_or(false);
                if sure {
                    leptos::task::spawn_local(delete(chat, message));
                }
            }
        }
        _ => {}
    }
}

/// Shows the newest page of the branch the server holds as current in the island, reaching
/// back at least to `through` when it is on the branch (the message being acted on).
pub async fn load_branch(chat: Chat, through: Option<Uuid>) {
    let Some(conversation) = chat.conversation.get_untracked() else {
        return;
    };
    let through = through
        .map(|id| format!("?through={id}"))
        .unwrap_or_default();
    match call::<(), Vec<MessageItem>>(
        "GET",
        &format!("/api/conversations/{}/branch{through}", conversation.id),
        None,
    )
    .await
    {
        Ok(items) => {
            chat.show_branch(items);
            // Replies streaming on the branch resume from the seq each arrived with.
            resubscribe(chat);
        }
        Err(message) => chat.notice.set(Some(message)),
    }
}

/// "Load earlier": the page of messages above the first one shown, put above it without
/// moving what the reader is looking at.
pub async fn load_earlier(chat: Chat) {
    if chat.loading_earlier.get_untracked() || !chat.more_earlier.get_untracked() {
        return;
    }
    let (Some(conversation), Some(first)) = (chat.conversation.get_untracked(), chat.first_id())
    else {
        return;
    };
    chat.loading_earlier.set(true);
    let page = call::<(), Vec<MessageItem>>(
        "GET",
        &format!(
            "/api/conversations/{}/branch?before={first}",
            conversation.id
        ),
        None,
    )
    .await;
    chat.loading_earlier.set(false);
    match page {
        Ok(items) => {
            let before = chat
                .scroller
                .get_untracked()
                .map(|el| (el.scroll_height(), el.scroll_top()));
            chat.prepend(items);
            if let Some((height, top)) = before {
                leptos::task::spawn_local(async move {
                    gloo_timers::future::TimeoutFuture::new(0).await;
                    if let Some(el) = chat.scroller.get_untracked() {
                        el.set_scroll_top(top + el.scroll_height() - height);
                    }
                });
            }
        }
        Err(message) => chat.notice.set(Some(message)),
    }
}

async fn switch_to(chat: Chat, message_id: Uuid) {
    #[derive(Serialize)]
    struct Current {
        message_id: Uuid,
    }
    let Some(conversation) = chat.conversation.get_untracked() else {
        return;
    };
    match call::<_, ConversationView>(
        "PUT",
        &format!("/api/conversations/{}/current", conversation.id),
        Some(&Current { message_id }),
    )
    .await
    {
        Ok(updated) => {
            chat.conversation.set(Some(updated));
            load_branch(chat, Some(message_id)).await;
            focus_message(message_id);
        }
        Err(message) => chat.notice.set(Some(message)),
    }
}

/// Sends `content` as a new version of the question `edited` (beside it, after `parent`).
pub async fn send_edit(chat: Chat, edited: Uuid, parent: Option<Uuid>, content: String) {
    #[derive(Serialize)]
    struct Edited {
        content: String,
        /// Always sent: null makes a new first message.
        parent_id: Option<Uuid>,
    }
    let Some(conversation) = chat.conversation.get_untracked() else {
        return;
    };
    chat.sending.set(true);
    chat.notice.set(None);
    let sent = call::<_, SendResponse>(
        "POST",
        &format!("/api/conversations/{}/messages", conversation.id),
        Some(&Edited {
            content,
            parent_id: parent,
        }),
    )
    .await;
    chat.sending.set(false);
    match sent {
        Ok(sent) => {
            chat.editing.set(None);
            if chat.find(sent.user_message.id).is_none() {
                chat.truncate_at(edited);
            }
            let user = chat.upsert(sent.user_message);
            user.update(|i| i.html = None);
            chat.upsert(sent.assistant_message);
            request_scroll(chat);
            refresh_budget(chat).await;
        }
        Err(message) => chat.notice.set(Some(message)),
    }
}

/// A new reply beside `reply`, from the conversation's model or `model`.
pub async fn regenerate(chat: Chat, reply: Uuid, model: Option<(ProviderId, String)>) {
    #[derive(Serialize)]
    struct Again {
        #[serde(skip_serializing_if = "Option::is_none")]
        provider: Option<ProviderId>,
        #[serde(skip_serializing_if = "Option::is_none")]
        model: Option<String>,
    }
    chat.menu.set(None);
    if chat.history_shown.get_untracked() && !chat.is_earlier(reply) {
        load_branch(chat, Some(reply)).await;
    }
    chat.notice.set(None);
    let (provider, model) = model.unzip();
    match call::<_, RegenerateResponse>(
        "POST",
        &format!("/api/messages/{reply}/regenerate"),
        Some(&Again { provider, model }),
    )
    .await
    {
        Ok(again) => {
            if chat.find(again.assistant_message.id).is_none() {
                chat.truncate_at(reply);
            }
            chat.upsert(again.assistant_message);
            request_scroll(chat);
            refresh_budget(chat).await;
        }
        Err(message) => chat.notice.set(Some(message)),
    }
}

async fn delete(chat: Chat, message: Uuid) {
    match call::<(), ConversationView>("DELETE", &format!("/api/messages/{message}"), None).await {
        Ok(updated) => {
            chat.conversation.set(Some(updated.clone()));
            announce_conversation(&updated);
            load_branch(chat, None).await;
        }
        Err(message) => chat.notice.set(Some(message)),
    }
}

/// Moves the keyboard's focus back to a message's version controls after its branch is
/// shown again, so `‹ ›` can be pressed again.
fn focus_message(id: Uuid) {
    leptos::task::spawn_local(async move {
        let selector = format!("[data-message-id=\"{id}\"] .branch-nav button:not([disabled])");
        // The branch renders after the frame that set it: look again for a moment.
        for _ in 0..20 {
            gloo_timers::future::TimeoutFuture::new(25).await;
            if let Some(button) = web_sys::window()
                .and_then(|w| w.document())
                .and_then(|d| d.query_selector(&selector).ok().flatten())
                .and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok())
            {
                let _ = button.focus();
                button.scroll_into_view_with_bool(false);
                return;
            }
        }
    });
}
