//! The limits through the real server (ARCHITECTURE.md, "Accounts and access"): each refusal is
//! a 429 with `Retry-After` and its own code, and a refused send stores nothing. Log-in limits
//! are per client address and per email: the tests speak from several loopback addresses
//! (127.0.0.2, 127.0.0.3, ...) to tell the two apart. Runs on SQLite, and on PostgreSQL (+Redis)
//! with TEST_DATABASE_URL / TEST_REDIS_URL.

use std::{
    net::{IpAddr, Ipv4Addr},
    time::Duration,
};

use app::wire::{SendResponse, UserView};
use futures::{future::join_all, SinkExt, StreamExt};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{json, Value};
use server::db::entities::{budget_periods, messages};
use tokio_tungstenite::tungstenite::Message;
use uuid::Uuid;

use crate::helpers::{
    error_code,
    fake_upstream::{openai_reply, End, FakeUpstream, Script},
    location, spawn_app_with, start_server,
    ws_client::WsClient,
    TestApp,
};

const WAIT: Duration = Duration::from_secs(20);

/// A client that connects from `127.0.0.{last}`: another address, as far as the server knows.
fn client_from(last: u8) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, last)))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn log_in(app: &TestApp, client: &reqwest::Client, email: &str) -> reqwest::Response {
    client
        .post(app.url("/api/auth/login"))
        .json(&json!({ "email": email, "password": "not the password" }))
        .send()
        .await
        .unwrap()
}

/// The response's `Retry-After`, in seconds; fails when there is none.
fn retry_after(response: &reqwest::Response) -> u64 {
    response
        .headers()
        .get("retry-after")
        .expect("a Retry-After header")
        .to_str()
        .unwrap()
        .parse()
        .expect("Retry-After in whole seconds")
}

/// Checks a refusal: 429, a wait of at least a second, the code.
async fn assert_refused(response: reqwest::Response, code: &str) {
    assert_eq!(response.status(), 429);
    assert!(retry_after(&response) >= 1);
    assert_eq!(error_code(response).await, code);
}

#[tokio::test]
async fn log_ins_for_one_email_are_limited_from_every_address() {
    let app = spawn_app_with(&[("AUTH_ATTEMPTS_PER_MINUTE", "3")]).await;
    // The registration is the email's first attempt of the minute.
    app.register("ann@example.com").await;
    let (second, third) = (client_from(2), client_from(3));
    for _ in 0..2 {
        assert_eq!(log_in(&app, &second, "ann@example.com").await.status(), 401);
    }
    assert_refused(
        log_in(&app, &second, "ann@example.com").await,
        "too_many_attempts",
    )
    .await;
    // From an address that has tried nothing, the email is still refused, in any case...
    assert_refused(
        log_in(&app, &third, "ANN@example.com").await,
        "too_many_attempts",
    )
    .await;
    // ...while another email from there is heard (and refused on its merits).
    let other = log_in(&app, &third, "bob@example.com").await;
    assert_eq!(other.status(), 401);
    assert_eq!(error_code(other).await, "invalid_credentials");
}

#[tokio::test]
async fn attempts_from_one_address_are_limited_whatever_the_emails() {
    let app = spawn_app_with(&[("AUTH_ATTEMPTS_PER_MINUTE", "3")]).await;
    let client = client_from(4);
    assert_eq!(log_in(&app, &client, "a@example.com").await.status(), 401);
    assert_eq!(log_in(&app, &client, "b@example.com").await.status(), 401);
    // Registering counts as an attempt too.
    let register = |email: &'static str| {
        client
            .post(app.url("/api/auth/register"))
            .json(&json!({ "email": email, "password": "correct horse battery" }))
            .send()
    };
    assert_eq!(register("c@example.com").await.unwrap().status(), 201);
    assert_refused(
        register("d@example.com").await.unwrap(),
        "too_many_attempts",
    )
    .await;
    assert_refused(
        log_in(&app, &client, "e@example.com").await,
        "too_many_attempts",
    )
    .await;
    // Nothing was registered past the limit.
    let fresh = log_in(&app, &client_from(5), "d@example.com").await;
    assert_eq!(error_code(fresh).await, "invalid_credentials");
}

#[tokio::test]
async fn the_log_in_form_sends_a_person_back_to_wait() {
    let app = spawn_app_with(&[("AUTH_ATTEMPTS_PER_MINUTE", "1")]).await;
    let client = client_from(6);
    let post = || {
        client
            .post(app.url("/auth/login"))
            .form(&[("email", "ann@example.com"), ("password", "wrong password")])
            .send()
    };
    let first = post().await.unwrap();
    assert_eq!(location(&first), "/login?error=invalid_credentials");
    let second = post().await.unwrap();
    assert_eq!(second.status(), 303);
    assert_eq!(location(&second), "/login?error=too_many_attempts");
    assert!(retry_after(&second) >= 1);
    let page = client
        .get(app.url(&location(&second)))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Too many attempts"), "{page}");
}

async fn me(app: &TestApp) -> Uuid {
    app.get_json::<UserView>("/api/me").await.id
}

async fn stored_messages(app: &TestApp, user_id: Uuid) -> u64 {
    messages::Entity::find()
        .filter(messages::Column::UserId.eq(user_id))
        .count(&app.db)
        .await
        .unwrap()
}

async fn reserved(app: &TestApp, user_id: Uuid) -> i64 {
    budget_periods::Entity::find()
        .filter(budget_periods::Column::UserId.eq(user_id))
        .one(&app.db)
        .await
        .unwrap()
        .map_or(0, |period| period.reserved_micros)
}

async fn try_send(app: &TestApp, conversation_id: Uuid) -> reqwest::Response {
    app.post_json(
        &format!("/api/conversations/{conversation_id}/messages"),
        json!({ "content": "hi" }),
    )
    .await
}

#[tokio::test]
async fn sends_past_the_rate_are_refused_and_store_nothing() {
    let app = spawn_app_with(&[("SENDS_PER_MINUTE", "2"), ("DEMO_WORD_DELAY", "0ms")]).await;
    app.register("ann@example.com").await;
    let user_id = me(&app).await;
    let conversation = app.create_conversation(json!({})).await.id;
    for _ in 0..2 {
        let sent = app.send(conversation, "hello").await;
        app.wait_for_reply(conversation, sent.assistant_message.id)
            .await;
    }
    let before = stored_messages(&app, user_id).await;
    assert_refused(try_send(&app, conversation).await, "too_many_requests").await;
    assert_eq!(stored_messages(&app, user_id).await, before);
}

/// A server whose OpenAI is the fake upstream running `script`, with one signed-in user.
async fn app_with_upstream(script: Script, max_active: &str) -> (TestApp, FakeUpstream, Uuid) {
    let (fake, base) = FakeUpstream::start(vec![script]).await;
    let app = spawn_app_with(&[
        ("OPENAI_API_KEY", "sk-test"),
        ("OPENAI_BASE_URL", &format!("{base}/v1")),
        ("MAX_ACTIVE_REPLIES_PER_USER", max_active),
    ])
    .await;
    app.register("ann@example.com").await;
    let user_id = me(&app).await;
    (app, fake, user_id)
}

async fn priced_conversation(app: &TestApp) -> Uuid {
    app.create_conversation(json!({"provider": "openai", "model": "gpt-4o", "max_tokens": 100}))
        .await
        .id
}

#[tokio::test]
async fn twenty_concurrent_sends_with_a_cap_of_four_admit_exactly_four() {
    // The role chunk and one delta, then nothing: every accepted reply stays streaming.
    let hanging =
        Script::sse(openai_reply(&["Still thinking"], None)[..2].to_vec()).then(End::Hang);
    let (app, _fake, user_id) = app_with_upstream(hanging, "4").await;
    let conversations: Vec<Uuid> = join_all((0..20).map(|_| priced_conversation(&app))).await;
    let responses = join_all(conversations.iter().map(|&id| try_send(&app, id))).await;
    let mut accepted = 0;
    for response in responses {
        match response.status().as_u16() {
            202 => accepted += 1,
            429 => assert_refused(response, "too_many_replies").await,
            other => panic!(
                "unexpected status {other}: {}",
                response.text().await.unwrap()
            ),
        }
    }
    assert_eq!(accepted, 4);
    // Two rows (the message and its reply) for each accepted send, none for the others.
    assert_eq!(stored_messages(&app, user_id).await, 8);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_one_database_admit_exactly_four_between_them() {
    let hanging =
        Script::sse(openai_reply(&["Still thinking"], None)[..2].to_vec()).then(End::Hang);
    let (_fake, base) = FakeUpstream::start(vec![hanging]).await;
    let openai = format!("{base}/v1");
    // With TEST_REDIS_URL both share the live feed too, as a deployment of several would.
    let redis = std::env::var("TEST_REDIS_URL").unwrap_or_default();
    let mut vars = vec![
        ("OPENAI_API_KEY", "sk-test"),
        ("OPENAI_BASE_URL", openai.as_str()),
        ("MAX_ACTIVE_REPLIES_PER_USER", "4"),
    ];
    if !redis.is_empty() {
        vars.push(("REDIS_URL", redis.as_str()));
    }
    let app = spawn_app_with(&vars).await;
    let token = app.register("ann@example.com").await;
    let user_id = me(&app).await;
    let other = start_server(&app.data_dir, &app.database_url, &vars).await;
    let other_address = format!("http://127.0.0.1:{}", other.port());
    tokio::spawn(other.run_until_stopped());

    let conversations: Vec<Uuid> = join_all((0..20).map(|_| priced_conversation(&app))).await;
    let client = reqwest::Client::new();
    let sends = conversations.iter().enumerate().map(|(i, id)| {
        let address = if i % 2 == 0 {
            &app.address
        } else {
            &other_address
        };
        client
            .post(format!("{address}/api/conversations/{id}/messages"))
            .bearer_auth(&token)
            .json(&json!({ "content": "hi" }))
            .send()
    });
    let mut accepted = 0;
    for response in join_all(sends).await {
        let response = response.unwrap();
        match response.status().as_u16() {
            202 => accepted += 1,
            429 => assert_refused(response, "too_many_replies").await,
            other => panic!(
                "unexpected status {other}: {}",
                response.text().await.unwrap()
            ),
        }
    }
    assert_eq!(accepted, 4);
    assert_eq!(stored_messages(&app, user_id).await, 8);
}

#[tokio::test]
async fn a_refused_reply_stores_nothing_and_a_finished_one_frees_its_slot() {
    let slow = Script::sse(openai_reply(
        &["One ", "slow ", "reply."],
        Some(json!({"prompt_tokens": 20, "completion_tokens": 3, "total_tokens": 23})),
    ))
    .paced(Duration::from_millis(300));
    let (app, _fake, user_id) = app_with_upstream(slow, "1").await;
    let conversation = priced_conversation(&app).await;
    let first: SendResponse = try_send(&app, conversation).await.json().await.unwrap();

    let (messages_before, reserved_before) = (
        stored_messages(&app, user_id).await,
        reserved(&app, user_id).await,
    );
    assert!(
        reserved_before > 0,
        "the streaming reply holds a reservation"
    );
    assert_refused(try_send(&app, conversation).await, "too_many_replies").await;
    assert_eq!(stored_messages(&app, user_id).await, messages_before);
    assert_eq!(reserved(&app, user_id).await, reserved_before);
    assert_eq!(app.conversation(conversation).await.message_count, 2);

    app.wait_for_reply(conversation, first.assistant_message.id)
        .await;
    assert_eq!(try_send(&app, conversation).await.status(), 202);
}

#[tokio::test]
async fn the_twenty_first_socket_of_a_user_is_refused_until_one_closes() {
    let app = spawn_app_with(&[]).await;
    let token = app.register("ann@example.com").await;
    let mut sockets = Vec::new();
    for _ in 0..20 {
        sockets.push(WsClient::connect(&app.address, &token).await);
    }
    let query = format!("?token={token}");
    assert_eq!(
        WsClient::try_connect(&app.address, &query, &[]).await.err(),
        Some(429)
    );
    // Someone else is not held back by her sockets.
    let other = app.register_person("bob@example.com").await;
    assert!(
        WsClient::try_connect(&app.address, &format!("?token={}", other.token), &[])
            .await
            .is_ok()
    );

    let mut closing = sockets.pop().unwrap();
    closing.socket.close(None).await.unwrap();
    while closing.socket.next().await.is_some() {}
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if WsClient::try_connect(&app.address, &query, &[])
            .await
            .is_ok()
        {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the slot never came back"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_subscribe_naming_more_than_32_replies_is_refused_with_nothing_replayed() {
    let app = spawn_app_with(&[]).await;
    let token = app.register("ann@example.com").await;
    let conversation = app.create_conversation(json!({})).await.id;
    let mut socket = WsClient::connect(&app.address, &token).await;
    let after: serde_json::Map<String, Value> = (0..33)
        .map(|_| (Uuid::now_v7().to_string(), json!(0)))
        .collect();
    socket.subscribe(conversation, Value::Object(after)).await;
    let frame = socket.next_json(WAIT).await.expect("an answer");
    assert_eq!(frame["type"], "error");
    assert_eq!(frame["code"], "too_many_entries");
    assert_eq!(frame["conversation_id"], conversation.to_string());
    assert_eq!(socket.next_json(Duration::from_millis(300)).await, None);

    // Thirty-two is fine.
    let after: serde_json::Map<String, Value> = (0..32)
        .map(|_| (Uuid::now_v7().to_string(), json!(0)))
        .collect();
    socket.subscribe(conversation, Value::Object(after)).await;
    let frame = socket.next_json(WAIT).await.expect("an answer");
    assert_eq!(frame["type"], "subscribed", "{frame}");
}

#[tokio::test]
async fn a_frame_flood_is_told_to_slow_down_then_closed() {
    let app = spawn_app_with(&[]).await;
    let token = app.register("ann@example.com").await;
    let mut socket = WsClient::connect(&app.address, &token).await;
    for _ in 0..300 {
        let ping = Message::Text(json!({"type": "ping"}).to_string().into());
        if socket.socket.send(ping).await.is_err() {
            break;
        }
    }
    let (mut pongs, mut slow_downs, mut close_code) = (0, 0, None);
    while let Ok(Some(Ok(frame))) = tokio::time::timeout(WAIT, socket.socket.next()).await {
        match frame {
            Message::Text(text) => {
                let frame: Value = serde_json::from_str(&text).unwrap();
                match (frame["type"].as_str(), frame["code"].as_str()) {
                    (Some("pong"), _) => pongs += 1,
                    (Some("error"), Some("slow_down")) => slow_downs += 1,
                    other => panic!("unexpected frame {other:?}"),
                }
            }
            Message::Close(frame) => {
                close_code = frame.map(|f| u16::from(f.code));
                break;
            }
            _ => {}
        }
    }
    assert!(pongs >= 40, "the burst is answered: {pongs}");
    assert!(pongs < 300, "not every frame is answered: {pongs}");
    assert!(slow_downs >= 1, "told to slow down");
    assert_eq!(close_code, Some(1008));
}
