//! Which `Host` a request may name. A page on an attacker's domain can re-point that domain at
//! 127.0.0.1 (DNS rebinding) and then talk to a server on the victim's machine as if it were
//! its own origin: fresh instances make the first account registered the admin, so that
//! would hand the instance over. Such requests carry the attacker's host name, so only these
//! are served: `PUBLIC_URL`'s host, loopback names (`localhost`, `*.localhost`) and IP
//! addresses (which no rebinding can use). Anything else gets 421 `unknown_host`.
//!
//! Also HSTS, when `PUBLIC_URL` is https.

use axum::{
    extract::{Request, State},
    http::{header, HeaderValue},
    middleware::Next,
    response::{IntoResponse, Response},
};
use tower_http::set_header::SetResponseHeaderLayer;

use super::error::ApiError;
use crate::config::PublicUrl;

#[derive(Clone, Debug)]
pub struct AllowedHosts {
    /// `PUBLIC_URL`'s host name, lower case, without the port.
    public: Option<String>,
}

impl AllowedHosts {
    pub fn new(public_url: Option<&PublicUrl>) -> Self {
        Self {
            public: public_url.map(|u| host_name(&u.host).to_owned()),
        }
    }

    /// Whether a request naming `host` (a `Host` header: name or address, maybe a port) is
    /// for us.
    pub fn allows(&self, host: &str) -> bool {
        let name = host_name(host).to_ascii_lowercase();
        let name = name.trim_end_matches('.');
        name == "localhost"
            || name.ends_with(".localhost")
            || name
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<std::net::IpAddr>()
                .is_ok()
            || self.public.as_deref() == Some(name)
    }
}

/// The host of a `Host` value, without its port (`[::1]:3000` → `[::1]`).
fn host_name(host: &str) -> &str {
    if host.starts_with('[') {
        return host
            .split_once(']')
            .map_or(host, |(name, _)| &host[..=name.len()]);
    }
    host.rsplit_once(':').map_or(host, |(name, port)| {
        if port.chars().all(|c| c.is_ascii_digit()) {
            name
        } else {
            host
        }
    })
}

pub async fn refuse_unknown_host(
    State(hosts): State<AllowedHosts>,
    request: Request,
    next: Next,
) -> Response {
    // HTTP/2 carries the host in the URI's authority instead of a `Host` header.
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| request.uri().authority().map(|a| a.as_str().to_owned()));
    match host {
        Some(host) if !hosts.allows(&host) => {
            tracing::warn!(host = %host.chars().take(100).collect::<String>(), "request for an unknown host refused");
            ApiError::UnknownHost.into_response()
        }
        // No host at all: not a browser, so not a rebinding page.
        _ => next.run(request).await,
    }
}

/// `Strict-Transport-Security` when the app is served over https, nothing otherwise.
pub fn hsts(public_url: Option<&PublicUrl>) -> SetResponseHeaderLayer<Option<HeaderValue>> {
    let value = public_url
        .filter(|u| u.https)
        .map(|_| HeaderValue::from_static("max-age=31536000"));
    SetResponseHeaderLayer::if_not_present(header::STRICT_TRANSPORT_SECURITY, value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_names_addresses_and_the_public_host_are_allowed() {
        let public = PublicUrl {
            origin: "https://chat.example.com".into(),
            host: "chat.example.com".into(),
            https: true,
        };
        let hosts = AllowedHosts::new(Some(&public));
        for ok in [
            "chat.example.com",
            "Chat.Example.com:443",
            "localhost:3000",
            "app.localhost",
            "127.0.0.1:3000",
            "10.1.2.3",
            "[::1]:3000",
            "[::1]",
        ] {
            assert!(hosts.allows(ok), "{ok}");
        }
        for refused in [
            "evil.example",
            "chat.example.com.evil.example",
            "localhost.evil.example:3000",
        ] {
            assert!(!hosts.allows(refused), "{refused}");
        }
        assert!(!AllowedHosts::new(None).allows("chat.example.com"));
    }
}
