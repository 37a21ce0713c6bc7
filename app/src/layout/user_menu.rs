use leptos::prelude::*;

use crate::{routes::AppRoute, session::SessionUser};

/// Avatar button with the user's name, email and log out. A `<details>` element: it opens and
/// closes without any script.
#[component]
pub fn UserMenu(user: SessionUser) -> impl IntoView {
    let initials = user.initials();
    view! {
        <details class="user-menu">
            <summary class="avatar" aria-label="Account menu">{initials}</summary>
            <div class="user-menu-panel" role="menu">
                <div class="user-menu-who">
                    <strong>{user.name.clone()}</strong>
                    <span class="muted">{user.email.clone()}</span>
                </div>
                <nav class="user-menu-links">
                    <a href=AppRoute::Settings.href() role="menuitem">"Settings"</a>
                    <a href=AppRoute::Usage.href() role="menuitem">"Usage"</a>
                    {user.role.is_admin().then(|| view! { <a href=AppRoute::Admin.href() role="menuitem">"Admin"</a> })}
                </nav>
                <form method="post" action="/auth/logout">
                    <button type="submit" class="btn btn-ghost" role="menuitem">"Log out"</button>
                </form>
            </div>
        </details>
    }
}
