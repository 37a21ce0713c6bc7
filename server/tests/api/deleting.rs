//! Deleting a conversation while its reply streams: the reply stops on whichever process
//! generates it, books what it cost and gives back the rest of its reservation; a reply whose
//! rows vanish under it gives its reservation back itself. One process here, two with Redis
//! when TEST_REDIS_URL is set.

use std::time::Duration;

use app::wire::{ConversationView, SendResponse, UserView};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use serde_json::json;
use server::db::entities::{budget_periods, conversations, usage_logs};
use uuid::Uuid;

use crate::{
    helpers::{
        fake_upstream::{openai_reply, FakeUpstream, Script},
        spawn_app, spawn_app_with, TestApp,
    },
    multi_process::start_process_with,
};

/// gpt-4o at $2.50 in, $10 out per million: 20 prompt + 100 completion tokens.
const ACTUAL_COST: i64 = 1_050;

/// A priced reply of `deltas` words, one every 100 ms.
fn slow_reply(deltas: usize) -> Script {
    let words: Vec<String> = (0..deltas).map(|i| format!("word{i} ")).collect();
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    Script::sse(openai_reply(
        &words,
        Some(json!({"prompt_tokens": 20, "completion_tokens": 100, "total_tokens": 120})),
    ))
    .paced(Duration::from_millis(100))
}

async fn app_streaming(script: Script) -> (TestApp, FakeUpstream, Uuid) {
    let (fake, base) = FakeUpstream::start(vec![script]).await;
    let app = spawn_app_with(&[
        ("OPENAI_API_KEY", "sk-test"),
        ("OPENAI_BASE_URL", &format!("{base}/v1")),
        ("PROVIDER_IDLE_TIMEOUT", "30s"),
        ("STREAM_FLUSH_INTERVAL", "50ms"),
    ])
    .await;
    app.register("deleter@example.com").await;
    let me: UserView = app.get_json("/api/me").await;
    (app, fake, me.id)
}

async fn budget(db: &DatabaseConnection, user_id: Uuid) -> budget_periods::Model {
    budget_periods::Entity::find()
        .filter(budget_periods::Column::UserId.eq(user_id))
        .one(db)
        .await
        .unwrap()
        .expect("a budget period")
}

async fn logged_cost(db: &DatabaseConnection, message_id: Uuid) -> Option<i64> {
    usage_logs::Entity::find()
        .filter(usage_logs::Column::MessageId.eq(message_id))
        .one(db)
        .await
        .unwrap()
        .map(|log| log.cost_micros)
}

async fn start_reply(app: &TestApp) -> (Uuid, Uuid) {
    let conversation = app
        .create_conversation(json!({"provider": "openai", "model": "gpt-4o", "max_tokens": 100}))
        .await;
    let sent = app.send(conversation.id, "Talk for a while").await;
    (conversation.id, sent.assistant_message.id)
}

#[tokio::test]
async fn deleting_a_conversation_stops_its_reply_and_settles_the_reservation() {
    let (app, _fake, user_id) = app_streaming(slow_reply(200)).await;
    let (conversation_id, reply_id) = start_reply(&app).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(budget(&app.db, user_id).await.reserved_micros > 0);

    let response = app
        .client
        .delete(app.url(&format!("/api/conversations/{conversation_id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    assert!(app.chat.active.all().is_empty(), "the reply stopped");
    let period = budget(&app.db, user_id).await;
    assert_eq!(period.reserved_micros, 0, "the reservation is settled");
    let booked = logged_cost(&app.db, reply_id)
        .await
        .expect("the stopped reply booked what it cost");
    assert_eq!(period.spent_micros, booked);
    let gone = app
        .get(&format!("/api/conversations/{conversation_id}/messages"))
        .await;
    assert_eq!(gone.status(), 404);
}

#[tokio::test]
async fn a_reply_whose_rows_vanish_gives_its_reservation_back() {
    let (app, _fake, user_id) = app_streaming(slow_reply(10)).await;
    let (conversation_id, reply_id) = start_reply(&app).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Gone under the reply, as a delete on a process that could not reach it would leave it.
    conversations::Entity::delete_by_id(conversation_id)
        .exec(&app.db)
        .await
        .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !app.chat.active.all().is_empty() {
        assert!(tokio::time::Instant::now() < deadline, "the reply ends");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let period = budget(&app.db, user_id).await;
    assert_eq!(period.reserved_micros, 0, "nothing stays reserved");
    assert_eq!(period.spent_micros, ACTUAL_COST, "what it cost is spent");
    assert_eq!(logged_cost(&app.db, reply_id).await, Some(ACTUAL_COST));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_on_one_process_stops_the_reply_another_process_generates() {
    let Some(redis_url) = std::env::var("TEST_REDIS_URL")
        .ok()
        .filter(|v| !v.is_empty())
    else {
        eprintln!("TEST_REDIS_URL is not set: the two-process test needs Redis");
        return;
    };
    let (fake, base) = FakeUpstream::start(vec![slow_reply(300)]).await;
    let shared = spawn_app().await;
    let base = format!("{base}/v1");
    let provider = [
        ("OPENAI_API_KEY", "sk-test"),
        ("OPENAI_BASE_URL", base.as_str()),
        ("PROVIDER_IDLE_TIMEOUT", "30s"),
    ];
    let a = start_process_with(
        shared.data_dir.path(),
        &shared.database_url,
        &redis_url,
        &provider,
    );
    let b = start_process_with(
        shared.data_dir.path(),
        &shared.database_url,
        &redis_url,
        &provider,
    );
    let client = reqwest::Client::new();
    let registered: app::wire::AuthResponse = client
        .post(format!("{}/api/auth/register", a.address))
        .json(&json!({"email": "two-deletes@example.com", "password": "correct horse battery"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (token, user_id) = (registered.token, registered.user.id);
    let conversation: ConversationView = client
        .post(format!("{}/api/conversations", a.address))
        .bearer_auth(&token)
        .json(&json!({"provider": "openai", "model": "gpt-4o", "max_tokens": 100}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let sent: SendResponse = client
        .post(format!(
            "{}/api/conversations/{}/messages",
            a.address, conversation.id
        ))
        .bearer_auth(&token)
        .json(&json!({"content": "Talk for half a minute"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(fake.request_count(), 1, "A is generating");
    assert!(budget(&shared.db, user_id).await.reserved_micros > 0);

    let response = client
        .delete(format!(
            "{}/api/conversations/{}",
            b.address, conversation.id
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    // The reply (30 s long) was stopped on A, which booked it and settled its reservation
    // before B deleted the rows.
    let period = budget(&shared.db, user_id).await;
    assert_eq!(period.reserved_micros, 0, "the reservation is settled");
    let booked = logged_cost(&shared.db, sent.assistant_message.id)
        .await
        .expect("A booked the stopped reply");
    assert_eq!(period.spent_micros, booked);
    let gone = client
        .get(format!(
            "{}/api/conversations/{}",
            a.address, conversation.id
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 404);
}
