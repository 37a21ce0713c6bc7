//! What the person does in the chat, as calls to the JSON API: send (creating the
//! conversation on the first message), stop, change the model; and the refreshes that follow
//! (a finished reply's rendering, the month's budget).

use leptos::prelude::*;
use serde::Serialize;
use uuid::Uuid;

use super::{
    api::{announce_conversation, call},
    attachments::PendingFiles,
    feed::{request_scroll, subscribe},
    state::Chat,
};
use crate::{
    routes::AppRoute,
    wire::{BudgetView, ConversationView, MessageItem, MessageView, ProviderId, SendResponse},
};

#[derive(Serialize)]
struct ModelChoice {
    provider: ProviderId,
    model: String,
}

#[derive(Serialize)]
struct NewMessage<'a> {
    content: &'a str,
    attachment_ids: Vec<Uuid>,
}

fn model_choice(chat: Chat) -> ModelChoice {
    ModelChoice {
        provider: chat.provider.get_untracked(),
        model: chat.model.get_untracked(),
    }
}

pub async fn fetch_html(item: RwSignal<MessageItem>, id: Uuid) {
    #[derive(serde::Deserialize)]
    struct Rendered {
        html: String,
    }
    if let Ok(rendered) =
        call::<(), Rendered>("GET", &format!("/api/messages/{id}/html"), None).await
    {
        item.update(|i| i.html = Some(rendered.html));
    }
}

pub async fn refresh_budget(chat: Chat) {
    if let Ok(budget) = call::<(), BudgetView>("GET", "/api/budget", None).await {
        chat.budget.set(budget);
    }
}

/// The open conversation, created (with the chosen model) on the first message.
async fn conversation_for_send(chat: Chat) -> Result<ConversationView, String> {
    if let Some(c) = chat.conversation.get_untracked() {
        return Ok(c);
    }
    let created: ConversationView =
        call("POST", "/api/conversations", Some(&model_choice(chat))).await?;
    chat.conversation.set(Some(created.clone()));
    announce_conversation(&created);
    if let Some(history) = web_sys::window().and_then(|w| w.history().ok()) {
        let href = AppRoute::Conversation(Some(created.id)).href();
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&href));
    }
    chat.outbox.send(&subscribe(created.id, chat));
    Ok(created)
}

pub async fn send(chat: Chat, content: String, files: PendingFiles) {
    chat.sending.set(true);
    chat.notice.set(None);
    let result = async {
        let conversation = conversation_for_send(chat).await?;
        let sent: SendResponse = call(
            "POST",
            &format!("/api/conversations/{}/messages", conversation.id),
            Some(&NewMessage {
                content: &content,
                attachment_ids: files.ready_ids(),
            }),
        )
        .await?;
        let user = chat.upsert(sent.user_message);
        user.update(|i| i.html = None);
        chat.upsert(sent.assistant_message);
        Ok::<(), String>(())
    }
    .await;
    chat.sending.set(false);
    match result {
        Ok(()) => {
            chat.text.set(String::new());
            files.clear();
            request_scroll(chat);
            refresh_budget(chat).await;
        }
        Err(message) => chat.notice.set(Some(message)),
    }
}

/// Stops every reply of the page that is still streaming.
pub fn stop_all(chat: Chat) {
    for (id, item) in chat.items.get_untracked() {
        if item.with_untracked(|i| i.message.status.is_streaming()) {
            leptos::task::spawn_local(async move {
                if let Ok(stopped) =
                    call::<(), MessageView>("POST", &format!("/api/messages/{id}/stop"), None).await
                {
                    chat.upsert(stopped);
                    fetch_html(item, id).await;
                }
            });
        }
    }
}

/// Saves the chosen model on the open conversation (a new chat keeps it until its first
/// message creates the conversation).
pub async fn save_model(chat: Chat) {
    let Some(conversation) = chat.conversation.get_untracked() else {
        return;
    };
    match call::<_, ConversationView>(
        "PATCH",
        &format!("/api/conversations/{}", conversation.id),
        Some(&model_choice(chat)),
    )
    .await
    {
        Ok(updated) => {
            chat.conversation.set(Some(updated.clone()));
            announce_conversation(&updated);
        }
        Err(message) => chat.notice.set(Some(message)),
    }
}
