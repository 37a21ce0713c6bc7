//! `/api/auth/*` and `/api/me`.

use app::wire::{AuthResponse, UserView};
use axum::{
    extract::State,
    http::{HeaderMap, StatusCode},
    response::IntoResponse,
    Json,
};
use axum_extra::extract::CookieJar;
use serde::Deserialize;

use super::{
    api_json::ApiJson,
    session::{cleared_session_cookie, credential, session_cookie, user_agent, CurrentSession},
};
use crate::{
    auth::service::RegisterInput, db::entities::users, http::error::ApiError, state::AppState,
};

#[derive(Deserialize)]
pub struct RegisterBody {
    email: String,
    password: String,
    name: Option<String>,
    /// An invite code from `POST /api/admin/invites`.
    invite: Option<String>,
}

#[derive(Deserialize)]
pub struct LoginBody {
    email: String,
    password: String,
}

pub fn user_view(user: users::Model) -> UserView {
    UserView {
        id: user.id,
        email: user.email,
        name: user.name,
        role: user.role,
        status: user.status,
        created_at: user.created_at,
    }
}

pub async fn register(
    State(state): State<AppState>,
    headers: HeaderMap,
    jar: CookieJar,
    ApiJson(body): ApiJson<RegisterBody>,
) -> Result<impl IntoResponse, ApiError> {
    let (user, token) = state
        .auth
        .register(RegisterInput {
            email: body.email,
            password: body.password,
            name: body.name,
            invite: body.invite,
            user_agent: user_agent(&headers),
        })
        .await?;
    let jar = jar.add(session_cookie(token.clone(), &state));
    let body = AuthResponse {
        user: user_view(user),
        token,
    };
    Ok((StatusCode::CREATED, jar, Json(body)))
}

pub async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    jar: CookieJar,
    ApiJson(body): ApiJson<LoginBody>,
) -> Result<impl IntoResponse, ApiError> {
    let (user, token) = state
        .auth
        .login(&body.email, body.password, user_agent(&headers).as_deref())
        .await?;
    let jar = jar.add(session_cookie(token.clone(), &state));
    Ok((
        jar,
        Json(AuthResponse {
            user: user_view(user),
            token,
        }),
    ))
}

/// Revokes the session of the presented token (bearer or cookie) and clears the cookie: the
/// same token is refused from now on, wherever a copy of it is.
pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    jar: CookieJar,
) -> Result<impl IntoResponse, ApiError> {
    if let Some((token, _)) = credential(&headers) {
        if let Some(user_id) = state.auth.logout(&token).await? {
            state.chat.bus.sessions_changed(user_id);
        }
    }
    Ok((
        StatusCode::NO_CONTENT,
        jar.add(cleared_session_cookie(&state)),
    ))
}

/// Who is signed in; answers for a pending account too, whose `status` says it waits.
pub async fn me(CurrentSession(signed_in): CurrentSession) -> Json<UserView> {
    Json(user_view(signed_in.user))
}
