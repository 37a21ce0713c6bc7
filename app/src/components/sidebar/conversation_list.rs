use leptos::prelude::*;
use uuid::Uuid;

use super::{
    conversation_row::ConversationRow, message_search::MessageSearch, preset_menu::PresetMenu,
    state::Lists,
};
use crate::wire::ConversationView;

/// New chat (or one from a preset), the search, the conversations (pinned first, the current
/// one highlighted) with their menus, and the Archived view. Titles and order follow the live
/// feed (the chat island announces conversation changes on `window`).
#[island]
pub fn ConversationList(
    conversations: Vec<ConversationView>,
    current: Option<Uuid>,
) -> impl IntoView {
    let lists = Lists::new(conversations, current);
    let query = RwSignal::new(String::new());

    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let handle = window_event_listener_untyped(
            crate::components::chat::api::CONVERSATION_EVENT,
            move |ev| {
                let Some(detail) = ev
                    .dyn_ref::<web_sys::CustomEvent>()
                    .and_then(|e| e.detail().as_string())
                else {
                    return;
                };
                let Ok(conversation) = serde_json::from_str::<ConversationView>(&detail) else {
                    return;
                };
                if lists.current.get_untracked().is_none() && conversation.message_count == 0 {
                    lists.current.set(Some(conversation.id));
                }
                lists.place(conversation);
            },
        );
        on_cleanup(move || handle.remove());
    }

    let show_archived = move |show: bool| {
        lists.showing_archived.set(show);
        lists.menu.set(None);
        #[cfg(feature = "hydrate")]
        if show && lists.archived.with_untracked(Option::is_none) {
            leptos::task::spawn_local(super::actions::load_archived(lists));
        }
    };

    let rows = move |items: Vec<ConversationView>| {
        view! {
            <ul>
                {items
                    .into_iter()
                    .map(|conversation| view! { <ConversationRow conversation lists/> })
                    .collect_view()}
            </ul>
        }
    };
    let chats = move || {
        let q = query.get().trim().to_lowercase();
        let items = lists.active.with(|all| {
            all.iter()
                .filter(|c| q.is_empty() || c.title.to_lowercase().contains(&q))
                .cloned()
                .collect::<Vec<_>>()
        });
        let heading = (!q.is_empty()).then(|| view! { <h2 class="sidebar-heading">"Chats"</h2> });
        if items.is_empty() {
            let empty = if q.is_empty() {
                "No conversations yet."
            } else {
                "No chat matches your search."
            };
            return view! { {heading} <p class="muted sidebar-empty">{empty}</p> }.into_any();
        }
        view! { {heading} {rows(items)} }.into_any()
    };
    let archived = move || {
        match lists.archived.get() {
        None => view! { <p class="muted sidebar-empty" role="status">"Loading archived chats…"</p> }
            .into_any(),
        Some(items) if items.is_empty() => {
            view! { <p class="muted sidebar-empty">"No archived chats. Archive one from its menu (⋯) to keep it out of the list."</p> }
                .into_any()
        }
        Some(items) => rows(items).into_any(),
    }
    };

    view! {
        <div class="conversations">
            <div class="new-chat-row">
                <a class="btn btn-new-chat" href="/" title="New chat (Ctrl+Shift+O)">
                    <span aria-hidden="true">"+"</span>
                    " New chat"
                </a>
                <PresetMenu/>
            </div>
            <MessageSearch query/>
            {move || lists.notice.get().map(|n| view! { <p class="form-error sidebar-notice" role="alert">{n}</p> })}
            <nav class="conversation-list" aria-label=move || if lists.showing_archived.get() { "Archived conversations" } else { "Conversations" }>
                {move || {
                    if lists.showing_archived.get() {
                        view! { <h2 class="sidebar-heading">"Archived"</h2> {archived} }.into_any()
                    } else {
                        chats().into_any()
                    }
                }}
            </nav>
            <button
                type="button"
                class="btn btn-small btn-ghost archived-toggle"
                on:click=move |_| show_archived(!lists.showing_archived.get_untracked())
            >
                {move || if lists.showing_archived.get() { "← Back to chats" } else { "Archived chats" }}
            </button>
        </div>
    }
}
