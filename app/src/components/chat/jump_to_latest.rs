//! The "Jump to latest" button: while the reader is scrolled up from the newest message, the
//! stream leaves the view where it is (`feed::apply` follows only from the bottom) and this
//! button, pinned to the bottom of the message area, scrolls back down.

use leptos::prelude::*;

use super::state::Chat;

#[component]
pub fn JumpToLatest(chat: Chat) -> impl IntoView {
    let jump = move |_| {
        chat.scroll_to_bottom();
        chat.away_from_latest.set(false);
    };
    view! {
        <div class="jump-latest">
            <Show when=move || chat.away_from_latest.get()>
                <button type="button" class="btn btn-small jump-latest-button" on:click=jump>
                    "Jump to latest"
                </button>
            </Show>
        </div>
    }
}
