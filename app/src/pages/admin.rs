//! `/admin`, for admins only (anyone else gets the 404 page, as the admin API answers 404), in
//! tabs that are plain links (`?tab=users|invites|audit|models`): who may use the instance and
//! what each spent this month, invite links, the audit log, and the model table. Plain HTML
//! forms that post to `/admin/…` and come back with `?saved=…` or `?error=CODE`; they work
//! without any script.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use uuid::Uuid;

use crate::{
    components::admin::{
        admin_tabs::{AdminTab, AdminTabs},
        audit_section::AuditSection,
        invites_section::InvitesSection,
        models_section::ModelsSection,
        users_section::UsersSection,
    },
    layout::page_shell::PageShell,
    page_data::{page_data, AdminPageData},
    pages::not_found::NotFoundPage,
    wire::UserStatus,
};

/// The sentence for an error code the server put in `?error=`; unknown codes show nothing.
pub fn admin_error_message(code: &str) -> Option<&'static str> {
    Some(match code {
        "invalid_amount" => "Amounts are dollars with at most six decimals, like 5 or 2.50. Nothing was saved.",
        "invalid_budget" => "A budget is between $0 and $1,000,000 a month; leave it empty for no limit. Nothing was saved.",
        "invalid_model" => "Check the model: a display name of 1 to 80 characters, a context window of 256 to 10,000,000 tokens, max output tokens at most the context window, prices up to $1,000,000 per million tokens, and a model id of letters, digits and . _ : / - @. Nothing was saved.",
        "model_exists" => "That model is already in the table.",
        "last_admin" => "That would leave no active admin. Make someone else an admin first. Nothing was changed.",
        "invalid_status" => "That change does not fit the account's status any more (someone may have changed it already). Nothing was changed.",
        "invalid_email" => "That does not look like an email address. No invite was made.",
        "invalid_invite_days" => "An invite is valid for 1 to 90 days. No invite was made.",
        "not_found" => "That user, invite or model no longer exists.",
        "bad_request" => "The form was incomplete. Nothing was saved.",
        "server_error" => "Something went wrong on our side, so nothing was saved. Please try again.",
        _ => return None,
    })
}

fn saved_message(what: &str) -> Option<&'static str> {
    Some(match what {
        "budget" => "Budget saved. It applies from the user's next message.",
        "settings" => "Default budget saved. New accounts start with it.",
        "model" => "Model saved. New prices apply to new messages only; earlier ones keep theirs.",
        "new_model" => "Model added.",
        "access" => "Access changed. It applies at once, on every device of that account.",
        "invite_created" => {
            "Invite created. Copy the link below and send it: it is shown only now."
        }
        "invite_revoked" => "Invite revoked. Its link no longer works.",
        _ => return None,
    })
}

#[component]
pub fn AdminPage() -> impl IntoView {
    let Some(data) = page_data::<AdminPageData>() else {
        return view! { <NotFoundPage/> }.into_any();
    };
    let query = use_query_map();
    let (tab, saved, error, paged) = query.with_untracked(|q| {
        let saved = q.get("saved");
        let error = q.get("error");
        let tab = AdminTab::from_query(q.get("tab").as_deref(), saved.as_deref(), error.as_deref());
        let paged = q.get("before").is_some_and(|b| Uuid::parse_str(&b).is_ok());
        (
            tab,
            saved.and_then(|v| saved_message(&v)),
            error.and_then(|code| admin_error_message(&code)),
            paged,
        )
    });
    let waiting = data
        .users
        .iter()
        .filter(|u| u.status == UserStatus::Pending)
        .count();
    let section = match tab {
        AdminTab::Users => view! {
            <UsersSection
                users=data.users
                month=data.month
                registration=data.registration
                default_budget_micros=data.settings.default_monthly_budget_micros
            />
        }
        .into_any(),
        AdminTab::Invites => view! {
            <InvitesSection invites=data.invites created=data.created_invite registration=data.registration/>
        }
        .into_any(),
        AdminTab::Audit => view! { <AuditSection page=data.audit paged/> }.into_any(),
        AdminTab::Models => view! { <ModelsSection models=data.models/> }.into_any(),
    };
    view! {
        <PageShell title="Admin" main_id="admin" main_class="usage-page admin-page">
            <div class="usage-wrap">
                <AdminTabs current=tab waiting/>
                {saved.map(|m| view! { <p class="form-status" role="status">{m}</p> })}
                {error.map(|m| view! { <p class="form-error" role="alert">{m}</p> })}
                {section}
            </div>
        </PageShell>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_codes_show_nothing() {
        assert!(admin_error_message("<b>x</b>").is_none());
        assert!(admin_error_message("invalid_model").is_some());
        assert!(saved_message("model").is_some());
    }

    #[test]
    fn every_access_and_invite_code_has_a_sentence() {
        for code in [
            "last_admin",
            "not_found",
            "invalid_status",
            "server_error",
            "invalid_email",
            "invalid_invite_days",
        ] {
            assert!(admin_error_message(code).is_some(), "{code}");
        }
        for saved in ["access", "invite_created", "invite_revoked"] {
            assert!(saved_message(saved).is_some(), "{saved}");
        }
    }
}
