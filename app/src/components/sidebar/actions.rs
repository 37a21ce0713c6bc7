//! The sidebar's calls to the API: rename, pin, archive, delete, the archived conversations.
//! Each change comes back as the conversation it made, which is placed in the lists and
//! announced to the chat island; a failure is said above the list.

use leptos::prelude::*;
use uuid::Uuid;

use super::state::Lists;
use crate::{
    components::chat::api::{announce_conversation, call},
    wire::{ConversationView, Page},
};

/// `PATCH /api/conversations/{id}` with `changes` (`{"title": …}`, `{"pinned": …}`, …).
pub async fn change(lists: Lists, id: Uuid, changes: serde_json::Value) {
    lists.notice.set(None);
    match call::<_, ConversationView>("PATCH", &format!("/api/conversations/{id}"), Some(&changes))
        .await
    {
        Ok(updated) => {
            lists.place(updated.clone());
            announce_conversation(&updated);
        }
        Err(message) => lists.notice.set(Some(message)),
    }
}

/// Deletes a conversation; leaves its page when it was open.
pub async fn delete(lists: Lists, id: Uuid) {
    lists.notice.set(None);
    match call::<(), ()>("DELETE", &format!("/api/conversations/{id}"), None).await {
        Ok(()) => {
            lists.remove(id);
            if lists.current.get_untracked() == Some(id) {
                if let Some(w) = web_sys::window() {
                    let _ = w.location().set_href("/");
                }
            }
        }
        Err(message) => lists.notice.set(Some(message)),
    }
}

/// The archived conversations (the first 100: an archive is looked through, not paged).
pub async fn load_archived(lists: Lists) {
    match call::<(), Page<ConversationView>>(
        "GET",
        "/api/conversations?archived=true&limit=100",
        None,
    )
    .await
    {
        Ok(page) => {
            let mut items = page.items;
            super::state::order(&mut items);
            lists.archived.set(Some(items));
        }
        Err(message) => lists.notice.set(Some(message)),
    }
}
