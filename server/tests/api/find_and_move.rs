//! Finding and moving through the public API: full-text search over every branch of the
//! user's own messages (right after sends, replies, edits and deletes, with no reindexing),
//! pinning and archiving, presets, and export → import (ours and ChatGPT's), idempotent and
//! all-or-nothing for a malformed file.

use std::collections::HashMap;

use app::wire::{ConversationView, ImportSummary, MessageView, Page, PresetView, Role, SearchHit};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{
    error_code,
    fake_upstream::{openai_reply, FakeUpstream, Script},
    json_body, spawn_app, spawn_app_with, Person, TestApp,
};

async fn search(app: &TestApp, q: &str) -> Vec<SearchHit> {
    let q = urlencode(q);
    let page: Page<SearchHit> = app.get_json(&format!("/api/search?q={q}")).await;
    page.items
}

/// The questions found (the offline demo's replies quote the question, so they match too).
async fn questions(app: &TestApp, q: &str) -> Vec<SearchHit> {
    let mut hits = search(app, q).await;
    hits.retain(|h| h.role == Role::User);
    hits
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn marked(hit: &SearchHit) -> Vec<&str> {
    hit.highlights
        .iter()
        .map(|[a, b]| &hit.snippet[*a as usize..*b as usize])
        .collect()
}

/// Sends and waits for the reply: (question, reply).
async fn exchange(
    app: &TestApp,
    conversation_id: Uuid,
    content: &str,
) -> (MessageView, MessageView) {
    let sent = app.send(conversation_id, content).await;
    let reply = app
        .wait_for_reply(conversation_id, sent.assistant_message.id)
        .await;
    (sent.user_message, reply)
}

async fn edit(
    app: &TestApp,
    conversation_id: Uuid,
    parent: Option<Uuid>,
    content: &str,
) -> MessageView {
    let response = app
        .post_json(
            &format!("/api/conversations/{conversation_id}/messages"),
            json!({ "content": content, "parent_id": parent }),
        )
        .await;
    assert_eq!(response.status(), 202, "an edit");
    let sent: app::wire::SendResponse = json_body(response).await;
    app.wait_for_reply(conversation_id, sent.assistant_message.id)
        .await;
    sent.user_message
}

#[tokio::test]
async fn search_finds_every_word_on_every_branch_of_ones_own_messages_and_follows_changes() {
    let app = spawn_app().await;
    app.register("finder@example.com").await;
    let other: Person = app.register_person("other@example.com").await;
    let conversation = app.create_conversation(json!({"title": "Foxes"})).await;
    let (fox, _) = exchange(
        &app,
        conversation.id,
        "The quick brown fox jumps over the dog",
    )
    .await;
    exchange(&app, conversation.id, "A brown loaf of bread").await;
    // The same words in someone else's conversation are never found.
    let theirs: ConversationView = json_body(
        other
            .client
            .post(app.url("/api/conversations"))
            .json(&json!({}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let response = other
        .client
        .post(app.url(&format!("/api/conversations/{}/messages", theirs.id)))
        .json(&json!({"content": "brown fox secret"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);

    // Every word must match; case does not matter; the last word is also a prefix.
    let hits = questions(&app, "BROWN fox").await;
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0].message_id, fox.id);
    assert_eq!(hits[0].conversation_id, conversation.id);
    assert_eq!(hits[0].conversation_title, "Foxes");
    assert_eq!(hits[0].role, Role::User);
    assert_eq!(hits[0].snippet, "The quick brown fox jumps over the dog");
    assert_eq!(marked(&hits[0]), ["brown", "fox"]);
    assert_eq!(questions(&app, "brown ju").await.len(), 1, "a prefix");
    assert!(
        questions(&app, "brow fox").await.is_empty(),
        "only the last word is a prefix"
    );
    assert!(
        questions(&app, "secret").await.is_empty(),
        "another user's words"
    );
    // Newest first.
    let both = questions(&app, "brown").await;
    assert_eq!(both.len(), 2);
    assert_eq!(both[0].snippet, "A brown loaf of bread");

    // An edit keeps the old question (now on an abandoned branch) findable, and finds the new.
    let edited = edit(&app, conversation.id, fox.parent_id, "The quick purple fox").await;
    let old = questions(&app, "jumps").await;
    assert_eq!(old.len(), 1, "the old branch's question is found");
    assert_eq!(old[0].message_id, fox.id);
    assert_eq!(questions(&app, "purple").await[0].message_id, edited.id);
    // Opening the hit shows its branch.
    let response = app
        .client
        .put(app.url(&format!("/api/conversations/{}/current", conversation.id)))
        .json(&json!({"message_id": old[0].message_id}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let shown = app.messages(conversation.id).await;
    assert!(
        shown.iter().any(|m| m.id == fox.id),
        "the hit's branch is shown"
    );

    // A deleted message is gone from the results at once; so is a deleted conversation's.
    let response = app
        .client
        .delete(app.url(&format!("/api/messages/{}", edited.id)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(questions(&app, "purple").await.is_empty());
    let response = app
        .client
        .delete(app.url(&format!("/api/conversations/{}", conversation.id)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    assert!(questions(&app, "brown").await.is_empty());

    // A query with no word is refused clearly.
    let response = app.get("/api/search?q=%20--%20").await;
    assert_eq!(response.status(), 422);
    assert_eq!(error_code(response).await, "invalid_query");
}

#[tokio::test]
async fn a_reply_is_found_once_it_is_written_and_results_come_in_pages() {
    let usage = json!({"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12});
    let (_fake, base) = FakeUpstream::start(vec![Script::sse(openai_reply(
        &["Zebras ", "cross here"],
        Some(usage),
    ))])
    .await;
    let app = spawn_app_with(&[
        ("OPENAI_API_KEY", "sk-test-key"),
        ("OPENAI_BASE_URL", &format!("{base}/v1")),
    ])
    .await;
    app.register("pages@example.com").await;
    let conversation = app
        .create_conversation(json!({"provider": "openai", "model": "gpt-4o"}))
        .await;
    for i in 0..3 {
        exchange(&app, conversation.id, &format!("question {i} about zebras")).await;
    }
    let replies = search(&app, "cross").await;
    assert_eq!(replies.len(), 3);
    assert!(replies.iter().all(|h| h.role == Role::Assistant));
    assert_eq!(marked(&replies[0]), ["cross"]);
    // Six hits, two a page, newest first, no repeats.
    let mut seen = Vec::new();
    let mut path = "/api/search?q=zebras&limit=2".to_owned();
    loop {
        let page: Page<SearchHit> = app.get_json(&path).await;
        assert!(page.items.len() <= 2);
        seen.extend(page.items.iter().map(|h| (h.created_at, h.message_id)));
        match page.next_cursor {
            Some(cursor) => path = format!("/api/search?q=zebras&limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 6, "{seen:?}");
    let mut sorted = seen.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(seen, sorted, "newest first across pages");
    let response = app.get("/api/search?q=zebras&cursor=nonsense").await;
    assert_eq!(response.status(), 400);
}

async fn patch(app: &TestApp, id: Uuid, body: Value) -> ConversationView {
    let response = app
        .client
        .patch(app.url(&format!("/api/conversations/{id}")))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "patch {body}");
    json_body(response).await
}

async fn listed(app: &TestApp, query: &str) -> Vec<String> {
    let page: Page<ConversationView> = app.get_json(&format!("/api/conversations{query}")).await;
    page.items.into_iter().map(|c| c.title).collect()
}

#[tokio::test]
async fn pinned_conversations_come_first_and_archived_ones_have_their_own_list() {
    let app = spawn_app().await;
    app.register("organiser@example.com").await;
    let mut made = HashMap::new();
    for title in ["Oldest", "Middle", "Newest"] {
        let c = app.create_conversation(json!({"title": title})).await;
        made.insert(title, c);
    }
    assert_eq!(listed(&app, "").await, ["Newest", "Middle", "Oldest"]);
    let pinned = patch(&app, made["Oldest"].id, json!({"pinned": true})).await;
    assert!(pinned.pinned);
    assert_eq!(
        pinned.updated_at, made["Oldest"].updated_at,
        "pinning is not news"
    );
    assert_eq!(listed(&app, "").await, ["Oldest", "Newest", "Middle"]);
    // Page by page, the order holds across the pinned and the rest.
    let mut titles = Vec::new();
    let mut path = "/api/conversations?limit=1".to_owned();
    loop {
        let page: Page<ConversationView> = app.get_json(&path).await;
        titles.extend(page.items.into_iter().map(|c| c.title));
        match page.next_cursor {
            Some(cursor) => path = format!("/api/conversations?limit=1&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(titles, ["Oldest", "Newest", "Middle"]);

    let archived = patch(&app, made["Newest"].id, json!({"archived": true})).await;
    assert!(archived.archived);
    assert_eq!(listed(&app, "").await, ["Oldest", "Middle"]);
    assert_eq!(listed(&app, "?archived=true").await, ["Newest"]);
    // An archived conversation still opens and can be sent to.
    exchange(&app, made["Newest"].id, "still here").await;
    let response = app.get(&format!("/c/{}", made["Newest"].id)).await;
    assert_eq!(response.status(), 200);
    let page = response.text().await.unwrap();
    assert!(
        page.contains("still here"),
        "the archived conversation's page shows it"
    );
    patch(&app, made["Newest"].id, json!({"archived": false})).await;
    assert_eq!(listed(&app, "").await, ["Oldest", "Newest", "Middle"]);
    let response = app
        .client
        .patch(app.url(&format!("/api/conversations/{}", made["Middle"].id)))
        .json(&json!({"pinned": "yes"}))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_client_error());
}

#[tokio::test]
async fn a_conversation_from_a_preset_takes_its_values_and_its_system_prompt_reaches_the_model() {
    let usage = json!({"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12});
    let (fake, base) =
        FakeUpstream::start(vec![Script::sse(openai_reply(&["Arr."], Some(usage)))]).await;
    let app = spawn_app_with(&[
        ("OPENAI_API_KEY", "sk-test-key"),
        ("OPENAI_BASE_URL", &format!("{base}/v1")),
    ])
    .await;
    app.register("presets@example.com").await;
    let response = app
        .post_json(
            "/api/presets",
            json!({"name": "Pirate", "provider": "openai", "model": "gpt-4o",
                   "temperature": 0.3, "max_tokens": 300, "system_prompt": "You are a pirate."}),
        )
        .await;
    assert_eq!(response.status(), 201);
    let preset: PresetView = json_body(response).await;
    assert_eq!(preset.name, "Pirate");

    // Bad input: a clear 422, nothing stored.
    for (body, code) in [
        (
            json!({"name": " ", "provider": "openai", "model": "gpt-4o"}),
            "invalid_name",
        ),
        (
            json!({"name": "X", "provider": "openai", "model": "nope"}),
            "model_unavailable",
        ),
        (
            json!({"name": "X", "provider": "openai", "model": "gpt-4o", "temperature": 3}),
            "invalid_temperature",
        ),
        (json!({"name": "X"}), "model_unavailable"),
    ] {
        let response = app.post_json("/api/presets", body).await;
        assert_eq!(response.status(), 422);
        assert_eq!(error_code(response).await, code);
    }
    let presets: Vec<PresetView> = app.get_json("/api/presets").await;
    assert_eq!(presets.len(), 1);

    let conversation = app
        .create_conversation(json!({"preset_id": preset.id}))
        .await;
    assert_eq!(conversation.model, "gpt-4o");
    assert_eq!(conversation.temperature, 0.3);
    assert_eq!(conversation.max_tokens, 300);
    assert_eq!(
        conversation.system_prompt.as_deref(),
        Some("You are a pirate.")
    );
    exchange(&app, conversation.id, "Hello").await;
    let request = fake.last_request().body;
    assert_eq!(request["model"], "gpt-4o");
    assert_eq!(request["messages"][0]["role"], "system");
    assert_eq!(request["messages"][0]["content"], "You are a pirate.");
    // Given values win over the preset's.
    let own = app
        .create_conversation(json!({"preset_id": preset.id, "temperature": 1.5}))
        .await;
    assert_eq!(own.temperature, 1.5);
    assert_eq!(own.system_prompt.as_deref(), Some("You are a pirate."));

    // Change, then delete; someone else's preset is not found.
    let response = app
        .client
        .patch(app.url(&format!("/api/presets/{}", preset.id)))
        .json(&json!({"name": "Captain", "system_prompt": ""}))
        .send()
        .await
        .unwrap();
    let changed: PresetView = json_body(response).await;
    assert_eq!(changed.name, "Captain");
    assert_eq!(changed.system_prompt, None);
    assert_eq!(changed.temperature, 0.3);
    let other = app.register_person("other-presets@example.com").await;
    let response = other
        .client
        .get(app.url(&format!("/api/presets/{}", preset.id)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let response = other
        .client
        .post(app.url("/api/conversations"))
        .json(&json!({"preset_id": preset.id}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let response = app
        .client
        .delete(app.url(&format!("/api/presets/{}", preset.id)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    assert!(app
        .get_json::<Vec<PresetView>>("/api/presets")
        .await
        .is_empty());
}

async fn import(client: &reqwest::Client, app: &TestApp, body: Vec<u8>) -> reqwest::Response {
    client
        .post(app.url("/api/import"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap()
}

/// (role, content, parent's content, created_at) of every message, for comparing trees
/// across accounts (ids differ).
fn shape(messages: &[MessageView]) -> Vec<(Role, String, Option<String>, i64)> {
    let by_id: HashMap<Uuid, &MessageView> = messages.iter().map(|m| (m.id, m)).collect();
    let mut shape: Vec<_> = messages
        .iter()
        .map(|m| {
            (
                m.role,
                m.content.clone(),
                m.parent_id.map(|p| by_id[&p].content.clone()),
                m.created_at.timestamp_micros(),
            )
        })
        .collect();
    shape.sort_by(|a, b| (a.3, &a.1).cmp(&(b.3, &b.1)));
    shape
}

#[tokio::test]
async fn an_export_imports_into_another_account_with_its_tree_and_times_once() {
    let app = spawn_app().await;
    app.register("exporter@example.com").await;
    let conversation = app
        .create_conversation(json!({"title": "Travel plans", "system_prompt": "Be helpful."}))
        .await;
    let (first, _) = exchange(&app, conversation.id, "Where to go in May?").await;
    exchange(&app, conversation.id, "And in June?").await;
    // A second branch: the first question edited.
    edit(&app, conversation.id, None, "Where to go in April?").await;
    let original = app.messages_on(conversation.id, "all").await;
    assert_eq!(original.len(), 6);
    let shown = app.messages(conversation.id).await;

    let response = app
        .get(&format!(
            "/api/conversations/{}/export?format=json",
            conversation.id
        ))
        .await;
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment; filename=\"travel-plans.json\""));
    let exported = response.bytes().await.unwrap().to_vec();
    let parsed: Value = serde_json::from_slice(&exported).unwrap();
    assert_eq!(parsed["format"], "rustchat.conversation.v1");
    assert_eq!(parsed["messages"].as_array().unwrap().len(), 6);
    assert!(
        parsed["messages"][1]["output_micros_per_mtok"].is_number(),
        "prices kept"
    );

    let markdown = app
        .get(&format!(
            "/api/conversations/{}/export?format=markdown",
            conversation.id
        ))
        .await
        .text()
        .await
        .unwrap();
    assert!(markdown.starts_with("# Travel plans\n"));
    assert!(
        markdown.contains("Where to go in April?"),
        "the branch shown"
    );
    assert!(
        !markdown.contains("Where to go in May?"),
        "not the other branch"
    );
    assert!(markdown.contains("Be helpful."));

    // Into another account: the same texts, tree, times and branch shown.
    let other = app.register_person("importer@example.com").await;
    let response = import(&other.client, &app, exported.clone()).await;
    assert_eq!(response.status(), 200);
    let summary: ImportSummary = json_body(response).await;
    assert_eq!(
        (summary.imported, summary.skipped, summary.messages),
        (1, 0, 6)
    );
    let copy_id = summary.conversation_ids[0];
    let copy: ConversationView = other
        .get_json(&app, &format!("/api/conversations/{copy_id}"))
        .await;
    assert_eq!(copy.title, "Travel plans");
    assert_eq!(copy.system_prompt.as_deref(), Some("Be helpful."));
    assert_eq!(copy.imported_from.as_deref(), Some("rustchat"));
    assert_eq!(copy.created_at, conversation.created_at);
    let copied: Page<MessageView> = other
        .get_json(
            &app,
            &format!("/api/conversations/{copy_id}/messages?branch=all&limit=100"),
        )
        .await;
    assert_eq!(shape(&copied.items), shape(&original));
    assert!(copied
        .items
        .iter()
        .all(|m| m.imported && m.cost_micros == 0));
    let copied_shown: Page<MessageView> = other
        .get_json(
            &app,
            &format!("/api/conversations/{copy_id}/messages?limit=100"),
        )
        .await;
    let texts = |m: &[MessageView]| m.iter().map(|m| m.content.clone()).collect::<Vec<_>>();
    assert_eq!(texts(&copied_shown.items), texts(&shown));
    // Siblings keep their order: the May question first, April second.
    let april = copied
        .items
        .iter()
        .find(|m| m.content == "Where to go in April?")
        .unwrap();
    assert_eq!((april.sibling_index, april.sibling_count), (2, 2));
    // The imported copy can be searched, and its owner's usage is untouched.
    let found: Page<SearchHit> = other.get_json(&app, "/api/search?q=april").await;
    assert!(found
        .items
        .iter()
        .any(|h| h.conversation_id == copy_id && h.role == Role::User));

    // Again: nothing new. And the exporter importing their own export: nothing new either.
    let again: ImportSummary = json_body(import(&other.client, &app, exported.clone()).await).await;
    assert_eq!((again.imported, again.skipped), (0, 1));
    let own: ImportSummary = json_body(import(&app.client, &app, exported).await).await;
    assert_eq!((own.imported, own.skipped), (0, 1));
    assert_eq!(first.content, "Where to go in May?");

    // Everything at once: the export of everything imports into a third account.
    exchange(
        &app,
        app.create_conversation(json!({"title": "Second"})).await.id,
        "Hi",
    )
    .await;
    let response = app.get("/api/export").await;
    assert_eq!(response.status(), 200);
    let everything = response.bytes().await.unwrap().to_vec();
    let parsed: Value = serde_json::from_slice(&everything).unwrap();
    assert_eq!(parsed["format"], "rustchat.export.v1");
    assert_eq!(parsed["conversations"].as_array().unwrap().len(), 2);
    let third = app.register_person("third@example.com").await;
    let summary: ImportSummary = json_body(import(&third.client, &app, everything).await).await;
    assert_eq!(
        (summary.imported, summary.skipped, summary.messages),
        (2, 0, 8)
    );
}

/// A ChatGPT export written here: a hidden root, an empty system message, a question asked
/// twice (an edit: two branches), a tool message and the current branch on the second.
fn chatgpt_export() -> Value {
    let node = |id: &str, parent: Option<&str>, children: &[&str], message: Value| json!({"id": id, "parent": parent, "children": children, "message": message});
    let message = |role: &str, text: &str, at: f64| {
        json!({"id": format!("m-{at}"), "author": {"role": role}, "create_time": at,
               "content": {"content_type": "text", "parts": [text]}, "metadata": {}})
    };
    json!([{
        "title": "Sourdough help",
        "create_time": 1_700_000_000.5,
        "update_time": 1_700_000_900.0,
        "conversation_id": "6f1d2c3b-aaaa-bbbb-cccc-000000000001",
        "id": "6f1d2c3b-aaaa-bbbb-cccc-000000000001",
        "current_node": "a2",
        "mapping": {
            "root": node("root", None, &["sys"], Value::Null),
            "sys": node("sys", Some("root"), &["q1", "q2"], message("system", "", 1_700_000_000.6)),
            "q1": node("q1", Some("sys"), &["a1"], message("user", "How long to proof dough?", 1_700_000_010.0)),
            "a1": node("a1", Some("q1"), &[], message("assistant", "About 4 hours.", 1_700_000_020.0)),
            "q2": node("q2", Some("sys"), &["tool"], message("user", "How long to proof sourdough overnight?", 1_700_000_100.0)),
            "tool": node("tool", Some("q2"), &["a2"], json!({"author": {"role": "tool"}, "create_time": 1_700_000_105.0,
                "content": {"content_type": "execution_output", "text": "ran"}})),
            "a2": node("a2", Some("tool"), &[], message("assistant", "12 to 16 hours in the fridge.", 1_700_000_110.0)),
        }
    }])
}

#[tokio::test]
async fn a_chatgpt_export_imports_with_its_branches_and_current_branch() {
    let app = spawn_app().await;
    app.register("chatgpt@example.com").await;
    let file = serde_json::to_vec(&chatgpt_export()).unwrap();
    let summary: ImportSummary = json_body(import(&app.client, &app, file.clone()).await).await;
    assert_eq!(
        (summary.imported, summary.skipped, summary.messages),
        (1, 0, 4)
    );
    let id = summary.conversation_ids[0];
    let conversation = app.conversation(id).await;
    assert_eq!(conversation.title, "Sourdough help");
    assert_eq!(conversation.imported_from.as_deref(), Some("chatgpt"));
    assert_eq!(
        conversation.created_at.timestamp_micros(),
        1_700_000_000_500_000
    );
    let shown = app.messages(id).await;
    let texts: Vec<&str> = shown.iter().map(|m| m.content.as_str()).collect();
    assert_eq!(
        texts,
        [
            "How long to proof sourdough overnight?",
            "12 to 16 hours in the fridge."
        ]
    );
    assert_eq!(shown[0].created_at.timestamp(), 1_700_000_100);
    assert_eq!((shown[0].sibling_index, shown[0].sibling_count), (2, 2));
    assert_eq!(
        shown[1].parent_id,
        Some(shown[0].id),
        "the tool message is left out"
    );
    let all = app.messages_on(id, "all").await;
    assert_eq!(all.len(), 4);
    assert!(all.iter().all(|m| m.imported && m.cost_micros == 0));
    let again: ImportSummary = json_body(import(&app.client, &app, file).await).await;
    assert_eq!((again.imported, again.skipped), (0, 1));
    // The imported conversation goes on like any other.
    exchange(&app, id, "Thanks!").await;
}

#[tokio::test]
async fn a_malformed_or_oversized_file_is_refused_and_stores_nothing() {
    let app = spawn_app_with(&[("MAX_IMPORT_BYTES", "20000")]).await;
    app.register("careful@example.com").await;
    let mut good_then_bad = chatgpt_export();
    good_then_bad
        .as_array_mut()
        .unwrap()
        .push(json!({"title": "broken", "mapping": {"x": {"parent": null, "children": [], "message": {"author": {}}}}}));
    let cases: Vec<(Vec<u8>, u16, &str)> = vec![
        (b"not json at all".to_vec(), 422, "invalid_import"),
        (b"".to_vec(), 422, "invalid_import"),
        (
            b"{\"format\": \"rustchat.export.v1\", \"conversations\": [".to_vec(),
            422,
            "invalid_import",
        ),
        (b"[1, 2]".to_vec(), 422, "invalid_import"),
        (b"{\"hello\": \"world\"}".to_vec(), 422, "invalid_import"),
        (
            serde_json::to_vec(&good_then_bad).unwrap(),
            422,
            "invalid_import",
        ),
        (vec![b' '; 20_001], 413, "payload_too_large"),
    ];
    for (body, status, code) in cases {
        let response = import(&app.client, &app, body).await;
        assert_eq!(response.status(), status);
        assert_eq!(error_code(response).await, code);
    }
    let page: Page<ConversationView> = app.get_json("/api/conversations").await;
    assert!(page.items.is_empty(), "nothing was stored");
}
