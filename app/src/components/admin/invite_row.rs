//! A row of the invites table: for whom, which role, when it was made and expires, its state,
//! and a revoke button while it can still be used.

use chrono::{DateTime, Utc};
use leptos::prelude::*;

use crate::{components::format, wire::InviteView};

/// Where an invite stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InviteState {
    Active,
    Used(Option<String>),
    Revoked,
    Expired,
}

impl InviteState {
    pub fn of(invite: &InviteView, now: DateTime<Utc>) -> Self {
        if invite.revoked_at.is_some() {
            Self::Revoked
        } else if invite.used_at.is_some() {
            Self::Used(invite.used_by_email.clone())
        } else if invite.expires_at <= now {
            Self::Expired
        } else {
            Self::Active
        }
    }

    fn words(&self) -> String {
        match self {
            Self::Active => "Active".into(),
            Self::Used(Some(email)) => format!("Used by {email}"),
            Self::Used(None) => "Used".into(),
            Self::Revoked => "Revoked".into(),
            Self::Expired => "Expired".into(),
        }
    }

    fn class(&self) -> &'static str {
        match self {
            Self::Active => "status-badge status-active",
            Self::Used(_) => "status-badge status-used",
            Self::Revoked | Self::Expired => "status-badge status-disabled",
        }
    }
}

#[component]
pub fn InviteRow(invite: InviteView) -> impl IntoView {
    let state = InviteState::of(&invite, Utc::now());
    let revoke = (state == InviteState::Active).then(|| {
        view! {
            <form method="post" action=format!("/admin/invites/{}/revoke", invite.id)>
                <button class="btn btn-danger btn-small" type="submit">"Revoke"</button>
            </form>
        }
    });
    let who = invite.email.clone().unwrap_or_else(|| "Anyone".to_owned());
    view! {
        <tr data-invite=invite.id.to_string()>
            <td class="admin-user-cell">
                <span class=invite.email.is_none().then_some("muted")>{who}</span>
            </td>
            <td>{if invite.role.is_admin() { "Admin" } else { "User" }}</td>
            <td class="admin-nowrap">{format::when(invite.created_at)}</td>
            <td class="admin-nowrap">{format::when(invite.expires_at)}</td>
            <td><span class=state.class()>{state.words()}</span></td>
            <td>{revoke}</td>
        </tr>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::UserRole;

    #[test]
    fn revoked_wins_then_used_then_expired() {
        let now = Utc::now();
        let mut invite = InviteView {
            id: uuid::Uuid::nil(),
            email: None,
            role: UserRole::User,
            created_at: now - chrono::Duration::days(1),
            expires_at: now + chrono::Duration::days(1),
            used_at: None,
            used_by_email: None,
            revoked_at: None,
        };
        assert_eq!(InviteState::of(&invite, now), InviteState::Active);
        invite.expires_at = now - chrono::Duration::hours(1);
        assert_eq!(InviteState::of(&invite, now), InviteState::Expired);
        invite.used_at = Some(now);
        invite.used_by_email = Some("bo@example.com".into());
        assert_eq!(
            InviteState::of(&invite, now).words(),
            "Used by bo@example.com"
        );
        invite.revoked_at = Some(now);
        assert_eq!(InviteState::of(&invite, now), InviteState::Revoked);
    }
}
