use leptos::prelude::*;

use super::auth_card::AuthCard;

#[component]
pub fn RegisterPage() -> impl IntoView {
    view! {
        <AuthCard title="Create your account" subtitle="Self-hosted chat with every model, and every cent accounted for.">
            <form method="post" action="/auth/register" class="auth-form">
                <label for="name">"Name " <span class="muted">"(optional)"</span></label>
                <input id="name" name="name" type="text" autocomplete="name" maxlength="100"/>
                <label for="email">"Email"</label>
                <input id="email" name="email" type="email" autocomplete="email" required/>
                <label for="password">"Password"</label>
                <input
                    id="password"
                    name="password"
                    type="password"
                    autocomplete="new-password"
                    minlength="8"
                    required
                    aria-describedby="password-hint"
                />
                <p id="password-hint" class="hint">"At least 8 characters."</p>
                <button type="submit" class="btn btn-primary">"Create account"</button>
            </form>
            <p class="auth-switch">"Already have an account? " <a href="/login">"Log in"</a></p>
        </AuthCard>
    }
}
