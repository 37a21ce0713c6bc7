use leptos::{html, prelude::*};

use super::attachments::{AttachButton, AttachmentTray, PendingFiles};

/// The message box: grows with its text, Enter sends, Shift+Enter adds a line, and while a
/// reply streams the button stops it. `blocked` says why nothing can be sent, if so.
#[component]
pub fn ChatInput(
    text: RwSignal<String>,
    streaming: Signal<bool>,
    blocked: Signal<Option<String>>,
    on_send: Callback<String>,
    on_stop: Callback<()>,
    textarea: NodeRef<html::Textarea>,
    files: PendingFiles,
) -> impl IntoView {
    let grow = move || {
        #[cfg(feature = "hydrate")]
        if let Some(el) = textarea.get() {
            let style = web_sys::HtmlElement::style(&el);
            let _ = style.set_property("height", "auto");
            let height = el.scroll_height().min(320);
            let _ = style.set_property("height", &format!("{height}px"));
        }
    };
    let empty = move || text.with(|t| t.trim().is_empty()) && !files.has_ready();
    let reason = move || {
        blocked
            .get()
            .or_else(|| files.uploading().then(|| "Uploading…".to_owned()))
            .or_else(|| empty().then(|| "Write a message first.".to_owned()))
    };
    let on_paste = move |ev: leptos::ev::ClipboardEvent| {
        // A pasted image is attached; pasted text goes in as usual.
        #[cfg(feature = "hydrate")]
        if files.add_all(ev.clipboard_data().and_then(|d| d.files()), true) {
            ev.prevent_default();
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    };
    let send = move || {
        if reason().is_none() && !streaming.get_untracked() {
            on_send.run(text.get_untracked());
        }
    };
    view! {
        <form
            class="chat-input"
            on:submit=move |ev| {
                ev.prevent_default();
                send();
            }
        >
            <AttachmentTray files/>
            <label for="message-input" class="visually-hidden">"Message"</label>
            <textarea
                id="message-input"
                node_ref=textarea
                rows="1"
                placeholder="Message the assistant…  (Enter to send, Shift+Enter for a new line)"
                prop:value=move || text.get()
                on:input=move |ev| {
                    text.set(event_target_value(&ev));
                    grow();
                }
                on:paste=on_paste
                on:keydown=move |ev| {
                    if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
                        ev.prevent_default();
                        send();
                    }
                }
            ></textarea>
            <div class="chat-input-bar">
                <AttachButton files/>
                <span class="hint" aria-live="off" data-testid="send-estimate">
                    {move || blocked.get().unwrap_or_else(|| text.with(|t| files.estimate(t)))}
                </span>
                {move || {
                    if streaming.get() {
                        view! {
                            <button type="button" class="btn btn-stop" on:click=move |_| on_stop.run(()) title="Stop (Esc)">
                                "Stop"
                            </button>
                        }
                            .into_any()
                    } else {
                        view! {
                            <button type="submit" class="btn btn-primary btn-send" disabled=move || reason().is_some() title=move || reason().unwrap_or_default()>
                                "Send"
                            </button>
                        }
                            .into_any()
                    }
                }}
            </div>
        </form>
    }
}
