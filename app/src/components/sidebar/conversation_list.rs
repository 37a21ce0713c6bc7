use leptos::prelude::*;
use uuid::Uuid;

use crate::wire::ConversationView;

/// `21 Nov` — the same on the server and in the browser (no clock, no time zone guess).
fn short_date(c: &ConversationView) -> String {
    c.updated_at.format("%-d %b").to_string()
}

/// New chat, the conversations newest first with the current one highlighted, a search box,
/// rename in place and delete with confirmation. Titles and order follow the live feed (the
/// chat island announces conversation changes on `window`).
#[island]
pub fn ConversationList(
    conversations: Vec<ConversationView>,
    current: Option<Uuid>,
) -> impl IntoView {
    let list = RwSignal::new(conversations);
    let query = RwSignal::new(String::new());
    let editing = RwSignal::new(None::<Uuid>);
    let current = RwSignal::new(current);

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
                if current.get_untracked().is_none() && conversation.message_count == 0 {
                    current.set(Some(conversation.id));
                }
                list.update(|all| {
                    all.retain(|c| c.id != conversation.id);
                    all.push(conversation);
                    all.sort_by_key(|c| std::cmp::Reverse(c.updated_at));
                });
            },
        );
        on_cleanup(move || handle.remove());
    }

    let visible = move || {
        let q = query.get().to_lowercase();
        list.get()
            .into_iter()
            .filter(|c| q.is_empty() || c.title.to_lowercase().contains(&q))
            .collect::<Vec<_>>()
    };
    let rename = move |id: Uuid, title: String| {
        editing.set(None);
        let title = title.trim().to_owned();
        if title.is_empty() {
            return;
        }
        list.update(|all| {
            if let Some(c) = all.iter_mut().find(|c| c.id == id) {
                c.title = title.clone();
            }
        });
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async move {
            let body = serde_json::json!({ "title": title });
            if let Ok(updated) = crate::components::chat::api::call::<_, ConversationView>(
                "PATCH",
                &format!("/api/conversations/{id}"),
                Some(&body),
            )
            .await
            {
                crate::components::chat::api::announce_conversation(&updated);
            }
        });
    };
    let delete = move |id: Uuid, title: String| {
        #[cfg(feature = "hydrate")]
        {
            let confirmed = web_sys::window()
                .and_then(|w| {
                    w.confirm_with_message(&format!("Delete “{title}”? This cannot be undone."))
                        .ok()
                })
                .unwrap_or(false);
            if !confirmed {
                return;
            }
            leptos::task::spawn_local(async move {
                let deleted = crate::components::chat::api::call::<(), ()>(
                    "DELETE",
                    &format!("/api/conversations/{id}"),
                    None,
                )
                .await;
                if deleted.is_ok() {
                    list.update(|all| all.retain(|c| c.id != id));
                    if current.get_untracked() == Some(id) {
                        if let Some(w) = web_sys::window() {
                            let _ = w.location().set_href("/");
                        }
                    }
                }
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (id, title);
    };

    view! {
        <div class="conversations">
            <a class="btn btn-new-chat" href="/" title="New chat (Ctrl+Shift+O)">
                <span aria-hidden="true">"+"</span>
                " New chat"
            </a>
            <label class="search">
                <span class="visually-hidden">"Search conversations"</span>
                <input
                    type="search"
                    placeholder="Search chats"
                    aria-label="Search conversations"
                    prop:value=move || query.get()
                    on:input=move |ev| query.set(event_target_value(&ev))
                />
            </label>
            <nav class="conversation-list" aria-label="Conversations">
                {move || {
                    let items = visible();
                    if items.is_empty() {
                        let empty = if query.with(|q| q.is_empty()) { "No conversations yet." } else { "No chat matches your search." };
                        return view! { <p class="muted sidebar-empty">{empty}</p> }.into_any();
                    }
                    view! {
                        <ul>
                            {items
                                .into_iter()
                                .map(|c| {
                                    let id = c.id;
                                    let title = c.title.clone();
                                    let title_for_delete = c.title.clone();
                                    let is_current = move || current.get() == Some(id);
                                    view! {
                                        <li class="conversation-item" class:active=is_current>
                                            {move || {
                                                if editing.get() == Some(id) {
                                                    let initial = title.clone();
                                                    view! {
                                                        <input
                                                            class="rename-input"
                                                            aria-label="New title"
                                                            value=initial
                                                            autofocus
                                                            on:keydown=move |ev| {
                                                                if ev.key() == "Enter" {
                                                                    ev.prevent_default();
                                                                    rename(id, event_target_value(&ev));
                                                                } else if ev.key() == "Escape" {
                                                                    editing.set(None);
                                                                }
                                                            }
                                                            on:blur=move |ev| {
                                                                if editing.get_untracked() == Some(id) {
                                                                    rename(id, event_target_value(&ev));
                                                                }
                                                            }
                                                        />
                                                    }
                                                        .into_any()
                                                } else {
                                                    view! {
                                                        <a
                                                            class="conversation-link"
                                                            href=format!("/c/{id}")
                                                            aria-current=move || is_current().then_some("page")
                                                        >
                                                            <span class="conversation-title">{title.clone()}</span>
                                                            <span class="conversation-time">{short_date(&c)}</span>
                                                        </a>
                                                    }
                                                        .into_any()
                                                }
                                            }}
                                            <div class="conversation-actions">
                                                <button
                                                    type="button"
                                                    class="icon-btn small"
                                                    aria-label="Rename"
                                                    title="Rename"
                                                    on:click=move |_| editing.set(Some(id))
                                                >
                                                    <svg viewBox="0 0 24 24" width="15" height="15" aria-hidden="true" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">
                                                        <path d="M12 20h9M16.5 3.5a2.1 2.1 0 0 1 3 3L7 19l-4 1 1-4z"></path>
                                                    </svg>
                                                </button>
                                                <button
                                                    type="button"
                                                    class="icon-btn small"
                                                    aria-label="Delete"
                                                    title="Delete"
                                                    on:click={
                                                        let title = title_for_delete.clone();
                                                        move |_| delete(id, title.clone())
                                                    }
                                                >
                                                    <svg viewBox="0 0 24 24" width="15" height="15" aria-hidden="true" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">
                                                        <path d="M3 6h18M8 6V4h8v2M19 6l-1 14H6L5 6M10 11v6M14 11v6"></path>
                                                    </svg>
                                                </button>
                                            </div>
                                        </li>
                                    }
                                })
                                .collect_view()}
                        </ul>
                    }
                        .into_any()
                }}
            </nav>
        </div>
    }
}
