//! Titles written by a model after a conversation's first exchange: by the provider's cheap
//! title model, booked as usage like any call, announced on the feed, and never over a name
//! the person gave.

use std::time::Duration;

use app::wire::{BudgetView, ConversationView};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;
use server::db::entities::usage_logs;
use uuid::Uuid;

use crate::helpers::{
    fake_upstream::{openai_reply, FakeUpstream, Script},
    spawn_app_with,
    ws_client::WsClient,
    TestApp,
};

const WAIT: Duration = Duration::from_secs(20);

async fn usage_logs_of(app: &TestApp, conversation_id: Uuid) -> Vec<usage_logs::Model> {
    usage_logs::Entity::find()
        .filter(usage_logs::Column::ConversationId.eq(conversation_id))
        .all(&app.db)
        .await
        .unwrap()
}

/// Polls until the conversation has `count` usage logs (the title call is booked after the
/// reply's).
async fn wait_for_usage_logs(app: &TestApp, conversation_id: Uuid, count: usize) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while usage_logs_of(app, conversation_id).await.len() < count {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no title call was booked"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn titled_openai_app(title_script: Script) -> (FakeUpstream, TestApp, String) {
    let reply_usage =
        json!({"prompt_tokens": 1000, "completion_tokens": 200, "total_tokens": 1200});
    let title_usage = json!({"prompt_tokens": 100, "completion_tokens": 5, "total_tokens": 105});
    let title_script = Script {
        body: openai_reply(&["\"Sorting ", "Lists in Rust\""], Some(title_usage)),
        ..title_script
    };
    let (fake, base) = FakeUpstream::start(vec![
        Script::sse(openai_reply(&["Use ", "sort()."], Some(reply_usage))),
        title_script,
    ])
    .await;
    let app = spawn_app_with(&[
        ("AUTO_TITLES", "on"),
        ("OPENAI_API_KEY", "sk-test"),
        ("OPENAI_BASE_URL", &format!("{base}/v1")),
        ("TITLE_MODEL_OPENAI", "gpt-4o-mini"),
    ])
    .await;
    let token = app.register("titles@example.com").await;
    (fake, app, token)
}

#[tokio::test]
async fn the_first_exchange_gets_a_title_from_the_cheap_model_booked_as_usage() {
    let (fake, app, token) = titled_openai_app(Script::sse(vec![])).await;
    let mut socket = WsClient::connect(&app.address, &token).await;
    let conversation = app
        .create_conversation(json!({"provider": "openai", "model": "gpt-4o"}))
        .await;
    let sent = app
        .send(conversation.id, "How do I sort a list in Rust?")
        .await;
    let reply = app
        .wait_for_reply(conversation.id, sent.assistant_message.id)
        .await;

    let frames = socket
        .until(WAIT, |f| {
            f["type"] == "conversation.updated" && f["data"]["title"] == "Sorting Lists in Rust"
        })
        .await;
    let announced: ConversationView =
        serde_json::from_value(frames.last().unwrap()["data"].clone()).unwrap();
    wait_for_usage_logs(&app, conversation.id, 2).await;

    let title_request = &fake.requests.lock().unwrap()[1].body.clone();
    assert_eq!(title_request["model"], "gpt-4o-mini");
    assert_eq!(title_request["max_tokens"], 32);
    assert_eq!(title_request["messages"][0]["role"], "system");
    let shown = title_request["messages"][1]["content"].as_str().unwrap();
    assert!(shown.contains("How do I sort a list in Rust?") && shown.contains("Use sort()."));

    let logs = usage_logs_of(&app, conversation.id).await;
    let title_log = logs
        .iter()
        .find(|l| l.message_id.is_none())
        .expect("the title call's usage log");
    assert_eq!(title_log.model, "gpt-4o-mini");
    assert_eq!(
        (title_log.prompt_tokens, title_log.completion_tokens),
        (100, 5)
    );
    // gpt-4o-mini: 100 × $0.15 + 5 × $0.60 per million = 15 + 3 µ$
    assert_eq!(title_log.cost_micros, 18);

    let stored = app.conversation(conversation.id).await;
    assert_eq!(stored.title, "Sorting Lists in Rust");
    assert_eq!(stored.cost_micros, reply.cost_micros + 18);
    assert_eq!(stored.total_tokens, reply.total_tokens + 105);
    assert_eq!(announced.cost_micros, stored.cost_micros);
    let budget: BudgetView = app.get_json("/api/budget").await;
    assert_eq!(budget.spent_micros, reply.cost_micros + 18);
    assert_eq!(
        budget.reserved_micros, 0,
        "the title's reservation was settled"
    );

    let second = app.send(conversation.id, "And in reverse?").await;
    app.wait_for_reply(conversation.id, second.assistant_message.id)
        .await;
    assert_eq!(fake.request_count(), 3, "only the first exchange is titled");
}

#[tokio::test]
async fn a_conversation_renamed_before_its_title_arrives_keeps_its_name() {
    let slow_title = Script::sse(vec![]).paced(Duration::from_millis(150));
    let (_fake, app, _) = titled_openai_app(slow_title).await;
    let conversation = app
        .create_conversation(json!({"provider": "openai", "model": "gpt-4o"}))
        .await;
    let sent = app.send(conversation.id, "How do I sort?").await;
    app.wait_for_reply(conversation.id, sent.assistant_message.id)
        .await;
    let renamed = app
        .client
        .patch(app.url(&format!("/api/conversations/{}", conversation.id)))
        .json(&json!({"title": "My sorting notes"}))
        .send()
        .await
        .unwrap();
    assert_eq!(renamed.status(), 200);

    wait_for_usage_logs(&app, conversation.id, 2).await;
    assert_eq!(
        app.conversation(conversation.id).await.title,
        "My sorting notes"
    );
}

#[tokio::test]
async fn the_demo_titles_too_and_a_given_title_is_never_replaced() {
    let app = spawn_app_with(&[("AUTO_TITLES", "on"), ("DEMO_WORD_DELAY", "0ms")]).await;
    app.register("demo-titles@example.com").await;
    let named = app
        .create_conversation(json!({"title": "Named by me"}))
        .await;
    let sent = app.send(named.id, "think about lists please").await;
    app.wait_for_reply(named.id, sent.assistant_message.id)
        .await;

    let untitled = app.create_conversation(json!({})).await;
    let sent = app.send(untitled.id, "think about lists please").await;
    app.wait_for_reply(untitled.id, sent.assistant_message.id)
        .await;
    wait_for_usage_logs(&app, untitled.id, 2).await;
    assert_eq!(
        app.conversation(untitled.id).await.title,
        "Think About Lists Please"
    );

    assert_eq!(app.conversation(named.id).await.title, "Named by me");
    assert_eq!(
        usage_logs_of(&app, named.id).await.len(),
        1,
        "no title call for a conversation the person named"
    );
}
