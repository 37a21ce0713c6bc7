//! The API token just made, shown this once: only its digest is kept, so it cannot be shown
//! again. In a read-only field anyone can select; the copy button is a convenience.

use leptos::prelude::*;

use crate::{components::copy_button::CopyButton, wire::CreatedApiToken};

#[component]
pub fn CreatedToken(token: CreatedApiToken) -> impl IntoView {
    view! {
        <div class="secret-box" data-testid="created-token">
            <label for="new-token">{format!("Your new token \u{201c}{}\u{201d}", token.name)}</label>
            <div class="secret-row">
                <input id="new-token" class="secret-value" type="text" readonly=true value=token.token.clone() aria-describedby="new-token-hint"/>
                <CopyButton text=token.token.clone() label="Copy token".to_owned()/>
            </div>
            <p class="hint secret-warning" id="new-token-hint">
                <strong>"Copy it now: it will not be shown again."</strong>
                " If you lose it, revoke it and create another."
            </p>
        </div>
    }
}
