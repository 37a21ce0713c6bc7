//! Reasoning in each provider's wire format: streamed as `{"reasoning": …}` pieces on the same
//! seq counter as the answer, stored apart from it, replayed without gap on resume, and never
//! sent back upstream as context.

use std::time::Duration;

use app::wire::{MessageStatus, MessageView};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{
    error_code,
    fake_upstream::{
        anthropic_thinking_reply, gemini_thinking_reply, openai_reasoning_reply, FakeUpstream,
        Script,
    },
    spawn_app_with,
    ws_client::{is_event, WsClient},
    TestApp,
};

const WAIT: Duration = Duration::from_secs(20);

async fn app_with(vars: &[(&str, &str)]) -> (TestApp, String) {
    let mut all = vec![("STREAM_FLUSH_INTERVAL", "20ms")];
    all.extend_from_slice(vars);
    let app = spawn_app_with(&all).await;
    let token = app.register("thinker@example.com").await;
    (app, token)
}

/// Sends `content` in `conversation_id` with a socket listening, and checks what streamed
/// against what was stored: one seq counter without gaps, the reasoning pieces before the
/// answer, each concatenation equal to its stored text. Then a resume after the first piece
/// replays the rest from storage. Returns the stored reply.
async fn stream_and_resume(
    app: &TestApp,
    token: &str,
    conversation_id: Uuid,
    content: &str,
) -> MessageView {
    let mut socket = WsClient::connect(&app.address, token).await;
    socket.subscribe(conversation_id, json!({})).await;
    socket.until(WAIT, |f| f["type"] == "subscribed").await;
    let sent = app.send(conversation_id, content).await;
    let reply_id = sent.assistant_message.id;
    let frames = socket
        .until(WAIT, |f| is_event(f, "message.updated", reply_id))
        .await;
    let live = WsClient::pieces(&frames, reply_id, 0);
    let stored = app.wait_for_reply(conversation_id, reply_id).await;
    assert_eq!(stored.status, MessageStatus::Complete, "{stored:?}");
    assert_eq!(live.answer, stored.content);
    assert_eq!(Some(live.reasoning.clone()), stored.reasoning);
    assert_eq!(
        frames.last().unwrap()["data"]["reasoning"],
        json!(stored.reasoning)
    );

    let mut resumed = WsClient::connect(&app.address, token).await;
    resumed
        .subscribe(conversation_id, json!({ reply_id.to_string(): 1 }))
        .await;
    let frames = resumed
        .until(WAIT, |f| is_event(f, "message.updated", reply_id))
        .await;
    let rest = WsClient::pieces(&frames, reply_id, 1);
    assert_eq!(
        rest.last_seq, live.last_seq,
        "the replay ends where the stream did"
    );
    let first = live_first_piece(&live);
    assert_eq!(
        format!("{first}{}", rest.reasoning),
        live.reasoning,
        "the first piece was reasoning, the replay brings the rest of it"
    );
    assert_eq!(rest.answer, stored.content);
    stored
}

/// The text of seq 1: the reasoning's first piece (every script here starts with one).
fn live_first_piece(live: &crate::helpers::ws_client::Pieces) -> String {
    FIRST_PIECES
        .iter()
        .find(|p| live.reasoning.starts_with(**p))
        .map(|p| (*p).to_owned())
        .expect("the reasoning starts with a known first piece")
}

const FIRST_PIECES: &[&str] = &["The user ", "Weighing "];
const THOUGHTS: &[&str] = &["The user ", "wants a greeting; ", "keep it short."];
const GEMINI_THOUGHTS: &[&str] = &["Weighing ", "the options."];

/// The text of every request body the fake received after the first.
fn later_requests(fake: &FakeUpstream) -> String {
    fake.requests.lock().unwrap()[1..]
        .iter()
        .map(|r| r.body.to_string())
        .collect()
}

#[tokio::test]
async fn anthropic_thinking_is_streamed_stored_apart_resumed_and_not_sent_back() {
    let usage = json!({"input_tokens": 20, "output_tokens": 1});
    let (fake, base) = FakeUpstream::start(vec![Script::sse(anthropic_thinking_reply(
        THOUGHTS,
        &["Hello", "!"],
        usage,
        60,
    ))])
    .await;
    let (app, token) = app_with(&[
        ("ANTHROPIC_API_KEY", "sk-ant-test"),
        ("ANTHROPIC_BASE_URL", &base),
    ])
    .await;
    let conversation = app
        .create_conversation(
            json!({"provider": "anthropic", "model": "claude-sonnet-4-5",
            "max_tokens": 4096, "thinking_budget_tokens": 2048}),
        )
        .await;
    assert_eq!(conversation.thinking_budget_tokens, Some(2048));

    let reply = stream_and_resume(&app, &token, conversation.id, "Greet me").await;
    assert_eq!(reply.content, "Hello!");
    assert_eq!(reply.reasoning.as_deref(), Some(THOUGHTS.concat().as_str()));
    assert_eq!(
        reply.completion_tokens, 60,
        "thinking is billed inside the output"
    );
    assert!(
        reply.reasoning_tokens > 0 && reply.reasoning_tokens < 60,
        "Anthropic reports no thinking count: ours is an estimate within the output, got {}",
        reply.reasoning_tokens
    );

    let request = fake.last_request();
    assert_eq!(
        request.body["thinking"],
        json!({"type": "enabled", "budget_tokens": 2048})
    );
    assert!(
        request.body.get("temperature").is_none(),
        "thinking refuses a temperature: {}",
        request.body
    );

    let again = app.send(conversation.id, "Once more").await;
    app.wait_for_reply(conversation.id, again.assistant_message.id)
        .await;
    let history = &fake.last_request().body["messages"];
    assert_eq!(
        history[1],
        json!({"role": "assistant", "content": "Hello!"}),
        "the answer goes back as context, its thinking does not"
    );
    assert!(!later_requests(&fake).contains("wants a greeting"));
}

#[tokio::test]
async fn gemini_thought_parts_are_streamed_stored_apart_resumed_and_not_sent_back() {
    let usage = json!({"promptTokenCount": 30, "candidatesTokenCount": 5, "thoughtsTokenCount": 40,
        "totalTokenCount": 75});
    let (fake, base) = FakeUpstream::start(vec![Script::sse(gemini_thinking_reply(
        GEMINI_THOUGHTS,
        &["Ja", "!"],
        usage,
    ))])
    .await;
    let (app, token) = app_with(&[("GEMINI_API_KEY", "g-test"), ("GEMINI_BASE_URL", &base)]).await;
    let conversation = app
        .create_conversation(json!({"provider": "google", "model": "gemini-2.5-flash"}))
        .await;

    let reply = stream_and_resume(&app, &token, conversation.id, "Ja?").await;
    assert_eq!(reply.content, "Ja!");
    assert_eq!(reply.reasoning.as_deref(), Some("Weighing the options."));
    assert_eq!(reply.reasoning_tokens, 40);
    assert_eq!(reply.completion_tokens, 45);
    assert_eq!(
        fake.last_request().body["generationConfig"]["thinkingConfig"],
        json!({"includeThoughts": true}),
        "a 2.5 model thinks by default: its thoughts are asked for"
    );

    let budgeted = app
        .client
        .patch(app.url(&format!("/api/conversations/{}", conversation.id)))
        .json(&json!({"thinking_budget_tokens": 1024}))
        .send()
        .await
        .unwrap();
    assert_eq!(budgeted.status(), 200);
    let again = app.send(conversation.id, "Nochmal").await;
    app.wait_for_reply(conversation.id, again.assistant_message.id)
        .await;
    let request = fake.last_request();
    assert_eq!(
        request.body["generationConfig"]["thinkingConfig"],
        json!({"includeThoughts": true, "thinkingBudget": 1024})
    );
    assert_eq!(
        request.body["contents"][1],
        json!({"role": "model", "parts": [{"text": "Ja!"}]})
    );
    assert!(!later_requests(&fake).contains("Weighing"));
}

async fn openai_compatible(field: &str) {
    let (fake, base) = FakeUpstream::start(vec![Script::sse(openai_reasoning_reply(
        field,
        THOUGHTS,
        &["Hi", " there"],
    ))])
    .await;
    let (app, token) = app_with(&[("OPENAI_BASE_URL", &format!("{base}/v1"))]).await;
    let conversation = app
        .create_conversation(json!({"provider": "openai", "model": "gpt-4o"}))
        .await;
    let reply = stream_and_resume(&app, &token, conversation.id, "Hi?").await;
    assert_eq!(reply.content, "Hi there");
    assert_eq!(reply.reasoning.as_deref(), Some(THOUGHTS.concat().as_str()));

    let again = app.send(conversation.id, "And?").await;
    app.wait_for_reply(conversation.id, again.assistant_message.id)
        .await;
    let messages: &Value = &fake.last_request().body["messages"];
    assert_eq!(
        messages[1],
        json!({"role": "assistant", "content": "Hi there"})
    );
    assert!(!later_requests(&fake).contains("wants a greeting"));
}

#[tokio::test]
async fn openai_compatible_reasoning_content_is_streamed_stored_apart_resumed_and_not_sent_back() {
    openai_compatible("reasoning_content").await;
}

#[tokio::test]
async fn openai_compatible_reasoning_field_is_streamed_stored_apart_resumed_and_not_sent_back() {
    openai_compatible("reasoning").await;
}

#[tokio::test]
async fn resuming_mid_thought_gives_the_missed_reasoning_then_the_answer_without_gap() {
    let (app, token) = app_with(&[("DEMO_WORD_DELAY", "15ms")]).await;
    let conversation = app.create_conversation(json!({})).await;
    let mut socket = WsClient::connect(&app.address, &token).await;
    socket.subscribe(conversation.id, json!({})).await;
    let sent = app.send(conversation.id, "Think about lists").await;
    let reply_id = sent.assistant_message.id;
    let frames = socket
        .until(WAIT, |f| {
            is_event(f, "message.streaming", reply_id) && f["seq"] == 5
        })
        .await;
    let first = WsClient::pieces(&frames, reply_id, 0);
    assert_eq!(first.last_seq, 5);
    assert!(first.answer.is_empty(), "the demo thinks first");
    drop(socket);
    tokio::time::sleep(Duration::from_millis(300)).await;

    let mut socket = WsClient::connect(&app.address, &token).await;
    socket
        .subscribe(conversation.id, json!({ reply_id.to_string(): 5 }))
        .await;
    let frames = socket
        .until(WAIT, |f| is_event(f, "message.updated", reply_id))
        .await;
    let rest = WsClient::pieces(&frames, reply_id, 5);
    let stored = app.wait_for_reply(conversation.id, reply_id).await;
    assert_eq!(
        Some(format!("{}{}", first.reasoning, rest.reasoning)),
        stored.reasoning
    );
    assert_eq!(rest.answer, stored.content);
    assert!(stored.reasoning_tokens > 0);
    assert!(stored.completion_tokens > stored.reasoning_tokens);
}

#[tokio::test]
async fn a_reply_without_reasoning_has_none() {
    let (app, _) = app_with(&[("DEMO_WORD_DELAY", "0ms")]).await;
    let conversation = app.create_conversation(json!({})).await;
    let sent = app.send(conversation.id, "Hello").await;
    let reply = app
        .wait_for_reply(conversation.id, sent.assistant_message.id)
        .await;
    assert_eq!(reply.reasoning, None);
    assert_eq!(reply.reasoning_tokens, 0);
}

#[tokio::test]
async fn a_thinking_budget_outside_its_bounds_is_refused_and_nothing_changes() {
    let (app, _) = app_with(&[]).await;
    for budget in [512, 4096, 9000] {
        let response = app
            .post_json(
                "/api/conversations",
                json!({"max_tokens": 4096, "thinking_budget_tokens": budget}),
            )
            .await;
        assert_eq!(response.status(), 422, "budget {budget}");
        assert_eq!(error_code(response).await, "invalid_thinking_budget");
    }
    let conversation = app
        .create_conversation(json!({"max_tokens": 4096, "thinking_budget_tokens": 1024}))
        .await;
    let path = format!("/api/conversations/{}", conversation.id);
    let shrink = app
        .client
        .patch(app.url(&path))
        .json(&json!({"max_tokens": 1000}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        shrink.status(),
        422,
        "the budget must stay below max_tokens"
    );
    assert_eq!(app.conversation(conversation.id).await.max_tokens, 4096);
    let off = app
        .client
        .patch(app.url(&path))
        .json(&json!({"thinking_budget_tokens": 0}))
        .send()
        .await
        .unwrap();
    assert_eq!(off.status(), 200);
    assert_eq!(
        app.conversation(conversation.id)
            .await
            .thinking_budget_tokens,
        None
    );
}
