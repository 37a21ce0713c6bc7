//! The server-rendered pages and their HTML forms, without a browser.

use crate::helpers::{anonymous_client, location, spawn_app};

#[tokio::test]
async fn the_app_shell_redirects_visitors_to_the_login_page() {
    let app = spawn_app().await;
    let response = anonymous_client().get(app.url("/")).send().await.unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), "/login");
    let login = anonymous_client()
        .get(app.url("/login"))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    let html = login.text().await.unwrap();
    assert!(html.contains(r#"action="/auth/login""#));
}

#[tokio::test]
async fn the_register_form_signs_in_and_the_shell_shows_the_user() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/auth/register"))
        .form(&[
            ("name", "Ada Lovelace"),
            ("email", "ada@example.com"),
            ("password", "analytical engine"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), "/");
    let shell = app.get("/").await;
    assert_eq!(shell.status(), 200);
    let html = shell.text().await.unwrap();
    assert!(html.contains("ada@example.com"));
    assert!(html.contains(">AL<"), "avatar initials");
    // Signed in, the log-in page sends you back to the app.
    let login = app.get("/login").await;
    assert_eq!(location(&login), "/");
}

#[tokio::test]
async fn a_failed_form_login_comes_back_with_an_error_code_not_the_input() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/auth/login"))
        .form(&[
            ("email", "<b>x</b>@example.com"),
            ("password", "whatever-it-is"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&response), "/login?error=invalid_credentials");
    let page = app
        .get("/login?error=invalid_credentials")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Email or password is incorrect."));
    let page = app
        .get("/login?error=%3Cscript%3E")
        .await
        .text()
        .await
        .unwrap();
    assert!(!page.contains("<script>"));
}

#[tokio::test]
async fn the_logout_form_clears_the_session() {
    let app = spawn_app().await;
    app.register("grace@example.com").await;
    assert_eq!(app.get("/").await.status(), 200);
    let response = app
        .client
        .post(app.url("/auth/logout"))
        .send()
        .await
        .unwrap();
    assert_eq!(location(&response), "/login");
    assert_eq!(app.get("/").await.status(), 303);
}

#[tokio::test]
async fn a_session_for_a_deleted_account_is_sent_to_log_in_with_a_reason() {
    use sea_orm::ConnectionTrait;
    let app = spawn_app().await;
    app.register("gone@example.com").await;
    app.db
        .execute_unprepared("DELETE FROM users")
        .await
        .unwrap();
    let response = app.get("/").await;
    assert_eq!(location(&response), "/login?error=session_expired");
}

#[tokio::test]
async fn unknown_pages_are_404() {
    let app = spawn_app().await;
    let response = anonymous_client()
        .get(app.url("/no/such/page"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
}

/// Gets `path` with `Accept-Encoding: encoding` (the test client decompresses nothing).
async fn get_encoded(
    app: &crate::helpers::TestApp,
    path: &str,
    encoding: &str,
) -> reqwest::Response {
    app.client
        .get(app.url(path))
        .header("accept-encoding", encoding)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_sites_files_go_out_precompressed_and_revalidated_and_pages_compressed() {
    use std::io::Read;
    let site = tempfile::tempdir().unwrap();
    let pkg = site.path().join("pkg");
    std::fs::create_dir(&pkg).unwrap();
    let script = "export function hydrate() { /* the islands */ }\n".repeat(400);
    std::fs::write(pkg.join("rustchat.js"), &script).unwrap();
    let app =
        crate::helpers::spawn_app_with(&[("LEPTOS_SITE_ROOT", site.path().to_str().unwrap())])
            .await;

    // The server writes the .br and .gz beside the file when it starts.
    let br = pkg.join("rustchat.js.br");
    for _ in 0..200 {
        if br.exists() && pkg.join("rustchat.js.gz").exists() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(br.exists(), "the brotli copy is written");
    let response = get_encoded(&app, "/pkg/rustchat.js", "gzip, deflate, br").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-encoding"], "br");
    assert_eq!(response.headers()["cache-control"], "no-cache");
    let modified = response.headers()["last-modified"].clone();
    let body = response.bytes().await.unwrap();
    assert_eq!(
        body.as_ref(),
        std::fs::read(&br).unwrap(),
        "the precompressed file"
    );
    let mut unpacked = String::new();
    brotli::Decompressor::new(body.as_ref(), 4096)
        .read_to_string(&mut unpacked)
        .unwrap();
    assert_eq!(unpacked, script);
    let gzip = get_encoded(&app, "/pkg/rustchat.js", "gzip").await;
    assert_eq!(gzip.headers()["content-encoding"], "gzip");
    let plain = get_encoded(&app, "/pkg/rustchat.js", "identity").await;
    assert!(plain.headers().get("content-encoding").is_none());
    assert_eq!(plain.text().await.unwrap(), script);

    // Unchanged since the browser's copy: 304, no body.
    let again = app
        .client
        .get(app.url("/pkg/rustchat.js"))
        .header("if-modified-since", modified)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);

    // A file that is not there is the app's 404 page.
    let missing = get_encoded(&app, "/pkg/missing.js", "br").await;
    assert_eq!(missing.status(), 404);

    // Pages and JSON are compressed per request; small answers are not.
    let page = get_encoded(&app, "/login", "gzip").await;
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["content-encoding"], "gzip");
    let mut html = String::new();
    flate2::read::GzDecoder::new(page.bytes().await.unwrap().as_ref())
        .read_to_string(&mut html)
        .unwrap();
    assert!(html.contains(r#"action="/auth/login""#));
    let openapi = get_encoded(&app, "/api/openapi.json", "br").await;
    assert_eq!(openapi.headers()["content-encoding"], "br");
    let small = crate::helpers::anonymous_client()
        .get(app.url("/api/me"))
        .header("accept-encoding", "br")
        .send()
        .await
        .unwrap();
    assert_eq!(small.status(), 401);
    assert!(small.headers().get("content-encoding").is_none());
}
