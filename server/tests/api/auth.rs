//! Accounts and sessions through the real server and database.

use app::wire::{AuthResponse, UserRole, UserView};
use serde_json::{json, Value};

use crate::helpers::{anonymous_client, error_code, spawn_app};

#[tokio::test]
async fn register_answers_201_with_user_token_and_an_httponly_lax_cookie() {
    let app = spawn_app().await;
    let response = app
        .post_json(
            "/api/auth/register",
            json!({"email": "Ada@Example.com", "password": "correct horse battery"}),
        )
        .await;
    assert_eq!(response.status(), 201);
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with("rustchat_session="), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    let body: Value = response.json().await.unwrap();
    assert!(body["user"].get("password_hash").is_none());
    let body: AuthResponse = serde_json::from_value(body).unwrap();
    assert_eq!(body.user.email, "ada@example.com");
    assert_eq!(body.user.name, "ada");
    assert!(body.token.split('.').count() == 3);
}

#[tokio::test]
async fn a_taken_email_is_409_whatever_its_case() {
    let app = spawn_app().await;
    app.register("grace@example.com").await;
    let response = anonymous_client()
        .post(app.url("/api/auth/register"))
        .json(&json!({"email": "GRACE@example.com", "password": "another good password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 409);
    assert_eq!(error_code(response).await, "email_taken");
}

#[tokio::test]
async fn weak_passwords_and_malformed_emails_are_422() {
    let app = spawn_app().await;
    for (body, code) in [
        (
            json!({"email": "x@example.com", "password": "short"}),
            "weak_password",
        ),
        (
            json!({"email": "x@example.com", "password": "password123"}),
            "weak_password",
        ),
        (
            json!({"email": "not-an-email", "password": "correct horse battery"}),
            "invalid_email",
        ),
    ] {
        let response = app.post_json("/api/auth/register", body).await;
        assert_eq!(response.status(), 422);
        assert_eq!(error_code(response).await, code);
    }
}

#[tokio::test]
async fn bad_credentials_get_the_same_401_whether_or_not_the_email_exists() {
    let app = spawn_app().await;
    app.register("alan@example.com").await;
    let client = anonymous_client();
    let mut bodies = Vec::new();
    for email in ["alan@example.com", "nobody@example.com"] {
        let response = client
            .post(app.url("/api/auth/login"))
            .json(&json!({"email": email, "password": "wrong password here"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401);
        bodies.push(response.text().await.unwrap());
    }
    assert_eq!(bodies[0], bodies[1]);
    assert!(bodies[0].contains("invalid_credentials"));
}

#[tokio::test]
async fn login_then_me_works_with_the_cookie_and_with_a_bearer_token() {
    let app = spawn_app().await;
    app.register("linus@example.com").await;
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let response = client
        .post(app.url("/api/auth/login"))
        .json(&json!({"email": "linus@example.com", "password": "correct horse battery"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let token = response.json::<AuthResponse>().await.unwrap().token;

    let me: UserView = client
        .get(app.url("/api/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me.email, "linus@example.com");

    let by_bearer = anonymous_client()
        .get(app.url("/api/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(by_bearer.status(), 200);
}

#[tokio::test]
async fn me_without_a_session_or_with_a_forged_token_is_401() {
    let app = spawn_app().await;
    let client = anonymous_client();
    let response = client.get(app.url("/api/me")).send().await.unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(error_code(response).await, "unauthorized");

    let forged = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIwMDAwIiwiZXhwIjo5OTk5OTk5OTk5fQ.c2lnbmF0dXJl";
    let response = client
        .get(app.url("/api/me"))
        .bearer_auth(forged)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(error_code(response).await, "invalid_token");
}

#[tokio::test]
async fn logout_clears_the_cookie_so_me_is_401_again() {
    let app = spawn_app().await;
    app.register("barbara@example.com").await;
    assert_eq!(app.get("/api/me").await.status(), 200);
    let response = app
        .client
        .post(app.url("/api/auth/logout"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    assert!(response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    assert_eq!(app.get("/api/me").await.status(), 401);
}

#[tokio::test]
async fn the_first_account_is_an_admin_and_later_ones_are_not() {
    let app = spawn_app().await;
    app.register("first@example.com").await;
    let me: UserView = app.get_json("/api/me").await;
    assert_eq!(me.role, UserRole::Admin);
    let second = anonymous_client()
        .post(app.url("/api/auth/register"))
        .json(&json!({"email": "second@example.com", "password": "correct horse battery"}))
        .send()
        .await
        .unwrap();
    let body: AuthResponse = second.json().await.unwrap();
    assert_eq!(body.user.role, UserRole::User);
}

#[tokio::test]
async fn malformed_json_and_unknown_api_routes_answer_in_the_error_shape() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/api/auth/login"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(error_code(response).await, "bad_request");
    let response = app.get("/api/nothing-here").await;
    assert_eq!(response.status(), 404);
    assert_eq!(error_code(response).await, "not_found");
}

/// Twenty, not two: password hashing staggers registrations, and without the turn-taking in
/// `register` about one run in three still made several admins at twenty.
#[tokio::test]
async fn twenty_registrations_at_once_on_an_empty_instance_make_exactly_one_admin() {
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    use server::db::entities::users;

    let app = spawn_app().await;
    let registrations = (0..20).map(|i| {
        let url = app.url("/api/auth/register");
        async move {
            anonymous_client()
                .post(url)
                .json(&json!({"email": format!("first{i}@example.com"), "password": "correct horse battery"}))
                .send()
                .await
                .unwrap()
                .status()
        }
    });
    let statuses = futures::future::join_all(registrations).await;
    assert!(statuses.iter().all(|s| *s == 201), "{statuses:?}");
    let admins = users::Entity::find()
        .filter(users::Column::Role.eq(UserRole::Admin))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(admins, 1, "exactly one of the twenty is the admin");
    assert_eq!(users::Entity::find().count(&app.db).await.unwrap(), 20);
}
