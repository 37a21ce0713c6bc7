//! `/register`. What it offers depends on the server's `REGISTRATION` mode (from
//! [`RegisterPageData`]): the first account of an instance is always welcome and becomes its
//! admin; an invite link (`?invite=CODE`) works in every mode; otherwise `invite` and `closed`
//! show why there is no form. Without page data (a page the server did not load) the form shows.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::auth_card::AuthCard;
use crate::page_data::{page_data, RegisterPageData};

/// An invite code as the register form passes it on: the characters codes are made of, at a
/// sane length. Anything else from the address bar is dropped, not echoed.
pub fn invite_code(raw: &str) -> Option<String> {
    let ok = !raw.is_empty()
        && raw.len() <= 100
        && raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    ok.then(|| raw.to_owned())
}

/// What the page says above the form, and whether the form is offered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegisterNotice {
    FirstAccount,
    Invited,
    Approval,
    InviteNeeded,
    Closed,
    None,
}

impl RegisterNotice {
    pub fn of(data: Option<&RegisterPageData>, invited: bool) -> Self {
        let Some(data) = data else {
            return if invited { Self::Invited } else { Self::None };
        };
        if data.first_account {
            return Self::FirstAccount;
        }
        if invited {
            return Self::Invited;
        }
        match data.registration.as_str() {
            "approval" => Self::Approval,
            "invite" => Self::InviteNeeded,
            "closed" => Self::Closed,
            _ => Self::None,
        }
    }

    pub fn sentence(self) -> Option<&'static str> {
        Some(match self {
            Self::FirstAccount => "You are the first: this account will be the admin.",
            Self::Invited => "You were invited. Create your account to join.",
            Self::Approval => "An admin approves new accounts before they can chat.",
            Self::InviteNeeded => "Registration needs an invite link from an admin.",
            Self::Closed => "Registration is closed.",
            Self::None => return None,
        })
    }

    pub fn offers_form(self) -> bool {
        !matches!(self, Self::InviteNeeded | Self::Closed)
    }
}

#[component]
pub fn RegisterPage() -> impl IntoView {
    let data = page_data::<RegisterPageData>();
    let invite = use_query_map()
        .with_untracked(|q| q.get("invite"))
        .and_then(|raw| invite_code(&raw));
    let notice = RegisterNotice::of(data.as_ref(), invite.is_some());
    let sentence = notice.sentence().map(|text| {
        let class = if notice.offers_form() {
            "auth-notice"
        } else {
            "auth-notice auth-notice-stop"
        };
        view! { <p class=class data-testid="register-notice">{text}</p> }
    });
    let body = if notice.offers_form() {
        view! {
            <form method="post" action="/auth/register" class="auth-form">
                {invite.map(|code| view! { <input type="hidden" name="invite" value=code/> })}
                <label for="name">"Name " <span class="muted">"(optional)"</span></label>
                <input id="name" name="name" type="text" autocomplete="name" maxlength="100"/>
                <label for="email">"Email"</label>
                <input id="email" name="email" type="email" autocomplete="email" required/>
                <label for="password">"Password"</label>
                <input
                    id="password"
                    name="password"
                    type="password"
                    autocomplete="new-password"
                    minlength="8"
                    required
                    aria-describedby="password-hint"
                />
                <p id="password-hint" class="hint">"At least 8 characters."</p>
                <button type="submit" class="btn btn-primary">"Create account"</button>
            </form>
        }
        .into_any()
    } else {
        view! {
            <p class="hint auth-closed-hint">"If an admin sent you an invite link, open that link to create your account."</p>
        }
        .into_any()
    };
    view! {
        <AuthCard title="Create your account" subtitle="Self-hosted chat with every model, and every cent accounted for.">
            {sentence}
            {body}
            <p class="auth-switch">"Already have an account? " <a href="/login">"Log in"</a></p>
        </AuthCard>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(mode: &str, first: bool) -> RegisterPageData {
        RegisterPageData {
            registration: mode.into(),
            first_account: first,
        }
    }

    #[test]
    fn invite_codes_from_the_address_are_checked() {
        assert_eq!(invite_code("AbC_12-x").as_deref(), Some("AbC_12-x"));
        assert_eq!(invite_code("\"><script>"), None);
        assert_eq!(invite_code(""), None);
        assert_eq!(invite_code(&"a".repeat(101)), None);
    }

    #[test]
    fn each_mode_says_what_happens_and_an_invite_opens_every_mode() {
        let cases = [
            (data("open", true), false, RegisterNotice::FirstAccount),
            (data("closed", true), false, RegisterNotice::FirstAccount),
            (data("open", false), false, RegisterNotice::None),
            (data("approval", false), false, RegisterNotice::Approval),
            (data("invite", false), false, RegisterNotice::InviteNeeded),
            (data("closed", false), false, RegisterNotice::Closed),
            (data("invite", false), true, RegisterNotice::Invited),
            (data("closed", false), true, RegisterNotice::Invited),
        ];
        for (data, invited, notice) in cases {
            assert_eq!(RegisterNotice::of(Some(&data), invited), notice, "{data:?}");
        }
        assert_eq!(RegisterNotice::of(None, false), RegisterNotice::None);
        assert!(!RegisterNotice::Closed.offers_form());
        assert!(RegisterNotice::Approval.offers_form());
    }
}
