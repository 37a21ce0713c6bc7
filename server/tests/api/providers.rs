//! Each provider through the public API against a fake upstream speaking its wire format:
//! the stored reply, the booked usage and cost, and every failure mode.

use app::wire::{MessageStatus, MessageView, SendResponse};
use std::time::Duration;

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;
use server::db::entities::{ai_prompts, usage_logs};
use uuid::Uuid;

use crate::helpers::{
    count_message_updates,
    fake_upstream::{
        anthropic_reply, gemini_reply, openai_reply, unconnectable_address, End, FakeUpstream,
        Script,
    },
    spawn_app_with, TestApp,
};

/// Fast retries and short timeouts, so failure tests take milliseconds.
const FAST: &[(&str, &str)] = &[
    ("PROVIDER_RETRY_DELAY", "10ms"),
    ("PROVIDER_MAX_RETRIES", "2"),
    ("PROVIDER_IDLE_TIMEOUT", "400ms"),
    ("PROVIDER_FIRST_BYTE_TIMEOUT", "400ms"),
    ("PROVIDER_CONNECT_TIMEOUT", "300ms"),
];

async fn app_with(provider_vars: &[(&str, &str)]) -> TestApp {
    let mut vars = FAST.to_vec();
    vars.extend_from_slice(provider_vars);
    let app = spawn_app_with(&vars).await;
    app.register("ada@example.com").await;
    app
}

async fn openai_app(base: &str) -> TestApp {
    app_with(&[
        ("OPENAI_API_KEY", "sk-test-key"),
        ("OPENAI_ORG_ID", "org-test"),
        ("OPENAI_BASE_URL", &format!("{base}/v1")),
    ])
    .await
}

/// Sends one message in a new conversation and waits for the stored reply.
async fn ask(
    app: &TestApp,
    provider: &str,
    model: &str,
    content: &str,
) -> (SendResponse, MessageView, Uuid) {
    let conversation = app
        .create_conversation(
            json!({"provider": provider, "model": model, "system_prompt": "Be brief."}),
        )
        .await;
    let sent = app.send(conversation.id, content).await;
    assert_eq!(sent.assistant_message.status, MessageStatus::Streaming);
    let reply = app
        .wait_for_reply(conversation.id, sent.assistant_message.id)
        .await;
    (sent, reply, conversation.id)
}

async fn usage_logs_of(app: &TestApp, message_id: Uuid) -> Vec<usage_logs::Model> {
    usage_logs::Entity::find()
        .filter(usage_logs::Column::MessageId.eq(message_id))
        .all(&app.db)
        .await
        .unwrap()
}

async fn prompt_of(app: &TestApp, message_id: Uuid) -> ai_prompts::Model {
    ai_prompts::Entity::find()
        .filter(ai_prompts::Column::ResponseMessageId.eq(message_id))
        .one(&app.db)
        .await
        .unwrap()
        .expect("an ai_prompts row")
}

#[tokio::test]
async fn openai_reply_is_stored_with_the_usage_and_cost_it_reported() {
    let usage = json!({"prompt_tokens": 2000, "completion_tokens": 500, "total_tokens": 2500,
        "prompt_tokens_details": {"cached_tokens": 1000}, "completion_tokens_details": {"reasoning_tokens": 120}});
    let (fake, base) = FakeUpstream::start(vec![Script::sse(openai_reply(
        &["Hel", "lo", " there"],
        Some(usage),
    ))])
    .await;
    let app = openai_app(&base).await;
    let (sent, reply, conversation_id) = ask(&app, "openai", "gpt-4o", "Say hello").await;

    assert_eq!(reply.status, MessageStatus::Complete);
    assert_eq!(reply.content, "Hello there");
    assert_eq!(reply.prompt_tokens, 2000);
    assert_eq!(reply.completion_tokens, 500);
    assert_eq!(reply.total_tokens, 2500);
    assert_eq!(reply.cached_tokens, 1000);
    assert_eq!(reply.reasoning_tokens, 120);
    // gpt-4o: 1000 × $2.50 + 1000 × $1.25 + 500 × $10 per million = 2500 + 1250 + 5000 µ$
    assert_eq!(reply.cost_micros, 8750);

    let request = fake.last_request();
    assert_eq!(request.path, "/v1/chat/completions");
    assert_eq!(request.headers["authorization"], "Bearer sk-test-key");
    assert_eq!(request.headers["openai-organization"], "org-test");
    assert_eq!(request.body["stream"], true);
    assert_eq!(request.body["stream_options"]["include_usage"], true);
    assert_eq!(
        request.body["messages"][0],
        json!({"role": "system", "content": "Be brief."})
    );
    assert_eq!(request.body["messages"][1]["content"], "Say hello");

    let conversation = app.conversation(conversation_id).await;
    assert_eq!(conversation.message_count, 2);
    assert_eq!(conversation.total_tokens, 2500);
    assert_eq!(conversation.cost_micros, 8750);
    assert_eq!(conversation.title, "Say hello");

    let logs = usage_logs_of(&app, reply.id).await;
    assert_eq!(logs.len(), 1);
    assert_eq!(
        (
            logs[0].prompt_tokens,
            logs[0].cached_tokens,
            logs[0].cost_micros
        ),
        (2000, 1000, 8750)
    );
    let prompt = prompt_of(&app, reply.id).await;
    assert_eq!(prompt.status, MessageStatus::Complete);
    assert_eq!(prompt.message_id, sent.user_message.id);
    assert!(prompt.context_tokens > 0);
    assert!(prompt.completed_at.is_some());
}

#[tokio::test]
async fn the_second_message_carries_the_history() {
    let (fake, base) = FakeUpstream::start(vec![Script::sse(openai_reply(&["Four."], None))]).await;
    let app = openai_app(&base).await;
    let conversation = app
        .create_conversation(json!({"provider": "openai", "model": "gpt-4o"}))
        .await;
    let first = app.send(conversation.id, "What is 2+2?").await;
    app.wait_for_reply(conversation.id, first.assistant_message.id)
        .await;
    let second = app.send(conversation.id, "And times two?").await;
    app.wait_for_reply(conversation.id, second.assistant_message.id)
        .await;
    let messages = &fake.last_request().body["messages"];
    assert_eq!(
        messages,
        &json!([
            {"role": "user", "content": "What is 2+2?"},
            {"role": "assistant", "content": "Four."},
            {"role": "user", "content": "And times two?"}
        ])
    );
}

#[tokio::test]
async fn anthropic_cache_reads_and_writes_are_counted_once_and_priced_apart() {
    let start_usage = json!({"input_tokens": 10, "cache_creation_input_tokens": 200, "cache_read_input_tokens": 1000, "output_tokens": 1});
    let (fake, base) = FakeUpstream::start(vec![Script::sse(anthropic_reply(
        &["Bonjour", "!"],
        start_usage,
        42,
    ))])
    .await;
    let app = app_with(&[
        ("ANTHROPIC_API_KEY", "sk-ant-test"),
        ("ANTHROPIC_BASE_URL", &base),
    ])
    .await;
    let (_, reply, _) = ask(&app, "anthropic", "claude-sonnet-4-5", "Greet me").await;

    assert_eq!(reply.status, MessageStatus::Complete);
    assert_eq!(reply.content, "Bonjour!");
    assert_eq!(reply.prompt_tokens, 1210);
    assert_eq!(reply.cached_tokens, 1000);
    assert_eq!(reply.completion_tokens, 42);
    assert_eq!(reply.total_tokens, 1252);
    // Sonnet: 10 × $3 + 1000 × $0.30 + 200 × $3.75 + 42 × $15 per million
    assert_eq!(reply.cost_micros, 30 + 300 + 750 + 630);

    let request = fake.last_request();
    assert_eq!(request.path, "/v1/messages");
    assert_eq!(request.headers["x-api-key"], "sk-ant-test");
    assert_eq!(request.headers["anthropic-version"], "2023-06-01");
    assert_eq!(request.body["system"], "Be brief.");
    assert_eq!(request.body["stream"], true);
    assert_eq!(
        request.body["messages"][0],
        json!({"role": "user", "content": "Greet me"})
    );
}

#[tokio::test]
async fn gemini_thoughts_are_billed_as_output_and_cached_tokens_stay_in_the_prompt() {
    let usage = json!({"promptTokenCount": 1000, "cachedContentTokenCount": 600, "candidatesTokenCount": 20,
        "thoughtsTokenCount": 80, "totalTokenCount": 1100});
    let (fake, base) =
        FakeUpstream::start(vec![Script::sse(gemini_reply(&["Hal", "lo"], usage))]).await;
    let app = app_with(&[("GEMINI_API_KEY", "g-test"), ("GEMINI_BASE_URL", &base)]).await;
    let (_, reply, _) = ask(&app, "google", "gemini-2.5-flash", "Hallo?").await;

    assert_eq!(reply.status, MessageStatus::Complete);
    assert_eq!(reply.content, "Hallo");
    assert_eq!(reply.prompt_tokens, 1000);
    assert_eq!(reply.cached_tokens, 600);
    assert_eq!(reply.completion_tokens, 100);
    assert_eq!(reply.reasoning_tokens, 80);
    // Flash: 400 × $0.30 + 600 × $0.03 + 100 × $2.50 per million = 120 + 18 + 250
    assert_eq!(reply.cost_micros, 388);

    let request = fake.last_request();
    assert_eq!(
        request.path,
        "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
    );
    assert_eq!(request.headers["x-goog-api-key"], "g-test");
    assert_eq!(
        request.body["systemInstruction"]["parts"][0]["text"],
        "Be brief."
    );
    assert_eq!(
        request.body["contents"][0],
        json!({"role": "user", "parts": [{"text": "Hallo?"}]})
    );
}

#[tokio::test]
async fn a_refused_key_ends_in_an_error_that_names_the_provider() {
    let body = json!({"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}});
    let (fake, base) = FakeUpstream::start(vec![Script::status(401, body)]).await;
    let app = app_with(&[
        ("ANTHROPIC_API_KEY", "wrong"),
        ("ANTHROPIC_BASE_URL", &base),
    ])
    .await;
    let (sent, reply, conversation_id) = ask(&app, "anthropic", "claude-haiku-4-5", "Hi").await;

    assert_eq!(reply.status, MessageStatus::Error);
    let error = reply.error.as_deref().unwrap();
    assert!(
        error.contains("Anthropic refused the API key (401)"),
        "{error}"
    );
    assert!(
        !error.contains("invalid x-api-key"),
        "the upstream's text stays in the log: {error}"
    );
    assert_eq!(fake.request_count(), 1, "a refused key is not retried");
    // The prompt is kept; nothing is booked.
    let messages = app.messages(conversation_id).await;
    assert_eq!(messages[0].content, "Hi");
    assert_eq!(messages[0].id, sent.user_message.id);
    assert!(usage_logs_of(&app, reply.id).await.is_empty());
    assert_eq!(app.conversation(conversation_id).await.cost_micros, 0);
    assert_eq!(prompt_of(&app, reply.id).await.status, MessageStatus::Error);
}

#[tokio::test]
async fn rate_limits_are_retried_before_the_first_token() {
    let limited = json!({"error": {"code": 429, "message": "Resource exhausted", "status": "RESOURCE_EXHAUSTED"}});
    let usage = json!({"promptTokenCount": 5, "candidatesTokenCount": 2, "totalTokenCount": 7});
    let (fake, base) = FakeUpstream::start(vec![
        Script::status(429, limited.clone()),
        Script::status(429, limited),
        Script::sse(gemini_reply(&["OK"], usage)),
    ])
    .await;
    let app = app_with(&[("GEMINI_API_KEY", "g"), ("GEMINI_BASE_URL", &base)]).await;
    let (_, reply, _) = ask(&app, "google", "gemini-2.5-flash", "ping").await;
    assert_eq!(reply.status, MessageStatus::Complete);
    assert_eq!(reply.content, "OK");
    assert_eq!(fake.request_count(), 3);
}

#[tokio::test]
async fn server_errors_give_up_after_the_bounded_retries_with_a_clear_error() {
    let (fake, base) = FakeUpstream::start(vec![Script::status(
        503,
        json!({"error": {"message": "overloaded"}}),
    )])
    .await;
    let app = app_with(&[("ANTHROPIC_API_KEY", "k"), ("ANTHROPIC_BASE_URL", &base)]).await;
    let (_, reply, _) = ask(&app, "anthropic", "claude-haiku-4-5", "Hi").await;
    assert_eq!(reply.status, MessageStatus::Error);
    let error = reply.error.as_deref().unwrap();
    assert!(
        error.contains("Anthropic had a server error (503)"),
        "{error}"
    );
    assert!(error.contains("gave up after 3 attempts"), "{error}");
    assert_eq!(
        fake.request_count(),
        3,
        "one try and PROVIDER_MAX_RETRIES=2 retries"
    );
}

#[tokio::test]
async fn openai_rate_limits_are_retried_before_the_stream() {
    let limited = json!({"error": {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}});
    let (fake, base) = FakeUpstream::start(vec![
        Script::status(429, limited),
        Script::sse(openai_reply(&["fine"], None)),
    ])
    .await;
    let app = openai_app(&base).await;
    let (_, reply, _) = ask(&app, "openai", "gpt-4o-mini", "hi").await;
    assert_eq!(reply.status, MessageStatus::Complete);
    assert_eq!(reply.content, "fine");
    assert_eq!(fake.request_count(), 2);
}

#[tokio::test]
async fn a_stream_that_goes_silent_is_cut_off_by_the_idle_timeout_and_keeps_its_text() {
    let frames = openai_reply(&["Partial", " answer"], None)[..3].to_vec();
    let (_, base) = FakeUpstream::start(vec![Script::sse(frames).then(End::Hang)]).await;
    let app = openai_app(&base).await;
    let (_, reply, _) = ask(&app, "openai", "gpt-4o", "hi").await;
    assert_eq!(reply.status, MessageStatus::Error);
    assert_eq!(reply.content, "Partial answer");
    assert!(
        reply
            .error
            .as_deref()
            .unwrap()
            .contains("OpenAI sent nothing for 0.4 s"),
        "{:?}",
        reply.error
    );
}

#[tokio::test]
async fn a_provider_that_never_answers_times_out() {
    let (fake, base) = FakeUpstream::start(vec![Script::silent()]).await;
    let app = app_with(&[
        ("GEMINI_API_KEY", "g"),
        ("GEMINI_BASE_URL", &base),
        ("PROVIDER_MAX_RETRIES", "0"),
    ])
    .await;
    let (_, reply, _) = ask(&app, "google", "gemini-2.5-pro", "hi").await;
    assert_eq!(reply.status, MessageStatus::Error);
    assert!(
        reply
            .error
            .as_deref()
            .unwrap()
            .contains("Gemini did not answer within 0.4 s"),
        "{:?}",
        reply.error
    );
    assert_eq!(fake.request_count(), 1);
}

#[tokio::test]
async fn a_connect_timeout_is_reported_as_such() {
    let (base, _fillers, _listener) = unconnectable_address();
    let app = app_with(&[
        ("ANTHROPIC_API_KEY", "k"),
        ("ANTHROPIC_BASE_URL", &base),
        ("PROVIDER_MAX_RETRIES", "0"),
    ])
    .await;
    let (_, reply, _) = ask(&app, "anthropic", "claude-haiku-4-5", "hi").await;
    assert_eq!(reply.status, MessageStatus::Error);
    let error = reply.error.as_deref().unwrap();
    assert!(
        error.contains("Connecting to Anthropic timed out"),
        "{error}"
    );
}

#[tokio::test]
async fn a_connection_cut_mid_stream_keeps_the_partial_text_and_books_the_reported_input() {
    let start_usage = json!({"input_tokens": 25, "output_tokens": 1});
    let frames = anthropic_reply(&["Half", " a", " reply"], start_usage, 10);
    // Up to and including the deltas, then the connection breaks.
    let (_, base) =
        FakeUpstream::start(vec![Script::sse(frames[..6].to_vec()).then(End::Cut)]).await;
    let app = app_with(&[("ANTHROPIC_API_KEY", "k"), ("ANTHROPIC_BASE_URL", &base)]).await;
    let (_, reply, conversation_id) = ask(&app, "anthropic", "claude-haiku-4-5", "hi").await;
    assert_eq!(reply.status, MessageStatus::Error);
    assert_eq!(reply.content, "Half a reply");
    assert!(
        reply.error.as_deref().unwrap().contains("Anthropic"),
        "{:?}",
        reply.error
    );
    // message_start reported 25 input tokens (and 1 output so far): that much is booked.
    assert_eq!(reply.prompt_tokens, 25);
    let logs = usage_logs_of(&app, reply.id).await;
    assert_eq!(logs.len(), 1);
    assert_eq!(app.conversation(conversation_id).await.prompt_tokens, 25);
}

#[tokio::test]
async fn a_clean_end_without_the_providers_finish_is_treated_as_a_cut() {
    let frames = openai_reply(&["Trunc", "ated"], None);
    let (_, base) = FakeUpstream::start(vec![Script::sse(frames[..3].to_vec())]).await;
    let app = openai_app(&base).await;
    let (_, reply, _) = ask(&app, "openai", "gpt-4o", "hi").await;
    assert_eq!(reply.status, MessageStatus::Error);
    assert_eq!(reply.content, "Truncated");
    assert!(reply
        .error
        .as_deref()
        .unwrap()
        .contains("ended before the reply was complete"));
}

#[tokio::test]
async fn malformed_sse_ends_in_an_error_that_says_so() {
    let frames = vec![
        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":3}}}\n\n".to_owned(),
        "event: content_block_delta\ndata: {this is not json\n\n".to_owned(),
    ];
    let (_, base) = FakeUpstream::start(vec![Script::sse(frames)]).await;
    let app = app_with(&[("ANTHROPIC_API_KEY", "k"), ("ANTHROPIC_BASE_URL", &base)]).await;
    let (_, reply, _) = ask(&app, "anthropic", "claude-haiku-4-5", "hi").await;
    assert_eq!(reply.status, MessageStatus::Error);
    assert!(
        reply
            .error
            .as_deref()
            .unwrap()
            .contains("Anthropic sent a reply we could not read"),
        "{:?}",
        reply.error
    );
}

#[tokio::test]
async fn an_error_event_mid_stream_is_shown() {
    let mut frames = anthropic_reply(&["Some"], json!({"input_tokens": 5}), 3)[..4].to_vec();
    frames.push("event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n".into());
    let (fake, base) = FakeUpstream::start(vec![Script::sse(frames)]).await;
    let app = app_with(&[("ANTHROPIC_API_KEY", "k"), ("ANTHROPIC_BASE_URL", &base)]).await;
    let (_, reply, _) = ask(&app, "anthropic", "claude-haiku-4-5", "hi").await;
    assert_eq!(reply.status, MessageStatus::Error);
    assert_eq!(reply.content, "Some");
    let error = reply.error.as_deref().unwrap();
    assert!(error.contains("Anthropic is overloaded"), "{error}");
    assert!(
        !error.contains("Overloaded"),
        "the upstream's text: {error}"
    );
    assert_eq!(fake.request_count(), 1, "no retry once a token was shown");
}

#[tokio::test]
async fn a_reply_is_written_once_at_its_end_whatever_its_length() {
    // The same pace, 50 and 500 deltas: the message row is updated once for each (its final
    // write), never per token; live readers get the deltas from memory.
    for length in [50, 500] {
        let words: Vec<String> = (0..length).map(|i| format!(" w{i}")).collect();
        let deltas: Vec<&str> = words.iter().map(String::as_str).collect();
        let usage =
            json!({"prompt_tokens": 10, "completion_tokens": length, "total_tokens": 10 + length});
        let frames = openai_reply(&deltas, Some(usage));
        let (_, base) =
            FakeUpstream::start(vec![Script::sse(frames).paced(Duration::from_millis(2))]).await;
        let app = openai_app(&base).await;
        let writes = count_message_updates(&app.db).await;
        let (_, reply, _) = ask(&app, "openai", "gpt-4o", "count").await;
        assert_eq!(reply.content, words.concat());
        let updates = writes.read(&app.db).await;
        assert_eq!(updates, 1, "{updates} message writes for {length} deltas");
    }
}

#[tokio::test]
async fn text_flushed_while_streaming_is_a_prefix_of_the_reply() {
    // What a crash would leave: with frequent flushes, the stored text while streaming is
    // always the start of the reply (on SQLite and PostgreSQL alike).
    let words: Vec<String> = (0..40).map(|i| format!(" w{i}")).collect();
    let deltas: Vec<&str> = words.iter().map(String::as_str).collect();
    let frames = openai_reply(&deltas, None);
    let (_, base) =
        FakeUpstream::start(vec![Script::sse(frames).paced(Duration::from_millis(15))]).await;
    let app = app_with(&[
        ("OPENAI_API_KEY", "sk-test-key"),
        ("OPENAI_BASE_URL", &format!("{base}/v1")),
        ("STREAM_FLUSH_INTERVAL", "40ms"),
    ])
    .await;
    let conversation = app
        .create_conversation(json!({"provider": "openai", "model": "gpt-4o"}))
        .await;
    let sent = app.send(conversation.id, "count").await;
    let reply_id = sent.assistant_message.id;
    let mut seen = Vec::new();
    loop {
        let row = server::db::entities::messages::Entity::find_by_id(reply_id)
            .one(&app.db)
            .await
            .unwrap()
            .unwrap();
        if row.status != MessageStatus::Streaming {
            break;
        }
        if !row.content.is_empty() {
            seen.push(row.content);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let full = words.concat();
    assert!(!seen.is_empty(), "some text was flushed while streaming");
    for partial in seen {
        assert!(
            full.starts_with(&partial),
            "flushed {partial:?} is not a prefix"
        );
    }
}

/// One provider's failure and reply, to count the requests a send makes against a fake.
struct RetryCase {
    provider: &'static str,
    model: &'static str,
    /// The key's and the base address's variables, and the path the base address ends with.
    key_var: &'static str,
    base_var: &'static str,
    base_path: &'static str,
    failure: Script,
    reply: Script,
    /// What the error says once every attempt failed.
    error: &'static str,
}

impl RetryCase {
    /// Sends one message against a fake answering with `scripts` (the last one repeats):
    /// the stored reply and how many requests the fake saw.
    async fn requests_for(&self, scripts: Vec<Script>) -> (MessageView, usize) {
        let (fake, base) = FakeUpstream::start(scripts).await;
        let app = app_with(&[
            (self.key_var, "k"),
            (self.base_var, &format!("{base}{}", self.base_path)),
        ])
        .await;
        let (_, reply, _) = ask(&app, self.provider, self.model, "hi").await;
        (reply, fake.request_count())
    }

    /// `PROVIDER_MAX_RETRIES` is 2 (`FAST`): two failures then the reply take exactly three
    /// requests, and failures without end exactly three too. Nested retries (the client's
    /// own inside ours) would make more.
    async fn assert_one_try_plus_max_retries(&self) {
        let scripts = vec![
            self.failure.clone(),
            self.failure.clone(),
            self.reply.clone(),
        ];
        let (reply, requests) = self.requests_for(scripts).await;
        assert_eq!(reply.status, MessageStatus::Complete, "{:?}", reply.error);
        assert_eq!(requests, 3, "two failures then the reply");

        let (reply, requests) = self.requests_for(vec![self.failure.clone()]).await;
        assert_eq!(reply.status, MessageStatus::Error);
        let error = reply.error.as_deref().unwrap();
        assert!(error.contains(self.error), "{error}");
        assert!(error.contains("(gave up after 3 attempts)"), "{error}");
        assert_eq!(requests, 3, "one try and PROVIDER_MAX_RETRIES=2 retries");
    }
}

#[tokio::test]
async fn openai_makes_one_try_plus_max_retries_requests_never_more() {
    RetryCase {
        provider: "openai",
        model: "gpt-4o-mini",
        key_var: "OPENAI_API_KEY",
        base_var: "OPENAI_BASE_URL",
        base_path: "/v1",
        failure: Script::status(
            429,
            json!({"error": {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}}),
        ),
        reply: Script::sse(openai_reply(&["fine"], None)),
        error: "OpenAI is rate limiting requests (429)",
    }
    .assert_one_try_plus_max_retries()
    .await;
}

#[tokio::test]
async fn anthropic_makes_one_try_plus_max_retries_requests_never_more() {
    RetryCase {
        provider: "anthropic",
        model: "claude-haiku-4-5",
        key_var: "ANTHROPIC_API_KEY",
        base_var: "ANTHROPIC_BASE_URL",
        base_path: "",
        failure: Script::status(
            429,
            json!({"type": "error", "error": {"type": "rate_limit_error", "message": "Slow down"}}),
        ),
        reply: Script::sse(anthropic_reply(&["fine"], json!({"input_tokens": 3}), 1)),
        error: "Anthropic is rate limiting requests (429)",
    }
    .assert_one_try_plus_max_retries()
    .await;
}

#[tokio::test]
async fn gemini_makes_one_try_plus_max_retries_requests_never_more() {
    RetryCase {
        provider: "google",
        model: "gemini-2.5-flash",
        key_var: "GEMINI_API_KEY",
        base_var: "GEMINI_BASE_URL",
        base_path: "",
        failure: Script::status(
            503,
            json!({"error": {"code": 503, "message": "The model is overloaded.", "status": "UNAVAILABLE"}}),
        ),
        reply: Script::sse(gemini_reply(
            &["fine"],
            json!({"promptTokenCount": 3, "candidatesTokenCount": 1}),
        )),
        error: "Gemini had a server error (503)",
    }
    .assert_one_try_plus_max_retries()
    .await;
}

#[tokio::test]
async fn an_error_event_before_the_first_token_is_retried() {
    let mut failed = anthropic_reply(&[], json!({"input_tokens": 5}), 0)[..3].to_vec();
    failed.push("event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n".into());
    let reply = anthropic_reply(&["Second", " time"], json!({"input_tokens": 5}), 2);
    let (fake, base) = FakeUpstream::start(vec![Script::sse(failed), Script::sse(reply)]).await;
    let app = app_with(&[("ANTHROPIC_API_KEY", "k"), ("ANTHROPIC_BASE_URL", &base)]).await;
    let (_, reply, _) = ask(&app, "anthropic", "claude-haiku-4-5", "hi").await;
    assert_eq!(reply.status, MessageStatus::Complete, "{:?}", reply.error);
    assert_eq!(reply.content, "Second time");
    assert_eq!(fake.request_count(), 2);
}

/// A fake provider that answers its first request with a 429 whose `Retry-After` asks for one
/// second, and every later one with `frames`. Returns when each request arrived.
async fn rate_limited_for_a_second_then(
    frames: Vec<String>,
) -> (
    std::sync::Arc<std::sync::Mutex<Vec<std::time::Instant>>>,
    String,
) {
    use axum::{
        http::{header, StatusCode},
        response::IntoResponse,
    };
    let arrivals = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = arrivals.clone();
    let router = axum::Router::new().fallback(move || {
        let seen = seen.clone();
        let body = frames.concat();
        async move {
            let mut seen = seen.lock().unwrap();
            seen.push(std::time::Instant::now());
            if seen.len() == 1 {
                let limited = json!({"type": "error", "error": {"type": "rate_limit_error", "message": "Slow down"}});
                let headers = [
                    (header::RETRY_AFTER, "1"),
                    (header::CONTENT_TYPE, "application/json"),
                ];
                (StatusCode::TOO_MANY_REQUESTS, headers, limited.to_string()).into_response()
            } else {
                ([(header::CONTENT_TYPE, "text/event-stream")], body).into_response()
            }
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    (arrivals, address)
}

/// The computed delay is 10-20 ms (`FAST`); the server asked for a second.
fn assert_waited_for_retry_after(arrivals: &std::sync::Mutex<Vec<std::time::Instant>>) {
    let arrivals = arrivals.lock().unwrap();
    assert_eq!(arrivals.len(), 2, "one 429, then the reply");
    let waited = arrivals[1] - arrivals[0];
    assert!(
        waited >= Duration::from_millis(900),
        "retried after {waited:?}"
    );
}

#[tokio::test]
async fn openai_waits_as_long_as_retry_after_asks() {
    let (arrivals, base) = rate_limited_for_a_second_then(openai_reply(&["Patience"], None)).await;
    let app = openai_app(&base).await;
    let (_, reply, _) = ask(&app, "openai", "gpt-4o-mini", "hi").await;
    assert_eq!(reply.content, "Patience", "{:?}", reply.error);
    assert_waited_for_retry_after(&arrivals);
}

#[tokio::test]
async fn anthropic_waits_as_long_as_retry_after_asks() {
    let frames = anthropic_reply(&["Patience"], json!({"input_tokens": 3}), 1);
    let (arrivals, base) = rate_limited_for_a_second_then(frames).await;
    let app = app_with(&[("ANTHROPIC_API_KEY", "k"), ("ANTHROPIC_BASE_URL", &base)]).await;
    let (_, reply, _) = ask(&app, "anthropic", "claude-haiku-4-5", "hi").await;
    assert_eq!(reply.content, "Patience", "{:?}", reply.error);
    assert_waited_for_retry_after(&arrivals);
}

#[tokio::test]
async fn an_openai_account_out_of_quota_is_not_retried() {
    let no_quota = json!({"error": {"message": "You exceeded your current quota.", "type": "insufficient_quota", "code": "insufficient_quota"}});
    let (fake, base) = FakeUpstream::start(vec![Script::status(429, no_quota)]).await;
    let app = openai_app(&base).await;
    let (_, reply, _) = ask(&app, "openai", "gpt-4o-mini", "hi").await;
    assert_eq!(reply.status, MessageStatus::Error);
    let error = reply.error.as_deref().unwrap();
    assert!(error.contains("no quota left"), "{error}");
    assert!(
        !error.contains("You exceeded your current quota."),
        "the upstream's text stays in the log: {error}"
    );
    assert_eq!(fake.request_count(), 1);
}
