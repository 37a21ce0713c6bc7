//! The HTML forms of the log-in and register pages post here. They work without any
//! script: success sets the cookie and redirects into the app; failure redirects back with an
//! error code the page turns into a sentence.

use axum::{
    extract::State,
    http::HeaderMap,
    response::{IntoResponse, Redirect, Response},
    Form,
};
use axum_extra::extract::CookieJar;
use serde::Deserialize;

use app::routes::AppRoute;

use super::{
    error::ApiError,
    session::{cleared_session_cookie, session_cookie, user_agent, SESSION_COOKIE},
};
use crate::{
    auth::{service::RegisterInput, AuthError},
    state::AppState,
};

#[derive(Deserialize)]
pub struct RegisterForm {
    email: String,
    password: String,
    name: Option<String>,
    /// From `/register?invite=…`, carried in a hidden field.
    invite: Option<String>,
}

#[derive(Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
}

fn signed_in(state: &AppState, jar: CookieJar, token: String) -> Response {
    (
        jar.add(session_cookie(token, state)),
        Redirect::to(&AppRoute::Home.href()),
    )
        .into_response()
}

/// Back to the form's page with the error's code; `invite` keeps the register page's invite.
fn back_to(page: AppRoute, error: AuthError, invite: Option<&str>) -> Response {
    let code = match ApiError::from(error) {
        error @ (ApiError::Database(_) | ApiError::Internal(_)) => {
            tracing::error!(%error, "auth form failed");
            "server_error"
        }
        other => other.code(),
    };
    let invite = invite
        .map(str::trim)
        .filter(|c| !c.is_empty() && c.chars().all(|c| c.is_ascii_hexdigit()))
        .map(|c| format!("&invite={c}"))
        .unwrap_or_default();
    Redirect::to(&format!("{}?error={code}{invite}", page.href())).into_response()
}

pub async fn register(
    State(state): State<AppState>,
    headers: HeaderMap,
    jar: CookieJar,
    Form(form): Form<RegisterForm>,
) -> Response {
    let invite = form.invite.clone();
    let input = RegisterInput {
        email: form.email,
        password: form.password,
        name: form.name,
        invite: form.invite,
        user_agent: user_agent(&headers),
    };
    match state.auth.register(input).await {
        Ok((_, token)) => signed_in(&state, jar, token),
        Err(e) => back_to(AppRoute::Register, e, invite.as_deref()),
    }
}

pub async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    jar: CookieJar,
    Form(form): Form<LoginForm>,
) -> Response {
    let user_agent = user_agent(&headers);
    match state
        .auth
        .login(&form.email, form.password, user_agent.as_deref())
        .await
    {
        Ok((_, token)) => signed_in(&state, jar, token),
        Err(e) => back_to(AppRoute::Login, e, None),
    }
}

/// Revokes the cookie's session server-side, then clears the cookie. Should the revocation
/// fail, the cookie is still cleared, and the failure logged.
pub async fn logout(State(state): State<AppState>, jar: CookieJar) -> Response {
    if let Some(cookie) = jar.get(SESSION_COOKIE).filter(|c| !c.value().is_empty()) {
        match state.auth.logout(cookie.value()).await {
            Ok(Some(user_id)) => state.chat.bus.sessions_changed(user_id),
            Ok(None) => {}
            Err(error) => tracing::error!(%error, "revoking the session at logout failed"),
        }
    }
    (
        jar.add(cleared_session_cookie(&state)),
        Redirect::to(&AppRoute::Login.href()),
    )
        .into_response()
}
