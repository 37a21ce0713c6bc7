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
