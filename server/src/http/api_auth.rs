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
    openapi,
    session::{cleared_session_cookie, credential, session_cookie, user_agent, CurrentSession},
};
use crate::{
    auth::service::RegisterInput, db::entities::users, http::error::ApiError, state::AppState,
};

#[derive(Deserialize, utoipa::ToSchema)]
pub struct RegisterBody {
    #[schema(format = Email)]
    email: String,
    /// At least 8 characters, not a common password, not the email.
    #[schema(min_length = 8)]
    password: String,
    #[schema(max_length = 100)]
    name: Option<String>,
    /// An invite code from `POST /api/admin/invites`.
    invite: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
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

#[utoipa::path(
    post,
    path = "/api/auth/register",
    tag = "auth",
    request_body = RegisterBody,
    responses(
        (status = 201, description = "The account and a session token; the first account of an instance is its admin.", body = AuthResponse, headers(("set-cookie" = String, description = "The HttpOnly session cookie `rustchat_session`."))),
        (status = 400, response = openapi::BadRequest),
        (status = 403, response = openapi::Forbidden),
        (status = 409, response = openapi::Conflict),
        (status = 413, response = openapi::PayloadTooLarge),
        (status = 422, response = openapi::Unprocessable),
        (status = 429, response = openapi::TooManyRequests),
    ),
)]
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

#[utoipa::path(
    post,
    path = "/api/auth/login",
    tag = "auth",
    request_body = LoginBody,
    responses(
        (status = 200, description = "The account and a new session token.", body = AuthResponse, headers(("set-cookie" = String, description = "The HttpOnly session cookie `rustchat_session`."))),
        (status = 400, response = openapi::BadRequest),
        (status = 401, response = openapi::Unauthorized),
        (status = 403, response = openapi::Forbidden),
        (status = 413, response = openapi::PayloadTooLarge),
        (status = 422, response = openapi::Unprocessable),
        (status = 429, response = openapi::TooManyRequests),
    ),
)]
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
#[utoipa::path(
    post,
    path = "/api/auth/logout",
    tag = "auth",
    responses(
        (status = 204, description = "The session of the presented token is ended (if any) and the cookie cleared."),
        (status = 403, response = openapi::Forbidden),
    ),
    security((), ("bearer" = []), ("cookie" = []))
)]
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
#[utoipa::path(
    get,
    path = "/api/me",
    tag = "account",
    responses(
        (status = 200, description = "The signed-in user.", body = UserView),
        (status = 401, response = openapi::Unauthorized),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn me(CurrentSession(signed_in): CurrentSession) -> Json<UserView> {
    Json(user_view(signed_in.user))
}
