//! "Sessions": the devices signed in to the account (created, last seen, user agent), each
//! with a revoke form, and "Log out everywhere". The current one is marked "This device"; it
//! is ended by logging out (or everywhere), not from the list.

use leptos::prelude::*;

use crate::{components::format::when, wire::SessionView};

#[component]
pub fn SessionsList(sessions: Vec<SessionView>) -> impl IntoView {
    let rows = sessions
        .into_iter()
        .map(|session| {
            let agent = session
                .user_agent
                .clone()
                .unwrap_or_else(|| "Unknown device".to_owned());
            let title = agent.clone();
            let dates = format!(
                "Signed in {} · last seen {}",
                when(session.created_at),
                when(session.last_seen_at)
            );
            let action = if session.current {
                view! { <span class="session-badge">"This device"</span> }.into_any()
            } else {
                let url = format!("/settings/sessions/{}/revoke", session.id);
                view! {
                    <form method="post" action=url class="session-revoke">
                        <button type="submit" class="btn btn-small">"Revoke"</button>
                    </form>
                }
                .into_any()
            };
            view! {
                <li class="session-row" class:current=session.current>
                    <div class="session-text">
                        <p class="session-agent" title=title>{agent}</p>
                        <p class="hint">{dates}</p>
                    </div>
                    {action}
                </li>
            }
        })
        .collect_view();
    view! {
        <section class="settings-section" aria-labelledby="settings-sessions-title">
            <h2 id="settings-sessions-title">"Sessions"</h2>
            <p class="hint section-intro">
                "Where your account is signed in. Revoke a session you do not recognise."
            </p>
            <ul class="session-list">{rows}</ul>
            <form method="post" action="/settings/sessions/revoke-all" class="section-actions">
                <button type="submit" class="btn btn-danger">"Log out everywhere"</button>
            </form>
        </section>
    }
}
