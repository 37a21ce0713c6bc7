//! The conversation tree through the public API: edits start branches beside the old
//! question, regenerations add replies beside the old one (with any model), the shown branch
//! can be switched and survives reloads, and every branch's cost stays counted.

use std::time::Duration;

use app::wire::{
    ConversationView, MessageItem, MessageStatus, MessageView, Page, RegenerateResponse, Role,
    SendResponse,
};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{
    error_code,
    fake_upstream::{anthropic_reply, openai_reply, FakeUpstream, Script},
    json_body, spawn_app, spawn_app_with,
    ws_client::{is_event, WsClient},
    TestApp,
};

async fn openai_app(base: &str) -> TestApp {
    let app = spawn_app_with(&[
        ("OPENAI_API_KEY", "sk-test-key"),
        ("OPENAI_BASE_URL", &format!("{base}/v1")),
        ("ANTHROPIC_API_KEY", "sk-ant-test"),
        ("ANTHROPIC_BASE_URL", base),
    ])
    .await;
    app.register("tree@example.com").await;
    app
}

/// Every reply from the fake says "Four." and costs 1,000 prompt + 100 completion tokens.
async fn fake_openai() -> (FakeUpstream, String) {
    let usage = json!({"prompt_tokens": 1000, "completion_tokens": 100, "total_tokens": 1100});
    FakeUpstream::start(vec![Script::sse(openai_reply(&["Four."], Some(usage)))]).await
}

/// Sends `content` after `parent` (absent: the shown branch; `Value::Null`: a new first
/// message) and waits for the reply.
async fn send_after(
    app: &TestApp,
    conversation_id: Uuid,
    content: &str,
    parent: Option<Value>,
) -> (MessageView, MessageView) {
    let mut body = json!({ "content": content });
    if let Some(parent) = parent {
        body["parent_id"] = parent;
    }
    let response = app
        .post_json(
            &format!("/api/conversations/{conversation_id}/messages"),
            body,
        )
        .await;
    assert_eq!(response.status(), 202, "send after a parent");
    let sent: SendResponse = json_body(response).await;
    let reply = app
        .wait_for_reply(conversation_id, sent.assistant_message.id)
        .await;
    (sent.user_message, reply)
}

async fn regenerate(app: &TestApp, reply: Uuid, body: Value) -> MessageView {
    let response = app
        .post_json(&format!("/api/messages/{reply}/regenerate"), body)
        .await;
    assert_eq!(response.status(), 202, "regenerate");
    json_body::<RegenerateResponse>(response)
        .await
        .assistant_message
}

async fn switch(app: &TestApp, conversation_id: Uuid, message_id: Uuid) -> ConversationView {
    let response = app
        .client
        .put(app.url(&format!("/api/conversations/{conversation_id}/current")))
        .json(&json!({ "message_id": message_id }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "switch branch");
    json_body(response).await
}

async fn every_message(app: &TestApp, conversation_id: Uuid) -> Vec<MessageView> {
    let page: Page<MessageView> = app
        .get_json(&format!(
            "/api/conversations/{conversation_id}/messages?branch=all&limit=1000"
        ))
        .await;
    page.items
}

fn contents(messages: &[MessageView]) -> Vec<&str> {
    messages.iter().map(|m| m.content.as_str()).collect()
}

/// Three exchanges on one branch: (questions, replies).
async fn three_exchanges(
    app: &TestApp,
    conversation_id: Uuid,
) -> (Vec<MessageView>, Vec<MessageView>) {
    let mut questions = Vec::new();
    let mut replies = Vec::new();
    for question in ["Q1", "Q2", "Q3"] {
        let (q, a) = send_after(app, conversation_id, question, None).await;
        questions.push(q);
        replies.push(a);
    }
    (questions, replies)
}

#[tokio::test]
async fn an_edit_sends_only_the_path_to_its_parent_and_keeps_the_old_branch() {
    let (fake, base) = fake_openai().await;
    let app = openai_app(&base).await;
    let conversation = app
        .create_conversation(
            json!({"provider": "openai", "model": "gpt-4o", "system_prompt": "Be brief."}),
        )
        .await;
    let (questions, replies) = three_exchanges(&app, conversation.id).await;
    assert_eq!(questions[1].parent_id, Some(replies[0].id));

    // Edit Q2: the new version follows A1, beside Q2.
    let (edited, reply) = send_after(
        &app,
        conversation.id,
        "Q2, edited",
        Some(json!(replies[0].id)),
    )
    .await;
    assert_eq!(
        fake.last_request().body["messages"],
        json!([
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Q1"},
            {"role": "assistant", "content": "Four."},
            {"role": "user", "content": "Q2, edited"},
        ]),
        "the provider gets the path root → parent, then the edit"
    );
    assert_eq!(
        (
            edited.parent_id,
            edited.sibling_index,
            edited.sibling_count,
            edited.prev_sibling_id
        ),
        (Some(replies[0].id), 2, 2, Some(questions[1].id))
    );
    let shown = app.messages(conversation.id).await;
    assert_eq!(contents(&shown), ["Q1", "Four.", "Q2, edited", "Four."]);
    assert_eq!(shown.last().unwrap().id, reply.id);
    let now = app.conversation(conversation.id).await;
    assert_eq!(now.current_leaf_id, Some(reply.id));
    assert_eq!(now.message_count, 8, "nothing was deleted");
    assert_eq!(every_message(&app, conversation.id).await.len(), 8);

    // Edit the first question (parent null): the context is that question alone.
    let (first, _) = send_after(&app, conversation.id, "Q1 again", Some(Value::Null)).await;
    assert_eq!(
        fake.last_request().body["messages"],
        json!([
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Q1 again"},
        ])
    );
    assert_eq!((first.parent_id, first.sibling_index), (None, 2));
    assert_eq!(
        contents(&app.messages(conversation.id).await),
        ["Q1 again", "Four."]
    );
    assert_eq!(
        app.conversation(conversation.id).await.title,
        "Q1",
        "the title stays the first question's"
    );
}

#[tokio::test]
async fn a_regeneration_with_another_provider_speaks_its_wire_format_beside_the_old_reply() {
    let (openai, openai_base) = fake_openai().await;
    let (anthropic, anthropic_base) = FakeUpstream::start(vec![Script::sse(anthropic_reply(
        &["Vier", "."],
        json!({"input_tokens": 30, "output_tokens": 1}),
        5,
    ))])
    .await;
    let app = spawn_app_with(&[
        ("OPENAI_API_KEY", "sk-test-key"),
        ("OPENAI_BASE_URL", &format!("{openai_base}/v1")),
        ("ANTHROPIC_API_KEY", "sk-ant-test"),
        ("ANTHROPIC_BASE_URL", &anthropic_base),
    ])
    .await;
    app.register("regenerate@example.com").await;
    let conversation = app
        .create_conversation(
            json!({"provider": "openai", "model": "gpt-4o", "system_prompt": "Be brief."}),
        )
        .await;
    let (q1, a1) = send_after(&app, conversation.id, "What is 2+2?", None).await;
    let (_, a2) = send_after(&app, conversation.id, "In German?", None).await;
    assert_eq!(openai.request_count(), 2);

    let again = regenerate(
        &app,
        a2.id,
        json!({"provider": "anthropic", "model": "claude-sonnet-4-5"}),
    )
    .await;
    assert_eq!(again.status, MessageStatus::Streaming);
    assert_eq!(
        (again.parent_id, again.sibling_index, again.sibling_count),
        (a2.parent_id, 2, 2)
    );
    let done = app.wait_for_reply(conversation.id, again.id).await;
    assert_eq!(done.content, "Vier.");
    assert_eq!(done.model.as_deref(), Some("claude-sonnet-4-5"));
    let request = anthropic.last_request();
    assert_eq!(request.path, "/v1/messages");
    assert_eq!(request.body["system"], "Be brief.");
    assert_eq!(request.body["model"], "claude-sonnet-4-5");
    assert_eq!(
        request.body["messages"],
        json!([
            {"role": "user", "content": "What is 2+2?"},
            {"role": "assistant", "content": "Four."},
            {"role": "user", "content": "In German?"},
        ]),
        "the old reply is not in the context of its regeneration"
    );
    assert_eq!(
        openai.request_count(),
        2,
        "the other provider was not called"
    );
    let usage: Value = app.get_json("/api/usage").await;
    assert!(
        usage["models"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["model"] == "claude-sonnet-4-5"),
        "the regeneration's usage is booked to its model: {usage}"
    );

    let shown = app.messages(conversation.id).await;
    assert_eq!(
        shown.iter().map(|m| m.id).collect::<Vec<_>>(),
        [q1.id, a1.id, a2.parent_id.unwrap(), again.id]
    );
    let old = every_message(&app, conversation.id)
        .await
        .into_iter()
        .find(|m| m.id == a2.id)
        .unwrap();
    assert_eq!(
        (old.sibling_index, old.sibling_count, old.next_sibling_id),
        (1, 2, Some(again.id))
    );
    let conversation = app.conversation(conversation.id).await;
    assert_eq!(
        (conversation.provider.as_str(), conversation.model.as_str()),
        ("openai", "gpt-4o"),
        "the conversation keeps its own model"
    );

    // A question cannot be regenerated; a half-given model is refused; nothing is stored.
    let refused = app
        .post_json(&format!("/api/messages/{}/regenerate", q1.id), json!({}))
        .await;
    assert_eq!(refused.status(), 422);
    assert_eq!(error_code(refused).await, "not_a_reply");
    let refused = app
        .post_json(
            &format!("/api/messages/{}/regenerate", a1.id),
            json!({"provider": "anthropic"}),
        )
        .await;
    assert_eq!(refused.status(), 422);
    assert_eq!(every_message(&app, conversation.id).await.len(), 5);
}

#[tokio::test]
async fn switching_shows_the_newest_leaf_under_the_chosen_message_and_survives_a_reload() {
    let app = spawn_app_with(&[("DEMO_WORD_DELAY", "0ms")]).await;
    app.register("switch@example.com").await;
    let conversation = app.create_conversation(json!({})).await;
    let (q1, a1) = send_after(&app, conversation.id, "first", None).await;
    let (_, a2) = send_after(&app, conversation.id, "second", None).await;
    let a1b = regenerate(&app, a1.id, json!({})).await;
    let a1b = app.wait_for_reply(conversation.id, a1b.id).await;
    assert_eq!(
        app.messages(conversation.id)
            .await
            .iter()
            .map(|m| m.id)
            .collect::<Vec<_>>(),
        [q1.id, a1b.id]
    );

    // Back to the first reply: its branch runs on to the second exchange.
    let switched = switch(&app, conversation.id, a1.id).await;
    assert_eq!(switched.current_leaf_id, Some(a2.id));
    let shown = app.messages(conversation.id).await;
    assert_eq!(shown.len(), 4);
    assert_eq!(shown.last().unwrap().id, a2.id);
    // From the first question, the most recently written leaf under it: the regeneration.
    let switched = switch(&app, conversation.id, q1.id).await;
    assert_eq!(switched.current_leaf_id, Some(a1b.id));

    // The page (a reload) shows the branch switched to.
    switch(&app, conversation.id, a1.id).await;
    let page = app
        .get(&format!("/c/{}", conversation.id))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(&a2.id.to_string()),
        "the page shows the branch"
    );
    assert!(
        !page.contains(&format!("data-message-id=\"{}\"", a1b.id)),
        "and not the other one"
    );
    // A message of another conversation is not in this tree.
    let other = app.create_conversation(json!({})).await;
    let response = app
        .client
        .put(app.url(&format!("/api/conversations/{}/current", other.id)))
        .json(&json!({ "message_id": a1.id }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn totals_count_every_message_of_the_tree_abandoned_branches_included() {
    let (_fake, base) = fake_openai().await;
    let app = openai_app(&base).await;
    let conversation = app
        .create_conversation(json!({"provider": "openai", "model": "gpt-4o"}))
        .await;
    let (_, replies) = three_exchanges(&app, conversation.id).await;
    send_after(&app, conversation.id, "Q2b", Some(json!(replies[0].id))).await;
    let again = regenerate(&app, replies[2].id, json!({})).await;
    app.wait_for_reply(conversation.id, again.id).await;

    let all = every_message(&app, conversation.id).await;
    let totals = app.conversation(conversation.id).await;
    let cost: i64 = all.iter().map(|m| m.cost_micros).sum();
    let tokens: i64 = all.iter().map(|m| m.total_tokens).sum();
    assert_eq!(all.iter().filter(|m| m.role == Role::Assistant).count(), 5);
    assert!(cost > 0);
    assert_eq!(totals.cost_micros, cost);
    assert_eq!(totals.total_tokens, tokens);
    assert_eq!(totals.message_count as usize, all.len());
    assert!(
        app.messages(conversation.id).await.len() < all.len(),
        "the branch shown holds fewer messages than the totals count"
    );
    let usage: Value = app.get_json("/api/usage").await;
    assert_eq!(
        usage["period_totals"]["cost_micros"],
        json!(cost),
        "{usage}"
    );
}

#[tokio::test]
async fn another_users_message_and_conversation_ids_answer_404_everywhere() {
    let app = spawn_app_with(&[("DEMO_WORD_DELAY", "0ms")]).await;
    app.register("owner@example.com").await;
    let theirs = app.create_conversation(json!({})).await;
    let (question, reply) = send_after(&app, theirs.id, "mine", None).await;

    let intruder = app.register_person("intruder@example.com").await;
    let mine: ConversationView = json_body(
        intruder
            .client
            .post(app.url("/api/conversations"))
            .json(&json!({}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let attempts = [
        (
            "POST",
            format!("/api/messages/{}/regenerate", reply.id),
            json!({}),
        ),
        (
            "DELETE",
            format!("/api/messages/{}", question.id),
            json!({}),
        ),
        (
            "PUT",
            format!("/api/conversations/{}/current", theirs.id),
            json!({"message_id": reply.id}),
        ),
        (
            "PUT",
            format!("/api/conversations/{}/current", mine.id),
            json!({"message_id": reply.id}),
        ),
        (
            "POST",
            format!("/api/conversations/{}/messages", mine.id),
            json!({"content": "hi", "parent_id": reply.id}),
        ),
        (
            "GET",
            format!("/api/conversations/{}/branch", theirs.id),
            json!({}),
        ),
        (
            "GET",
            format!("/api/conversations/{}/messages?branch=all", theirs.id),
            json!({}),
        ),
    ];
    for (method, path, body) in attempts {
        let request = intruder
            .client
            .request(method.parse().unwrap(), app.url(&path));
        let request = if method == "GET" || method == "DELETE" {
            request
        } else {
            request.json(&body)
        };
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 404, "{method} {path}");
    }
    assert_eq!(every_message(&app, theirs.id).await.len(), 2);
    assert_eq!(
        app.conversation(theirs.id).await.current_leaf_id,
        Some(reply.id)
    );
}

#[tokio::test]
async fn a_four_level_tree_with_three_siblings_at_one_level_navigates_right() {
    let app = spawn_app_with(&[("DEMO_WORD_DELAY", "0ms")]).await;
    app.register("navigate@example.com").await;
    let conversation = app.create_conversation(json!({})).await;
    let (_, a1) = send_after(&app, conversation.id, "Q1", None).await;
    let (q2, _) = send_after(&app, conversation.id, "Q2", None).await;
    let (q2b, _) = send_after(&app, conversation.id, "Q2b", Some(json!(a1.id))).await;
    let (q2c, a2c) = send_after(&app, conversation.id, "Q2c", Some(json!(a1.id))).await;
    // A fourth level under the middle version.
    switch(&app, conversation.id, q2b.id).await;
    let (q3b, _) = send_after(&app, conversation.id, "Q3 under b", None).await;

    let shown = app.messages(conversation.id).await;
    assert_eq!(
        contents(&shown)[..3],
        ["Q1", shown[1].content.as_str(), "Q2b"]
    );
    assert_eq!(shown.len(), 6);
    assert_eq!(shown[4].id, q3b.id);
    let middle = &shown[2];
    assert_eq!(
        (
            middle.sibling_index,
            middle.sibling_count,
            middle.prev_sibling_id,
            middle.next_sibling_id
        ),
        (2, 3, Some(q2.id), Some(q2c.id))
    );

    // ‹ from the middle: the first version's branch.
    switch(&app, conversation.id, middle.prev_sibling_id.unwrap()).await;
    let shown = app.messages(conversation.id).await;
    assert_eq!(contents(&shown)[2], "Q2");
    assert_eq!(shown.len(), 4);
    assert_eq!(
        (shown[2].sibling_index, shown[2].prev_sibling_id),
        (1, None)
    );
    // › twice: the third version, whose branch ends at its reply.
    switch(&app, conversation.id, shown[2].next_sibling_id.unwrap()).await;
    let shown = app.messages(conversation.id).await;
    assert_eq!(
        shown.len(),
        6,
        "back on the middle version, to its fourth level"
    );
    switch(&app, conversation.id, shown[2].next_sibling_id.unwrap()).await;
    let shown = app.messages(conversation.id).await;
    assert_eq!(
        (
            shown[2].id,
            shown[2].sibling_index,
            shown[2].next_sibling_id,
            shown.last().unwrap().id
        ),
        (q2c.id, 3, None, a2c.id)
    );
    // Paging walks the branch too.
    let page: Page<MessageView> = app
        .get_json(&format!(
            "/api/conversations/{}/messages?limit=3",
            conversation.id
        ))
        .await;
    let rest: Page<MessageView> = app
        .get_json(&format!(
            "/api/conversations/{}/messages?limit=3&cursor={}",
            conversation.id,
            page.next_cursor.clone().unwrap()
        ))
        .await;
    assert_eq!(
        page.items
            .iter()
            .chain(&rest.items)
            .map(|m| m.id)
            .collect::<Vec<_>>(),
        shown.iter().map(|m| m.id).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn concurrent_regenerations_of_one_reply_both_land_as_siblings() {
    let app = spawn_app_with(&[("DEMO_WORD_DELAY", "0ms")]).await;
    app.register("race@example.com").await;
    let conversation = app.create_conversation(json!({})).await;
    let (_, reply) = send_after(&app, conversation.id, "Race me", None).await;
    let (one, two) = tokio::join!(
        regenerate(&app, reply.id, json!({})),
        regenerate(&app, reply.id, json!({}))
    );
    app.wait_for_reply(conversation.id, one.id).await;
    app.wait_for_reply(conversation.id, two.id).await;
    let all = every_message(&app, conversation.id).await;
    let replies: Vec<&MessageView> = all
        .iter()
        .filter(|m| m.parent_id == reply.parent_id)
        .collect();
    assert_eq!(replies.len(), 3);
    assert_eq!(
        replies
            .iter()
            .map(|m| (m.sibling_index, m.sibling_count))
            .collect::<Vec<_>>(),
        [(1, 3), (2, 3), (3, 3)]
    );
    let conversation = app.conversation(conversation.id).await;
    assert_eq!(conversation.message_count, 4);
    assert!([Some(one.id), Some(two.id)].contains(&conversation.current_leaf_id));
}

#[tokio::test]
async fn deleting_a_message_removes_what_follows_it_and_keeps_what_it_cost() {
    let (_fake, base) = fake_openai().await;
    let app = openai_app(&base).await;
    let conversation = app
        .create_conversation(json!({"provider": "openai", "model": "gpt-4o"}))
        .await;
    let (questions, replies) = three_exchanges(&app, conversation.id).await;
    let before = app.conversation(conversation.id).await;

    let response = app
        .client
        .delete(app.url(&format!("/api/messages/{}", questions[1].id)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let after: ConversationView = json_body(response).await;
    assert_eq!(after.current_leaf_id, Some(replies[0].id));
    assert_eq!(after.message_count, 2);
    assert_eq!(after.cost_micros, before.cost_micros, "the cost stays");
    assert_eq!(
        contents(&every_message(&app, conversation.id).await),
        ["Q1", "Four."]
    );
    let usage: Value = app.get_json("/api/usage").await;
    assert_eq!(
        usage["period_totals"]["cost_micros"],
        json!(before.cost_micros)
    );
    // The conversation goes on from where the branch now ends.
    let (next, _) = send_after(&app, conversation.id, "Q2 again", None).await;
    assert_eq!(next.parent_id, Some(replies[0].id));
}

#[tokio::test]
async fn the_feed_carries_the_tree_and_a_regenerated_reply_resumes_without_a_gap() {
    let app = spawn_app_with(&[("DEMO_WORD_DELAY", "20ms")]).await;
    let token = app.register("feed@example.com").await;
    let conversation = app.create_conversation(json!({})).await;
    let (_, reply) = send_after(&app, conversation.id, "Tell me a story", None).await;

    let mut socket = WsClient::connect(&app.address, &token).await;
    socket.subscribe(conversation.id, json!({})).await;
    socket
        .until(Duration::from_secs(5), |f| f["type"] == "subscribed")
        .await;
    let again = regenerate(&app, reply.id, json!({})).await;
    let mut frames = socket
        .until(Duration::from_secs(10), |f| {
            is_event(f, "message.streaming", again.id) && f["seq"] == 3
        })
        .await;
    let new_leaf = |f: &Value| {
        f["type"] == "conversation.updated" && f["data"]["current_leaf_id"] == json!(again.id)
    };
    if !frames.iter().any(new_leaf) {
        frames.extend(socket.until(Duration::from_secs(10), new_leaf).await);
    }
    let created = frames
        .iter()
        .find(|f| is_event(f, "message.created", again.id))
        .expect("message.created");
    assert_eq!(created["data"]["parent_id"], json!(reply.parent_id));
    assert_eq!(created["data"]["sibling_index"], 2);
    assert!(
        frames.iter().any(new_leaf),
        "conversation.updated carries the new leaf"
    );
    drop(socket);

    // A new socket resumes the regenerated reply after seq 3: the rest, without a gap.
    let mut socket = WsClient::connect(&app.address, &token).await;
    socket
        .subscribe(conversation.id, json!({ again.id.to_string(): 3 }))
        .await;
    let frames = socket
        .until(Duration::from_secs(30), |f| {
            is_event(f, "message.updated", again.id) && f["data"]["status"] != "streaming"
        })
        .await;
    let rest = WsClient::deltas(&frames, again.id, 3);
    let done = app.wait_for_reply(conversation.id, again.id).await;
    assert!(done.content.ends_with(&rest) && !rest.is_empty());
    let end = frames.last().unwrap();
    assert_eq!(end["data"]["sibling_count"], 2);
}

/// A ChatGPT export of one conversation of `n` messages on one branch, questions and answers
/// in turn, each saying `m{i:03}x`; imported, its id.
async fn long_conversation(client: &reqwest::Client, app: &TestApp, n: usize) -> Uuid {
    let mut mapping = serde_json::Map::new();
    for i in 0..n {
        let role = if i % 2 == 0 { "user" } else { "assistant" };
        let parent = i.checked_sub(1).map(|p| format!("n{p}"));
        let children: Vec<String> = (i + 1 < n)
            .then(|| format!("n{}", i + 1))
            .into_iter()
            .collect();
        mapping.insert(
            format!("n{i}"),
            json!({"id": format!("n{i}"), "parent": parent, "children": children, "message": {
                "id": format!("msg{i}"), "author": {"role": role}, "create_time": 1_700_000_000.0 + i as f64,
                "content": {"content_type": "text", "parts": [format!("Message m{i:03}x")]}, "metadata": {}}}),
        );
    }
    // An older version of message 100 beside it, on a branch not shown.
    if n > 100 {
        mapping["n99"]["children"] = json!(["alt100", "n100"]);
        mapping.insert(
            "alt100".into(),
            json!({"id": "alt100", "parent": "n99", "children": [], "message": {
                "id": "msgalt", "author": {"role": "assistant"}, "create_time": 1_700_000_099.5,
                "content": {"content_type": "text", "parts": ["Message alt100x"]}, "metadata": {}}}),
        );
    }
    let export = json!([{
        "title": "A long one", "create_time": 1_700_000_000.0, "update_time": 1_700_000_000.0 + n as f64,
        "id": Uuid::new_v4().to_string(), "current_node": format!("n{}", n - 1), "mapping": mapping,
    }]);
    let response = client
        .post(app.url("/api/import"))
        .header("content-type", "application/json")
        .body(serde_json::to_vec(&export).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "the import");
    let summary: Value = json_body(response).await;
    assert_eq!(summary["messages"], n + usize::from(n > 100));
    Uuid::parse_str(summary["conversation_ids"][0].as_str().unwrap()).unwrap()
}

async fn branch_page(app: &TestApp, conversation_id: Uuid, query: &str) -> Vec<MessageItem> {
    app.get_json(&format!(
        "/api/conversations/{conversation_id}/branch{query}"
    ))
    .await
}

fn said(items: &[MessageItem]) -> Vec<String> {
    items
        .iter()
        .map(|i| i.message.content.trim_start_matches("Message ").to_owned())
        .collect()
}

fn markers(range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|i| format!("m{i:03}x")).collect()
}

#[tokio::test]
async fn a_long_branch_opens_on_its_newest_page_and_load_earlier_reads_the_rest_in_order() {
    let app = spawn_app().await;
    app.register("long@example.com").await;
    let id = long_conversation(&app.client, &app, 130).await;

    // The page shows the newest 50 messages and offers the earlier ones.
    let html = app.get(&format!("/c/{id}")).await.text().await.unwrap();
    assert!(
        html.contains("m080x") && html.contains("m129x"),
        "the newest page"
    );
    assert!(!html.contains("m079x"), "nothing above the newest page");
    assert!(html.contains("Load earlier messages"));

    // What the island shows after a switch: the same page.
    let newest = branch_page(&app, id, "").await;
    assert_eq!(said(&newest), markers(80..130));
    // Each message knows its versions, read for the page alone.
    let versions = |items: &[MessageItem], i: usize| {
        (
            items[i].message.sibling_index,
            items[i].message.sibling_count,
        )
    };
    assert_eq!(
        versions(&newest, 20),
        (2, 2),
        "message 100 and its older version"
    );
    assert_eq!(versions(&newest, 21), (1, 1));
    // "Load earlier", page after page, until the first message (which has no parent).
    let earlier = branch_page(&app, id, &format!("?before={}", newest[0].message.id)).await;
    assert_eq!(said(&earlier), markers(30..80));
    assert!(earlier[0].message.parent_id.is_some(), "more above");
    let first = branch_page(&app, id, &format!("?before={}", earlier[0].message.id)).await;
    assert_eq!(said(&first), markers(0..30));
    assert_eq!(first[0].message.parent_id, None, "the first message");
    let none = branch_page(&app, id, &format!("?before={}", first[0].message.id)).await;
    assert!(none.is_empty());
    assert_eq!(
        said(
            &branch_page(
                &app,
                id,
                &format!("?before={}&limit=5", earlier[0].message.id)
            )
            .await
        ),
        markers(25..30)
    );

    // Reaching back to a message: the page opened from the search, the version switched to.
    let m010 = first[10].message.id;
    let through = branch_page(&app, id, &format!("?through={m010}")).await;
    assert_eq!(said(&through), markers(9..130));
    let opened = app
        .get(&format!("/c/{id}?message={m010}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(opened.contains("m009x") && opened.contains("m129x"));
    assert!(!opened.contains("m008x"));

    // Bad limits are refused; another user's messages are not found.
    for limit in ["0", "1001", "many"] {
        let response = app
            .get(&format!("/api/conversations/{id}/branch?limit={limit}"))
            .await;
        assert_eq!(response.status(), 400, "limit={limit}");
    }
    let other = app.register_person("other-long@example.com").await;
    let theirs = long_conversation(&other.client, &app, 4).await;
    let response = app
        .get(&format!("/api/conversations/{id}/branch?before={theirs}"))
        .await;
    assert_eq!(response.status(), 404);
    let get = |path: String| other.client.get(app.url(&path)).send();
    let their_messages: Page<MessageView> = json_body(
        get(format!("/api/conversations/{theirs}/messages"))
            .await
            .unwrap(),
    )
    .await;
    let response = app
        .get(&format!(
            "/api/conversations/{id}/branch?before={}",
            their_messages.items[1].id
        ))
        .await;
    assert_eq!(response.status(), 404);

    // A short conversation shows whole, with nothing to load.
    let html = get(format!("/c/{theirs}"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("m000x") && html.contains("m003x"));
    assert!(!html.contains("Load earlier messages"));
}
