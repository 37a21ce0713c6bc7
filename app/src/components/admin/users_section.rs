//! The users tab: who may use the instance (status, role, the buttons that change them), what
//! each spent this month against their budget, and the budget new accounts start with.

use leptos::prelude::*;

use super::user_row::UserRow;
use crate::wire::{AdminUserView, Micros, UserStatus};

/// What `REGISTRATION` means for someone who opens the register page, in a few words.
pub fn registration_words(mode: &str) -> &'static str {
    match mode {
        "open" => "anyone can register and chat at once",
        "approval" => "wait for an admin's approval",
        "invite" => "need an invite link",
        "closed" => "registration is closed; invite links still work",
        _ => "as the server's REGISTRATION setting says",
    }
}

#[component]
pub fn UsersSection(
    users: Vec<AdminUserView>,
    month: String,
    registration: String,
    default_budget_micros: Option<i64>,
) -> impl IntoView {
    let default_budget = default_budget_micros
        .map(|m| Micros(m).dollars_exact())
        .unwrap_or_default();
    let waiting = users
        .iter()
        .filter(|u| u.status == UserStatus::Pending)
        .count();
    let waiting_line = (waiting > 0).then(|| {
        let text = if waiting == 1 {
            "1 account waits for your approval.".to_owned()
        } else {
            format!("{waiting} accounts wait for your approval.")
        };
        view! { <p class="admin-waiting" data-testid="admin-waiting">{text}</p> }
    });
    view! {
        <section class="usage-card" id="users" aria-labelledby="admin-users">
            <h2 id="admin-users">{format!("Users · {month}")}</h2>
            <p class="admin-mode" data-testid="registration-mode">
                "New accounts: "
                <strong>{registration_words(&registration)}</strong>
                " · set " <code>"REGISTRATION"</code> " on the server to change."
            </p>
            {waiting_line}
            <p class="muted">"Spending this month (UTC) from the usage log. A monthly budget caps what a user's messages can cost: each send reserves its worst case first, so concurrent sends cannot overdraw it. Leave it empty for no limit. Disabling an account signs it out everywhere at once and stops its replies."</p>
            <div class="usage-table-wrap">
                <table class="usage-table admin-users" data-testid="admin-users">
                    <thead>
                        <tr>
                            <th>"User"</th>
                            <th>"Status"</th>
                            <th>"Role"</th>
                            <th class="num">"Replies"</th>
                            <th class="num">"Tokens"</th>
                            <th class="num">"Spent"</th>
                            <th>"Monthly budget ($)"</th>
                            <th>"Access"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {users.into_iter().map(|u| view! { <UserRow user=u/> }).collect_view()}
                    </tbody>
                </table>
            </div>
            <form class="admin-inline-form" method="post" action="/admin/settings">
                <label for="default-budget">"Budget for new accounts ($ a month)"</label>
                <input id="default-budget" name="default_budget" inputmode="decimal" placeholder="No limit" value=default_budget/>
                <button class="btn btn-primary" type="submit">"Save"</button>
            </form>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::registration_words;

    #[test]
    fn every_mode_has_words() {
        for mode in ["open", "approval", "invite", "closed"] {
            assert_ne!(registration_words(mode), registration_words("?"), "{mode}");
        }
    }
}
