//! Usage analytics and the admin surface through the real server: `/api/usage`, the `/usage`
//! page and the CSV agree with the stored messages, also after a conversation is deleted; a
//! price change leaves old messages as they were; only admins reach the admin page and API.

use app::wire::{
    AdminModelView, AdminUserView, BudgetView, ModelView, Page, Role, UsageReport, UsageTotals,
    UserRole, UserView,
};
use serde_json::json;
use uuid::Uuid;

use crate::helpers::{
    anonymous_client, error_code,
    fake_upstream::{openai_reply, FakeUpstream, Script},
    location, spawn_app_with, TestApp,
};

async fn app() -> (TestApp, FakeUpstream) {
    // Each reply reports 1,000 prompt and 200 completion tokens.
    let (fake, base) = FakeUpstream::start(vec![Script::sse(openai_reply(
        &["Counted ", "exactly."],
        Some(json!({"prompt_tokens": 1000, "completion_tokens": 200, "total_tokens": 1200})),
    ))])
    .await;
    let app = spawn_app_with(&[
        ("OPENAI_API_KEY", "sk-test"),
        ("OPENAI_BASE_URL", &format!("{base}/v1")),
    ])
    .await;
    app.register("admin@example.com").await;
    (app, fake)
}

async fn chat(app: &TestApp, model: &str, turns: usize) -> Uuid {
    let id = app
        .create_conversation(json!({"provider": "openai", "model": model}))
        .await
        .id;
    for i in 0..turns {
        let sent = app.send(id, &format!("question {i}")).await;
        app.wait_for_reply(id, sent.assistant_message.id).await;
    }
    id
}

/// Sums of the stored replies of these conversations: (replies, tokens, cost).
async fn stored_sums(app: &TestApp, conversations: &[Uuid]) -> (i64, i64, i64) {
    let mut sums = (0, 0, 0);
    for &id in conversations {
        for m in app.messages(id).await {
            if m.role == Role::Assistant {
                sums.0 += 1;
                sums.1 += m.total_tokens;
                sums.2 += m.cost_micros;
            }
        }
    }
    sums
}

/// (replies, tokens, cost), as `stored_sums` counts them.
fn report_sums(totals: &UsageTotals) -> (i64, i64, i64) {
    (totals.requests, totals.total_tokens, totals.cost_micros)
}

async fn usage(app: &TestApp) -> UsageReport {
    let response = app.get("/api/usage").await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// The CSV's cost column, summed exactly in micro-dollars.
fn csv_cost_micros(csv: &str) -> i64 {
    csv.lines()
        .skip(1)
        .map(|line| {
            let cost = line.rsplit(',').next().unwrap();
            let (whole, fraction) = cost.split_once('.').unwrap();
            whole.parse::<i64>().unwrap() * 1_000_000 + fraction.parse::<i64>().unwrap()
        })
        .sum()
}

#[tokio::test]
async fn usage_figures_equal_the_stored_messages_even_after_a_deletion() {
    let (app, _fake) = app().await;
    let big = chat(&app, "gpt-4o", 3).await;
    let small = chat(&app, "gpt-4o-mini", 2).await;
    let expected = stored_sums(&app, &[big, small]).await;
    // gpt-4o: 1000 × $2.50 + 200 × $10 per million = 4,500 µ$; gpt-4o-mini: 150 + 120 = 270 µ$.
    assert_eq!(expected, (5, 6_000, 3 * 4_500 + 2 * 270));

    let report = usage(&app).await;
    assert_eq!(report_sums(&report.period_totals), expected);
    assert_eq!(report_sums(&report.month_totals), expected);
    assert_eq!(report.days.len(), 30);
    let today = report.days.last().unwrap();
    assert_eq!(today.totals.cost_micros, expected.2);
    let models = &report.models;
    assert_eq!(models.len(), 2);
    assert_eq!(models[0].model, "gpt-4o", "dearest first");
    assert_eq!(models[0].totals.cost_micros, 13_500);
    assert_eq!(models[1].totals.cost_micros, 540);
    let top = &report.top_conversations;
    assert_eq!(top[0].conversation_id, Some(big));
    assert!(!top[0].deleted);

    // Deleting a conversation deletes its messages, not what they cost.
    let deleted = app
        .client
        .delete(app.url(&format!("/api/conversations/{big}")))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    let after = usage(&app).await;
    assert_eq!(report_sums(&after.period_totals), expected);
    assert_eq!(report_sums(&after.month_totals), expected);
    let top = &after.top_conversations;
    assert!(top[0].deleted);
    assert_eq!(top[0].title, "Deleted conversation");
    assert_eq!(top[0].totals.cost_micros, 13_500);

    // The page shows the same month total, with the charts and their tables.
    let page = app.get("/usage").await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("$0.0140"), "month total on the page");
    for id in [
        "chart-daily-cost",
        "chart-daily-tokens",
        "chart-models",
        "table-daily",
        "table-models",
        "table-conversations",
    ] {
        assert!(
            html.contains(&format!("data-testid=\"{id}\"")),
            "{id} on the page"
        );
    }
    assert!(html.contains("<svg"));

    // The CSV adds up to the same exact cost.
    let csv = app.get("/api/usage.csv").await;
    assert_eq!(csv.status(), 200);
    assert!(csv.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let csv = csv.text().await.unwrap();
    assert!(csv.starts_with("date,provider,model,"));
    assert_eq!(csv_cost_micros(&csv), expected.2);

    // Someone else sees only their own usage.
    let other = app.register_person("bob@example.com").await;
    let theirs: UsageReport = other.get_json(&app, "/api/usage").await;
    assert_eq!(theirs.period_totals.cost_micros, 0);
    assert!(theirs.top_conversations.is_empty());
    assert_eq!(app.get("/api/usage?days=0").await.status(), 422);
}

async fn admin_model(app: &TestApp, model: &str) -> AdminModelView {
    app.get_json::<Vec<AdminModelView>>("/api/admin/models")
        .await
        .into_iter()
        .find(|m| m.model == model)
        .expect("the model")
}

/// Whether `/api/models` offers this model to users.
async fn offered(app: &TestApp, model: &str) -> bool {
    app.get_json::<Page<ModelView>>("/api/models")
        .await
        .items
        .iter()
        .any(|m| m.model == model)
}

#[tokio::test]
async fn a_price_change_reaches_new_messages_only() {
    let (app, _fake) = app().await;
    let id = chat(&app, "gpt-4o", 1).await;
    let old_reply = app
        .messages(id)
        .await
        .into_iter()
        .find(|m| m.role == Role::Assistant)
        .unwrap();
    assert_eq!(old_reply.cost_micros, 4_500);

    let gpt4o = admin_model(&app, "gpt-4o").await.id;
    let response = app
        .client
        .patch(app.url(&format!("/api/admin/models/{gpt4o}")))
        .json(&json!({"input_micros_per_mtok": 5_000_000, "output_micros_per_mtok": 20_000_000, "display_name": "GPT-4o (EU)"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let changed: AdminModelView = response.json().await.unwrap();
    assert_eq!(changed.input_micros_per_mtok, 5_000_000);
    assert_eq!(changed.display_name, "GPT-4o (EU)");

    let sent = app.send(id, "again").await;
    let new_reply = app.wait_for_reply(id, sent.assistant_message.id).await;
    assert_eq!(new_reply.cost_micros, 9_000, "the new price");
    let old_now = app
        .messages(id)
        .await
        .into_iter()
        .find(|m| m.id == old_reply.id)
        .unwrap();
    assert_eq!(old_now, old_reply, "the old message did not change");
    assert_eq!(app.conversation(id).await.cost_micros, 13_500);

    // Bad edits are refused with a reason and change nothing.
    let response = app
        .client
        .patch(app.url(&format!("/api/admin/models/{gpt4o}")))
        .json(&json!({"max_output_tokens": 10_000_000}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);

    // A disabled model is no longer offered, and cannot be sent to.
    let response = app
        .client
        .patch(app.url(&format!("/api/admin/models/{gpt4o}")))
        .json(&json!({"enabled": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(!offered(&app, "gpt-4o").await);
    let refused = app
        .post_json(
            &format!("/api/conversations/{id}/messages"),
            json!({"content": "more"}),
        )
        .await;
    assert_eq!(refused.status(), 422);
    assert_eq!(error_code(refused).await, "model_unavailable");

    // Admins can add a model served by an OpenAI-compatible server.
    let added = app
        .post_json(
            "/api/admin/models",
            json!({"provider": "openai", "model": "llama3.1:8b", "display_name": "Llama 3.1 8B", "context_window": 131072}),
        )
        .await;
    assert_eq!(added.status(), 201);
    let again = app
        .post_json(
            "/api/admin/models",
            json!({"provider": "openai", "model": "llama3.1:8b"}),
        )
        .await;
    assert_eq!(again.status(), 409);
    assert!(offered(&app, "llama3.1:8b").await);
}

#[tokio::test]
async fn only_admins_reach_the_admin_page_and_api() {
    let (app, _fake) = app().await;
    let gpt4o = admin_model(&app, "gpt-4o").await.id;
    let person = app.register_person("bob@example.com").await;
    let me: UserView = person.get_json(&app, "/api/me").await;
    assert_eq!(me.role, UserRole::User);
    let bob_id = me.id;

    for client in [&person.client, &anonymous_client()] {
        for (method, path, body) in [
            ("GET", "/api/admin/users".to_owned(), None),
            ("GET", "/api/admin/models".to_owned(), None),
            ("GET", "/api/admin/settings".to_owned(), None),
            (
                "PUT",
                format!("/api/admin/users/{bob_id}/budget"),
                Some(json!({"monthly_budget_micros": null})),
            ),
            (
                "PATCH",
                format!("/api/admin/models/{gpt4o}"),
                Some(json!({"enabled": false})),
            ),
            (
                "POST",
                "/api/admin/models".to_owned(),
                Some(json!({"provider": "openai", "model": "x"})),
            ),
        ] {
            let mut request = client.request(method.parse().unwrap(), app.url(&path));
            if let Some(body) = body {
                request = request.json(&body);
            }
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 404, "{method} {path}");
        }
        let form = client
            .post(app.url(&format!("/admin/users/{bob_id}/budget")))
            .form(&[("budget", "1000")])
            .send()
            .await
            .unwrap();
        assert_eq!(form.status(), 404, "admin form");
    }
    let page = person.client.get(app.url("/admin")).send().await.unwrap();
    assert_eq!(page.status(), 404);
    assert!(page.text().await.unwrap().contains("Page not found"));
    assert!(admin_model(&app, "gpt-4o").await.enabled, "nothing changed");

    // The admin sees every user with this month's usage, and sets budgets with the form.
    let page = app.get("/admin").await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("bob@example.com") && html.contains("admin@example.com"));
    let models = app.get("/admin?tab=models").await.text().await.unwrap();
    assert!(models.contains("data-testid=\"admin-models\""));
    let saved = app
        .client
        .post(app.url(&format!("/admin/users/{bob_id}/budget")))
        .form(&[("budget", "2.50")])
        .send()
        .await
        .unwrap();
    assert_eq!(saved.status(), 303);
    assert_eq!(location(&saved), "/admin?tab=users&saved=budget#users");
    let bad = app
        .client
        .post(app.url(&format!("/admin/users/{bob_id}/budget")))
        .form(&[("budget", "-3")])
        .send()
        .await
        .unwrap();
    assert!(location(&bad).contains("error=invalid_amount"));
    let users: Vec<AdminUserView> = app.get_json("/api/admin/users").await;
    let bob = users.iter().find(|u| u.id == bob_id).unwrap();
    assert_eq!(bob.monthly_budget_micros, Some(2_500_000));
    let bobs_budget: BudgetView = person.get_json(&app, "/api/budget").await;
    assert_eq!(bobs_budget.budget_micros, Some(2_500_000));
}
