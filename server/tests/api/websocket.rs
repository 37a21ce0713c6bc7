//! The live feed through a real WebSocket client against the real server.

use app::wire::MessageStatus;
use std::time::Duration;

use serde_json::json;
use tokio_tungstenite::tungstenite::Message;
use uuid::Uuid;

use crate::helpers::{
    fake_upstream::{openai_reply, FakeUpstream, Script},
    spawn_app_with,
    ws_client::{is_event, WsClient},
    TestApp,
};

const WAIT: Duration = Duration::from_secs(20);

async fn demo_app(word_delay: &str) -> (TestApp, String) {
    let app = spawn_app_with(&[
        ("DEMO_WORD_DELAY", word_delay),
        ("STREAM_FLUSH_INTERVAL", "30ms"),
    ])
    .await;
    let token = app.register("ws@example.com").await;
    (app, token)
}

/// A socket is served by one task, whatever it follows: a delta goes from the generation
/// through the hub's channel straight to it, with no forwarding task or outbox to wake on the
/// way (each was a wake-up per token).
#[tokio::test]
async fn a_socket_is_one_task_however_many_conversations_it_follows() {
    let (app, token) = demo_app("1ms").await;
    let mut conversations = Vec::new();
    for _ in 0..5 {
        conversations.push(app.create_conversation(json!({})).await.id);
    }
    let tasks = || {
        tokio::runtime::Handle::current()
            .metrics()
            .num_alive_tasks()
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let before = tasks();
    let mut sockets = Vec::new();
    for _ in 0..3 {
        let mut socket = WsClient::connect(&app.address, &token).await;
        for id in &conversations {
            socket.subscribe(*id, json!({})).await;
        }
        for _ in &conversations {
            socket.until(WAIT, |f| f["type"] == "subscribed").await;
        }
        sockets.push(socket);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let added = tasks().saturating_sub(before);
    // Three sockets following five conversations each: three tasks. (A task per socket, its
    // writer, its user feed and one per subscription made 3 × 8 = 24.)
    assert!(added <= 4, "{added} tasks for 3 sockets");

    // Each of them carries a reply whole.
    let sent = app.send(conversations[2], "Hello all").await;
    let reply_id = sent.assistant_message.id;
    let stored = app.wait_for_reply(conversations[2], reply_id).await;
    for socket in &mut sockets {
        let frames = socket
            .until(WAIT, |f| is_event(f, "message.updated", reply_id))
            .await;
        assert_eq!(WsClient::deltas(&frames, reply_id, 0), stored.content);
    }
}

#[tokio::test]
async fn a_full_reply_arrives_as_the_five_events_in_order() {
    let (app, token) = demo_app("1ms").await;
    let mut socket = WsClient::connect(&app.address, &token).await;
    let conversation = app.create_conversation(json!({})).await;
    let created = socket
        .until(WAIT, |f| f["type"] == "conversation.created")
        .await;
    assert_eq!(
        created.last().unwrap()["data"]["id"],
        conversation.id.to_string()
    );

    socket.subscribe(conversation.id, json!({})).await;
    socket.until(WAIT, |f| f["type"] == "subscribed").await;
    let sent = app.send(conversation.id, "Hello feed").await;
    let reply_id = sent.assistant_message.id;
    let frames = socket
        .until(WAIT, |f| is_event(f, "message.updated", reply_id))
        .await;
    let kinds: Vec<&str> = frames.iter().map(|f| f["type"].as_str().unwrap()).collect();
    assert_eq!(&kinds[..2], ["message.created", "message.created"]);
    assert!(kinds.contains(&"conversation.updated"));
    assert_eq!(*kinds.last().unwrap(), "message.updated");
    let streamed = WsClient::deltas(&frames, reply_id, 0);
    let stored = app.wait_for_reply(conversation.id, reply_id).await;
    assert_eq!(streamed, stored.content);
    assert_eq!(frames.last().unwrap()["data"]["status"], "complete");
    // The totals follow in a last conversation.updated.
    let after = socket
        .until(WAIT, |f| f["type"] == "conversation.updated")
        .await;
    assert_eq!(
        after.last().unwrap()["data"]["total_tokens"],
        stored.total_tokens
    );
}

/// Reads `count` deltas of the reply, then drops the socket; returns the text and last seq.
async fn read_some_then_drop(mut socket: WsClient, reply_id: Uuid, count: usize) -> (String, u64) {
    let mut text = String::new();
    let mut last = 0;
    while (last as usize) < count {
        let frame = socket.next_json(WAIT).await.expect("a frame");
        if is_event(&frame, "message.streaming", reply_id) {
            last = frame["seq"].as_u64().unwrap();
            text.push_str(frame["data"]["delta"].as_str().unwrap());
        }
    }
    drop(socket);
    (text, last)
}

#[tokio::test]
async fn resuming_mid_stream_gives_exactly_the_missed_deltas_then_the_live_ones() {
    let (app, token) = demo_app("15ms").await;
    let conversation = app.create_conversation(json!({})).await;
    let mut socket = WsClient::connect(&app.address, &token).await;
    socket.subscribe(conversation.id, json!({})).await;
    let sent = app.send(conversation.id, "Resume me").await;
    let reply_id = sent.assistant_message.id;
    let (first_part, last_seq) = read_some_then_drop(socket, reply_id, 10).await;
    // Away for a moment while the reply goes on.
    tokio::time::sleep(Duration::from_millis(300)).await;

    let mut socket = WsClient::connect(&app.address, &token).await;
    socket
        .subscribe(conversation.id, json!({ reply_id.to_string(): last_seq }))
        .await;
    let frames = socket
        .until(WAIT, |f| is_event(f, "message.updated", reply_id))
        .await;
    let rest = WsClient::deltas(&frames, reply_id, last_seq);
    let stored = app.wait_for_reply(conversation.id, reply_id).await;
    assert_eq!(stored.status, MessageStatus::Complete);
    assert_eq!(
        format!("{first_part}{rest}"),
        stored.content,
        "byte for byte"
    );
}

#[tokio::test]
async fn resuming_after_the_reply_finished_replays_the_stored_chunks() {
    let (app, token) = demo_app("5ms").await;
    let conversation = app.create_conversation(json!({})).await;
    let mut socket = WsClient::connect(&app.address, &token).await;
    socket.subscribe(conversation.id, json!({})).await;
    let sent = app.send(conversation.id, "Finish without me").await;
    let reply_id = sent.assistant_message.id;
    let (first_part, last_seq) = read_some_then_drop(socket, reply_id, 5).await;
    let stored = app.wait_for_reply(conversation.id, reply_id).await;
    assert_eq!(stored.status, MessageStatus::Complete);

    let mut socket = WsClient::connect(&app.address, &token).await;
    socket
        .subscribe(conversation.id, json!({ reply_id.to_string(): last_seq }))
        .await;
    let frames = socket
        .until(WAIT, |f| is_event(f, "message.updated", reply_id))
        .await;
    let rest = WsClient::deltas(&frames, reply_id, last_seq);
    assert_eq!(format!("{first_part}{rest}"), stored.content);
    assert_eq!(frames.last().unwrap()["data"]["status"], "complete");
}

#[tokio::test]
async fn a_new_subscriber_gets_a_streaming_reply_from_its_start() {
    let (app, token) = demo_app("10ms").await;
    let conversation = app.create_conversation(json!({})).await;
    let sent = app.send(conversation.id, "Late joiner").await;
    let reply_id = sent.assistant_message.id;
    tokio::time::sleep(Duration::from_millis(150)).await;
    let mut socket = WsClient::connect(&app.address, &token).await;
    socket.subscribe(conversation.id, json!({})).await;
    let frames = socket
        .until(WAIT, |f| is_event(f, "message.updated", reply_id))
        .await;
    let stored = app.wait_for_reply(conversation.id, reply_id).await;
    assert_eq!(WsClient::deltas(&frames, reply_id, 0), stored.content);
}

#[tokio::test]
async fn another_users_subscription_is_refused_and_receives_nothing() {
    let (app, _) = demo_app("1ms").await;
    let conversation = app.create_conversation(json!({})).await;
    let intruder_token = app.register_person("intruder@example.com").await.token;
    let mut intruder = WsClient::connect(&app.address, &intruder_token).await;
    intruder.subscribe(conversation.id, json!({})).await;
    let refusal = intruder.next_json(WAIT).await.unwrap();
    assert_eq!(refusal["type"], "error");
    assert_eq!(refusal["code"], "not_found");
    let sent = app.send(conversation.id, "Private words").await;
    app.wait_for_reply(conversation.id, sent.assistant_message.id)
        .await;
    assert_eq!(
        intruder.next_json(Duration::from_millis(500)).await,
        None,
        "nothing leaks"
    );
}

#[tokio::test]
async fn a_slow_reader_neither_delays_a_fast_one_nor_the_reply_and_is_told_to_resync() {
    // A reply of 10 MB in 5,000 deltas: far more than a socket's buffers and the feed's
    // channel hold. The fake reports the usage, as OpenAI does: without it the server would
    // count the tokens of 10 MB itself, which takes longer than the test waits on a busy
    // machine and is not what the test is about.
    let chunk = "x".repeat(2_000);
    let deltas: Vec<&str> = (0..5_000).map(|_| chunk.as_str()).collect();
    let usage = json!({"prompt_tokens": 10, "completion_tokens": 5_000, "total_tokens": 5_010});
    let (_, base) =
        FakeUpstream::start(vec![Script::sse(openai_reply(&deltas, Some(usage)))]).await;
    let app = spawn_app_with(&[
        ("OPENAI_API_KEY", "k"),
        ("OPENAI_BASE_URL", &format!("{base}/v1")),
    ])
    .await;
    let token = app.register("speed@example.com").await;
    let conversation = app
        .create_conversation(json!({"provider": "openai", "model": "gpt-4o"}))
        .await;

    let mut slow = WsClient::connect(&app.address, &token).await;
    slow.subscribe(conversation.id, json!({})).await;
    let mut fast = WsClient::connect(&app.address, &token).await;
    fast.subscribe(conversation.id, json!({})).await;
    fast.until(WAIT, |f| f["type"] == "subscribed").await;
    slow.until(WAIT, |f| f["type"] == "subscribed").await;

    let sent = app.send(conversation.id, "Long one").await;
    let reply_id = sent.assistant_message.id;
    // Only the fast socket is read.
    let frames = fast
        .until(Duration::from_secs(60), |f| {
            is_event(f, "message.updated", reply_id)
        })
        .await;
    let streamed = WsClient::deltas(&frames, reply_id, 0);
    assert_eq!(streamed.len(), 5_000 * 2_000);
    assert_eq!(
        app.wait_for_reply(conversation.id, reply_id).await.status,
        MessageStatus::Complete
    );

    // The slow socket, read at last, holds a gap-free prefix and then was either told to resync
    // or, having stopped reading for longer than the write timeout, disconnected. Either way a
    // resume from what it has completes the reply exactly.
    let mut have = String::new();
    let mut last_seq = 0;
    let mut told_to_resync = false;
    while let Some(frame) = slow.next_json(Duration::from_secs(2)).await {
        if frame["type"] == "message.streaming" {
            assert_eq!(frame["seq"].as_u64().unwrap(), last_seq + 1);
            last_seq += 1;
            have.push_str(frame["data"]["delta"].as_str().unwrap());
        }
        if frame["type"] == "error" && frame["code"] == "resync" {
            told_to_resync = true;
            break;
        }
    }
    assert!(last_seq < 5_000, "the slow reader was not held back at all");
    let mut resumed = if told_to_resync {
        slow
    } else {
        WsClient::connect(&app.address, &token).await
    };
    resumed
        .subscribe(conversation.id, json!({ reply_id.to_string(): last_seq }))
        .await;
    let frames = resumed
        .until(WAIT, |f| is_event(f, "message.updated", reply_id))
        .await;
    have.push_str(&WsClient::deltas(&frames, reply_id, last_seq));
    assert_eq!(have, streamed);
}

#[tokio::test]
async fn bad_frames_get_clear_errors_and_the_server_keeps_serving() {
    let (app, token) = demo_app("1ms").await;
    let mut socket = WsClient::connect(&app.address, &token).await;
    socket.send_raw(Message::Text("{not json".into())).await;
    assert_eq!(
        socket.next_json(WAIT).await.unwrap()["code"],
        "invalid_json"
    );
    socket.send(json!({"type": "dance"})).await;
    assert_eq!(
        socket.next_json(WAIT).await.unwrap()["code"],
        "unknown_type"
    );
    socket.send(json!({"type": "subscribe"})).await;
    assert_eq!(
        socket.next_json(WAIT).await.unwrap()["code"],
        "invalid_message"
    );
    socket.send_raw(Message::Binary(vec![1, 2, 3].into())).await;
    assert_eq!(
        socket.next_json(WAIT).await.unwrap()["code"],
        "unsupported_frame"
    );
    socket.send(json!({"type": "ping"})).await;
    assert_eq!(socket.next_json(WAIT).await.unwrap()["type"], "pong");

    // A frame over the 64 KiB limit closes that socket...
    socket
        .send_raw(Message::Text("x".repeat(100_000).into()))
        .await;
    assert_eq!(socket.next_json(WAIT).await, None, "closed");
    // ...and nobody else notices.
    let mut other = WsClient::connect(&app.address, &token).await;
    other.send(json!({"type": "ping"})).await;
    assert_eq!(other.next_json(WAIT).await.unwrap()["type"], "pong");
}

#[tokio::test]
async fn forged_expired_and_missing_tokens_are_refused_before_the_upgrade() {
    let (app, token) = demo_app("1ms").await;
    assert_eq!(
        WsClient::try_connect(&app.address, "", &[]).await.err(),
        Some(401)
    );
    assert_eq!(
        WsClient::try_connect(&app.address, "?token=forged.token.here", &[])
            .await
            .err(),
        Some(401)
    );
    let expired = {
        use jsonwebtoken::{encode, EncodingKey, Header};
        let now = chrono::Utc::now().timestamp();
        let claims = json!({"sub": uuid::Uuid::nil(), "iat": now - 7200, "exp": now - 3600});
        encode(
            &Header::default(),
            &claims,
            &EncodingKey::from_secret(b"test-secret-that-is-long-enough-0123456789"),
        )
        .unwrap()
    };
    assert_eq!(
        WsClient::try_connect(&app.address, &format!("?token={expired}"), &[])
            .await
            .err(),
        Some(401)
    );
    // The session cookie works from our own page, not from another site's.
    let cookie = format!("rustchat_session={token}");
    let host = app.address.trim_start_matches("http://").to_owned();
    let foreign = WsClient::try_connect(
        &app.address,
        "",
        &[("cookie", &cookie), ("origin", "https://evil.example")],
    )
    .await;
    assert_eq!(foreign.err(), Some(403));
    let own_origin = format!("http://{host}");
    assert!(WsClient::try_connect(
        &app.address,
        "",
        &[("cookie", &cookie), ("origin", &own_origin)]
    )
    .await
    .is_ok());
}

#[tokio::test]
async fn a_silent_socket_is_pinged_then_closed_after_the_idle_timeout() {
    let app = spawn_app_with(&[("WS_PING_INTERVAL", "100ms"), ("WS_IDLE_TIMEOUT", "300ms")]).await;
    let token = app.register("idle@example.com").await;
    let mut socket = WsClient::connect(&app.address, &token).await;
    // Not reading means not answering pings.
    tokio::time::sleep(Duration::from_millis(700)).await;
    use futures::StreamExt;
    let mut saw_ping = false;
    let mut close_code = None;
    while let Ok(Some(Ok(frame))) = tokio::time::timeout(WAIT, socket.socket.next()).await {
        match frame {
            Message::Ping(_) => saw_ping = true,
            Message::Close(frame) => {
                close_code = frame.map(|f| u16::from(f.code));
                break;
            }
            _ => {}
        }
    }
    assert!(saw_ping);
    assert_eq!(close_code, Some(4408));
}
