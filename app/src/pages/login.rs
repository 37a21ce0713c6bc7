use leptos::prelude::*;

use super::auth_card::AuthCard;

/// A plain HTML form: it works before (and without) any WASM, and the server answers with a
/// redirect either to the app or back here with an error code.
#[component]
pub fn LoginPage() -> impl IntoView {
    view! {
        <AuthCard title="Log in" subtitle="Welcome back. Your conversations are waiting.">
            <form method="post" action="/auth/login" class="auth-form">
                <label for="email">"Email"</label>
                <input id="email" name="email" type="email" autocomplete="email" required autofocus/>
                <label for="password">"Password"</label>
                <input
                    id="password"
                    name="password"
                    type="password"
                    autocomplete="current-password"
                    required
                />
                <button type="submit" class="btn btn-primary">"Log in"</button>
            </form>
            <p class="auth-switch">"New here? " <a href="/register">"Create an account"</a></p>
        </AuthCard>
    }
}
