//! A row of the audit log: when, who (an account, or the operator's command line on the host),
//! the action in words, what it was done to, and its particulars in a line.

use leptos::prelude::*;

use crate::{components::format, wire::AuditEntryView};

/// The action as a person reads it; an action this page does not know shows as the server
/// named it.
pub fn action_words(action: &str) -> &str {
    match action {
        "user.registered" => "Registered",
        "user.approved" => "Approved an account",
        "user.disabled" => "Disabled an account",
        "user.enabled" => "Re-enabled an account",
        "user.role_changed" => "Changed a role",
        "user.budget_changed" => "Changed a budget",
        "settings.default_budget_changed" => "Changed the default budget",
        "model.added" => "Added a model",
        "model.changed" => "Changed a model",
        "invite.created" => "Created an invite",
        "invite.used" => "Joined with an invite",
        "invite.revoked" => "Revoked an invite",
        "admin.granted" => "Made admin",
        "admin.revoked" => "Removed admin",
        "password.changed" => "Changed their password",
        "sessions.revoked" => "Signed out sessions",
        "token.created" => "Created an API token",
        "token.revoked" => "Revoked an API token",
        other => other,
    }
}

/// A value as the log shows it: moments in the page's format, ids cut to their last eight
/// characters (ids are time-ordered, so their first ones are alike; the last tell entries
/// apart), other text as it is.
pub fn value_words(value: &str) -> String {
    if let Ok(at) = chrono::DateTime::parse_from_rfc3339(value) {
        return format::when(at.to_utc());
    }
    if uuid::Uuid::parse_str(value).is_ok() {
        return format!("…{}", &value[value.len() - 8..]);
    }
    value.to_owned()
}

/// The particulars in one line: `{"from": "pending", "to": "active"}` reads
/// `pending → active`; a field that is true reads as its name, one that is false or empty is
/// left out; the others read `key: value`, joined by commas.
pub fn details_line(details: &serde_json::Value) -> String {
    fn plain(value: &serde_json::Value) -> String {
        match value {
            serde_json::Value::String(s) => value_words(s),
            other => other.to_string(),
        }
    }
    fn key_words(key: &str) -> String {
        match key {
            "first" => "first account".into(),
            "expires_at" => "expires".into(),
            "token_id" => "token".into(),
            other => other.replace('_', " "),
        }
    }
    let Some(fields) = details.as_object() else {
        return plain(details);
    };
    let moved = match (fields.get("from"), fields.get("to")) {
        (Some(from), Some(to)) => Some(format!("{} → {}", plain(from), plain(to))),
        _ => None,
    };
    let paired = moved.is_some();
    let rest = fields
        .iter()
        .filter(|(key, _)| !paired || !matches!(key.as_str(), "from" | "to"))
        .filter_map(|(key, value)| match value {
            serde_json::Value::Bool(true) => Some(key_words(key)),
            serde_json::Value::Bool(false) | serde_json::Value::Null => None,
            value => Some(format!("{}: {}", key_words(key), plain(value))),
        });
    moved.into_iter().chain(rest).collect::<Vec<_>>().join(", ")
}

#[component]
pub fn AuditRow(entry: AuditEntryView) -> impl IntoView {
    let actor = match (&entry.actor_id, &entry.actor_email) {
        (_, Some(email)) => view! { <span>{email.clone()}</span> }.into_any(),
        (None, None) => view! { <span class="muted">"command line"</span> }.into_any(),
        (Some(_), None) => view! { <span class="muted">"a removed account"</span> }.into_any(),
    };
    let details = entry.details.as_ref().map(details_line).unwrap_or_default();
    view! {
        <tr data-action=entry.action.clone()>
            <td class="admin-nowrap">{format::when(entry.created_at)}</td>
            <td class="admin-nowrap">{actor}</td>
            <td class="admin-nowrap">{action_words(&entry.action).to_owned()}</td>
            <td class="admin-nowrap" title=entry.target.clone()>{entry.target.as_deref().map(value_words).unwrap_or_default()}</td>
            <td class="admin-details">{details}</td>
        </tr>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn details_read_as_one_line() {
        assert_eq!(
            details_line(&json!({"from": "pending", "to": "active"})),
            "pending → active"
        );
        assert_eq!(
            details_line(&json!({"days": 7, "role": "admin"})),
            "days: 7, role: admin"
        );
        assert_eq!(details_line(&json!("plain")), "plain");
        assert_eq!(
            details_line(
                &json!({"email": null, "expires_at": "2026-12-16T05:32:12.303663Z", "first": true, "invited": false})
            ),
            "expires: 16 Dec 2026, 05:32 UTC, first account"
        );
        assert_eq!(
            value_words("01a2353d-5dd3-74f8-a182-bee35a1d7673"),
            "…5a1d7673"
        );
    }

    #[test]
    fn actions_read_as_words() {
        assert_eq!(action_words("user.approved"), "Approved an account");
        assert_eq!(action_words("something.new"), "something.new");
    }
}
