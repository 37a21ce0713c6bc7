//! Revocable sessions: every token belongs to a server-side session that logout, "log out
//! everywhere", a password change and the settings page's revoke button end at once.

use app::wire::{Page, SessionView};
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use serde_json::json;
use server::db::entities::sessions as session_rows;

use crate::helpers::{anonymous_client, error_code, spawn_app, ws_client::WsClient, TestApp};

const PASSWORD: &str = "correct horse battery";

/// Logs in from a client of its own (no cookie shared with the app's client) and returns the
/// new session's token.
async fn login(app: &TestApp, email: &str, password: &str, user_agent: &str) -> String {
    let response = anonymous_client()
        .post(app.url("/api/auth/login"))
        .header("user-agent", user_agent)
        .json(&json!({ "email": email, "password": password }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "login {email}");
    let body: serde_json::Value = response.json().await.unwrap();
    body["token"].as_str().unwrap().to_owned()
}

async fn login_status(app: &TestApp, email: &str, password: &str) -> u16 {
    anonymous_client()
        .post(app.url("/api/auth/login"))
        .json(&json!({ "email": email, "password": password }))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// `GET /api/me` with only the bearer token.
async fn me(app: &TestApp, token: &str) -> reqwest::Response {
    anonymous_client()
        .get(app.url("/api/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

async fn sessions(app: &TestApp, token: &str) -> Vec<SessionView> {
    let response = anonymous_client()
        .get(app.url("/api/me/sessions"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let page: Page<SessionView> = response.json().await.unwrap();
    assert_eq!(page.next_cursor, None);
    page.items
}

async fn change_password(
    app: &TestApp,
    token: &str,
    current: &str,
    new: &str,
) -> reqwest::Response {
    anonymous_client()
        .put(app.url("/api/me/password"))
        .bearer_auth(token)
        .json(&json!({ "current_password": current, "new_password": new }))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn logout_revokes_the_token_itself_not_only_the_cookie() {
    let app = spawn_app().await;
    let token = app.register("ada@example.com").await;
    assert_eq!(me(&app, &token).await.status(), 200);
    let response = anonymous_client()
        .post(app.url("/api/auth/logout"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    let response = me(&app, &token).await;
    assert_eq!(response.status(), 401);
    assert_eq!(error_code(response).await, "session_expired");
}

#[tokio::test]
async fn logout_all_revokes_every_token_of_the_user_and_no_one_elses() {
    let app = spawn_app().await;
    let first = app.register("ada@example.com").await;
    let second = login(&app, "ada@example.com", PASSWORD, "phone").await;
    let someone_else = app.register("grace@example.com").await;
    let response = anonymous_client()
        .post(app.url("/api/auth/logout-all"))
        .bearer_auth(&second)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    assert_eq!(me(&app, &first).await.status(), 401);
    assert_eq!(me(&app, &second).await.status(), 401);
    assert_eq!(me(&app, &someone_else).await.status(), 200);
    // Logging in again opens a fresh session.
    let again = login(&app, "ada@example.com", PASSWORD, "laptop").await;
    assert_eq!(me(&app, &again).await.status(), 200);
}

#[tokio::test]
async fn a_password_change_keeps_this_session_and_revokes_the_others() {
    let app = spawn_app().await;
    let here = app.register("ada@example.com").await;
    let elsewhere = login(&app, "ada@example.com", PASSWORD, "stolen laptop").await;
    let response = change_password(&app, &here, PASSWORD, "a brand new passphrase").await;
    assert_eq!(response.status(), 204);
    assert_eq!(me(&app, &here).await.status(), 200);
    assert_eq!(me(&app, &elsewhere).await.status(), 401);
    assert_eq!(login_status(&app, "ada@example.com", PASSWORD).await, 401);
    assert_eq!(
        login_status(&app, "ada@example.com", "a brand new passphrase").await,
        200
    );
}

#[tokio::test]
async fn a_wrong_current_password_is_401_and_changes_nothing() {
    let app = spawn_app().await;
    let here = app.register("ada@example.com").await;
    let elsewhere = login(&app, "ada@example.com", PASSWORD, "phone").await;
    let response = change_password(&app, &here, "not my password", "a brand new passphrase").await;
    assert_eq!(response.status(), 401);
    assert_eq!(error_code(response).await, "invalid_credentials");
    // A weak new password is refused with the register page's rule, before anything changes.
    let response = change_password(&app, &here, PASSWORD, "short").await;
    assert_eq!(response.status(), 422);
    assert_eq!(error_code(response).await, "weak_password");
    assert_eq!(me(&app, &here).await.status(), 200);
    assert_eq!(me(&app, &elsewhere).await.status(), 200);
    assert_eq!(login_status(&app, "ada@example.com", PASSWORD).await, 200);
}

#[tokio::test]
async fn sessions_are_listed_newest_first_and_only_their_owner_can_revoke_them() {
    let app = spawn_app().await;
    let laptop = app.register("ada@example.com").await;
    let phone = login(&app, "ada@example.com", PASSWORD, "Phone Browser/1.0").await;
    let listed = sessions(&app, &phone).await;
    assert_eq!(listed.len(), 2);
    assert!(
        listed[0].current,
        "the newest is the phone's, this request's"
    );
    assert_eq!(listed[0].user_agent.as_deref(), Some("Phone Browser/1.0"));
    assert!(!listed[1].current);
    let laptop_session = listed[1].id;

    let grace = app.register("grace@example.com").await;
    let response = anonymous_client()
        .delete(app.url(&format!("/api/me/sessions/{laptop_session}")))
        .bearer_auth(&grace)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    assert_eq!(me(&app, &laptop).await.status(), 200);

    let response = anonymous_client()
        .delete(app.url(&format!("/api/me/sessions/{laptop_session}")))
        .bearer_auth(&phone)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    assert_eq!(me(&app, &laptop).await.status(), 401);
    let listed = sessions(&app, &phone).await;
    assert_eq!(listed.len(), 1);
    assert!(listed[0].current);
}

#[tokio::test]
async fn a_revoked_token_cannot_open_the_websocket() {
    let app = spawn_app().await;
    let token = app.register("ws@example.com").await;
    let query = format!("?token={token}");
    assert!(WsClient::try_connect(&app.address, &query, &[])
        .await
        .is_ok());
    let response = anonymous_client()
        .post(app.url("/api/auth/logout"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    assert_eq!(
        WsClient::try_connect(&app.address, &query, &[]).await.err(),
        Some(401)
    );
    let bearer = format!("Bearer {token}");
    assert_eq!(
        WsClient::try_connect(&app.address, "", &[("authorization", bearer.as_str())])
            .await
            .err(),
        Some(401)
    );
}

#[tokio::test]
async fn a_token_issued_before_sessions_existed_counts_as_expired() {
    use jsonwebtoken::{encode, EncodingKey, Header};
    let app = spawn_app().await;
    app.register("old@example.com").await;
    let listed_user: serde_json::Value = app.get("/api/me").await.json().await.unwrap();
    let now = chrono::Utc::now().timestamp();
    let claims = json!({"sub": listed_user["id"], "iat": now, "exp": now + 3600});
    let old = encode(
        &Header::default(),
        &claims,
        &EncodingKey::from_secret(b"test-secret-that-is-long-enough-0123456789"),
    )
    .unwrap();
    let response = me(&app, &old).await;
    assert_eq!(response.status(), 401);
    assert_eq!(error_code(response).await, "session_expired");
}

#[tokio::test]
async fn the_settings_page_lists_sessions_and_its_forms_revoke_them_without_script() {
    let app = spawn_app().await;
    app.register("ada@example.com").await;
    let phone = login(&app, "ada@example.com", PASSWORD, "Phone Browser/1.0").await;
    let page = app.get("/settings").await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("This device"), "{html}");
    assert!(html.contains("Phone Browser/1.0"), "{html}");
    assert!(html.contains("action=\"/settings/password\""), "{html}");

    let phone_session = sessions(&app, &phone).await[0].id;
    let response = app
        .client
        .post(app.url(&format!("/settings/sessions/{phone_session}/revoke")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(
        response.headers()["location"],
        "/settings?saved=session_revoked"
    );
    assert_eq!(me(&app, &phone).await.status(), 401);

    let response = app
        .client
        .post(app.url("/settings/password"))
        .form(&[
            ("current_password", "wrong password"),
            ("new_password", "a brand new passphrase"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers()["location"],
        "/settings?error=invalid_credentials"
    );
    let response = app
        .client
        .post(app.url("/settings/password"))
        .form(&[
            ("current_password", PASSWORD),
            ("new_password", "a brand new passphrase"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers()["location"],
        "/settings?saved=password_changed"
    );
    assert_eq!(
        app.get("/api/me").await.status(),
        200,
        "still signed in here"
    );

    let response = app
        .client
        .post(app.url("/settings/sessions/revoke-all"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["location"], "/login");
    assert_eq!(app.get("/api/me").await.status(), 401);
}

#[tokio::test]
async fn last_seen_is_written_at_most_once_a_minute() {
    let app = spawn_app().await;
    let token = app.register("ada@example.com").await;
    let id = sessions(&app, &token).await[0].id;
    let last_seen = || async {
        session_rows::Entity::find_by_id(id)
            .one(&app.db)
            .await
            .unwrap()
            .unwrap()
            .last_seen_at
    };
    let fresh = last_seen().await;
    assert_eq!(me(&app, &token).await.status(), 200);
    assert_eq!(
        last_seen().await,
        fresh,
        "seen less than a minute ago: no write"
    );

    let two_minutes_ago = fresh - chrono::TimeDelta::minutes(2);
    session_rows::ActiveModel {
        id: Set(id),
        last_seen_at: Set(two_minutes_ago),
        ..Default::default()
    }
    .update(&app.db)
    .await
    .unwrap();
    assert_eq!(me(&app, &token).await.status(), 200);
    assert!(last_seen().await >= fresh, "refreshed after a minute");
}

#[tokio::test]
async fn revoking_a_session_closes_its_open_socket_and_leaves_the_others_open() {
    use std::time::Duration;

    let app = spawn_app().await;
    app.register("tabs@example.com").await;
    let laptop = login(&app, "tabs@example.com", PASSWORD, "laptop").await;
    let phone = login(&app, "tabs@example.com", PASSWORD, "phone").await;
    let mut laptop_socket = WsClient::connect(&app.address, &laptop).await;
    let mut phone_socket = WsClient::connect(&app.address, &phone).await;
    let phone_session = sessions(&app, &phone)
        .await
        .into_iter()
        .find(|s| s.current)
        .unwrap();
    let response = anonymous_client()
        .delete(app.url(&format!("/api/me/sessions/{}", phone_session.id)))
        .bearer_auth(&laptop)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    let frames = phone_socket
        .until(Duration::from_secs(10), |f| f["code"] == "session_ended")
        .await;
    assert_eq!(frames.last().unwrap()["type"], "error");
    assert!(phone_socket
        .next_json(Duration::from_secs(5))
        .await
        .is_none());
    // The laptop's socket still answers.
    laptop_socket.send(json!({"type": "ping"})).await;
    let pong = laptop_socket
        .until(Duration::from_secs(5), |f| f["type"] == "pong")
        .await;
    assert!(
        pong.iter().all(|f| f["code"] != "session_ended"),
        "{pong:?}"
    );
}
