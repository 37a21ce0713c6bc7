use leptos::prelude::*;

/// The conversation sidebar. On a phone it is off-canvas and the [`super::sidebar_toggle`]
/// island slides it in.
#[component]
pub fn Sidebar() -> impl IntoView {
    view! {
        <aside class="sidebar" id="sidebar" aria-label="Conversations">
            <div class="sidebar-head">
                <a class="brand" href="/">
                    <span class="brand-mark" aria-hidden="true"></span>
                    <span>"Rustchat"</span>
                </a>
            </div>
            <a class="btn btn-new-chat" href="/">"+ New chat"</a>
            <nav class="conversation-list">
                <p class="muted sidebar-empty">"Your conversations will appear here."</p>
            </nav>
        </aside>
    }
}
