//! Work per request is bounded: a send in a long conversation reads the model's window, not the
//! conversation; a page of long messages stops at its byte budget; subscribing to and leaving
//! many conversations leaves no channels behind. Runs on SQLite, and on PostgreSQL with
//! TEST_DATABASE_URL.

use std::time::Duration;

use app::wire::{MessageStatus, MessageView, Page, ProviderId, Role, UserView};
use sea_orm::{sea_query::Expr, ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::json;
use server::db::{
    entities::{conversations, messages},
    now,
};
use uuid::Uuid;

use crate::helpers::{spawn_app, spawn_app_with, ws_client::WsClient, TestApp};

fn message(
    conversation_id: Uuid,
    user_id: Uuid,
    role: Role,
    content: String,
) -> messages::ActiveModel {
    let at = now();
    messages::ActiveModel {
        id: Set(Uuid::now_v7()),
        conversation_id: Set(conversation_id),
        user_id: Set(user_id),
        parent_id: Set(None),
        role: Set(role),
        content: Set(content),
        reasoning: Set(None),
        status: Set(MessageStatus::Complete),
        stream_chunks: Set(None),
        prompt_tokens: Set(0),
        completion_tokens: Set(0),
        total_tokens: Set(0),
        cached_tokens: Set(0),
        reasoning_tokens: Set(0),
        cost_micros: Set(0),
        input_micros_per_mtok: Set(None),
        cached_input_micros_per_mtok: Set(None),
        output_micros_per_mtok: Set(None),
        provider: Set(None),
        model: Set(None),
        error: Set(None),
        content_html: Set(None),
        created_at: Set(at),
        updated_at: Set(at),
        imported: Set(false),
        content_tokens: Set(None),
    }
}

/// Writes `count` messages of about `bytes` each straight into the database, alternating
/// user and assistant, and returns their total size.
async fn fill(
    app: &TestApp,
    conversation_id: Uuid,
    user_id: Uuid,
    count: usize,
    bytes: usize,
) -> usize {
    let mut total = 0;
    // One branch: each message follows the one before it.
    let mut parent = None;
    let rows: Vec<messages::ActiveModel> = (0..count)
        .map(|i| {
            let role = if i % 2 == 0 {
                Role::User
            } else {
                Role::Assistant
            };
            let content = format!("{i} {}", "word ".repeat(bytes / 5));
            total += content.len();
            let mut row = message(conversation_id, user_id, role, content);
            row.parent_id = Set(parent);
            parent = Some(row.id.clone().unwrap());
            row
        })
        .collect();
    for chunk in rows.chunks(500) {
        messages::Entity::insert_many(chunk.to_vec())
            .exec(&app.db)
            .await
            .unwrap();
    }
    let mut conversation: conversations::ActiveModel =
        conversations::Entity::find_by_id(conversation_id)
            .one(&app.db)
            .await
            .unwrap()
            .unwrap()
            .into();
    conversation.message_count = Set(count as i32);
    conversation.current_leaf_id = Set(parent);
    conversation.update(&app.db).await.unwrap();
    total
}

#[tokio::test]
async fn a_send_in_a_conversation_of_5000_long_messages_reads_only_the_window() {
    let app = spawn_app_with(&[("DEMO_WORD_DELAY", "0ms")]).await;
    app.register("long@example.com").await;
    let me: UserView = app.get_json("/api/me").await;
    // The demo model: a 128,000-token window, replies of up to 4,096 tokens.
    let conversation = app.create_conversation(json!({})).await;
    assert_eq!(conversation.provider, ProviderId::Demo);
    let total = fill(&app, conversation.id, me.id, 5_000, 2_000).await;

    let (rows_before, bytes_before) = (
        app.chat.history_reads.rows(),
        app.chat.history_reads.bytes(),
    );
    let sent = app.send(conversation.id, "And what comes next?").await;
    let rows = app.chat.history_reads.rows() - rows_before;
    let bytes = app.chat.history_reads.bytes() - bytes_before;
    // About 310 messages of ~400 tokens fill the window; reading stops within a page of it.
    assert!(rows < 500, "read {rows} of 5,000 rows");
    assert!(bytes < 1_500_000, "read {bytes} of {total} bytes");

    // The reply is past the first page of 5,000 messages: read it by its id.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let reply = loop {
        let reply = app
            .chat
            .owned_message(me.id, sent.assistant_message.id)
            .await
            .unwrap();
        if reply.status != MessageStatus::Streaming {
            break reply;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "reply still streaming"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(reply.status, MessageStatus::Complete, "{:?}", reply.error);
    // The demo reports the context it got: the window was filled, not starved.
    assert!(
        reply.prompt_tokens > 100_000 && reply.prompt_tokens <= 128_000 - 4_096,
        "context of {} tokens",
        reply.prompt_tokens
    );
}

#[tokio::test]
async fn a_send_tokenises_only_its_own_message_the_history_has_stored_counts() {
    let app = spawn_app_with(&[("DEMO_WORD_DELAY", "0ms")]).await;
    app.register("counts@example.com").await;
    let conversation = app.create_conversation(json!({})).await;
    for question in [
        "What is one?",
        "And two?",
        "And three, in more words than that?",
    ] {
        let sent = app.send(conversation.id, question).await;
        app.wait_for_reply(conversation.id, sent.assistant_message.id)
            .await;
    }
    // Each message was stored with our tokenizer's count of its text.
    let stored = messages::Entity::find()
        .filter(messages::Column::ConversationId.eq(conversation.id))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(stored.len(), 6);
    for message in &stored {
        assert_eq!(
            message.content_tokens,
            Some(server::chat::tokenizer::count(&message.content)),
            "{:?}: {:?}",
            message.role,
            message.content
        );
    }

    let (rows_before, uncounted_before) = (
        app.chat.history_reads.rows(),
        app.chat.history_reads.uncounted(),
    );
    let sent = app.send(conversation.id, "And four?").await;
    app.wait_for_reply(conversation.id, sent.assistant_message.id)
        .await;
    assert_eq!(app.chat.history_reads.rows() - rows_before, 6);
    assert_eq!(
        app.chat.history_reads.uncounted() - uncounted_before,
        0,
        "the history was tokenised again"
    );

    // A message without a count (stored before the column, or imported) is counted when read,
    // and the context comes out the same.
    let first = stored.iter().min_by_key(|m| m.id).unwrap();
    messages::Entity::update_many()
        .col_expr(
            messages::Column::ContentTokens,
            Expr::value(Option::<i64>::None),
        )
        .filter(messages::Column::Id.eq(first.id))
        .exec(&app.db)
        .await
        .unwrap();
    let uncounted_before = app.chat.history_reads.uncounted();
    let again = app
        .post_json(
            &format!("/api/messages/{}/regenerate", sent.assistant_message.id),
            json!({}),
        )
        .await;
    assert!(again.status().is_success(), "{}", again.status());
    assert_eq!(app.chat.history_reads.uncounted() - uncounted_before, 1);
    let replies: Vec<messages::Model> = messages::Entity::find()
        .filter(messages::Column::ParentId.eq(sent.user_message.id))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(replies.len(), 2);
    for reply in &replies {
        app.wait_for_reply(conversation.id, reply.id).await;
    }
    let prompts: Vec<i64> = messages::Entity::find()
        .filter(messages::Column::ParentId.eq(sent.user_message.id))
        .all(&app.db)
        .await
        .unwrap()
        .iter()
        .map(|reply| reply.prompt_tokens)
        .collect();
    assert_eq!(
        prompts[0], prompts[1],
        "the same context, counted either way"
    );
}

#[tokio::test]
async fn a_page_of_long_messages_stops_at_its_byte_budget_and_goes_on_by_cursor() {
    let app = spawn_app().await;
    app.register("pages@example.com").await;
    let me: UserView = app.get_json("/api/me").await;
    let conversation = app.create_conversation(json!({})).await;
    // 30 messages of 500 kB: 15 MB, over three times a page's 4 MiB.
    fill(&app, conversation.id, me.id, 30, 500_000).await;
    let path = format!("/api/conversations/{}/messages?limit=1000", conversation.id);
    let first: Page<MessageView> = app.get_json(&path).await;
    assert!(
        !first.items.is_empty() && first.items.len() < 10,
        "{} messages in a page",
        first.items.len()
    );
    let mut seen = first.items.len();
    let mut cursor = first.next_cursor;
    while let Some(after) = cursor {
        let page: Page<MessageView> = app.get_json(&format!("{path}&cursor={after}")).await;
        assert!(page.items.len() < 10);
        seen += page.items.len();
        cursor = page.next_cursor;
    }
    assert_eq!(seen, 30, "every message is reachable by cursor");
}

#[tokio::test]
async fn ten_thousand_subscribe_unsubscribe_cycles_leave_the_channel_count_where_it_was() {
    // 20,000 frames as fast as the socket takes them: past the per-socket frame limit.
    let app = spawn_app_with(&[("WS_FRAMES_PER_SECOND", "0")]).await;
    let token = app.register("channels@example.com").await;
    let me: UserView = app.get_json("/api/me").await;
    let at = now();
    let ids: Vec<Uuid> = (0..10_000).map(|_| Uuid::now_v7()).collect();
    let rows: Vec<conversations::ActiveModel> = ids
        .iter()
        .map(|&id| conversations::ActiveModel {
            id: Set(id),
            user_id: Set(me.id),
            title: Set("Many".into()),
            provider: Set(ProviderId::Demo),
            model: Set("demo-offline".into()),
            temperature: Set(0.7),
            max_tokens: Set(100),
            system_prompt: Set(None),
            current_leaf_id: Set(None),
            thinking_budget_tokens: Set(None),
            message_count: Set(0),
            prompt_tokens: Set(0),
            completion_tokens: Set(0),
            total_tokens: Set(0),
            cost_micros: Set(0),
            content_bytes: Set(0),
            created_at: Set(at),
            updated_at: Set(at),
            ..Default::default()
        })
        .collect();
    for chunk in rows.chunks(1_000) {
        conversations::Entity::insert_many(chunk.to_vec())
            .exec(&app.db)
            .await
            .unwrap();
    }

    let mut socket = WsClient::connect(&app.address, &token).await;
    socket.send(json!({"type": "ping"})).await;
    socket
        .until(Duration::from_secs(5), |f| f["type"] == "pong")
        .await;
    let at_start = app.chat.bus.channel_count();
    let mut peak = 0;
    // In batches (a socket holds at most 64 subscriptions): subscribe, wait for each
    // `subscribed`, then leave them all.
    for batch in ids.chunks(50) {
        for id in batch {
            socket.subscribe(*id, json!({})).await;
        }
        let mut subscribed = 0;
        while subscribed < batch.len() {
            let frame = socket
                .next_json(Duration::from_secs(10))
                .await
                .expect("subscribed");
            assert_eq!(frame["type"], "subscribed", "{frame}");
            subscribed += 1;
        }
        peak = peak.max(app.chat.bus.channel_count());
        for id in batch {
            socket
                .send(json!({"type": "unsubscribe", "conversation_id": id}))
                .await;
        }
    }
    assert!(
        peak >= at_start + 50,
        "subscriptions made channels ({peak})"
    );
    socket.send(json!({"type": "ping"})).await;
    socket
        .until(Duration::from_secs(5), |f| f["type"] == "pong")
        .await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while app.chat.bus.channel_count() > at_start {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} channels left, {at_start} at the start",
            app.chat.bus.channel_count()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(app.chat.bus.channel_count(), at_start);
}
