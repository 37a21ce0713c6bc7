//! Keyboard shortcuts of the chat page (Esc stops, `/` focuses the input, Ctrl/⌘+Shift+O
//! starts a new chat) and the copy buttons of code blocks.

use leptos::{html, prelude::*};
use wasm_bindgen::JsCast;

use super::{actions::stop_all, state::Chat};
use crate::routes::AppRoute;

pub fn install(chat: Chat, textarea: NodeRef<html::Textarea>) {
    let handle = window_event_listener(leptos::ev::keydown, move |ev| {
        let typing = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .map(|el| matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT"))
            .unwrap_or(false);
        match ev.key().as_str() {
            // Escape in the sidebar closes its search or menu; it stops nothing.
            "Escape" if !in_sidebar(&ev) => stop_all(chat),
            "/" if !typing => {
                ev.prevent_default();
                if let Some(el) = textarea.get_untracked() {
                    let _ = el.focus();
                }
            }
            "o" | "O" if ev.shift_key() && (ev.ctrl_key() || ev.meta_key()) => {
                ev.prevent_default();
                if let Some(w) = web_sys::window() {
                    let _ = w.location().set_href(&AppRoute::Home.href());
                }
            }
            _ => {}
        }
    });
    on_cleanup(move || handle.remove());
}

fn in_sidebar(ev: &web_sys::KeyboardEvent) -> bool {
    ev.target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        .and_then(|el| el.closest(".sidebar").ok().flatten())
        .is_some()
}

/// Copy buttons of code blocks (server-rendered HTML, so one delegated listener).
pub fn copy_code(ev: leptos::ev::MouseEvent) {
    let Some(button) = ev
        .target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        .and_then(|el| el.closest(".copy-btn").ok().flatten())
    else {
        return;
    };
    let code = button.get_attribute("data-code").unwrap_or_default();
    if let Some(window) = web_sys::window() {
        let _ = window.navigator().clipboard().write_text(&code);
    }
    let _ = button.class_list().add_1("is-copied");
    button.set_text_content(Some("Copied"));
}
