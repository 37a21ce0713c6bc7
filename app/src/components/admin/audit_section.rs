//! The audit log tab: admin and security actions, newest first, fifty a page, with links to
//! older pages (`?before=` the last entry shown) and back to the newest.

use leptos::prelude::*;

use super::{admin_tabs::AdminTab, audit_row::AuditRow};
use crate::wire::AuditPage;

#[component]
pub fn AuditSection(
    page: AuditPage,
    /// The address asked for an older page (`?before=`), so a link back to the newest helps.
    paged: bool,
) -> impl IntoView {
    let audit = AdminTab::Audit.href();
    let older = page
        .next_cursor
        .map(|cursor| format!("{audit}&before={cursor}#audit"));
    let rows = if page.items.is_empty() {
        view! {
            <tr>
                <td colspan="5" class="muted admin-empty">"Nothing has been recorded yet."</td>
            </tr>
        }
        .into_any()
    } else {
        page.items
            .into_iter()
            .map(|entry| view! { <AuditRow entry/> })
            .collect_view()
            .into_any()
    };
    let paging = (paged || older.is_some()).then(|| {
        view! {
            <nav class="admin-paging" aria-label="Audit log pages">
                {paged.then(|| view! { <a class="btn btn-small" href=format!("{audit}#audit")>"← Newest"</a> })}
                {older.map(|href| view! { <a class="btn btn-small" href=href rel="next">"Older →"</a> })}
            </nav>
        }
    });
    view! {
        <section class="usage-card" id="audit" aria-labelledby="admin-audit">
            <h2 id="admin-audit">"Audit log"</h2>
            <p class="muted">"Who changed access, budgets, models, invites, passwords and tokens, and when. Entries are written with the change itself and cannot be edited."</p>
            <div class="usage-table-wrap" tabindex="0" role="region" aria-labelledby="admin-audit">
                <table class="usage-table admin-audit" data-testid="admin-audit">
                    <thead>
                        <tr>
                            <th>"When"</th>
                            <th>"Who"</th>
                            <th>"What"</th>
                            <th>"To"</th>
                            <th>"Details"</th>
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
            {paging}
        </section>
    }
}
