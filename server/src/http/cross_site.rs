//! Requests a page of another site makes the browser send. A browser attaches our session
//! cookie to any site's form post or `fetch` (SameSite=Lax still lets top-level POST
//! navigations through), so a state-changing request that the cookie may authenticate is
//! refused when the browser says it comes from elsewhere: `Sec-Fetch-Site` (anything but
//! `same-origin`, or `none` for what the person typed), or, from browsers that do not send
//! it, an `Origin` that is not this host. This covers the JSON API, the no-JS forms (log-in
//! CSRF included: log-in is a state change too) and the WebSocket upgrade. Requests with an
//! `Authorization: Bearer` header are not the browser's ambient credential and pass, as do
//! clients that send neither header (scripts, curl), which no foreign page can make.
//!
//! Also the headers every response carries, so no page can be framed, sniffed into another
//! type or leak its address to other sites.

use axum::{
    extract::Request,
    http::{header, HeaderMap, HeaderName, HeaderValue, Method},
    middleware::Next,
    response::{IntoResponse, Response},
};
use tower_http::set_header::SetResponseHeaderLayer;

use super::error::ApiError;

pub async fn refuse_cross_site(request: Request, next: Next) -> Response {
    let state_changing = !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if state_changing && !has_bearer(request.headers()) && is_cross_site(request.headers()) {
        return ApiError::Forbidden {
            code: "cross_site_request",
            message: "This request came from another site, so it was refused.".into(),
        }
        .into_response();
    }
    next.run(request).await
}

fn has_bearer(headers: &HeaderMap) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("Bearer "))
}

/// Whether the browser says the request was made by a page of another site (or origin).
pub fn is_cross_site(headers: &HeaderMap) -> bool {
    match headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        Some(site) => !matches!(site, "same-origin" | "none"),
        None => !same_origin(headers),
    }
}

/// True when the `Origin` header names the host the request was sent to, or is absent (as
/// for non-browser clients).
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let origin_host = origin.split_once("://").map_or(origin, |(_, rest)| rest);
    !host.is_empty() && origin_host.eq_ignore_ascii_case(host)
}

/// The security headers of every response (`if_not_present`: a handler may set its own). Pages
/// set their own Content-Security-Policy, with the nonce of their inline scripts
/// (`app::csp`); everything else (JSON, files, redirects) gets one that allows nothing.
pub fn security_headers() -> [SetResponseHeaderLayer<HeaderValue>; 4] {
    let set = |name: HeaderName, value: &'static str| {
        SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
    };
    [
        set(header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        set(header::REFERRER_POLICY, "same-origin"),
        set(header::X_FRAME_OPTIONS, "DENY"),
        set(
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, "127.0.0.1:3000".parse().unwrap());
        for (name, value) in pairs {
            h.insert(*name, value.parse().unwrap());
        }
        h
    }

    #[test]
    fn the_browser_says_where_a_request_comes_from() {
        assert!(!is_cross_site(&headers(&[(
            "sec-fetch-site",
            "same-origin"
        )])));
        assert!(!is_cross_site(&headers(&[("sec-fetch-site", "none")])));
        assert!(is_cross_site(&headers(&[("sec-fetch-site", "cross-site")])));
        // Another port or subdomain of ours is a different origin: it may not post either.
        assert!(is_cross_site(&headers(&[("sec-fetch-site", "same-site")])));
        // Without Sec-Fetch-Site, the Origin decides; without either, nothing is cross-site.
        assert!(!is_cross_site(&headers(&[(
            "origin",
            "http://127.0.0.1:3000"
        )])));
        assert!(is_cross_site(&headers(&[(
            "origin",
            "https://evil.example"
        )])));
        assert!(is_cross_site(&headers(&[(
            "origin",
            "http://127.0.0.1:3000.evil.example"
        )])));
        assert!(!is_cross_site(&headers(&[])));
    }
}
