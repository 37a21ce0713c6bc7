//! "Change password": posts to `/settings/password`, which checks the current password,
//! stores the new one and signs out every other session.

use leptos::prelude::*;

#[component]
pub fn PasswordForm() -> impl IntoView {
    view! {
        <section class="settings-section" aria-labelledby="settings-password-title">
            <h2 id="settings-password-title">"Change password"</h2>
            <form method="post" action="/settings/password" class="password-form">
                <div class="field">
                    <label for="current_password">"Current password"</label>
                    <input
                        type="password"
                        id="current_password"
                        name="current_password"
                        autocomplete="current-password"
                        required=true
                    />
                </div>
                <div class="field">
                    <label for="new_password">"New password"</label>
                    <input
                        type="password"
                        id="new_password"
                        name="new_password"
                        autocomplete="new-password"
                        minlength="8"
                        required=true
                        aria-describedby="new_password-hint"
                    />
                    <p class="hint" id="new_password-hint">
                        "At least 8 characters. Every other device signed in to your account is signed out."
                    </p>
                </div>
                <div class="section-actions">
                    <button type="submit" class="btn btn-primary">"Change password"</button>
                </div>
            </form>
        </section>
    }
}
