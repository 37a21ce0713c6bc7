//! The controls under a message that move through the conversation tree: `‹ n/m ›` between
//! its versions, Edit on a question, Regenerate (and with which model) on a reply, Delete.
//!
//! Plain markup with `data-action` attributes and no handlers of their own: the same HTML
//! works in the server-rendered history (never hydrated) and in the island, and one
//! delegated listener of the chat island acts on it ([`super::branching`]), taking the message
//! from its `article[data-message-id]`: a page of 1,000 messages carries no id twice.

use leptos::prelude::*;

use crate::wire::{MessageView, Role};

#[component]
pub fn MessageTools(message: MessageView) -> impl IntoView {
    if message.status.is_streaming() {
        return None;
    }
    let versions = (message.sibling_count > 1).then(|| {
        let (index, count) = (message.sibling_index, message.sibling_count);
        let target = |sibling: Option<uuid::Uuid>| sibling.map(|s| s.to_string());
        view! {
            <nav class="branch-nav" aria-label="Versions of this message">
                <button
                    type="button"
                    class="tool-btn"
                    data-action="branch"
                    data-target=target(message.prev_sibling_id)
                    disabled=message.prev_sibling_id.is_none()
                    aria-label="Previous version"
                >"‹"</button>
                <span class="branch-count" aria-label=format!("Version {index} of {count}")>
                    {format!("{index}/{count}")}
                </span>
                <button
                    type="button"
                    class="tool-btn"
                    data-action="branch"
                    data-target=target(message.next_sibling_id)
                    disabled=message.next_sibling_id.is_none()
                    aria-label="Next version"
                >"›"</button>
            </nav>
        }
    });
    let actions = match message.role {
        Role::User => view! {
            <button type="button" class="tool-btn" data-action="edit" aria-label="Edit message">
                "Edit"
            </button>
        }
        .into_any(),
        _ => view! {
            <button type="button" class="tool-btn" data-action="regenerate" aria-label="Regenerate reply">
                "Regenerate"
            </button>
            <button
                type="button"
                class="tool-btn tool-btn-menu"
                data-action="regenerate-menu"
                aria-haspopup="menu"
                aria-label="Regenerate with another model"
            >"▾"</button>
        }
        .into_any(),
    };
    Some(view! {
        <div class="message-tools">
            {versions}
            {actions}
            <button type="button" class="tool-btn tool-btn-danger" data-action="delete" aria-label="Delete message and its replies">
                "Delete"
            </button>
        </div>
    })
}
