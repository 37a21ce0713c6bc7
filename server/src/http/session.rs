//! From a request to a user: the `Authorization: Bearer` header (API clients) or the
//! HttpOnly session cookie (the browser), the [`AuthUser`] and [`CurrentSession`] extractors
//! for API routes, the session cookie itself, and the page guard that gives server-rendered
//! pages their [`SessionUser`] (and [`PageSession`]). The auth service says who a token
//! belongs to and whether its session is still open; this is the HTTP side of it.

use app::{routes::AppRoute, session::SessionUser};
use axum::{
    extract::{FromRequestParts, Request, State},
    http::{header, request::Parts, HeaderMap},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};

use uuid::Uuid;

use super::error::ApiError;
use app::wire::UserStatus;

use crate::{
    auth::{api_tokens, sessions::SignedIn, AuthError},
    db::entities::users,
    state::AppState,
};

pub const SESSION_COOKIE: &str = "rustchat_session";

/// How the request proved who it is. Cookie-authenticated WebSocket upgrades must also come
/// from our own origin; bearer tokens cannot be sent by a foreign page on the user's behalf.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CredentialSource {
    Bearer,
    Cookie,
    QueryToken,
}

pub fn session_cookie(token: String, state: &AppState) -> Cookie<'static> {
    let max_age = state.auth.keys().lifetime().as_secs() as i64;
    Cookie::build((SESSION_COOKIE, token))
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.config.cookie_secure)
        .path("/")
        .max_age(time_duration(max_age))
        .build()
}

pub fn cleared_session_cookie(state: &AppState) -> Cookie<'static> {
    Cookie::build((SESSION_COOKIE, ""))
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.config.cookie_secure)
        .path("/")
        .max_age(time_duration(0))
        .build()
}

fn time_duration(seconds: i64) -> time::Duration {
    time::Duration::seconds(seconds)
}

/// The bearer token if there is one, else the session cookie.
pub fn credential(headers: &HeaderMap) -> Option<(String, CredentialSource)> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| (t.trim().to_owned(), CredentialSource::Bearer));
    bearer.or_else(|| {
        session_cookie_value(&CookieJar::from_headers(headers))
            .map(|token| (token, CredentialSource::Cookie))
    })
}

/// The session cookie's token. Only log-in sessions live there: an API token put in the
/// cookie is not accepted (scripts send it as a bearer header, which no page can make a
/// browser attach).
fn session_cookie_value(jar: &CookieJar) -> Option<String> {
    jar.get(SESSION_COOKIE)
        .map(|c| c.value().to_owned())
        .filter(|v| !v.is_empty() && !v.starts_with(api_tokens::PREFIX))
}

/// The client's `User-Agent`, for the list of sessions.
pub fn user_agent(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// A logged-in user whose account is active, for the app's API routes. Rejects with 401 (not
/// signed in) or 403 `pending_approval` (waiting for an admin), in our JSON error shape.
pub struct AuthUser(pub users::Model);

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let CurrentSession(signed_in) = CurrentSession::from_request_parts(parts, state).await?;
        if signed_in.user.status == UserStatus::Pending {
            return Err(AuthError::PendingApproval.into());
        }
        Ok(AuthUser(signed_in.user))
    }
}

/// A logged-in user (active or still waiting for approval) and the session or API token the
/// request came with, for the routes about the account itself: who am I, sessions, password,
/// tokens.
pub struct CurrentSession(pub SignedIn);

impl FromRequestParts<AppState> for CurrentSession {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let (token, _) = credential(&parts.headers).ok_or(AuthError::NotLoggedIn)?;
        Ok(CurrentSession(state.auth.session_for_token(&token).await?))
    }
}

/// The session a server-rendered page was requested with; the page guard puts it in the
/// request beside the [`SessionUser`], so the settings page can tell "this device" apart.
#[derive(Clone, Copy, Debug)]
pub struct PageSession(pub Uuid);

/// An admin, for admin routes. Anyone else, signed in or not, gets 404: the routes do not
/// exist for them. The role is read from the database on every request, so a change applies
/// at once.
pub struct AdminUser(pub users::Model);

impl FromRequestParts<AppState> for AdminUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match AuthUser::from_request_parts(parts, state).await {
            Ok(AuthUser(user)) if user.role.is_admin() && user.status == UserStatus::Active => {
                Ok(AdminUser(user))
            }
            _ => Err(ApiError::NotFound),
        }
    }
}

/// Runs before every server-rendered page: finds the signed-in user (cookie only), puts a
/// [`SessionUser`] in the request for the page to read, sends visitors of the app to the log-in
/// page, and signed-in users away from it.
pub async fn page_session(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let route = AppRoute::parse(request.uri().path());
    let jar = CookieJar::from_headers(request.headers());
    let token = session_cookie_value(&jar);
    let mut expired = false;
    let signed_in = match token {
        Some(token) => match state.auth.session_for_token(&token).await {
            Ok(signed_in) => Some(signed_in),
            Err(e) if e.is_session_problem() => {
                expired = true;
                None
            }
            Err(e) => return ApiError::from(e).into_response(),
        },
        None => None,
    };
    match signed_in {
        Some(signed_in) => {
            let session_id = signed_in.session_id();
            let user = signed_in.user;
            let waiting = user.status == UserStatus::Pending;
            // A waiting account sees the waiting page and nothing else of the app; everyone
            // else is sent on from it and from the visitors' pages.
            let elsewhere = match route {
                Some(AppRoute::Waiting) if !waiting => Some(AppRoute::Home),
                Some(route) if route.is_for_visitors() => Some(if waiting {
                    AppRoute::Waiting
                } else {
                    AppRoute::Home
                }),
                Some(route) if waiting && route != AppRoute::Waiting => Some(AppRoute::Waiting),
                _ => None,
            };
            if let Some(elsewhere) = elsewhere {
                return Redirect::to(&elsewhere.href()).into_response();
            }
            // Read once per page: the page-data layer takes them from the request too.
            let settings = match crate::settings::load(&state.db, user.id).await {
                Ok(settings) => settings,
                Err(e) => return ApiError::from(e).into_response(),
            };
            request.extensions_mut().insert(SessionUser {
                id: user.id,
                email: user.email,
                name: user.name,
                role: user.role,
                theme: settings.theme.clone(),
                font_size: settings.font_size,
            });
            request.extensions_mut().insert(settings);
            if let Some(session_id) = session_id {
                request.extensions_mut().insert(PageSession(session_id));
            }
            next.run(request).await
        }
        None if route.is_some_and(AppRoute::needs_login) => {
            let login = AppRoute::Login.href();
            let target = if expired {
                format!("{login}?error=session_expired")
            } else {
                login
            };
            let jar = if expired {
                jar.add(cleared_session_cookie(&state))
            } else {
                jar
            };
            (jar, Redirect::to(&target)).into_response()
        }
        None => next.run(request).await,
    }
}
