//! The signed-in app: sidebar with conversations, the chat island, the user menu. The
//! server's page guard has already sent anyone not signed in to `/login`, and loaded the data.

use leptos::prelude::*;

use crate::{
    components::chat::{
        chat_message::MessageHistory,
        chat_window::{ChatWindow, ChatWindowData},
    },
    layout::{sidebar::Sidebar, sidebar_toggle::SidebarToggle, user_menu::UserMenu},
    page_data::{page_data, ChatPageData},
    pages::not_found::NotFoundPage,
    session::session_user,
};

#[component]
pub fn ChatPage() -> impl IntoView {
    let user = session_user();
    let Some(data) = page_data::<ChatPageData>() else {
        return view! { <NotFoundPage/> }.into_any();
    };
    if data.not_found {
        return view! { <NotFoundPage/> }.into_any();
    }
    let current = data.current.as_ref().map(|c| c.id);
    // Finished messages before the first one still streaming never change: they are plain
    // server-rendered HTML handed to the island as children, so they are not repeated in its
    // props. The island holds only what can still change.
    let split = data
        .messages
        .iter()
        .position(|m| m.message.status.is_streaming())
        .unwrap_or(data.messages.len());
    let earlier = crate::components::chat::state::has_parent(&data.messages);
    let mut live = data.messages;
    let history = live.drain(..split).collect::<Vec<_>>();
    let window = ChatWindowData {
        conversation: data.current.clone(),
        messages: live,
        has_history: !history.is_empty(),
        history_last: history.last().map(|m| m.message.id),
        history_first: history.first().map(|m| m.message.id),
        earlier,
        models: data.models.clone(),
        settings: data.settings.clone(),
        budget: data.budget.clone(),
    };
    view! {
        <div class="app-shell">
            <Sidebar conversations=data.conversations.clone() current/>
            <div class="main-column">
                <header class="topbar">
                    <SidebarToggle/>
                    <span class="topbar-spacer"></span>
                    {user.map(|user| view! { <UserMenu user/> })}
                </header>
                <main class="chat-area" id="chat">
                    <ChatWindow data=window>
                        <MessageHistory messages=history hide_streaming_text=!data.settings.streaming/>
                    </ChatWindow>
                </main>
            </div>
        </div>
    }
    .into_any()
}
