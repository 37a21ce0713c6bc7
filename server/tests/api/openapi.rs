//! The OpenAPI document at `/api/openapi.json` lists every `/api` route the router serves,
//! each with the methods it answers, and nothing the router does not serve. The routes are
//! read from the router's source (`server/src/http/mod.rs`), so a route added there without
//! its `#[utoipa::path]` fails here; the server itself then confirms each documented path
//! and method is routed.

use std::collections::BTreeSet;

use app::wire::CreatedApiToken;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{json_body, spawn_app, TestApp};

const ROUTER_SOURCE: &str = include_str!("../../src/http/mod.rs");

/// `(METHOD, /api/path)` for every route of the `api` router in the router's source.
fn routed_operations() -> BTreeSet<(String, String)> {
    let start = ROUTER_SOURCE
        .find("let api = Router::new()")
        .expect("the api router in http/mod.rs");
    let end = start
        + ROUTER_SOURCE[start..]
            .find(".fallback(")
            .expect("the api router's fallback");
    let block = &ROUTER_SOURCE[start..end];
    let mut operations = BTreeSet::new();
    for route in block.split(".route(").skip(1) {
        let path = route
            .split('"')
            .nth(1)
            .expect("a route's path is a string literal");
        // A method router is `get(`, `.post(`, `routing::put(`, …; handlers are only named.
        for method in ["get", "post", "put", "patch", "delete"] {
            let routed = route.match_indices(&format!("{method}(")).any(|(at, _)| {
                let before = route.as_bytes()[..at].last().copied().unwrap_or(b' ');
                !(before.is_ascii_alphanumeric() || before == b'_')
            });
            if routed {
                operations.insert((method.to_uppercase(), format!("/api{path}")));
            }
        }
    }
    operations
}

fn documented_operations(document: &Value) -> BTreeSet<(String, String)> {
    let paths = document["paths"].as_object().expect("paths");
    paths
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .expect("a path item")
                .keys()
                .filter(|key| ["get", "post", "put", "patch", "delete"].contains(&key.as_str()))
                .map(move |method| (method.to_uppercase(), path.clone()))
        })
        .collect()
}

async fn document(app: &TestApp) -> Value {
    let response = reqwest::get(app.url("/api/openapi.json")).await.unwrap();
    assert_eq!(response.status(), 200, "the document needs no login");
    json_body(response).await
}

#[tokio::test]
async fn every_routed_api_path_and_method_is_in_the_document_and_no_other() {
    let app = spawn_app().await;
    let document = document(&app).await;
    assert!(
        document["openapi"].as_str().unwrap().starts_with("3.1"),
        "OpenAPI 3.1"
    );
    let routed = routed_operations();
    assert!(
        routed.len() > 30,
        "the router's source was read: {routed:?}"
    );
    let documented = documented_operations(&document);
    let undocumented: Vec<_> = routed.difference(&documented).collect();
    assert!(
        undocumented.is_empty(),
        "routed, not documented: {undocumented:?}"
    );
    let unrouted: Vec<_> = documented.difference(&routed).collect();
    assert!(unrouted.is_empty(), "documented, not routed: {unrouted:?}");
}

#[tokio::test]
async fn the_server_answers_every_documented_path_and_method() {
    let app = spawn_app().await;
    // The first account is the admin; a personal token outlives the log-outs probed below.
    app.register("admin@example.com").await;
    let token: CreatedApiToken = json_body(
        app.post_json("/api/tokens", json!({ "name": "probe" }))
            .await,
    )
    .await;
    let client = reqwest::Client::new();
    let document = document(&app).await;
    for (method, path) in documented_operations(&document) {
        let url = app.url(&path.replace("{id}", &uuid::Uuid::new_v4().to_string()));
        // A routed path answers a method it does not serve with 405; an unknown one is 404.
        let other = client
            .request(Method::OPTIONS, &url)
            .bearer_auth(&token.token)
            .send()
            .await
            .unwrap();
        assert_eq!(other.status(), 405, "{path} is routed");
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = client
            .request(method.clone(), &url)
            .bearer_auth(&token.token);
        if method != Method::GET && method != Method::DELETE {
            request = request.json(&json!({}));
        }
        let response = request.send().await.unwrap();
        assert_ne!(response.status(), 405, "{method} {path} is routed");
        if !path.contains('{') {
            assert_ne!(response.status(), 404, "{method} {path} is routed");
        }
        assert!(
            !response.status().is_server_error(),
            "{method} {path}: {}",
            response.status()
        );
    }
}

#[tokio::test]
async fn errors_have_the_documented_shape() {
    let app = spawn_app().await;
    let document = document(&app).await;
    let schema = &document["components"]["schemas"]["ErrorBody"];
    assert_eq!(schema["required"], json!(["error"]));
    let response = reqwest::get(app.url("/api/conversations")).await.unwrap();
    assert_eq!(response.status(), 401);
    let body: Value = json_body(response).await;
    let error = body["error"].as_object().expect("an error object");
    assert_eq!(
        error.keys().collect::<BTreeSet<_>>(),
        BTreeSet::from([&"code".to_owned(), &"message".to_owned()])
    );
    let documented = &document["paths"]["/api/conversations"]["get"]["responses"]["401"]["$ref"];
    assert_eq!(documented, "#/components/responses/Unauthorized");
}
