//! A question turned into its editor: the text in a textarea, Enter sends it as a new version
//! (a branch beside the old one, which stays), Shift+Enter adds a line, Esc cancels.

use leptos::{html, prelude::*};

use super::state::Chat;
use crate::wire::MessageItem;

#[component]
pub fn EditBox(item: RwSignal<MessageItem>, chat: Chat) -> impl IntoView {
    let (id, parent, original) =
        item.with_untracked(|i| (i.message.id, i.message.parent_id, i.message.content.clone()));
    let text = RwSignal::new(original);
    let textarea = NodeRef::<html::Textarea>::new();
    let cancel = move || chat.editing.set(None);
    let save = move || {
        let content = text.get_untracked();
        if content.trim().is_empty() {
            return;
        }
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(super::branching::send_edit(chat, id, parent, content));
        #[cfg(not(feature = "hydrate"))]
        let _ = (id, parent, content);
    };
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if let Some(el) = textarea.get() {
            let _ = el.focus();
            let end = el.value().len() as u32;
            let _ = el.set_selection_range(end, end);
            let style = web_sys::HtmlElement::style(&el);
            let _ = style.set_property("height", &format!("{}px", el.scroll_height().min(400)));
        }
    });
    view! {
        <form
            class="edit-box"
            on:submit=move |ev| {
                ev.prevent_default();
                save();
            }
        >
            <label for=format!("edit-{id}") class="visually-hidden">"Edit your message"</label>
            <textarea
                id=format!("edit-{id}")
                node_ref=textarea
                prop:value=move || text.get()
                on:input=move |ev| text.set(event_target_value(&ev))
                on:keydown=move |ev| match ev.key().as_str() {
                    "Enter" if !ev.shift_key() && !ev.is_composing() => {
                        ev.prevent_default();
                        save();
                    }
                    "Escape" => {
                        ev.prevent_default();
                        ev.stop_propagation();
                        cancel();
                    }
                    _ => {}
                }
            ></textarea>
            <div class="edit-box-bar">
                <span class="hint">"Sends a new version; the old one stays one click away."</span>
                <button type="button" class="btn btn-ghost" on:click=move |_| cancel()>"Cancel"</button>
                <button
                    type="submit"
                    class="btn btn-primary"
                    disabled=move || text.with(|t| t.trim().is_empty()) || chat.sending.get()
                >"Send"</button>
            </div>
        </form>
    }
}
