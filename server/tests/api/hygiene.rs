//! Hygiene at the edges: provider errors that leak nothing, text no database can store (NUL),
//! bodies that are empty or malformed, oversized WebSocket frames, storage caps, slow and
//! many connections, request timeouts and a graceful shutdown. Runs on SQLite, and on
//! PostgreSQL with TEST_DATABASE_URL.

use std::time::Duration;

use app::wire::{ConversationView, MessageStatus, Page};
use futures::StreamExt;
use reqwest::StatusCode;
use sea_orm::EntityTrait;
use serde_json::{json, Value};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};
use tokio_tungstenite::tungstenite::{protocol::frame::coding::CloseCode, Message};

use crate::helpers::{
    anonymous_client, error_code,
    fake_upstream::{openai_reply, FakeUpstream, Script},
    spawn_app, spawn_app_with, start_server,
    ws_client::{is_event, WsClient},
    TestApp,
};

const FAST: &[(&str, &str)] = &[
    ("PROVIDER_RETRY_DELAY", "10ms"),
    ("PROVIDER_MAX_RETRIES", "1"),
    ("PROVIDER_IDLE_TIMEOUT", "2s"),
    ("PROVIDER_FIRST_BYTE_TIMEOUT", "2s"),
];

async fn openai_app(scripts: Vec<Script>) -> (TestApp, FakeUpstream) {
    let (fake, base) = FakeUpstream::start(scripts).await;
    let mut vars = FAST.to_vec();
    let base = format!("{base}/v1");
    vars.extend([
        ("OPENAI_API_KEY", "sk-test-key"),
        ("OPENAI_BASE_URL", base.as_str()),
    ]);
    let app = spawn_app_with(&vars).await;
    (app, fake)
}

/// What an upstream can say that no person of ours may read: a masked key and the address of
/// an internal server.
const LEAKY: &str = "Incorrect API key provided: sk-proj-AbC1**************xY9z. \
                     Upstream llm-gateway.internal.corp:8443 refused the call.";

fn assert_leaks_nothing(text: &str) {
    for secret in [
        "sk-proj",
        "AbC1",
        "xY9z",
        "internal.corp",
        "8443",
        "Incorrect API key",
    ] {
        assert!(!text.contains(secret), "`{secret}` leaked: {text}");
    }
}

#[tokio::test]
async fn provider_errors_show_our_sentence_naming_the_provider_and_never_the_upstream_text() {
    for (status, kind_words) in [(401, "refused the API key"), (503, "server error")] {
        let body = json!({"error": {"message": LEAKY, "type": "invalid_request_error"}});
        let (app, _fake) = openai_app(vec![Script::status(status, body)]).await;
        let token = app.register("leak@example.com").await;
        let conversation = app
            .create_conversation(json!({"provider": "openai", "model": "gpt-4o-mini"}))
            .await;
        let mut socket = WsClient::connect(&app.address, &token).await;
        socket.subscribe(conversation.id, json!({})).await;
        socket
            .until(Duration::from_secs(5), |f| f["type"] == "subscribed")
            .await;
        let sent = app.send(conversation.id, "Hello?").await;
        let reply_id = sent.assistant_message.id;
        let frames = socket
            .until(Duration::from_secs(20), |f| {
                is_event(f, "message.updated", reply_id)
            })
            .await;
        let event_error = frames.last().unwrap()["data"]["error"]
            .as_str()
            .unwrap()
            .to_owned();
        let stored = app.wait_for_reply(conversation.id, reply_id).await;
        assert_eq!(stored.status, MessageStatus::Error);
        let error = stored.error.unwrap();
        assert_eq!(error, event_error, "the socket shows what is stored");
        assert!(error.contains("OpenAI"), "names the provider: {error}");
        assert!(error.contains(kind_words), "says what failed: {error}");
        assert_leaks_nothing(&error);
        // Nowhere else either: the whole stored message and its prompt row.
        assert_leaks_nothing(
            &app.get(&format!("/api/conversations/{}/messages", conversation.id))
                .await
                .text()
                .await
                .unwrap(),
        );
    }
}

async fn status_and_code(response: reqwest::Response) -> (StatusCode, String) {
    let status = response.status();
    (status, error_code(response).await)
}

#[tokio::test]
async fn a_nul_in_what_a_person_sends_is_refused_with_422_and_nothing_is_stored() {
    let app = spawn_app_with(&[("DEMO_WORD_DELAY", "0ms")]).await;
    let nul = "before\u{0}after";
    let response = app
        .post_json(
            "/api/auth/register",
            json!({"email": "nul@example.com", "password": "correct horse battery", "name": nul}),
        )
        .await;
    assert_eq!(
        status_and_code(response).await,
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_text".into())
    );
    app.register("nul@example.com").await;
    for body in [json!({"title": nul}), json!({"system_prompt": nul})] {
        let response = app.post_json("/api/conversations", body).await;
        assert_eq!(
            status_and_code(response).await,
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid_text".into())
        );
    }
    let listed: Page<ConversationView> = app.get_json("/api/conversations").await;
    assert!(listed.items.is_empty(), "nothing was created");

    let conversation = app.create_conversation(json!({"title": "Clean"})).await;
    let path = format!("/api/conversations/{}", conversation.id);
    for body in [json!({"title": nul}), json!({"system_prompt": nul})] {
        let response = app
            .client
            .patch(app.url(&path))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(
            status_and_code(response).await,
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid_text".into())
        );
    }
    let response = app
        .post_json(&format!("{path}/messages"), json!({"content": nul}))
        .await;
    assert_eq!(
        status_and_code(response).await,
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_text".into())
    );
    assert!(app.messages(conversation.id).await.is_empty());
    let kept = app.conversation(conversation.id).await;
    assert_eq!((kept.title.as_str(), kept.system_prompt), ("Clean", None));
}

#[tokio::test]
async fn a_nul_in_a_page_form_is_refused_with_422() {
    let app = spawn_app().await;
    for (path, form) in [
        (
            "/auth/register",
            "email=form%40example.com&password=correct+horse+battery&name=a%00b",
        ),
        ("/auth/login", "email=x%00y%40example.com&password=whatever"),
    ] {
        let response = anonymous_client()
            .post(app.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await
            .unwrap();
        assert_eq!(
            status_and_code(response).await,
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid_text".into()),
            "{path}"
        );
    }
    // The same form without the NUL registers.
    let response = anonymous_client()
        .post(app.url("/auth/register"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("email=form%40example.com&password=correct+horse+battery&name=ab")
        .send()
        .await
        .unwrap();
    assert!(response.status().is_redirection(), "{}", response.status());
}

#[tokio::test]
async fn a_provider_reply_with_a_nul_completes_without_it() {
    let frames = openai_reply(
        &["Hel\u{0}lo", "\u{0}", ", world"],
        Some(json!({"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8})),
    );
    let (app, _fake) = openai_app(vec![Script::sse(frames)]).await;
    app.register("stream-nul@example.com").await;
    let conversation = app
        .create_conversation(json!({"provider": "openai", "model": "gpt-4o-mini"}))
        .await;
    let sent = app.send(conversation.id, "Say hello").await;
    let reply = app
        .wait_for_reply(conversation.id, sent.assistant_message.id)
        .await;
    assert_eq!(reply.status, MessageStatus::Complete, "{:?}", reply.error);
    assert_eq!(reply.content, "Hello, world");
    assert_eq!(reply.completion_tokens, 3);
}

#[tokio::test]
async fn an_empty_or_malformed_body_is_refused_on_every_json_route() {
    let app = spawn_app().await;
    app.register("bodies@example.com").await;
    let conversation = app.create_conversation(json!({})).await;
    let me: Value = app.get_json("/api/me").await;
    let user_id = me["id"].as_str().unwrap().to_owned();
    let routes = [
        ("POST", "/api/auth/register".to_owned()),
        ("POST", "/api/auth/login".to_owned()),
        ("POST", "/api/conversations".to_owned()),
        ("PATCH", format!("/api/conversations/{}", conversation.id)),
        (
            "POST",
            format!("/api/conversations/{}/messages", conversation.id),
        ),
        ("PUT", "/api/settings".to_owned()),
        ("PUT", "/api/me/password".to_owned()),
        ("PUT", format!("/api/admin/users/{user_id}/budget")),
    ];
    for (method, path) in &routes {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let attempts = [
            ("no body", None, None),
            ("empty JSON", Some("application/json"), Some("")),
            ("malformed", Some("application/json"), Some("{\"title\": ")),
            ("not an object", Some("application/json"), Some("[1, 2]")),
        ];
        for (what, content_type, body) in attempts {
            let mut request = app.client.request(method.clone(), app.url(path));
            if let Some(content_type) = content_type {
                request = request.header("content-type", content_type);
            }
            if let Some(body) = body {
                request = request.body(body);
            }
            let response = request.send().await.unwrap();
            let status = response.status();
            assert!(
                status == StatusCode::BAD_REQUEST || status == StatusCode::UNPROCESSABLE_ENTITY,
                "{method} {path} with {what}: {status}"
            );
            let body: Value = response.json().await.unwrap();
            assert!(body["error"]["code"].is_string(), "{method} {path}: {body}");
        }
    }
    let listed: Page<ConversationView> = app.get_json("/api/conversations").await;
    assert_eq!(listed.items.len(), 1, "only the first conversation exists");
}

#[tokio::test]
async fn an_oversized_websocket_frame_gets_close_code_1009() {
    let app = spawn_app().await;
    let token = app.register("frames@example.com").await;
    // Over the 64 KiB limit, and over the larger limit the frame is read up to.
    for size in [100 * 1024, 3 * 1024 * 1024] {
        let mut socket = WsClient::connect(&app.address, &token).await;
        let big = json!({"type": "ping", "pad": "x".repeat(size)}).to_string();
        socket.send_raw(Message::Text(big.into())).await;
        let close = tokio::time::timeout(Duration::from_secs(10), async {
            while let Some(frame) = socket.socket.next().await {
                match frame {
                    Ok(Message::Close(close)) => return Ok(close),
                    Ok(_) => continue,
                    Err(e) => return Err(e.to_string()),
                }
            }
            Err("the socket ended without a close frame".to_owned())
        })
        .await
        .expect("an answer within 10 s");
        let close = close.unwrap_or_else(|e| panic!("{size} bytes: no close frame: {e}"));
        assert_eq!(close.map(|c| c.code), Some(CloseCode::Size), "{size} bytes");
    }
}

#[tokio::test]
async fn storage_caps_refuse_with_clear_codes_and_store_nothing() {
    let app = spawn_app_with(&[
        ("DEMO_WORD_DELAY", "0ms"),
        ("MAX_MESSAGES_PER_CONVERSATION", "4"),
        ("MAX_CONVERSATIONS_PER_USER", "2"),
    ])
    .await;
    app.register("caps@example.com").await;
    let conversation = app.create_conversation(json!({})).await;
    for content in ["one", "two"] {
        let sent = app.send(conversation.id, content).await;
        app.wait_for_reply(conversation.id, sent.assistant_message.id)
            .await;
    }
    let response = app
        .post_json(
            &format!("/api/conversations/{}/messages", conversation.id),
            json!({"content": "three"}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(response).await, "conversation_full");
    assert_eq!(app.messages(conversation.id).await.len(), 4);

    app.create_conversation(json!({})).await;
    let response = app.post_json("/api/conversations", json!({})).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(response).await, "too_many_conversations");
    let listed: Page<ConversationView> = app.get_json("/api/conversations").await;
    assert_eq!(listed.items.len(), 2);
}

#[tokio::test]
async fn sends_racing_for_the_last_room_in_a_conversation_never_pass_its_cap() {
    let app = spawn_app_with(&[
        ("DEMO_WORD_DELAY", "0ms"),
        ("MAX_MESSAGES_PER_CONVERSATION", "6"),
    ])
    .await;
    app.register("racers@example.com").await;
    let conversation = app.create_conversation(json!({})).await;
    let path = format!("/api/conversations/{}/messages", conversation.id);
    let sends = (0..10).map(|i| {
        let path = path.clone();
        let app = &app;
        async move {
            app.post_json(&path, json!({ "content": format!("racer {i}") }))
                .await
                .status()
        }
    });
    let statuses = futures::future::join_all(sends).await;
    let accepted = statuses
        .iter()
        .filter(|s| **s == StatusCode::ACCEPTED)
        .count();
    let full = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNPROCESSABLE_ENTITY)
        .count();
    assert_eq!((accepted, full), (3, 7), "{statuses:?}");
    let stored = app.conversation(conversation.id).await;
    assert_eq!(stored.message_count, 6);
}

#[tokio::test]
async fn creates_racing_for_the_last_conversation_never_pass_the_cap() {
    let app = spawn_app_with(&[("MAX_CONVERSATIONS_PER_USER", "3")]).await;
    app.register("creators@example.com").await;
    for _ in 0..2 {
        app.create_conversation(json!({})).await;
    }
    let creates = (0..8).map(|_| {
        let app = &app;
        async move {
            let response = app.post_json("/api/conversations", json!({})).await;
            let status = response.status();
            let code = match status {
                StatusCode::CREATED => None,
                _ => Some(error_code(response).await),
            };
            (status, code)
        }
    });
    let outcomes = futures::future::join_all(creates).await;
    let created = outcomes
        .iter()
        .filter(|(s, _)| *s == StatusCode::CREATED)
        .count();
    let refused = outcomes
        .iter()
        .filter(|(s, code)| {
            *s == StatusCode::UNPROCESSABLE_ENTITY
                && code.as_deref() == Some("too_many_conversations")
        })
        .count();
    assert_eq!((created, refused), (1, 7), "{outcomes:?}");
    let listed: Page<ConversationView> = app.get_json("/api/conversations").await;
    assert_eq!(listed.items.len(), 3);
}

#[tokio::test]
async fn caps_on_stored_text_refuse_with_clear_codes_and_count_every_byte() {
    // One conversation may hold 1,000 bytes; then an account 1,000 bytes.
    for (cap, code) in [
        ("MAX_CONVERSATION_BYTES", "conversation_full"),
        ("MAX_STORED_BYTES_PER_USER", "storage_full"),
    ] {
        let app = spawn_app_with(&[("DEMO_WORD_DELAY", "0ms"), (cap, "1000")]).await;
        app.register("bytes@example.com").await;
        let first = app.create_conversation(json!({})).await;
        let sent = app.send(first.id, &"é".repeat(300)).await;
        let reply = app
            .wait_for_reply(first.id, sent.assistant_message.id)
            .await;
        let stored = server::db::entities::conversations::Entity::find_by_id(first.id)
            .one(&app.db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            stored.content_bytes as usize,
            600 + reply.content.len(),
            "both messages are counted, in bytes"
        );
        let next = if code == "conversation_full" {
            first.id
        } else {
            app.create_conversation(json!({})).await.id
        };
        let response = app
            .post_json(
                &format!("/api/conversations/{next}/messages"),
                json!({"content": "x".repeat(500)}),
            )
            .await;
        assert_eq!(
            status_and_code(response).await,
            (StatusCode::UNPROCESSABLE_ENTITY, code.to_owned()),
            "{cap}"
        );
        assert!(
            app.messages(next).await.len() == if next == first.id { 2 } else { 0 },
            "nothing stored"
        );
    }
}

fn port_of(app: &TestApp) -> String {
    app.address.trim_start_matches("http://").to_owned()
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_disconnected() {
    let app = spawn_app_with(&[("HEADER_READ_TIMEOUT", "300ms")]).await;
    let mut slow = TcpStream::connect(port_of(&app)).await.unwrap();
    slow.write_all(b"GET /api/me HTTP/1.1\r\nHost: localhost\r\n")
        .await
        .unwrap();
    let mut buffer = Vec::new();
    let ended = tokio::time::timeout(Duration::from_secs(10), slow.read_to_end(&mut buffer)).await;
    assert!(
        ended.is_ok(),
        "the server still holds a connection whose headers never came"
    );
}

/// A keep-alive connection that has had one answer: the server has accepted it.
async fn open_connection(address: &str) -> TcpStream {
    let mut stream = TcpStream::connect(address).await.unwrap();
    stream
        .write_all(b"GET /api/me HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let mut buffer = [0u8; 1024];
    let read = stream.read(&mut buffer).await.unwrap();
    assert!(buffer[..read].starts_with(b"HTTP/1.1 401"));
    stream
}

#[tokio::test]
async fn connections_past_the_limit_wait_until_one_closes() {
    let app = spawn_app_with(&[("MAX_CONNECTIONS", "2"), ("HEADER_READ_TIMEOUT", "60s")]).await;
    let address = port_of(&app);
    let first = open_connection(&address).await;
    let _second = open_connection(&address).await;
    let probe = || async {
        reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .build()
            .unwrap()
            .get(app.url("/api/me"))
            .timeout(Duration::from_secs(1))
            .send()
            .await
    };
    assert!(
        probe().await.is_err(),
        "a third connection is not served while two are open"
    );
    drop(first);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(response) = probe().await {
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "a closed connection frees its place"
        );
    }
}

#[tokio::test]
async fn an_open_websocket_holds_its_connection_place() {
    let app = spawn_app_with(&[("MAX_CONNECTIONS", "1")]).await;
    // Clients that keep no idle connection, which would hold the one place.
    let unpooled = || {
        reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .build()
            .unwrap()
    };
    let registered: app::wire::AuthResponse = unpooled()
        .post(app.url("/api/auth/register"))
        .json(&json!({"email": "one-socket@example.com", "password": "correct horse battery"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let probe = || async {
        unpooled()
            .get(app.url("/api/me"))
            .timeout(Duration::from_secs(1))
            .send()
            .await
    };
    wait_until_served(&probe).await;
    let socket = WsClient::connect(&app.address, &registered.token).await;
    assert!(
        probe().await.is_err(),
        "the socket, upgraded from its request, still counts"
    );
    drop(socket);
    wait_until_served(&probe).await;
}

async fn wait_until_served<F, Fut>(probe: &F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = reqwest::Result<reqwest::Response>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while probe().await.is_err() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "a place frees up once the connection holding it closes"
        );
    }
}

#[tokio::test]
async fn a_request_past_the_request_timeout_is_cut_off_with_503() {
    // Hashing a password takes far longer than a millisecond.
    let app = spawn_app_with(&[("REQUEST_TIMEOUT", "1ms")]).await;
    let response = anonymous_client()
        .post(app.url("/api/auth/register"))
        .json(&json!({"email": "slow@example.com", "password": "correct horse battery"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(error_code(response).await, "request_timeout");
}

/// A second server on `shared`'s database that runs until the returned sender fires.
async fn server_to_shut_down(
    shared: &TestApp,
    grace: &str,
) -> (
    String,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<std::io::Result<()>>,
) {
    let server = start_server(
        &shared.data_dir,
        &shared.database_url,
        &[("DEMO_WORD_DELAY", "60ms"), ("SHUTDOWN_GRACE", grace)],
    )
    .await;
    let address = format!("http://127.0.0.1:{}", server.port());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(server.run_until(async move {
        let _ = stopped.await;
    }));
    (address, stop, running)
}

#[tokio::test]
async fn shutdown_lets_streaming_replies_finish_or_stores_them_stopped() {
    let shared = spawn_app().await;
    shared.register("shutdown@example.com").await;
    for (grace, expected) in [
        ("60s", MessageStatus::Complete),
        ("0s", MessageStatus::Stopped),
    ] {
        let (address, stop, running) = server_to_shut_down(&shared, grace).await;
        let conversation: ConversationView = shared
            .client
            .post(format!("{address}/api/conversations"))
            .json(&json!({}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let sent: app::wire::SendResponse = shared
            .client
            .post(format!(
                "{address}/api/conversations/{}/messages",
                conversation.id
            ))
            .json(&json!({"content": "Tell me about the offline demo."}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        stop.send(()).unwrap();
        tokio::time::timeout(Duration::from_secs(60), running)
            .await
            .expect("the server stops")
            .unwrap()
            .unwrap();
        let stored = shared
            .messages(conversation.id)
            .await
            .into_iter()
            .find(|m| m.id == sent.assistant_message.id)
            .unwrap();
        assert_eq!(stored.status, expected, "grace {grace}: {stored:?}");
        assert!(!stored.content.is_empty());
    }
}
