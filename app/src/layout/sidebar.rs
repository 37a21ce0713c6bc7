use leptos::prelude::*;
use uuid::Uuid;

use crate::{components::sidebar::conversation_list::ConversationList, wire::ConversationView};

/// The conversation sidebar. On a phone it is off-canvas and the [`super::sidebar_toggle`]
/// island slides it in.
#[component]
pub fn Sidebar(conversations: Vec<ConversationView>, current: Option<Uuid>) -> impl IntoView {
    view! {
        <aside class="sidebar" id="sidebar" aria-label="Conversations">
            <div class="sidebar-head">
                <a class="brand" href="/">
                    <span class="brand-mark" aria-hidden="true"></span>
                    <span>"Rustchat"</span>
                </a>
            </div>
            <ConversationList conversations current/>
            <div class="sidebar-foot">
                <a class="sidebar-link" href="/settings">"Settings"</a>
            </div>
        </aside>
    }
}
