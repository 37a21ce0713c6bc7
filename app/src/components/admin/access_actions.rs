//! The buttons that change who may use the instance, in one small form per user posting
//! `action` to `/admin/users/{id}/access`: the pressed button's value is the action.

use leptos::prelude::*;
use uuid::Uuid;

use crate::wire::{UserRole, UserStatus};

/// The actions offered for an account, as `(action, label, primary)`. A waiting account is
/// approved first; roles change on active accounts; an admin does not disable themselves from
/// their own row (the server also refuses to leave the instance without an active admin).
pub fn offered_actions(
    status: UserStatus,
    role: UserRole,
    is_self: bool,
) -> Vec<(&'static str, &'static str, bool)> {
    let mut actions = Vec::new();
    match status {
        UserStatus::Pending => actions.push(("approve", "Approve", true)),
        UserStatus::Disabled => actions.push(("enable", "Enable", false)),
        UserStatus::Active => {
            if role.is_admin() {
                actions.push(("make_user", "Make user", false));
            } else {
                actions.push(("make_admin", "Make admin", false));
            }
            if !is_self {
                actions.push(("disable", "Disable", false));
            }
        }
    }
    actions
}

#[component]
pub fn AccessActions(
    id: Uuid,
    email: String,
    status: UserStatus,
    role: UserRole,
    is_self: bool,
) -> impl IntoView {
    let buttons = offered_actions(status, role, is_self)
        .into_iter()
        .map(|(action, label, primary)| {
            let class = match (primary, action) {
                (true, _) => "btn btn-primary btn-small",
                (_, "disable") => "btn btn-danger btn-small",
                _ => "btn btn-small",
            };
            view! {
                <button class=class type="submit" name="action" value=action title=format!("{label}: {email}")>
                    {label}
                </button>
            }
        })
        .collect_view();
    view! {
        <form class="admin-access-form" method="post" action=format!("/admin/users/{id}/access")>
            {buttons}
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(status: UserStatus, role: UserRole, is_self: bool) -> Vec<&'static str> {
        offered_actions(status, role, is_self)
            .into_iter()
            .map(|(action, ..)| action)
            .collect()
    }

    #[test]
    fn each_status_offers_its_next_steps() {
        assert_eq!(
            names(UserStatus::Pending, UserRole::User, false),
            ["approve"]
        );
        assert_eq!(
            names(UserStatus::Disabled, UserRole::User, false),
            ["enable"]
        );
        assert_eq!(
            names(UserStatus::Active, UserRole::User, false),
            ["make_admin", "disable"]
        );
        assert_eq!(
            names(UserStatus::Active, UserRole::Admin, true),
            ["make_user"]
        );
    }
}
