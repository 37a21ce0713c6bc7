//! The invites tab: the form that makes an invite link (for anyone or one address, as a user or
//! an admin, for some days), the link just made, and every invite with its state.

use leptos::prelude::*;

use super::{created_invite::CreatedInviteLink, invite_row::InviteRow};
use crate::wire::{CreatedInvite, InviteView};

#[component]
pub fn InvitesSection(
    invites: Vec<InviteView>,
    created: Option<CreatedInvite>,
    registration: String,
) -> impl IntoView {
    let mode_note = match registration.as_str() {
        "invite" | "closed" => "Registration on this server needs an invite, so this is how new people join.",
        _ => "An invite lets someone in at once, even while new accounts otherwise wait for approval or registration is closed.",
    };
    let rows = if invites.is_empty() {
        view! {
            <tr>
                <td colspan="6" class="muted admin-empty">"No invites yet."</td>
            </tr>
        }
        .into_any()
    } else {
        invites
            .into_iter()
            .map(|invite| view! { <InviteRow invite/> })
            .collect_view()
            .into_any()
    };
    view! {
        <section class="usage-card" id="invites" aria-labelledby="admin-invites">
            <h2 id="admin-invites">"Invites"</h2>
            <p class="muted">
                {mode_note}
                " Each link works once, until it expires. Bind it to an email address to let only that person use it."
            </p>
            {created.map(|invite| view! { <CreatedInviteLink invite/> })}
            <form class="admin-grid-form admin-invite-form" method="post" action="/admin/invites">
                <label>
                    <span>"Email " <span class="admin-optional">"(optional)"</span></span>
                    <input type="email" name="email" autocomplete="off" placeholder="Anyone with the link"/>
                </label>
                <label>"Role"
                    <select name="role">
                        <option value="user" selected=true>"User"</option>
                        <option value="admin">"Admin"</option>
                    </select>
                </label>
                <label>"Valid for (days)"
                    <input type="number" name="days" min="1" max="90" value="7" inputmode="numeric"/>
                </label>
                <button class="btn btn-primary" type="submit">"Create invite"</button>
            </form>
            <div class="usage-table-wrap" tabindex="0" role="region" aria-labelledby="admin-invites">
                <table class="usage-table admin-invites" data-testid="admin-invites">
                    <thead>
                        <tr>
                            <th>"For"</th>
                            <th>"Role"</th>
                            <th>"Created"</th>
                            <th>"Expires"</th>
                            <th>"State"</th>
                            <th><span class="visually-hidden">"Actions"</span></th>
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        </section>
    }
}
