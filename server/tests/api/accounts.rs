//! Accounts for a team: registration modes, waiting for approval, disabling (sessions, tokens
//! and streaming replies end at once), the last admin kept, invites, personal API tokens, the
//! audit log, the operator's command line and the host check.

use std::time::Duration;

use app::wire::{
    AdminUserView, ApiTokenView, AuditPage, AuthResponse, CreatedApiToken, CreatedInvite,
    InviteView, MessageStatus, Page, SendResponse, UserRole, UserStatus, UserView,
};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{json, Value};
use server::db::entities::{api_tokens, messages, users};
use uuid::Uuid;

use crate::helpers::{
    anonymous_client, error_code, json_body, location, server_binary, spawn_app_with,
    ws_client::WsClient, TestApp,
};

const PASSWORD: &str = "correct horse battery";

/// Registers from a fresh client; the response as it came.
async fn register_raw(app: &TestApp, email: &str, invite: Option<&str>) -> reqwest::Response {
    anonymous_client()
        .post(app.url("/api/auth/register"))
        .json(&json!({ "email": email, "password": PASSWORD, "invite": invite }))
        .send()
        .await
        .unwrap()
}

/// Registers and returns the new account with its token.
async fn register(app: &TestApp, email: &str, invite: Option<&str>) -> AuthResponse {
    let response = register_raw(app, email, invite).await;
    assert_eq!(response.status(), 201, "register {email}");
    json_body(response).await
}

async fn call(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let mut request = anonymous_client()
        .request(method, app.url(path))
        .bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.unwrap()
}

async fn get(app: &TestApp, path: &str, token: &str) -> reqwest::Response {
    call(app, reqwest::Method::GET, path, token, None).await
}

async fn patch_user(app: &TestApp, admin: &str, id: Uuid, body: Value) -> reqwest::Response {
    let path = format!("/api/admin/users/{id}");
    call(app, reqwest::Method::PATCH, &path, admin, Some(body)).await
}

async fn audit_actions(app: &TestApp, admin: &str) -> Vec<String> {
    let page: AuditPage = json_body(get(app, "/api/admin/audit?limit=200", admin).await).await;
    page.items.into_iter().map(|e| e.action).collect()
}

#[tokio::test]
async fn each_registration_mode_lets_in_whom_it_should_and_the_first_account_always() {
    for (mode, second) in [
        ("open", Ok(UserStatus::Active)),
        ("approval", Ok(UserStatus::Pending)),
        ("invite", Err("invite_required")),
        ("closed", Err("registration_closed")),
    ] {
        let app = spawn_app_with(&[("REGISTRATION", mode)]).await;
        let first = register(&app, "first@example.com", None).await;
        assert_eq!(first.user.role, UserRole::Admin, "{mode}");
        assert_eq!(first.user.status, UserStatus::Active, "{mode}");
        let response = register_raw(&app, "second@example.com", None).await;
        match second {
            Ok(status) => {
                assert_eq!(response.status(), 201, "{mode}");
                let body: AuthResponse = json_body(response).await;
                assert_eq!(body.user.status, status, "{mode}");
                assert_eq!(body.user.role, UserRole::User, "{mode}");
            }
            Err(code) => {
                assert_eq!(response.status(), 403, "{mode}");
                assert_eq!(error_code(response).await, code, "{mode}");
                let accounts = users::Entity::find().count(&app.db).await.unwrap();
                assert_eq!(
                    accounts, 1,
                    "{mode}: nothing stored for a refused registration"
                );
            }
        }
    }
}

#[tokio::test]
async fn five_registrations_at_once_on_an_empty_invite_only_instance_let_exactly_one_in() {
    let app = spawn_app_with(&[("REGISTRATION", "invite")]).await;
    let attempts = (0..5).map(|i| {
        let app = &app;
        async move {
            register_raw(app, &format!("racer{i}@example.com"), None)
                .await
                .status()
        }
    });
    let statuses = futures::future::join_all(attempts).await;
    let admitted = statuses.iter().filter(|s| s.as_u16() == 201).count();
    assert_eq!(admitted, 1, "{statuses:?}");
    assert!(
        statuses.iter().all(|s| [201, 403].contains(&s.as_u16())),
        "{statuses:?}"
    );
    let admins = users::Entity::find()
        .filter(users::Column::Role.eq(UserRole::Admin))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(admins, 1);
}

#[tokio::test]
async fn a_waiting_account_is_refused_everywhere_in_the_app_until_an_admin_approves_it() {
    let app = spawn_app_with(&[("REGISTRATION", "approval")]).await;
    let admin = register(&app, "admin@example.com", None).await.token;
    let waiting = register(&app, "new@example.com", None).await;
    let token = waiting.token.as_str();

    let me: UserView = json_body(get(&app, "/api/me", token).await).await;
    assert_eq!(me.status, UserStatus::Pending);
    for path in [
        "/api/conversations",
        "/api/models",
        "/api/settings",
        "/api/usage",
        "/api/tokens",
    ] {
        let response = get(&app, path, token).await;
        assert_eq!(response.status(), 403, "{path}");
        assert_eq!(error_code(response).await, "pending_approval", "{path}");
    }
    let create = call(
        &app,
        reqwest::Method::POST,
        "/api/conversations",
        token,
        Some(json!({})),
    )
    .await;
    assert_eq!(create.status(), 403);
    assert_eq!(
        WsClient::try_connect(&app.address, &format!("?token={token}"), &[])
            .await
            .err(),
        Some(403)
    );
    // The browser is sent to the waiting page from every page of the app.
    let cookie = format!("rustchat_session={token}");
    for page in ["/", "/settings", "/usage"] {
        let response = anonymous_client()
            .get(app.url(page))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(location(&response), "/waiting", "{page}");
    }
    let page = anonymous_client()
        .get(app.url("/waiting"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);

    let approved = patch_user(&app, &admin, waiting.user.id, json!({"status": "active"})).await;
    assert_eq!(approved.status(), 200);
    let view: AdminUserView = json_body(approved).await;
    assert_eq!(view.status, UserStatus::Active);
    let create = call(
        &app,
        reqwest::Method::POST,
        "/api/conversations",
        token,
        Some(json!({})),
    )
    .await;
    assert_eq!(create.status(), 201);
    let away = anonymous_client()
        .get(app.url("/waiting"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(location(&away), "/");
    assert!(audit_actions(&app, &admin)
        .await
        .contains(&"user.approved".to_owned()));
}

#[tokio::test]
async fn disabling_an_account_ends_its_sessions_tokens_socket_and_streaming_reply_at_once() {
    let app = spawn_app_with(&[("DEMO_WORD_DELAY", "150ms")]).await;
    let admin = register(&app, "admin@example.com", None).await.token;
    let person = register(&app, "person@example.com", None).await;
    let token = person.token.as_str();
    let api_token: CreatedApiToken = json_body(
        call(
            &app,
            reqwest::Method::POST,
            "/api/tokens",
            token,
            Some(json!({"name": "cron"})),
        )
        .await,
    )
    .await;

    let conversation: Value = json_body(
        call(
            &app,
            reqwest::Method::POST,
            "/api/conversations",
            token,
            Some(json!({"provider": "demo", "model": "demo-offline"})),
        )
        .await,
    )
    .await;
    let conversation_id: Uuid = conversation["id"].as_str().unwrap().parse().unwrap();
    let mut socket = WsClient::connect(&app.address, token).await;
    socket.subscribe(conversation_id, json!({})).await;
    let path = format!("/api/conversations/{conversation_id}/messages");
    let sent = call(
        &app,
        reqwest::Method::POST,
        &path,
        token,
        Some(json!({"content": "Tell me a long story about tables"})),
    )
    .await;
    assert_eq!(sent.status(), 202);
    let sent: SendResponse = json_body(sent).await;
    let reply_id = sent.assistant_message.id;
    socket
        .until(Duration::from_secs(10), |f| {
            f["type"] == "message.streaming"
        })
        .await;

    let disabled = patch_user(&app, &admin, person.user.id, json!({"status": "disabled"})).await;
    assert_eq!(disabled.status(), 200);

    // The open socket is told and closed.
    let frames = socket
        .until(Duration::from_secs(10), |f| {
            f["type"] == "error" && f["code"] == "session_ended"
        })
        .await;
    assert!(!frames.is_empty());
    let mut after = 0;
    while socket.next_json(Duration::from_secs(5)).await.is_some() {
        after += 1;
        assert!(
            after < 5,
            "the socket should close after saying the session ended"
        );
    }
    // The session, the API token and the password all stop working.
    assert_eq!(get(&app, "/api/me", token).await.status(), 401);
    assert_eq!(
        get(&app, "/api/conversations", &api_token.token)
            .await
            .status(),
        401
    );
    let login = anonymous_client()
        .post(app.url("/api/auth/login"))
        .json(&json!({"email": "person@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 401);
    assert_eq!(error_code(login).await, "account_disabled");
    // The reply stopped where it was, instead of running on and billing.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let reply = loop {
        let reply = messages::Entity::find_by_id(reply_id)
            .one(&app.db)
            .await
            .unwrap()
            .unwrap();
        if reply.status != MessageStatus::Streaming || tokio::time::Instant::now() > deadline {
            break reply;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(reply.status, MessageStatus::Stopped);

    // Enabled again, the person logs in anew; what was revoked stays revoked.
    let enabled = patch_user(&app, &admin, person.user.id, json!({"status": "active"})).await;
    assert_eq!(enabled.status(), 200);
    assert_eq!(get(&app, "/api/me", token).await.status(), 401);
    assert_eq!(get(&app, "/api/me", &api_token.token).await.status(), 401);
    let login = anonymous_client()
        .post(app.url("/api/auth/login"))
        .json(&json!({"email": "person@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    let actions = audit_actions(&app, &admin).await;
    for action in ["user.disabled", "user.enabled", "token.created"] {
        assert!(
            actions.contains(&action.to_owned()),
            "{action} in {actions:?}"
        );
    }
}

#[tokio::test]
async fn the_last_active_admin_cannot_be_disabled_or_demoted() {
    let app = spawn_app_with(&[]).await;
    let first = register(&app, "admin@example.com", None).await;
    let admin = first.token.as_str();
    for body in [json!({"status": "disabled"}), json!({"role": "user"})] {
        let response = patch_user(&app, admin, first.user.id, body.clone()).await;
        assert_eq!(response.status(), 409, "{body}");
        assert_eq!(error_code(response).await, "last_admin");
    }
    let other = register(&app, "second@example.com", None).await;
    let promoted = patch_user(&app, admin, other.user.id, json!({"role": "admin"})).await;
    assert_eq!(promoted.status(), 200);
    let back_to_waiting =
        patch_user(&app, admin, other.user.id, json!({"status": "pending"})).await;
    assert_eq!(back_to_waiting.status(), 422);
    let demoted = patch_user(&app, admin, first.user.id, json!({"role": "user"})).await;
    assert_eq!(demoted.status(), 200);
    // No longer an admin: the admin API is gone for this account.
    assert_eq!(get(&app, "/api/admin/users", admin).await.status(), 404);
    let unknown = patch_user(&app, &other.token, Uuid::now_v7(), json!({"role": "user"})).await;
    assert_eq!(unknown.status(), 404);
    let actions = audit_actions(&app, &other.token).await;
    assert_eq!(
        actions.iter().filter(|a| *a == "user.role_changed").count(),
        2,
        "{actions:?}"
    );
}

async fn create_invite(app: &TestApp, admin: &str, body: Value) -> CreatedInvite {
    let response = call(
        app,
        reqwest::Method::POST,
        "/api/admin/invites",
        admin,
        Some(body),
    )
    .await;
    assert_eq!(response.status(), 201);
    json_body(response).await
}

#[tokio::test]
async fn an_invite_lets_in_one_person_once_with_its_email_and_role_until_it_expires() {
    use sea_orm::{sea_query::Expr, QueryFilter};
    use server::db::entities::invites;

    let app = spawn_app_with(&[("REGISTRATION", "invite")]).await;
    let admin = register(&app, "admin@example.com", None).await.token;
    let for_bob = create_invite(
        &app,
        &admin,
        json!({"email": "Bob@Example.com", "role": "admin"}),
    )
    .await;
    assert_eq!(for_bob.url, format!("/register?invite={}", for_bob.code));

    let wrong_person = register_raw(&app, "carol@example.com", Some(&for_bob.code)).await;
    assert_eq!(wrong_person.status(), 403);
    assert_eq!(error_code(wrong_person).await, "invalid_invite");
    let bob = register(&app, "bob@example.com", Some(&for_bob.code)).await;
    assert_eq!(bob.user.role, UserRole::Admin);
    assert_eq!(bob.user.status, UserStatus::Active);
    let again = register_raw(&app, "bob2@example.com", Some(&for_bob.code)).await;
    assert_eq!(error_code(again).await, "invalid_invite");

    let revoked = create_invite(&app, &admin, json!({})).await;
    let path = format!("/api/admin/invites/{}", revoked.id);
    assert_eq!(
        call(&app, reqwest::Method::DELETE, &path, &admin, None)
            .await
            .status(),
        204
    );
    let refused = register_raw(&app, "dave@example.com", Some(&revoked.code)).await;
    assert_eq!(error_code(refused).await, "invalid_invite");

    let expired = create_invite(&app, &admin, json!({"expires_in_days": 1})).await;
    invites::Entity::update_many()
        .col_expr(
            invites::Column::ExpiresAt,
            Expr::value(chrono::Utc::now() - chrono::TimeDelta::minutes(1)),
        )
        .filter(invites::Column::Id.eq(expired.id))
        .exec(&app.db)
        .await
        .unwrap();
    let late = register_raw(&app, "erin@example.com", Some(&expired.code)).await;
    assert_eq!(error_code(late).await, "invalid_invite");
    let unknown = register_raw(&app, "frank@example.com", Some("00ff")).await;
    assert_eq!(error_code(unknown).await, "invalid_invite");

    let list: Page<InviteView> = json_body(get(&app, "/api/admin/invites", &admin).await).await;
    let used = list.items.iter().find(|i| i.id == for_bob.id).unwrap();
    assert_eq!(used.used_by_email.as_deref(), Some("bob@example.com"));
    assert_eq!(used.email.as_deref(), Some("bob@example.com"));
    assert!(list
        .items
        .iter()
        .find(|i| i.id == revoked.id)
        .unwrap()
        .revoked_at
        .is_some());
    // Only the code's digest is stored.
    let stored = invites::Entity::find_by_id(for_bob.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_ne!(stored.code_hash, for_bob.code);
    // Nobody but an admin makes invites.
    let for_gina = create_invite(&app, &bob.token, json!({})).await;
    let gina = register(&app, "gina@example.com", Some(&for_gina.code)).await;
    assert_eq!(gina.user.role, UserRole::User);
    let not_admin = call(
        &app,
        reqwest::Method::POST,
        "/api/admin/invites",
        &gina.token,
        Some(json!({})),
    )
    .await;
    assert_eq!(not_admin.status(), 404);
    let actions = audit_actions(&app, &admin).await;
    for action in ["invite.created", "invite.used", "invite.revoked"] {
        assert!(
            actions.contains(&action.to_owned()),
            "{action} in {actions:?}"
        );
    }
}

#[tokio::test]
async fn an_invite_link_works_on_the_register_form_and_a_bad_one_keeps_the_code() {
    let app = spawn_app_with(&[
        ("REGISTRATION", "closed"),
        ("PUBLIC_URL", "http://chat.example.com"),
    ])
    .await;
    let admin = register(&app, "admin@example.com", None).await.token;
    let invite = create_invite(&app, &admin, json!({})).await;
    assert_eq!(
        invite.url,
        format!("http://chat.example.com/register?invite={}", invite.code)
    );
    let form = |email: &'static str, code: String| {
        let url = app.url("/auth/register");
        async move {
            anonymous_client()
                .post(url)
                .form(&[
                    ("email", email),
                    ("password", PASSWORD),
                    ("invite", code.as_str()),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    let refused = form("weak@example.com", "abc123".into()).await;
    assert_eq!(
        location(&refused),
        "/register?error=invalid_invite&invite=abc123"
    );
    let admitted = form("guest@example.com", invite.code.clone()).await;
    assert_eq!(location(&admitted), "/");
    let closed = anonymous_client()
        .post(app.url("/auth/register"))
        .form(&[("email", "late@example.com"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&closed), "/register?error=registration_closed");
}

#[tokio::test]
async fn api_tokens_speak_for_their_owner_until_revoked_and_nobody_else_can_touch_them() {
    let app = spawn_app_with(&[]).await;
    let ann = register(&app, "ann@example.com", None).await.token;
    let bob = register(&app, "bob@example.com", None).await.token;
    let created = call(
        &app,
        reqwest::Method::POST,
        "/api/tokens",
        &ann,
        Some(json!({"name": "  nightly export "})),
    )
    .await;
    assert_eq!(created.status(), 201);
    let created: CreatedApiToken = json_body(created).await;
    assert_eq!(created.name, "nightly export");
    assert!(created.token.starts_with("rc_"), "{}", created.token);

    let me: UserView = json_body(get(&app, "/api/me", &created.token).await).await;
    assert_eq!(me.email, "ann@example.com");
    assert_eq!(
        get(&app, "/api/conversations", &created.token)
            .await
            .status(),
        200
    );
    let bearer = format!("Bearer {}", created.token);
    assert!(
        WsClient::try_connect(&app.address, "", &[("authorization", bearer.as_str())])
            .await
            .is_ok()
    );
    // A token in the session cookie is not a session.
    let cookie = anonymous_client()
        .get(app.url("/api/me"))
        .header("cookie", format!("rustchat_session={}", created.token))
        .send()
        .await
        .unwrap();
    assert_eq!(cookie.status(), 401);

    let listed: Page<ApiTokenView> = json_body(get(&app, "/api/tokens", &ann).await).await;
    assert_eq!(listed.items.len(), 1);
    let listed_text = serde_json::to_string(&listed).unwrap();
    assert!(!listed_text.contains(&created.token));
    assert!(listed.items[0].prefix.starts_with("rc_"));
    let stored = api_tokens::Entity::find_by_id(created.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_ne!(stored.token_hash, created.token);
    assert!(!stored.token_hash.contains(&created.token[3..]));

    let path = format!("/api/tokens/{}", created.id);
    let theirs = call(&app, reqwest::Method::DELETE, &path, &bob, None).await;
    assert_eq!(theirs.status(), 404);
    let bobs: Page<ApiTokenView> = json_body(get(&app, "/api/tokens", &bob).await).await;
    assert!(bobs.items.is_empty());
    assert_eq!(get(&app, "/api/me", &created.token).await.status(), 200);

    assert_eq!(
        call(&app, reqwest::Method::DELETE, &path, &ann, None)
            .await
            .status(),
        204
    );
    assert_eq!(get(&app, "/api/me", &created.token).await.status(), 401);
    assert_eq!(
        call(&app, reqwest::Method::DELETE, &path, &ann, None)
            .await
            .status(),
        404
    );
    let nameless = call(
        &app,
        reqwest::Method::POST,
        "/api/tokens",
        &ann,
        Some(json!({"name": " "})),
    )
    .await;
    assert_eq!(nameless.status(), 422);
    assert_eq!(error_code(nameless).await, "invalid_token_name");
    // Logging out with the token does not revoke anything else.
    let actions = audit_actions(&app, &ann).await;
    assert!(actions.contains(&"token.revoked".to_owned()), "{actions:?}");
}

#[tokio::test]
async fn the_audit_log_keeps_admin_and_security_actions_with_actor_target_and_pages() {
    let app = spawn_app_with(&[("REGISTRATION", "approval")]).await;
    let first = register(&app, "admin@example.com", None).await;
    let admin = first.token.as_str();
    let waiting = register(&app, "new@example.com", None).await;
    patch_user(&app, admin, waiting.user.id, json!({"status": "active"})).await;
    patch_user(&app, admin, waiting.user.id, json!({"role": "admin"})).await;
    let budget = format!("/api/admin/users/{}/budget", waiting.user.id);
    let response = call(
        &app,
        reqwest::Method::PUT,
        &budget,
        admin,
        Some(json!({"monthly_budget_micros": 5_000_000})),
    )
    .await;
    assert_eq!(response.status(), 200);
    let models: Vec<Value> = json_body(get(&app, "/api/admin/models", admin).await).await;
    let model_id = models[0]["id"].as_str().unwrap();
    let response = call(
        &app,
        reqwest::Method::PATCH,
        &format!("/api/admin/models/{model_id}"),
        admin,
        Some(json!({"output_micros_per_mtok": 42})),
    )
    .await;
    assert_eq!(response.status(), 200);
    let response = call(
        &app,
        reqwest::Method::PUT,
        "/api/me/password",
        &waiting.token,
        Some(json!({"current_password": PASSWORD, "new_password": "another long passphrase"})),
    )
    .await;
    assert_eq!(response.status(), 204);

    let all: AuditPage = json_body(get(&app, "/api/admin/audit", admin).await).await;
    let find = |action: &str| {
        all.items
            .iter()
            .find(|e| e.action == action)
            .unwrap_or_else(|| panic!("{action} missing from {:#?}", all.items))
    };
    let approved = find("user.approved");
    assert_eq!(approved.actor_id, Some(first.user.id));
    assert_eq!(approved.actor_email.as_deref(), Some("admin@example.com"));
    assert_eq!(approved.target.as_deref(), Some("new@example.com"));
    assert_eq!(approved.details.as_ref().unwrap()["to"], "active");
    assert_eq!(
        find("user.role_changed").details.as_ref().unwrap()["to"],
        "admin"
    );
    assert_eq!(
        find("user.budget_changed").details.as_ref().unwrap()["to_micros"],
        5_000_000
    );
    assert_eq!(
        find("model.changed").details.as_ref().unwrap()["output_micros_per_mtok"][1],
        42
    );
    assert_eq!(find("password.changed").actor_id, Some(waiting.user.id));
    // Newest first, and paging walks every entry once.
    let mut walked = Vec::new();
    let mut cursor: Option<Uuid> = None;
    loop {
        let path = match cursor {
            Some(c) => format!("/api/admin/audit?limit=2&cursor={c}"),
            None => "/api/admin/audit?limit=2".to_owned(),
        };
        let page: AuditPage = json_body(get(&app, &path, admin).await).await;
        assert!(page.items.len() <= 2);
        walked.extend(page.items.iter().map(|e| e.id));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(walked, all.items.iter().map(|e| e.id).collect::<Vec<_>>());
    let mut sorted = walked.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(walked, sorted);
    // Only admins read it.
    let outsider = register(&app, "x@example.com", None).await.token;
    assert_eq!(get(&app, "/api/admin/audit", &outsider).await.status(), 404);
}

/// Runs the server binary's operator command against the test's database.
fn operator(app: &TestApp, args: &[&str]) -> std::process::Output {
    std::process::Command::new(server_binary())
        .args(args)
        .env_clear()
        .env("DATABASE_URL", &app.database_url)
        .env("DATA_DIR", app.data_dir.path())
        .env("JWT_SECRET", "test-secret-that-is-long-enough-0123456789")
        .env("RUST_LOG", "error")
        .output()
        .expect("the server binary runs")
}

#[tokio::test]
async fn the_operator_grants_and_revokes_admin_from_the_command_line() {
    let app = spawn_app_with(&[("REGISTRATION", "approval")]).await;
    let first = register(&app, "first@example.com", None).await;
    let waiting = register(&app, "ops@example.com", None).await;

    let granted = operator(&app, &["admin", "grant", "OPS@example.com"]);
    assert!(granted.status.success(), "{granted:?}");
    assert_eq!(
        String::from_utf8_lossy(&granted.stdout).trim(),
        "ops@example.com is an admin"
    );
    let me: UserView = json_body(get(&app, "/api/me", &waiting.token).await).await;
    assert_eq!((me.role, me.status), (UserRole::Admin, UserStatus::Active));
    assert_eq!(
        get(&app, "/api/admin/users", &waiting.token).await.status(),
        200
    );

    let listed = operator(&app, &["admin", "list"]);
    let listed = String::from_utf8_lossy(&listed.stdout);
    assert!(
        listed.contains("first@example.com") && listed.contains("ops@example.com"),
        "{listed}"
    );

    let revoked = operator(&app, &["admin", "revoke", "first@example.com"]);
    assert!(revoked.status.success(), "{revoked:?}");
    assert_eq!(
        get(&app, "/api/admin/users", &first.token).await.status(),
        404
    );
    let last = operator(&app, &["admin", "revoke", "ops@example.com"]);
    assert!(!last.status.success());
    assert!(
        String::from_utf8_lossy(&last.stderr).contains("last active admin"),
        "{last:?}"
    );
    let nobody = operator(&app, &["admin", "grant", "nobody@example.com"]);
    assert!(!nobody.status.success());
    let usage = operator(&app, &["admin", "promote"]);
    assert!(
        String::from_utf8_lossy(&usage.stderr).contains("usage:"),
        "{usage:?}"
    );

    let audit: AuditPage = json_body(get(&app, "/api/admin/audit", &waiting.token).await).await;
    let granted = audit
        .items
        .iter()
        .find(|e| e.action == "admin.granted")
        .unwrap();
    assert_eq!(
        granted.actor_id, None,
        "the command line acts as nobody's account"
    );
    assert!(audit.items.iter().any(|e| e.action == "admin.revoked"));
}

#[tokio::test]
async fn requests_for_a_host_that_is_not_ours_are_refused() {
    let app = spawn_app_with(&[("PUBLIC_URL", "https://chat.example.com")]).await;
    let host = |name: &'static str| {
        let url = app.url("/login");
        async move {
            anonymous_client()
                .get(url)
                .header("host", name)
                .send()
                .await
                .unwrap()
        }
    };
    let rebound = host("attacker.example").await;
    assert_eq!(rebound.status(), 421);
    assert_eq!(error_code(rebound).await, "unknown_host");
    let public = host("chat.example.com").await;
    assert_eq!(public.status(), 200);
    assert_eq!(
        public.headers()["strict-transport-security"],
        "max-age=31536000"
    );
    assert_eq!(host("localhost").await.status(), 200);
    assert_eq!(app.get("/login").await.status(), 200, "by address");

    let plain = spawn_app_with(&[]).await;
    let response = plain.get("/login").await;
    assert!(response
        .headers()
        .get("strict-transport-security")
        .is_none());
}
