//! `/settings`: the signed-in user's chat settings, in a plain HTML form that works without any
//! script. The server's page guard has already sent anyone not signed in to `/login`, and
//! loaded the page's data.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::{
    components::settings::chat_settings_form::ChatSettingsForm,
    layout::user_menu::UserMenu,
    page_data::{page_data, SettingsPageData},
    session::session_user,
};

#[component]
pub fn SettingsPage() -> impl IntoView {
    let user = session_user();
    let body = match page_data::<SettingsPageData>() {
        Some(data) => view! { <ChatSettingsForm data/> }.into_any(),
        None => view! {
            <section class="settings-card settings-unavailable">
                <h2>"Settings are not available"</h2>
                <p class="muted">"We could not load your settings. Reload the page to try again."</p>
            </section>
        }
        .into_any(),
    };
    view! {
        <Title text="Settings · Rustchat"/>
        <div class="settings-shell">
            <header class="topbar settings-topbar">
                <a class="back-link" href="/">
                    <span aria-hidden="true">"←"</span>
                    <span>"Back to chats"</span>
                </a>
                <h1 class="topbar-title">"Settings"</h1>
                {user.map(|user| view! { <UserMenu user/> })}
            </header>
            <main class="settings-page" id="settings">
                {body}
            </main>
        </div>
    }
}
