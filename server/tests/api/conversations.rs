//! Conversations and messages through the public API with the offline demo provider: the
//! routes, ownership, the event sequence, stop, start-up recovery, and concurrency.

use app::wire::{
    ConversationView, Event, MessageStatus, MessageView, ModelView, Page, ProviderId, Role,
};
use std::time::Duration;

use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::{json, Value};
use server::{
    chat::{provider::demo::reply_to, recovery::INTERRUPTED_ERROR},
    db::entities::{messages, usage_logs},
};
use uuid::Uuid;

use crate::helpers::{error_code, spawn_app, spawn_app_with, start_server, Person, TestApp};

#[tokio::test]
async fn with_no_keys_a_new_user_gets_the_offline_demo_and_its_reply() {
    let app = spawn_app_with(&[("DEMO_WORD_DELAY", "0ms")]).await;
    app.register("new@example.com").await;
    let models = app.get_json::<Page<ModelView>>("/api/models").await.items;
    assert_eq!(
        models.iter().map(|m| m.model.as_str()).collect::<Vec<_>>(),
        ["demo-offline", "demo-brief"],
        "only the demos without keys, the full one first (the default)"
    );
    assert!(models.iter().all(|m| m.provider == ProviderId::Demo));
    assert!(models[0].display_name.contains("Offline demo"));

    // An empty object: a new chat with the user's defaults.
    let response = app
        .client
        .post(app.url("/api/conversations"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let conversation: ConversationView = response.json().await.unwrap();
    assert_eq!(conversation.provider, ProviderId::Demo);
    assert_eq!(conversation.title, "New chat");

    let sent = app.send(conversation.id, "What can you do?").await;
    let reply = app
        .wait_for_reply(conversation.id, sent.assistant_message.id)
        .await;
    assert_eq!(reply.status, MessageStatus::Complete);
    assert_eq!(reply.content, reply_to("What can you do?"));
    assert_eq!(reply.model.as_deref(), Some("demo-offline"));
    assert_eq!(reply.cost_micros, 0);
    assert!(reply.completion_tokens > 100);
    assert!(reply.prompt_tokens > 0);
    let conversation = app.conversation(conversation.id).await;
    assert_eq!(conversation.title, "What can you do?");
    assert_eq!(conversation.total_tokens, reply.total_tokens);
}

#[tokio::test]
async fn models_of_configured_providers_are_offered_with_prices() {
    let app = spawn_app_with(&[("ANTHROPIC_API_KEY", "k")]).await;
    app.register("a@example.com").await;
    let models = app.get_json::<Page<ModelView>>("/api/models").await.items;
    let providers: Vec<&str> = models.iter().map(|m| m.provider.as_str()).collect();
    assert!(providers.contains(&"anthropic") && providers.contains(&"demo"));
    assert!(!providers.contains(&"openai") && !providers.contains(&"google"));
    let sonnet = models
        .iter()
        .find(|m| m.model == "claude-sonnet-4-5")
        .unwrap();
    assert_eq!(sonnet.input_micros_per_mtok, 3_000_000);
    assert_eq!(sonnet.context_window, 200_000);
    // A model whose provider has no key cannot be chosen.
    let response = app
        .post_json(
            "/api/conversations",
            json!({"provider": "openai", "model": "gpt-4o"}),
        )
        .await;
    assert_eq!(response.status(), 422);
    assert_eq!(error_code(response).await, "model_unavailable");
}

#[tokio::test]
async fn the_event_feed_carries_created_streaming_and_updated_in_order() {
    let app = spawn_app_with(&[("DEMO_WORD_DELAY", "1ms")]).await;
    app.register("events@example.com").await;
    let conversation = app.create_conversation(json!({})).await;
    let mut feed = app.chat.bus.subscribe_conversation(conversation.id);
    let sent = app.send(conversation.id, "Tell me something").await;
    let reply = app
        .wait_for_reply(conversation.id, sent.assistant_message.id)
        .await;

    let mut events = Vec::new();
    while let Ok(event) = tokio::time::timeout(Duration::from_millis(500), feed.recv()).await {
        let event = event.unwrap();
        let done = matches!(event.event, Event::MessageUpdated { .. });
        // What goes to sockets is the event's JSON, and it decodes back to the same event.
        assert_eq!(
            serde_json::from_str::<Event>(&event.json).unwrap(),
            event.event
        );
        events.push(event.event.clone());
        if done {
            break;
        }
    }
    let message = |event: &Event| -> MessageView {
        match event {
            Event::MessageCreated { data, .. } | Event::MessageUpdated { data, .. } => data.clone(),
            other => panic!("expected a message event, got {other:?}"),
        }
    };
    assert!(matches!(events[0], Event::MessageCreated { .. }));
    assert_eq!(message(&events[0]).role, Role::User);
    assert!(matches!(events[1], Event::MessageCreated { .. }));
    assert_eq!(message(&events[1]).status, MessageStatus::Streaming);
    let deltas = &events[2..events.len() - 1];
    assert!(deltas.len() > 50);
    let mut text = String::new();
    for (i, event) in deltas.iter().enumerate() {
        let Event::MessageStreaming { seq, data, .. } = event else {
            panic!("expected a delta, got {event:?}");
        };
        assert_eq!(*seq, i as u64 + 1, "seq increases by one");
        let app::wire::StreamDelta::Answer { delta } = data else {
            panic!("this prompt has no reasoning, got {data:?}");
        };
        text.push_str(delta);
    }
    assert_eq!(text, reply.content, "the deltas add up to the stored reply");
    let last = events.last().unwrap();
    assert!(matches!(last, Event::MessageUpdated { .. }));
    assert_eq!(message(last).status, MessageStatus::Complete);
}

#[tokio::test]
async fn stop_keeps_the_partial_reply_as_stopped_and_books_its_usage() {
    let app = spawn_app_with(&[
        ("DEMO_WORD_DELAY", "40ms"),
        ("STREAM_FLUSH_INTERVAL", "50ms"),
    ])
    .await;
    app.register("stop@example.com").await;
    let conversation = app.create_conversation(json!({})).await;
    let sent = app.send(conversation.id, "Write a lot").await;
    let reply_id = sent.assistant_message.id;
    // Let a few words arrive.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let response = app
        .client
        .post(app.url(&format!("/api/messages/{reply_id}/stop")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let stopped: MessageView = response.json().await.unwrap();
    assert_eq!(stopped.status, MessageStatus::Stopped);
    let partial = stopped.content.as_str();
    let full = reply_to("Write a lot");
    assert!(
        !partial.is_empty() && partial.len() < full.len(),
        "partial: {partial:?}"
    );
    assert!(full.starts_with(partial));
    assert!(stopped.completion_tokens > 0);
    let logs = usage_logs::Entity::find()
        .filter(usage_logs::Column::MessageId.eq(reply_id))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(logs.len(), 1);
    // It stays stopped: the task does not go on writing.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let stored = app.wait_for_reply(conversation.id, reply_id).await;
    assert_eq!(stored.content, stopped.content);
    // Stopping again is harmless.
    let again = app
        .client
        .post(app.url(&format!("/api/messages/{reply_id}/stop")))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 200);
}

#[tokio::test]
async fn replies_left_streaming_by_a_dead_server_become_interrupted_at_the_next_start() {
    let app = spawn_app().await;
    app.register("crash@example.com").await;
    let conversation = app.create_conversation(json!({})).await;
    let user_id = server::db::entities::users::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .id;
    // What a killed server leaves behind: a reply still marked streaming, with flushed text.
    let now = server::db::now();
    let orphan = messages::ActiveModel {
        id: Set(Uuid::now_v7()),
        conversation_id: Set(conversation.id),
        user_id: Set(user_id),
        parent_id: Set(None),
        role: Set(Role::Assistant),
        content: Set("Half of what I was say".into()),
        reasoning: Set(None),
        status: Set(MessageStatus::Streaming),
        stream_chunks: Set(Some(json!([4, 3, 5]))),
        prompt_tokens: Set(0),
        completion_tokens: Set(0),
        total_tokens: Set(0),
        cached_tokens: Set(0),
        reasoning_tokens: Set(0),
        cost_micros: Set(0),
        input_micros_per_mtok: Set(Some(0)),
        cached_input_micros_per_mtok: Set(Some(0)),
        output_micros_per_mtok: Set(Some(0)),
        provider: Set(Some(ProviderId::Demo)),
        model: Set(Some("demo-offline".into())),
        error: Set(None),
        content_html: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        imported: Set(false),
        content_tokens: Set(None),
    }
    .insert(&app.db)
    .await
    .unwrap();

    let _restarted = start_server(&app.data_dir, &app.database_url, &[]).await;

    let stored = app.wait_for_reply(conversation.id, orphan.id).await;
    assert_eq!(stored.status, MessageStatus::Interrupted);
    assert_eq!(stored.content, "Half of what I was say");
    assert_eq!(stored.error.as_deref(), Some(INTERRUPTED_ERROR));
}

#[tokio::test]
async fn another_users_conversation_and_messages_answer_404() {
    let app = spawn_app_with(&[("DEMO_WORD_DELAY", "0ms")]).await;
    app.register("owner@example.com").await;
    let conversation = app.create_conversation(json!({"title": "Private"})).await;
    let sent = app.send(conversation.id, "secret").await;
    let conversation_path = format!("/api/conversations/{}", conversation.id);

    let Person {
        client: intruder,
        token,
    } = app.register_person("intruder@example.com").await;
    let as_intruder = |method: reqwest::Method, path: &str| {
        intruder.request(method, app.url(path)).bearer_auth(&token)
    };
    for (method, path, body) in [
        (reqwest::Method::GET, conversation_path.clone(), None),
        (
            reqwest::Method::PATCH,
            conversation_path.clone(),
            Some(json!({"title": "mine now"})),
        ),
        (reqwest::Method::DELETE, conversation_path.clone(), None),
        (
            reqwest::Method::GET,
            format!("{conversation_path}/messages"),
            None,
        ),
        (
            reqwest::Method::POST,
            format!("{conversation_path}/messages"),
            Some(json!({"content": "hi"})),
        ),
        (
            reqwest::Method::POST,
            format!("/api/messages/{}/stop", sent.assistant_message.id),
            None,
        ),
    ] {
        let mut request = as_intruder(method.clone(), &path);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 404, "{method} {path}");
    }
    let listed: Page<ConversationView> = as_intruder(reqwest::Method::GET, "/api/conversations")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed.items, []);
    // Untouched for the owner.
    assert_eq!(app.conversation(conversation.id).await.title, "Private");
    assert_eq!(app.get("/api/conversations/not-a-uuid").await.status(), 404);
}

#[tokio::test]
async fn conversations_are_listed_newest_first_in_pages_and_can_be_changed_and_deleted() {
    let app = spawn_app_with(&[("DEMO_WORD_DELAY", "0ms")]).await;
    app.register("pages@example.com").await;
    let mut ids = Vec::new();
    for title in ["one", "two", "three"] {
        ids.push(app.create_conversation(json!({"title": title})).await.id);
    }
    let first: Page<ConversationView> = app.get_json("/api/conversations?limit=2").await;
    let titles: Vec<&str> = first.items.iter().map(|c| c.title.as_str()).collect();
    assert_eq!(titles, ["three", "two"]);
    let cursor = first.next_cursor.unwrap();
    let second: Page<ConversationView> = app
        .get_json(&format!("/api/conversations?limit=2&cursor={cursor}"))
        .await;
    assert_eq!(second.items[0].title, "one");
    assert_eq!(second.next_cursor, None);

    let response = app
        .client
        .patch(app.url(&format!("/api/conversations/{}", ids[0])))
        .json(&json!({"title": "renamed", "temperature": 0.2, "max_tokens": 500, "system_prompt": "Be terse."}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let changed: ConversationView = response.json().await.unwrap();
    assert_eq!(
        (changed.title.as_str(), changed.temperature),
        ("renamed", 0.2)
    );
    assert_eq!(changed.max_tokens, 500);
    assert_eq!(changed.system_prompt.as_deref(), Some("Be terse."));
    let bad = app
        .client
        .patch(app.url(&format!("/api/conversations/{}", ids[0])))
        .json(&json!({"temperature": 3.5}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);

    // Deleting keeps the usage on the books.
    let sent = app.send(ids[1], "hello").await;
    let reply = app.wait_for_reply(ids[1], sent.assistant_message.id).await;
    let response = app
        .client
        .delete(app.url(&format!("/api/conversations/{}", ids[1])))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    assert_eq!(
        app.get(&format!("/api/conversations/{}", ids[1]))
            .await
            .status(),
        404
    );
    let logs = usage_logs::Entity::find().all(&app.db).await.unwrap();
    assert_eq!(logs.len(), 1);
    assert_eq!(logs[0].total_tokens, reply.total_tokens);
}

#[tokio::test]
async fn empty_and_oversized_messages_are_refused_with_a_reason() {
    let app = spawn_app().await;
    app.register("v@example.com").await;
    let conversation = app.create_conversation(json!({})).await;
    let path = format!("/api/conversations/{}/messages", conversation.id);
    let response = app.post_json(&path, json!({"content": "   "})).await;
    assert_eq!(response.status(), 422);
    assert_eq!(error_code(response).await, "invalid_content");
    let response = app
        .post_json(&path, json!({"content": "x".repeat(100_001)}))
        .await;
    assert_eq!(response.status(), 422);
    let response = app.post_json(&path, json!({"nothing": true})).await;
    assert_eq!(response.status(), 400);
    assert!(app.messages(conversation.id).await.is_empty());
}

/// 100 sends at once across 10 conversations of 2 users: every message stored once, every
/// total equal to the sum of its messages.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_concurrent_sends_lose_nothing_and_totals_add_up() {
    let app = spawn_app_with(&[("DEMO_WORD_DELAY", "0ms")]).await;
    let second = app.register_person("second@example.com").await.client;
    app.register("first@example.com").await;
    let mut conversations = Vec::new();
    for i in 0..10 {
        let client = if i % 2 == 0 { &app.client } else { &second };
        let response = client
            .post(app.url("/api/conversations"))
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        let conversation: ConversationView = response.json().await.unwrap();
        conversations.push((client.clone(), conversation.id));
    }
    let mut sends = Vec::new();
    for n in 0..100 {
        let (client, conversation_id) = conversations[n % 10].clone();
        let url = app.url(&format!("/api/conversations/{conversation_id}/messages"));
        sends.push(tokio::spawn(async move {
            let response = client
                .post(url)
                .json(&json!({"content": format!("message {n}")}))
                .send()
                .await
                .unwrap();
            assert_eq!(
                response.status(),
                202,
                "{}",
                response.text().await.unwrap_or_default()
            );
        }));
    }
    for send in sends {
        send.await.unwrap();
    }

    for (index, (client, conversation_id)) in conversations.iter().enumerate() {
        let get = |path: String| client.get(app.url(&path)).send();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        let messages = loop {
            let page: Page<MessageView> = get(format!(
                "/api/conversations/{conversation_id}/messages?limit=1000"
            ))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
            if page
                .items
                .iter()
                .all(|m| m.status != MessageStatus::Streaming)
            {
                break page.items;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "replies still streaming"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert_eq!(
            messages.len(),
            20,
            "10 prompts and 10 replies in conversation {index}"
        );
        let mut prompts: Vec<String> = messages
            .iter()
            .filter(|m| m.role == Role::User)
            .map(|m| m.content.clone())
            .collect();
        prompts.sort();
        let mut expected: Vec<String> = (0..100)
            .filter(|n| n % 10 == index)
            .map(|n| format!("message {n}"))
            .collect();
        expected.sort();
        assert_eq!(prompts, expected);
        assert!(messages
            .iter()
            .filter(|m| m.role == Role::Assistant)
            .all(|m| m.status == MessageStatus::Complete));
        let conversation: ConversationView = get(format!("/api/conversations/{conversation_id}"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(conversation.message_count, 20);
        let sum = |field: fn(&MessageView) -> i64| messages.iter().map(field).sum::<i64>();
        assert_eq!(
            (
                conversation.prompt_tokens,
                conversation.completion_tokens,
                conversation.total_tokens,
                conversation.cost_micros
            ),
            (
                sum(|m| m.prompt_tokens),
                sum(|m| m.completion_tokens),
                sum(|m| m.total_tokens),
                sum(|m| m.cost_micros)
            ),
            "prompt, completion and total tokens and cost of conversation {index}"
        );
    }
    let logs = usage_logs::Entity::find().all(&app.db).await.unwrap();
    assert_eq!(logs.len(), 100);
}

#[tokio::test]
async fn the_markdown_and_highlighting_settings_change_how_a_finished_reply_renders() {
    let app = spawn_app_with(&[("DEMO_WORD_DELAY", "0ms")]).await;
    app.register("render@example.com").await;
    let conversation = app.create_conversation(json!({})).await;
    let sent = app.send(conversation.id, "Render me").await;
    let reply_id = sent.assistant_message.id;
    app.wait_for_reply(conversation.id, reply_id).await;
    let html = |app: &TestApp| {
        let url = app.url(&format!("/api/messages/{reply_id}/html"));
        let client = app.client.clone();
        async move {
            let body: Value = client.get(url).send().await.unwrap().json().await.unwrap();
            body["html"].as_str().unwrap().to_owned()
        }
    };
    let put = |settings: Value| {
        let url = app.url("/api/settings");
        let client = app.client.clone();
        async move {
            let response = client.put(url).json(&settings).send().await.unwrap();
            assert_eq!(response.status(), 200);
        }
    };

    let full = html(&app).await;
    assert!(full.contains("<strong>offline demo</strong>"), "{full}");
    assert!(full.contains("hl-"), "code is highlighted");

    put(json!({"code_highlight": false})).await;
    let plain_code = html(&app).await;
    assert!(plain_code.contains("<strong>offline demo</strong>"));
    assert!(plain_code.contains("class=\"code-block\"") && !plain_code.contains("hl-"));

    put(json!({"markdown": false})).await;
    let text = html(&app).await;
    assert!(
        text.contains("**offline demo**") && !text.contains("<strong>"),
        "{text}"
    );
    assert!(!text.contains("<script"));
}

/// Found by the API fuzzer: a send whose conversation is deleted between the ownership check
/// and the write failed the insert's foreign key and answered 500. The conversation is gone:
/// 404 (or 202 when the send won), and the server logs no error.
#[tokio::test]
async fn a_send_racing_the_delete_of_its_conversation_is_a_404_not_a_500() {
    let app = spawn_app_with(&[("DEMO_WORD_DELAY", "0ms")]).await;
    app.register("racer@example.com").await;
    for _ in 0..30 {
        let conversation = app.create_conversation(json!({})).await;
        let url = app.url(&format!("/api/conversations/{}", conversation.id));
        let send = app
            .client
            .post(format!("{url}/messages"))
            .json(&json!({ "content": "hello" }))
            .send();
        let delete = app.client.delete(&url).send();
        let (sent, deleted) = tokio::join!(send, delete);
        assert_eq!(deleted.unwrap().status(), 204);
        let sent = sent.unwrap();
        match sent.status().as_u16() {
            202 => {}
            404 => assert_eq!(error_code(sent).await, "not_found"),
            other => panic!("a send racing a delete answered {other}"),
        }
    }
}
