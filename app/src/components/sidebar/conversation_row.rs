//! One conversation in the sidebar: its link (a pin mark when pinned), rename in place, delete,
//! and a menu with Pin, Archive and the two exports. In the Archived view the row offers
//! Unarchive directly.

use leptos::{html, prelude::*};

use super::state::Lists;
use crate::wire::ConversationView;

/// `21 Nov` — the same on the server and in the browser (no clock, no time zone guess).
fn short_date(c: &ConversationView) -> String {
    c.updated_at.format("%-d %b").to_string()
}

#[component]
pub fn ConversationRow(conversation: ConversationView, lists: Lists) -> impl IntoView {
    let id = conversation.id;
    let title = conversation.title.clone();
    let (pinned, archived) = (conversation.pinned, conversation.archived);
    let is_current = move || lists.current.get() == Some(id);
    let menu_open = move || lists.menu.get() == Some(id);
    let more = NodeRef::<html::Button>::new();

    let rename = move |title: String| {
        lists.editing.set(None);
        let title = title.trim().to_owned();
        if title.is_empty() {
            return;
        }
        lists.active.update(|all| {
            if let Some(c) = all.iter_mut().find(|c| c.id == id) {
                c.title = title.clone();
            }
        });
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(super::actions::change(
            lists,
            id,
            serde_json::json!({ "title": title }),
        ));
    };
    let delete = {
        let title = title.clone();
        move |_| {
            #[cfg(feature = "hydrate")]
            {
                let confirmed = web_sys::window()
                    .and_then(|w| {
                        w.confirm_with_message(&format!("Delete “{title}”? This cannot be undone."))
                            .ok()
                    })
                    .unwrap_or(false);
                if confirmed {
                    leptos::task::spawn_local(super::actions::delete(lists, id));
                }
            }
            #[cfg(not(feature = "hydrate"))]
            let _ = &title;
        }
    };
    let set_flag = move |flag: &'static str, value: bool| {
        lists.menu.set(None);
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(super::actions::change(
            lists,
            id,
            serde_json::json!({ flag: value }),
        ));
        #[cfg(not(feature = "hydrate"))]
        let _ = (flag, value);
    };
    let close_menu = move || {
        lists.menu.set(None);
        if let Some(button) = more.get_untracked() {
            let _ = button.focus();
        }
    };

    let link = {
        let title = title.clone();
        let date = short_date(&conversation);
        move || {
            if lists.editing.get() == Some(id) {
                view! {
                    <input
                        class="rename-input"
                        aria-label="New title"
                        value=title.clone()
                        autofocus
                        on:keydown=move |ev| {
                            if ev.key() == "Enter" {
                                ev.prevent_default();
                                rename(event_target_value(&ev));
                            } else if ev.key() == "Escape" {
                                lists.editing.set(None);
                            }
                        }
                        on:blur=move |ev| {
                            if lists.editing.get_untracked() == Some(id) {
                                rename(event_target_value(&ev));
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
                        {pinned.then(|| view! {
                            <svg class="pin-mark" viewBox="0 0 24 24" width="13" height="13" aria-hidden="true" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">
                                <path d="M12 17v5M9 3h6l-1 7 4 3v2H6v-2l4-3z"></path>
                            </svg>
                            <span class="visually-hidden">"Pinned: "</span>
                        })}
                        <span class="conversation-title">{title.clone()}</span>
                        <span class="conversation-time">{date.clone()}</span>
                    </a>
                }
                .into_any()
            }
        }
    };

    let primary = if archived {
        view! {
            <button
                type="button"
                class="btn btn-small unarchive-btn"
                aria-label=format!("Unarchive {title}")
                on:click=move |_| set_flag("archived", false)
            >
                "Unarchive"
            </button>
        }
        .into_any()
    } else {
        view! {
            <button
                type="button"
                class="icon-btn small"
                aria-label="Rename"
                title="Rename"
                on:click=move |_| lists.editing.set(Some(id))
            >
                <svg viewBox="0 0 24 24" width="15" height="15" aria-hidden="true" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">
                    <path d="M12 20h9M16.5 3.5a2.1 2.1 0 0 1 3 3L7 19l-4 1 1-4z"></path>
                </svg>
            </button>
        }
        .into_any()
    };

    let menu = move || {
        menu_open().then(|| {
            view! {
                <div class="menu-backdrop" on:click=move |_| lists.menu.set(None)></div>
                <div
                    class="conversation-menu"
                    id=format!("conversation-menu-{id}")
                    on:keydown=move |ev| {
                        if ev.key() == "Escape" {
                            ev.prevent_default();
                            close_menu();
                        }
                    }
                >
                    <button type="button" class="menu-item" on:click=move |_| set_flag("pinned", !pinned)>
                        {if pinned { "Unpin" } else { "Pin" }}
                    </button>
                    <button type="button" class="menu-item" on:click=move |_| set_flag("archived", !archived)>
                        {if archived { "Unarchive" } else { "Archive" }}
                    </button>
                    <a class="menu-item" href=format!("/api/conversations/{id}/export?format=json") download="" on:click=move |_| lists.menu.set(None)>
                        "Export JSON"
                    </a>
                    <a class="menu-item" href=format!("/api/conversations/{id}/export?format=markdown") download="" on:click=move |_| lists.menu.set(None)>
                        "Export Markdown"
                    </a>
                </div>
            }
        })
    };
    // The menu's first item takes the focus when it opens, so the keyboard is inside it.
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if menu_open() {
            let first = web_sys::window()
                .and_then(|w| w.document())
                .and_then(|d| {
                    d.query_selector(&format!("#conversation-menu-{id} .menu-item"))
                        .ok()
                        .flatten()
                })
                .and_then(|el| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(el).ok());
            if let Some(first) = first {
                let _ = first.focus();
            }
        }
    });

    view! {
        <li
            class="conversation-item"
            class:active=is_current
            class:pinned=pinned
            class:archived=archived
            class:menu-open=menu_open
            data-conversation-id=id.to_string()
        >
            {link}
            <div class="conversation-actions">
                {primary}
                <button
                    type="button"
                    class="icon-btn small"
                    aria-label="Delete"
                    title="Delete"
                    on:click=delete
                >
                    <svg viewBox="0 0 24 24" width="15" height="15" aria-hidden="true" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">
                        <path d="M3 6h18M8 6V4h8v2M19 6l-1 14H6L5 6M10 11v6M14 11v6"></path>
                    </svg>
                </button>
                <button
                    type="button"
                    class="icon-btn small"
                    aria-label="More actions"
                    title="More actions"
                    aria-expanded=move || menu_open().to_string()
                    aria-controls=move || menu_open().then(|| format!("conversation-menu-{id}"))
                    node_ref=more
                    on:click=move |_| {
                        lists.menu.update(|m| *m = if *m == Some(id) { None } else { Some(id) });
                    }
                >
                    <svg viewBox="0 0 24 24" width="15" height="15" aria-hidden="true" fill="currentColor">
                        <circle cx="5" cy="12" r="1.8"></circle>
                        <circle cx="12" cy="12" r="1.8"></circle>
                        <circle cx="19" cy="12" r="1.8"></circle>
                    </svg>
                </button>
            </div>
            {menu}
        </li>
    }
}
