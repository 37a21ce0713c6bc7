//! The signed-in app: sidebar with conversations, the chat area, the user menu.
//! The server's page guard has already sent anyone not signed in to `/login`.

use leptos::prelude::*;

use crate::layout::{sidebar::Sidebar, sidebar_toggle::SidebarToggle, user_menu::UserMenu};
use crate::session::session_user;

#[component]
pub fn ChatPage() -> impl IntoView {
    let user = session_user();
    view! {
        <div class="app-shell">
            <Sidebar/>
            <div class="main-column">
                <header class="topbar">
                    <SidebarToggle/>
                    <h1 class="topbar-title">"New chat"</h1>
                    {user.map(|user| view! { <UserMenu user/> })}
                </header>
                <main class="chat-area" id="chat">
                    <section class="chat-empty">
                        <div class="brand-mark brand-mark-large" aria-hidden="true"></div>
                        <h2>"How can I help today?"</h2>
                        <p class="muted">
                            "Start a conversation with any configured model, or the offline demo."
                        </p>
                    </section>
                </main>
            </div>
        </div>
    }
}
