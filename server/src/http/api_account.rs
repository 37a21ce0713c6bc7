//! The signed-in user's sessions, password and API tokens: `POST /api/auth/logout-all`,
//! `PUT /api/me/password`, `GET /api/me/sessions`, `DELETE /api/me/sessions/{id}`,
//! `GET, POST /api/tokens`, `DELETE /api/tokens/{id}`, and the settings page's no-JS forms
//! that do the same (each answers with a redirect back to `/settings` with `?saved=WHAT` or
//! `?error=CODE`, or to `/login` once this device is out).

use app::{
    routes::AppRoute,
    wire::{ApiTokenView, CreatedApiToken, Page, PasswordChange, SessionView},
};
use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    Form, Json,
};
use axum_extra::extract::CookieJar;
use serde::Deserialize;
use uuid::Uuid;

use super::{
    api_json::ApiJson,
    error::ApiError,
    flash::{self, Flash},
    session::{cleared_session_cookie, AuthUser, CurrentSession},
};
use crate::state::AppState;

/// Revokes every session of the user, the one of this request included.
pub async fn logout_all(
    State(state): State<AppState>,
    jar: CookieJar,
    CurrentSession(signed_in): CurrentSession,
) -> Result<impl IntoResponse, ApiError> {
    state.auth.revoke_all_sessions(signed_in.user.id).await?;
    state.chat.bus.sessions_changed(signed_in.user.id);
    Ok((
        StatusCode::NO_CONTENT,
        jar.add(cleared_session_cookie(&state)),
    ))
}

/// Changes the password and revokes every other session; this one stays signed in.
pub async fn change_password(
    State(state): State<AppState>,
    CurrentSession(signed_in): CurrentSession,
    ApiJson(body): ApiJson<PasswordChange>,
) -> Result<StatusCode, ApiError> {
    state
        .auth
        .change_password(&signed_in, body.current_password, body.new_password)
        .await?;
    state.chat.bus.sessions_changed(signed_in.user.id);
    Ok(StatusCode::NO_CONTENT)
}

/// The user's active sessions, newest first, in one page.
pub async fn list_sessions(
    State(state): State<AppState>,
    CurrentSession(signed_in): CurrentSession,
) -> Result<Json<Page<SessionView>>, ApiError> {
    let items = state
        .auth
        .sessions(signed_in.user.id, signed_in.session_id())
        .await?;
    Ok(Json(Page {
        items,
        next_cursor: None,
    }))
}

/// Revokes one of the user's sessions; anyone else's id is 404, as if it did not exist.
pub async fn revoke_session(
    State(state): State<AppState>,
    CurrentSession(signed_in): CurrentSession,
    Path(raw): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = Uuid::parse_str(&raw).map_err(|_| ApiError::NotFound)?;
    state.auth.revoke_session(signed_in.user.id, id).await?;
    state.chat.bus.sessions_changed(signed_in.user.id);
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewTokenBody {
    name: String,
}

/// The user's API tokens that still work, newest first (never their text).
pub async fn list_tokens(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> Result<Json<Page<ApiTokenView>>, ApiError> {
    Ok(Json(Page {
        items: state.auth.api_tokens(user.id).await?,
        next_cursor: None,
    }))
}

/// Makes a token; the answer is the only time its text is shown.
pub async fn create_token(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiJson(body): ApiJson<NewTokenBody>,
) -> Result<(StatusCode, Json<CreatedApiToken>), ApiError> {
    let created = state.auth.create_api_token(user.id, &body.name).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Revokes one of the user's tokens; anyone else's id is 404, as if it did not exist.
pub async fn revoke_token(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(raw): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = Uuid::parse_str(&raw).map_err(|_| ApiError::NotFound)?;
    state.auth.revoke_api_token(user.id, id).await?;
    state.chat.bus.sessions_changed(user.id);
    Ok(StatusCode::NO_CONTENT)
}

/// Where a form sends someone whose session has ended.
fn to_login(error: ApiError) -> Response {
    let target = match error.code() {
        "session_expired" => format!("{}?error=session_expired", AppRoute::Login.href()),
        _ => AppRoute::Login.href(),
    };
    Redirect::to(&target).into_response()
}

/// Back to the settings page, saying what was saved or why nothing was.
fn back_to_settings(result: Result<&'static str, ApiError>) -> Response {
    back_to_settings_at(result, "")
}

/// The same, at a section of the page (`#tokens`).
fn back_to_settings_at(result: Result<&'static str, ApiError>, anchor: &str) -> Response {
    let settings = AppRoute::Settings.href();
    let target = match result {
        Ok(saved) => format!("{settings}?saved={saved}{anchor}"),
        Err(error) => {
            let code = match error {
                error @ (ApiError::Database(_) | ApiError::Internal(_)) => {
                    tracing::error!(%error, "account form failed");
                    "server_error"
                }
                other => other.code(),
            };
            format!("{settings}?error={code}{anchor}")
        }
    };
    Redirect::to(&target).into_response()
}

pub async fn revoke_session_form(
    State(state): State<AppState>,
    session: Result<CurrentSession, ApiError>,
    Path(raw): Path<String>,
) -> Response {
    let CurrentSession(signed_in) = match session {
        Ok(session) => session,
        Err(error) => return to_login(error),
    };
    let result = async {
        let id = Uuid::parse_str(&raw).map_err(|_| ApiError::NotFound)?;
        state.auth.revoke_session(signed_in.user.id, id).await?;
        state.chat.bus.sessions_changed(signed_in.user.id);
        Ok("session_revoked")
    }
    .await;
    back_to_settings(result)
}

pub async fn logout_all_form(
    State(state): State<AppState>,
    jar: CookieJar,
    session: Result<CurrentSession, ApiError>,
) -> Response {
    let CurrentSession(signed_in) = match session {
        Ok(session) => session,
        Err(error) => return to_login(error),
    };
    match state.auth.revoke_all_sessions(signed_in.user.id).await {
        Ok(()) => {
            state.chat.bus.sessions_changed(signed_in.user.id);
            (
                jar.add(cleared_session_cookie(&state)),
                Redirect::to(&AppRoute::Login.href()),
            )
                .into_response()
        }
        Err(error) => back_to_settings(Err(error.into())),
    }
}

#[derive(Deserialize)]
pub struct PasswordForm {
    current_password: String,
    new_password: String,
}

pub async fn change_password_form(
    State(state): State<AppState>,
    session: Result<CurrentSession, ApiError>,
    Form(form): Form<PasswordForm>,
) -> Response {
    let CurrentSession(signed_in) = match session {
        Ok(session) => session,
        Err(error) => return to_login(error),
    };
    let result = state
        .auth
        .change_password(&signed_in, form.current_password, form.new_password)
        .await
        .map(|()| {
            state.chat.bus.sessions_changed(signed_in.user.id);
            "password_changed"
        })
        .map_err(ApiError::from);
    back_to_settings(result)
}

#[derive(Deserialize)]
pub struct TokenForm {
    name: String,
}

/// Makes a token and shows it once on the settings page (through the flash cookie).
pub async fn create_token_form(
    State(state): State<AppState>,
    jar: CookieJar,
    user: Result<AuthUser, ApiError>,
    Form(form): Form<TokenForm>,
) -> Response {
    let AuthUser(user) = match user {
        Ok(user) => user,
        Err(error) => return to_login(error),
    };
    match state.auth.create_api_token(user.id, &form.name).await {
        Ok(created) => {
            let flash = Flash::ApiToken {
                id: created.id,
                token: created.token,
            };
            let jar = flash::set(jar, &flash, state.config.cookie_secure);
            (jar, back_to_settings_at(Ok("token_created"), "#tokens")).into_response()
        }
        Err(error) => back_to_settings_at(Err(error.into()), "#tokens"),
    }
}

pub async fn revoke_token_form(
    State(state): State<AppState>,
    user: Result<AuthUser, ApiError>,
    Path(raw): Path<String>,
) -> Response {
    let AuthUser(user) = match user {
        Ok(user) => user,
        Err(error) => return to_login(error),
    };
    let result = async {
        let id = Uuid::parse_str(&raw).map_err(|_| ApiError::NotFound)?;
        state.auth.revoke_api_token(user.id, id).await?;
        state.chat.bus.sessions_changed(user.id);
        Ok("token_revoked")
    }
    .await;
    back_to_settings_at(result, "#tokens")
}
