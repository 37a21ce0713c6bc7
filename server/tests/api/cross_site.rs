//! Requests another site's page makes the browser send are refused when they change
//! something; our own pages, scripts with a bearer token, and clients that send no origin
//! headers are served. Every response carries the security headers.

use app::wire::{ConversationView, Page};
use serde_json::json;

use crate::helpers::{anonymous_client, error_code, spawn_app};

const EVIL: &str = "https://evil.example";

#[tokio::test]
async fn a_cookie_request_from_another_site_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    app.register("csrf@example.com").await;
    let response = app
        .client
        .post(app.url("/api/conversations"))
        .header("origin", EVIL)
        .json(&json!({"title": "Planted"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    assert_eq!(error_code(response).await, "cross_site_request");
    let response = app
        .client
        .post(app.url("/api/conversations"))
        .header("sec-fetch-site", "same-site")
        .json(&json!({"title": "Planted"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        403,
        "a sibling origin may not post either"
    );
    let list: Page<ConversationView> = app.get_json("/api/conversations").await;
    assert!(list.items.is_empty(), "nothing was created");
}

#[tokio::test]
async fn our_own_pages_scripts_with_a_token_and_plain_clients_are_served() {
    let app = spawn_app().await;
    let token = app.register("own@example.com").await;
    let same_origin = app
        .client
        .post(app.url("/api/conversations"))
        .header("origin", &app.address)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(same_origin.status(), 201);
    let fetch_metadata = app
        .client
        .post(app.url("/api/conversations"))
        .header("sec-fetch-site", "same-origin")
        .header("origin", &app.address)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(fetch_metadata.status(), 201);
    // A bearer token is no ambient credential: a foreign page cannot make the browser send it.
    let bearer = anonymous_client()
        .post(app.url("/api/conversations"))
        .bearer_auth(&token)
        .header("origin", EVIL)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(bearer.status(), 201);
    let plain = app.post_json("/api/conversations", json!({})).await;
    assert_eq!(plain.status(), 201);
}

#[tokio::test]
async fn a_log_in_form_posted_from_another_site_signs_nobody_in() {
    let app = spawn_app().await;
    app.register("victim@example.com").await;
    let response = anonymous_client()
        .post(app.url("/auth/login"))
        .header("sec-fetch-site", "cross-site")
        .form(&[
            ("email", "victim@example.com"),
            ("password", "correct horse battery"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    assert!(response.headers().get("set-cookie").is_none());
    let ours = anonymous_client()
        .post(app.url("/auth/login"))
        .header("sec-fetch-site", "same-origin")
        .form(&[
            ("email", "victim@example.com"),
            ("password", "correct horse battery"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(ours.status(), 303);
    assert!(ours.headers().get("set-cookie").is_some());
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = spawn_app().await;
    for path in ["/login", "/api/me", "/no-such-page", "/favicon.svg"] {
        let response = anonymous_client().get(app.url(path)).send().await.unwrap();
        let headers = response.headers();
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["referrer-policy"], "same-origin", "{path}");
        assert_eq!(headers["x-frame-options"], "DENY", "{path}");
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
    }
}

/// The nonce a page's policy allows, and the nonces of its inline scripts.
async fn page_nonces(app: &crate::helpers::TestApp, path: &str) -> (String, Vec<String>) {
    let response = anonymous_client().get(app.url(path)).send().await.unwrap();
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    let allowed = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .unwrap_or_else(|| panic!("{path}: no nonce in {csp}"))
        .to_owned();
    assert!(
        csp.contains("script-src 'self' 'nonce-") && csp.contains("'wasm-unsafe-eval'"),
        "{path}: {csp}"
    );
    assert!(!csp.contains("script-src 'self' 'unsafe-inline'"), "{csp}");
    let html = response.text().await.unwrap();
    let scripts = html
        .split("<script")
        .skip(1)
        .map(|tag| {
            let attributes = tag.split('>').next().unwrap_or_default();
            attributes
                .split("nonce=\"")
                .nth(1)
                .and_then(|rest| rest.split('"').next())
                .unwrap_or_else(|| {
                    panic!("{path}: an inline script without a nonce: <script{attributes}>")
                })
                .to_owned()
        })
        .collect();
    (allowed, scripts)
}

#[tokio::test]
async fn a_page_allows_exactly_the_scripts_it_wrote_with_a_fresh_nonce_each_time() {
    let app = spawn_app().await;
    let (first, scripts) = page_nonces(&app, "/login").await;
    assert!(
        scripts.len() >= 2,
        "the hydration loader and Leptos's bookkeeping"
    );
    assert!(
        scripts.iter().all(|n| *n == first),
        "{scripts:?} vs {first}"
    );
    let (second, _) = page_nonces(&app, "/login").await;
    assert_ne!(first, second, "a nonce is never reused");
    assert!(first.len() >= 16);
    let (missing, scripts) = page_nonces(&app, "/no-such-page").await;
    assert!(scripts.iter().all(|n| *n == missing));
    let api = app.get("/api/models").await;
    let csp = api.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.starts_with("default-src 'none'"), "{csp}");
}
