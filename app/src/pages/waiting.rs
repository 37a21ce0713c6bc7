//! `/waiting`: where the server sends an account that waits for an admin's approval (in the
//! `approval` registration mode), from every page, until an admin approves it.

use leptos::prelude::*;
use leptos_meta::Title;

use super::auth_card::AuthCard;
use crate::{routes::AppRoute, session::session_user};

#[component]
pub fn WaitingPage() -> impl IntoView {
    let email = session_user().map(|user| user.email);
    view! {
        <Title text="Waiting for approval · Rustchat"/>
        <AuthCard title="Waiting for approval" subtitle="Your account is created. An admin of this server approves new accounts before they can chat.">
            <div class="waiting-body" data-testid="waiting">
                <span class="waiting-mark" aria-hidden="true"></span>
                <div class="waiting-text">
                    {email.map(|email| view! {
                        <p class="waiting-who">"Signed in as" <strong>{email}</strong></p>
                    })}
                    <p class="hint">"There is nothing else to do. Once an admin approves your account, \u{201c}Check again\u{201d} opens your chats."</p>
                </div>
            </div>
            <div class="waiting-actions">
                <a class="btn btn-primary" href=AppRoute::Home.href()>"Check again"</a>
                <form method="post" action="/auth/logout">
                    <button type="submit" class="btn">"Log out"</button>
                </form>
            </div>
        </AuthCard>
    }
}
