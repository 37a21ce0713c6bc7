//! A row of the users table: who, their status and role, this month's spending, their budget
//! form, and the buttons that change their access.

use leptos::prelude::*;

use super::access_actions::AccessActions;
use crate::{
    components::format,
    session::session_user,
    wire::{AdminUserView, Micros, UserStatus},
};

/// The status as the table shows it, and the badge's class.
pub fn status_badge(status: UserStatus) -> (&'static str, &'static str) {
    match status {
        UserStatus::Active => ("Active", "status-badge status-active"),
        UserStatus::Pending => ("Waiting for approval", "status-badge status-pending"),
        UserStatus::Disabled => ("Disabled", "status-badge status-disabled"),
    }
}

#[component]
pub fn UserRow(user: AdminUserView) -> impl IntoView {
    let is_self = session_user().is_some_and(|me| me.id == user.id);
    let form_id = format!("budget-{}", user.id);
    let budget = user
        .monthly_budget_micros
        .map(|m| Micros(m).dollars_exact())
        .unwrap_or_default();
    let left = user.monthly_budget_micros.map(|cap| {
        let left = (cap - user.month.cost_micros - user.reserved_micros).max(0);
        format!("{} left", Micros(left).cost())
    });
    let (status_text, status_class) = status_badge(user.status);
    let role = if user.role.is_admin() {
        "Admin"
    } else {
        "User"
    };
    let name = if user.name.trim().is_empty() {
        user.email.clone()
    } else {
        user.name.clone()
    };
    view! {
        <tr data-email=user.email.clone() data-status=user.status.as_str()>
            <td class="admin-user-cell">
                <strong>{name}</strong>
                {is_self.then(|| view! { <span class="badge">"you"</span> })}
                <span class="muted admin-email">{user.email.clone()}</span>
            </td>
            <td><span class=status_class>{status_text}</span></td>
            <td>{role}</td>
            <td class="num">{format::tokens(user.month.requests)}</td>
            <td class="num">{format::tokens(user.month.total_tokens)}</td>
            <td class="num">{Micros(user.month.cost_micros).cost()}</td>
            <td>
                <form id=form_id class="admin-row-form" method="post" action=format!("/admin/users/{}/budget", user.id)>
                    <input name="budget" inputmode="decimal" placeholder="No limit" value=budget aria-label=format!("Monthly budget of {}", user.email)/>
                    <button class="btn btn-ghost" type="submit">"Save"</button>
                </form>
                {left.map(|l| view! { <span class="muted admin-left">{l}</span> })}
            </td>
            <td>
                <AccessActions id=user.id email=user.email.clone() status=user.status role=user.role is_self/>
            </td>
        </tr>
    }
}
