//! A button that copies a secret shown once (an invite link, an API token) to the clipboard.
//! The secret is also in a read-only field beside it, so nothing depends on this script: the
//! button only saves selecting the text.

use leptos::prelude::*;

#[island]
pub fn CopyButton(text: String, label: String) -> impl IntoView {
    let (copied, set_copied) = signal(false);
    let on_click = move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(window) = web_sys::window() {
            let _ = window.navigator().clipboard().write_text(&text);
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = &text;
        set_copied.set(true);
    };
    view! {
        <button type="button" class="btn btn-small copy-secret" on:click=on_click aria-live="polite">
            {move || if copied.get() { "Copied".to_owned() } else { label.clone() }}
        </button>
    }
}
