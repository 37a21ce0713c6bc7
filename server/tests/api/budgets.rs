//! Monthly budgets through the real server: a send that does not fit is refused before any
//! provider call, with the budget and what is left; twenty sends at once at the edge of a
//! budget never take spending past it; reservations are settled to the actual cost, or given
//! back when a reply is interrupted. Runs on SQLite, and on PostgreSQL with TEST_DATABASE_URL.

use app::wire::{BudgetView, MessageStatus, SendResponse, UserView};
use std::time::Duration;

use futures::future::join_all;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{json, Value};
use server::db::entities::{budget_periods, usage_logs};
use uuid::Uuid;

use crate::helpers::{
    error_code,
    fake_upstream::{openai_reply, End, FakeUpstream, Script},
    spawn_app_with, TestApp,
};

/// gpt-4o: $2.50 in, $10 out per million. 20 prompt + 100 completion tokens cost
/// 20 × 2.5 + 100 × 10 = 1,050 micro-dollars.
const ACTUAL_COST: i64 = 1_050;

async fn app_with_openai(script: Script) -> (TestApp, FakeUpstream, Uuid) {
    let (fake, base) = FakeUpstream::start(vec![script]).await;
    let app = spawn_app_with(&[
        ("OPENAI_API_KEY", "sk-test"),
        ("OPENAI_BASE_URL", &format!("{base}/v1")),
        ("PROVIDER_IDLE_TIMEOUT", "30s"),
    ])
    .await;
    app.register("admin@example.com").await;
    let me: UserView = app.get_json("/api/me").await;
    (app, fake, me.id)
}

fn priced_reply() -> Script {
    Script::sse(openai_reply(
        &["Budgets ", "hold."],
        Some(json!({"prompt_tokens": 20, "completion_tokens": 100, "total_tokens": 120})),
    ))
}

async fn set_budget(app: &TestApp, user_id: Uuid, micros: Option<i64>) {
    let response = app
        .client
        .put(app.url(&format!("/api/admin/users/{user_id}/budget")))
        .json(&json!({ "monthly_budget_micros": micros }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "set budget");
}

async fn period(app: &TestApp, user_id: Uuid) -> budget_periods::Model {
    budget_periods::Entity::find()
        .filter(budget_periods::Column::UserId.eq(user_id))
        .one(&app.db)
        .await
        .unwrap()
        .expect("a budget period")
}

async fn logged_cost(app: &TestApp, user_id: Uuid) -> i64 {
    usage_logs::Entity::find()
        .filter(usage_logs::Column::UserId.eq(user_id))
        .all(&app.db)
        .await
        .unwrap()
        .iter()
        .map(|l| l.cost_micros)
        .sum()
}

async fn new_conversation(app: &TestApp) -> Uuid {
    app.create_conversation(json!({"provider": "openai", "model": "gpt-4o", "max_tokens": 100}))
        .await
        .id
}

async fn try_send(app: &TestApp, conversation_id: Uuid) -> reqwest::Response {
    app.post_json(
        &format!("/api/conversations/{conversation_id}/messages"),
        json!({ "content": "hi" }),
    )
    .await
}

#[tokio::test]
async fn twenty_concurrent_sends_at_the_edge_of_a_budget_never_overspend() {
    let (app, fake, user_id) = app_with_openai(priced_reply()).await;
    let conversations: Vec<Uuid> = join_all((0..20).map(|_| new_conversation(&app))).await;

    // One send's worst case: its prompt (with margin, priced as cache writes) plus 100 output
    // tokens at $10/M, a little over 1,000 micro-dollars. A budget of 5,000 fits four.
    let budget = 5_000;
    set_budget(&app, user_id, Some(budget)).await;
    let responses = join_all(conversations.iter().map(|&id| try_send(&app, id))).await;
    let mut accepted = Vec::new();
    let mut refused = 0;
    for (response, conversation) in responses.into_iter().zip(&conversations) {
        match response.status().as_u16() {
            202 => {
                let body: SendResponse = response.json().await.unwrap();
                accepted.push((*conversation, body.assistant_message.id));
            }
            402 => {
                assert_eq!(error_code(response).await, "budget_exceeded");
                refused += 1;
            }
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!(
        accepted.len(),
        4,
        "exactly the sends that fit were accepted"
    );
    assert_eq!(refused, 16);
    let during = period(&app, user_id).await;
    assert!(
        during.spent_micros + during.reserved_micros <= budget,
        "reserved past the budget: {during:?}"
    );

    for &(conversation, reply) in &accepted {
        let reply = app.wait_for_reply(conversation, reply).await;
        assert_eq!(reply.status, MessageStatus::Complete);
        assert_eq!(reply.cost_micros, ACTUAL_COST);
    }
    let settled = period(&app, user_id).await;
    assert_eq!(settled.reserved_micros, 0, "every reservation settled");
    assert_eq!(settled.spent_micros, 4 * ACTUAL_COST);
    assert_eq!(settled.spent_micros, logged_cost(&app, user_id).await);
    assert!(settled.spent_micros <= budget);
    // Only accepted sends reached the provider.
    assert_eq!(fake.request_count(), 4);

    // 800 micro-dollars are left: less than a send's worst case, so the next is refused,
    // with the budget and what is left in the sentence, and nothing is stored.
    let response = try_send(&app, conversations[19]).await;
    assert_eq!(response.status(), 402);
    let body: Value = response.json().await.unwrap();
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("$0.0008"), "{message}");
    assert!(message.contains("$0.0050"), "{message}");
    let refused_conversation = conversations
        .iter()
        .find(|c| !accepted.iter().any(|(a, _)| a == *c))
        .unwrap();
    assert!(app.messages(*refused_conversation).await.is_empty());

    let shown: BudgetView = app.get_json("/api/budget").await;
    assert_eq!(shown.budget_micros, Some(budget));
    assert_eq!(shown.spent_micros, 4 * ACTUAL_COST);
    assert_eq!(shown.reserved_micros, 0);

    // Raising the budget lets the next send through.
    set_budget(&app, user_id, Some(budget + 2_000)).await;
    assert_eq!(try_send(&app, conversations[19]).await.status(), 202);
}

#[tokio::test]
async fn a_zero_budget_still_allows_free_models_and_no_budget_means_no_limit() {
    let (app, _fake, user_id) = app_with_openai(priced_reply()).await;
    set_budget(&app, user_id, Some(0)).await;
    let priced = new_conversation(&app).await;
    let response = try_send(&app, priced).await;
    assert_eq!(response.status(), 402);
    let body: Value = response.json().await.unwrap();
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("$0.00 monthly budget"), "{message}");

    let free = app
        .create_conversation(json!({"provider": "demo", "model": "demo-offline"}))
        .await
        .id;
    assert_eq!(try_send(&app, free).await.status(), 202);

    set_budget(&app, user_id, None).await;
    let sent: SendResponse = try_send(&app, priced).await.json().await.unwrap();
    let reply = app.wait_for_reply(priced, sent.assistant_message.id).await;
    assert_eq!(reply.cost_micros, ACTUAL_COST);
}

#[tokio::test]
async fn an_interrupted_reply_gives_its_reservation_back() {
    // The provider sends one delta and then nothing: the reply stays streaming.
    let hanging =
        Script::sse(openai_reply(&["Still thinking"], None)[..2].to_vec()).then(End::Hang);
    let (app, _fake, user_id) = app_with_openai(hanging).await;
    set_budget(&app, user_id, Some(10_000)).await;
    let conversation = new_conversation(&app).await;
    let sent: SendResponse = try_send(&app, conversation).await.json().await.unwrap();
    let reply_id = sent.assistant_message.id;
    let reserved = period(&app, user_id).await.reserved_micros;
    assert!(reserved > 1_000, "the worst case is reserved: {reserved}");

    // What start-up recovery (or a stop that finds no live generator) does to a reply whose
    // process is gone: the reservation comes back, nothing is spent.
    server::chat::recovery::mark_message_interrupted(&app.db, reply_id)
        .await
        .unwrap();
    let released = period(&app, user_id).await;
    assert_eq!(released.reserved_micros, 0);
    assert_eq!(released.spent_micros, 0);

    // Here the generator was alive after all: when it ends, it books what it made, and does
    // not give the reservation back a second time.
    let live = app.chat.active.get(reply_id).expect("still generating");
    live.cancel.cancel();
    tokio::time::timeout(Duration::from_secs(10), live.wait_finished())
        .await
        .expect("the reply ends");
    let after = period(&app, user_id).await;
    assert_eq!(after.reserved_micros, 0, "not given back twice");
    let logged = logged_cost(&app, user_id).await;
    assert!(logged > 0, "the stopped reply's tokens are booked");
    assert_eq!(after.spent_micros, logged);
}

#[tokio::test]
async fn new_accounts_start_with_the_default_budget() {
    let (app, _fake, _) = app_with_openai(priced_reply()).await;
    let response = app
        .client
        .put(app.url("/api/admin/settings"))
        .json(&json!({ "default_monthly_budget_micros": 2_000_000 }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let person = app.register_person("new@example.com").await;
    let budget: BudgetView = person.get_json(&app, "/api/budget").await;
    assert_eq!(budget.budget_micros, Some(2_000_000));
    assert_eq!(budget.spent_micros, 0);
}
