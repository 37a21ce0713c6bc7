//! `/waiting`: where an account that waits for an admin's approval is sent from every page.

use leptos::prelude::*;

use super::auth_card::AuthCard;

#[component]
pub fn WaitingPage() -> impl IntoView {
    view! {
        <AuthCard title="Waiting for approval" subtitle="An admin of this instance approves new accounts before they can chat.">
            <p><a href="/">"Check again"</a></p>
            <form method="post" action="/auth/logout">
                <button type="submit" class="btn">"Log out"</button>
            </form>
        </AuthCard>
    }
}
