//! The invite link just made, shown this once: the server keeps only a hash of its code. The
//! link is in a read-only field anyone can select and copy; the copy button is a convenience.

use leptos::prelude::*;

use crate::{
    components::{copy_button::CopyButton, format},
    wire::CreatedInvite,
};

/// The link to send. The server makes it absolute on `PUBLIC_URL`; without one (a server on a
/// loopback or IP address, plain HTTP) it is a path, completed with the address the admin
/// opened the page at, so the copied link works in someone else's browser.
pub fn shareable_link(url: &str, host: Option<&str>) -> String {
    match host {
        Some(host) if url.starts_with('/') => format!("http://{host}{url}"),
        _ => url.to_owned(),
    }
}

/// The `Host` the page was requested with, when rendering on the server.
fn request_host() -> Option<String> {
    #[cfg(feature = "ssr")]
    {
        use_context::<http::request::Parts>().and_then(|parts| {
            let host = parts.headers.get(http::header::HOST)?.to_str().ok()?;
            let plain = host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
            plain.then(|| host.to_owned())
        })
    }
    #[cfg(not(feature = "ssr"))]
    {
        None
    }
}

#[component]
pub fn CreatedInviteLink(invite: CreatedInvite) -> impl IntoView {
    let link = shareable_link(&invite.url, request_host().as_deref());
    let who = invite
        .email
        .clone()
        .map(|email| format!("Only {email} can use it"))
        .unwrap_or_else(|| "Anyone with the link can use it".to_owned());
    let role = if invite.role.is_admin() {
        "an admin"
    } else {
        "a user"
    };
    let details = format!(
        "{who}, once, to join as {role} until {}. Send it now: it is not shown again.",
        format::when(invite.expires_at)
    );
    view! {
        <div class="secret-box" data-testid="created-invite">
            <label for="invite-link">"Invite link"</label>
            <div class="secret-row">
                <input id="invite-link" class="secret-value" type="text" readonly=true value=link.clone() aria-describedby="invite-link-hint"/>
                <CopyButton text=link label="Copy link".to_owned()/>
            </div>
            <p class="hint" id="invite-link-hint">{details}</p>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::shareable_link;

    #[test]
    fn a_path_gets_the_address_the_page_was_opened_at() {
        assert_eq!(
            shareable_link("/register?invite=abc", Some("127.0.0.1:3000")),
            "http://127.0.0.1:3000/register?invite=abc"
        );
        assert_eq!(
            shareable_link(
                "https://chat.example.com/register?invite=abc",
                Some("127.0.0.1")
            ),
            "https://chat.example.com/register?invite=abc"
        );
        assert_eq!(
            shareable_link("/register?invite=abc", None),
            "/register?invite=abc"
        );
    }
}
