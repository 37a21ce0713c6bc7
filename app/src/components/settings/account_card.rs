//! The account card of the settings page: the password form and the list of sessions, with
//! the sentence for what the last of their forms did (`?saved=` / `?error=` from the server's
//! redirect). Plain HTML forms, rendered on the server only.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::{password_form::PasswordForm, sessions_list::SessionsList};
use crate::wire::SessionView;

/// What the account forms' `?saved=` values say.
fn saved_message(what: &str) -> Option<&'static str> {
    Some(match what {
        "password_changed" => "Password changed. Your other sessions are signed out.",
        "session_revoked" => "Session revoked. That device is signed out.",
        _ => return None,
    })
}

/// The sentence for an account form's error code; only known codes, nothing from the address
/// bar is echoed.
pub fn account_error_message(code: &str) -> Option<&'static str> {
    Some(match code {
        "invalid_credentials" => "Your current password is not correct. Nothing was changed.",
        "weak_password" => {
            "Choose a stronger new password: at least 8 characters, not a common one, and not your email."
        }
        "not_found" => "That session or token has already ended.",
        _ => return None,
    })
}

#[component]
pub fn AccountCard(sessions: Vec<SessionView>) -> impl IntoView {
    let query = use_query_map();
    let (saved, error) = query.with_untracked(|q| {
        (
            q.get("saved").and_then(|what| saved_message(&what)),
            q.get("error").and_then(|code| account_error_message(&code)),
        )
    });
    view! {
        <div class="settings-card settings-form settings-account" id="account">
            {saved.map(|message| view! { <p class="form-status" role="status">{message}</p> })}
            {error.map(|message| view! { <p class="form-error" role="alert">{message}</p> })}
            <PasswordForm/>
            <SessionsList sessions/>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_known_codes_become_sentences() {
        assert!(account_error_message("<b>hi</b>").is_none());
        assert!(account_error_message("invalid_credentials").is_some());
        assert!(saved_message("1").is_none());
        assert!(saved_message("session_revoked").is_some());
    }
}
