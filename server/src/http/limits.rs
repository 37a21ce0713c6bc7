//! The edge of [`crate::limits`]: who a request comes from, and the layers that count log-in
//! and register attempts before their handlers run (and before any password is hashed).
//!
//! The JSON routes answer a refusal with 429 `too_many_attempts` and `Retry-After`; the
//! forms send the person back to their page with `?error=too_many_attempts`, which it turns
//! into a sentence, with the form still there for when the wait is over.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::{
    body::Body,
    extract::{ConnectInfo, Request, State},
    http::{header::RETRY_AFTER, HeaderMap},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use app::routes::AppRoute;

use super::error::ApiError;
use crate::{
    limits::{client_address, RetryAfter},
    state::AppState,
};

/// A log-in or register body is a few hundred bytes; this is far beyond any real one.
const MAX_AUTH_BODY_BYTES: usize = 64 * 1024;

const TOO_MANY_ATTEMPTS: &str = "too_many_attempts";

/// The address the request comes from (see [`client_address`]). Without connection info
/// (a router driven in-process) every request counts as one unknown client.
pub fn client_of(state: &AppState, request: &Request) -> IpAddr {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |info| info.0.ip());
    let forwarded = forwarded_for(request.headers());
    client_address(
        peer,
        forwarded.as_deref(),
        &state.limits.settings.trusted_proxies,
    )
}

/// Every `X-Forwarded-For` header, in order, as one list.
fn forwarded_for(headers: &HeaderMap) -> Option<String> {
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .collect();
    (!hops.is_empty()).then(|| hops.join(","))
}

#[derive(Deserialize)]
struct NamesAnEmail {
    email: String,
}

#[derive(Clone, Copy)]
enum BodyFormat {
    Json,
    Form,
}

/// Counts the attempt against its client and the email its body names; gives the request
/// back, body intact, when it may go on.
async fn admit(
    state: &AppState,
    request: Request,
    format: BodyFormat,
) -> Result<Request, ApiError> {
    if state.limits.settings.auth_attempts_per_minute == 0 {
        return Ok(request);
    }
    let client = client_of(state, &request);
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_AUTH_BODY_BYTES)
        .await
        .map_err(|_| ApiError::BadRequest("The request body is too large.".into()))?;
    // A body that names no email is still counted against its client, then refused by the
    // handler as it always is.
    let email = match format {
        BodyFormat::Json => serde_json::from_slice::<NamesAnEmail>(&bytes).ok(),
        BodyFormat::Form => serde_urlencoded::from_bytes::<NamesAnEmail>(&bytes).ok(),
    }
    .map(|body| body.email);
    state
        .limits
        .check_auth_attempt(client, email.as_deref())
        .map_err(|retry_after| {
            tracing::debug!(%client, "log-in or register attempt refused by the rate limit");
            ApiError::too_many_requests(
                TOO_MANY_ATTEMPTS,
                "Too many log-in attempts. Wait a minute, then try again.",
                retry_after,
            )
        })?;
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

/// For `POST /api/auth/login` and `/api/auth/register`.
pub async fn api_auth_attempts(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    match admit(&state, request, BodyFormat::Json).await {
        Ok(request) => next.run(request).await,
        Err(refusal) => refusal.into_response(),
    }
}

/// For the forms' `POST /auth/login` and `/auth/register`.
pub async fn form_auth_attempts(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let page = if request.uri().path().ends_with("/register") {
        AppRoute::Register
    } else {
        AppRoute::Login
    };
    match admit(&state, request, BodyFormat::Form).await {
        Ok(request) => next.run(request).await,
        Err(refusal) => match refusal.retry_after() {
            Some(retry_after) => back_to_wait(page, retry_after),
            None => refusal.into_response(),
        },
    }
}

fn back_to_wait(page: AppRoute, retry_after: RetryAfter) -> Response {
    let mut response =
        Redirect::to(&format!("{}?error={TOO_MANY_ATTEMPTS}", page.href())).into_response();
    response
        .headers_mut()
        .insert(RETRY_AFTER, retry_after.seconds().into());
    response
}
