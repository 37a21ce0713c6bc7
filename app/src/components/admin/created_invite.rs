//! The invite link just made, shown this once: the server keeps only a hash of its code. The
//! link is in a read-only field anyone can select and copy; the copy button is a convenience.

use leptos::prelude::*;

use crate::{
    components::{copy_button::CopyButton, format},
    wire::CreatedInvite,
};

#[component]
pub fn CreatedInviteLink(invite: CreatedInvite) -> impl IntoView {
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
                <input id="invite-link" class="secret-value" type="text" readonly=true value=invite.url.clone() aria-describedby="invite-link-hint"/>
                <CopyButton text=invite.url.clone() label="Copy link".to_owned()/>
            </div>
            <p class="hint" id="invite-link-hint">{details}</p>
        </div>
    }
}
