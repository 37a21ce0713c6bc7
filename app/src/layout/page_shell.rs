use leptos::prelude::*;
use leptos_meta::Title;

use crate::{layout::user_menu::UserMenu, session::session_user};

/// The frame of the signed-in pages other than the chat (settings, usage, admin): a top bar
/// with the way back to the chats, the page's title and the user menu, over the page's body.
#[component]
pub fn PageShell(
    /// The page's name, in the top bar and the document title.
    title: &'static str,
    /// The `id` of the `<main>` element.
    main_id: &'static str,
    /// The class of the `<main>` element.
    main_class: &'static str,
    children: Children,
) -> impl IntoView {
    let user = session_user();
    view! {
        <Title text=format!("{title} · Rustchat")/>
        <div class="settings-shell">
            <header class="topbar settings-topbar">
                <a class="back-link" href="/">
                    <span aria-hidden="true">"←"</span>
                    <span>"Back to chats"</span>
                </a>
                <h1 class="topbar-title">{title}</h1>
                {user.map(|user| view! { <UserMenu user/> })}
            </header>
            <main class=main_class id=main_id>
                {children()}
            </main>
        </div>
    }
}

/// The card a page shows when its data could not be loaded.
#[component]
pub fn Unavailable(heading: &'static str, text: &'static str) -> impl IntoView {
    view! {
        <section class="settings-card settings-unavailable">
            <h2>{heading}</h2>
            <p class="muted">{text}</p>
        </section>
    }
}
