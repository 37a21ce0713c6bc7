//! The centred card shared by the log-in and register pages, and the messages their forms show.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// The human sentence for an error code the server put in `?error=`. Only known codes are
/// shown: nothing from the address bar is echoed into the page.
pub fn auth_error_message(code: &str) -> Option<&'static str> {
    Some(match code {
        "invalid_credentials" => "Email or password is incorrect.",
        "email_taken" => "An account with this email already exists. Log in instead?",
        "invalid_email" => "That does not look like an email address.",
        "weak_password" => "Choose a password of at least 8 characters that is not a common one.",
        "invalid_name" => "Your name can be at most 100 characters.",
        "session_expired" => "Your session has ended. Please log in again.",
        "account_disabled" => "This account has been disabled. Ask an admin of this server if you think that is a mistake.",
        "registration_closed" => "Registration is closed on this server. Ask an admin for an invite link.",
        "invite_required" => "Registration needs an invite link from an admin of this server.",
        "invalid_invite" => "That invite link has expired, was already used, was revoked, or is for another email address. Ask the admin for a new one.",
        "server_error" => "Something went wrong on our side. Please try again.",
        "too_many_attempts" => "Too many attempts. Wait a minute, then try again.",
        "server_busy" => "The server is busy. Please try again in a moment.",
        _ => return None,
    })
}

#[component]
pub fn AuthCard(title: &'static str, subtitle: &'static str, children: Children) -> impl IntoView {
    let query = use_query_map();
    let error = query
        .read_untracked()
        .get("error")
        .and_then(|code| auth_error_message(&code));
    view! {
        <main class="auth-page">
            <section class="auth-card" aria-labelledby="auth-title">
                <div class="brand brand-large">
                    <span class="brand-mark" aria-hidden="true"></span>
                    <span>"Rustchat"</span>
                </div>
                <h1 id="auth-title">{title}</h1>
                <p class="muted">{subtitle}</p>
                {error.map(|message| view! { <p class="form-error" role="alert">{message}</p> })}
                {children()}
            </section>
        </main>
    }
}

#[cfg(test)]
mod tests {
    use super::auth_error_message;

    #[test]
    fn unknown_error_codes_show_nothing() {
        assert!(auth_error_message("<script>alert(1)</script>").is_none());
        assert!(auth_error_message("invalid_credentials").is_some());
        for code in [
            "registration_closed",
            "invite_required",
            "invalid_invite",
            "account_disabled",
        ] {
            assert!(auth_error_message(code).is_some(), "{code}");
        }
    }

    #[test]
    fn the_limits_refusals_have_sentences() {
        assert!(auth_error_message("too_many_attempts").is_some());
        assert!(auth_error_message("server_busy").is_some());
    }
}
