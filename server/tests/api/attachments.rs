//! Attachments through the public API: uploads typed by their bytes and bounded by size and
//! quota, served back safely to their owner only, sent to each provider in its own wire
//! format (images) or as delimited text (documents), counted in the context, and removed with
//! the last message that uses them; on the local folder and on an S3-compatible server.

use std::{path::PathBuf, time::Duration};

use app::wire::{AttachmentKind, AttachmentView, MessageStatus, SendResponse};
use base64::Engine as _;
use reqwest::multipart::{Form, Part};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{json, Value};
use server::db::entities::{ai_prompts, attachments, messages};
use uuid::Uuid;

use crate::helpers::{
    error_code,
    fake_upstream::{anthropic_reply, gemini_reply, openai_reply, FakeUpstream, Script},
    json_body, spawn_app_with, TestApp,
};

/// A PNG as far as anyone reads its header: signature and IHDR with the given size.
fn png(width: u32, height: u32) -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    bytes.extend_from_slice(&width.to_be_bytes());
    bytes.extend_from_slice(&height.to_be_bytes());
    bytes.extend_from_slice(b"\x08\x06\0\0\0\x1f\x15\xc4\x89\0\0\0\0IEND\xaeB`\x82");
    bytes
}

/// A one-page PDF: with `text` drawn in Helvetica, or (None) a page of lines only, as a scan
/// without a text layer is to a text extractor.
fn pdf(text: Option<&str>) -> Vec<u8> {
    let content = match text {
        Some(text) => format!("BT /F1 24 Tf 72 700 Td ({text}) Tj ET"),
        None => "0 0 m 300 300 l S".to_owned(),
    };
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R \
         /Resources << /Font << /F1 5 0 R >> >> >>"
            .to_owned(),
        format!(
            "<< /Length {} >>\nstream\n{content}\nendstream",
            content.len()
        ),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
            .to_owned(),
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, object) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{object}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for offset in offsets {
        out.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

async fn upload_as(
    client: &reqwest::Client,
    app: &TestApp,
    name: &str,
    bytes: Vec<u8>,
) -> reqwest::Response {
    let form = Form::new().part("file", Part::bytes(bytes).file_name(name.to_owned()));
    client
        .post(app.url("/api/attachments"))
        .multipart(form)
        .send()
        .await
        .expect("upload")
}

async fn upload(app: &TestApp, name: &str, bytes: Vec<u8>) -> reqwest::Response {
    upload_as(&app.client, app, name, bytes).await
}

async fn uploaded(app: &TestApp, name: &str, bytes: Vec<u8>) -> AttachmentView {
    let response = upload(app, name, bytes).await;
    assert_eq!(response.status(), 201, "upload {name}");
    json_body(response).await
}

async fn send_with(
    app: &TestApp,
    conversation_id: Uuid,
    content: &str,
    ids: &[Uuid],
) -> reqwest::Response {
    app.post_json(
        &format!("/api/conversations/{conversation_id}/messages"),
        json!({ "content": content, "attachment_ids": ids }),
    )
    .await
}

/// Sends with files in a new conversation of `provider`/`model` and waits for the reply.
async fn ask_with(
    app: &TestApp,
    provider: &str,
    model: &str,
    content: &str,
    ids: &[Uuid],
) -> (Uuid, SendResponse, String) {
    let conversation = app
        .create_conversation(json!({"provider": provider, "model": model}))
        .await;
    let response = send_with(app, conversation.id, content, ids).await;
    assert_eq!(response.status(), 202, "send");
    let sent: SendResponse = json_body(response).await;
    let reply = app
        .wait_for_reply(conversation.id, sent.assistant_message.id)
        .await;
    assert_eq!(reply.status, MessageStatus::Complete, "{:?}", reply.error);
    (conversation.id, sent, reply.content)
}

async fn app_with(vars: &[(&str, &str)]) -> TestApp {
    let app = spawn_app_with(vars).await;
    app.register("ada@example.com").await;
    app
}

async fn rows(app: &TestApp) -> u64 {
    attachments::Entity::find().count(&app.db).await.unwrap()
}

/// The files in the folder store.
fn stored_files(app: &TestApp) -> usize {
    fn count(dir: &std::path::Path) -> usize {
        std::fs::read_dir(dir).map_or(0, |entries| {
            entries
                .flatten()
                .map(|e| {
                    if e.path().is_dir() {
                        count(&e.path())
                    } else {
                        1
                    }
                })
                .sum()
        })
    }
    count(&app.data_dir.path().join("attachments"))
}

fn base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[tokio::test]
async fn openai_gets_the_image_as_a_data_url_and_the_document_as_a_named_text_block() {
    let (fake, base) = FakeUpstream::start(vec![Script::sse(openai_reply(&["Seen."], None))]).await;
    let app = app_with(&[
        ("OPENAI_API_KEY", "sk-test"),
        ("OPENAI_BASE_URL", &format!("{base}/v1")),
    ])
    .await;
    let image = png(640, 480);
    let picture = uploaded(&app, "cat.png", image.clone()).await;
    assert_eq!(picture.kind, AttachmentKind::Image);
    assert_eq!(picture.content_type, "image/png");
    assert_eq!(picture.size_bytes, image.len() as i64);
    let notes = uploaded(&app, "notes.md", b"# Plan\nBuy milk.".to_vec()).await;
    assert_eq!(notes.kind, AttachmentKind::Text);

    let (conversation, sent, _) = ask_with(
        &app,
        "openai",
        "gpt-4o-mini",
        "What is this?",
        &[picture.id, notes.id],
    )
    .await;
    assert_eq!(
        sent.user_message.attachments,
        vec![picture.clone(), notes.clone()]
    );

    let body = fake.last_request().body;
    let content = &body["messages"][0]["content"];
    assert_eq!(
        content[0],
        json!({"type": "text", "text": "What is this?\n\n<document name=\"notes.md\">\n# Plan\nBuy milk.\n</document>"})
    );
    assert_eq!(content[1]["type"], "image_url");
    assert_eq!(
        content[1]["image_url"]["url"],
        format!("data:image/png;base64,{}", base64(&image))
    );
    // The message list shows the files, in order.
    let listed = app.messages(conversation).await;
    assert_eq!(listed[0].attachments, vec![picture, notes]);
}

#[tokio::test]
async fn anthropic_gets_a_base64_image_block_before_the_text() {
    let usage = json!({"input_tokens": 10, "output_tokens": 1});
    let (fake, base) =
        FakeUpstream::start(vec![Script::sse(anthropic_reply(&["A cat."], usage, 3))]).await;
    let app = app_with(&[
        ("ANTHROPIC_API_KEY", "sk-ant"),
        ("ANTHROPIC_BASE_URL", &base),
    ])
    .await;
    let image = png(100, 100);
    let picture = uploaded(&app, "cat.png", image.clone()).await;
    ask_with(
        &app,
        "anthropic",
        "claude-sonnet-4-5",
        "Describe it",
        &[picture.id],
    )
    .await;

    let body = fake.last_request().body;
    assert_eq!(
        body["messages"][0]["content"],
        json!([
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": base64(&image)}},
            {"type": "text", "text": "Describe it"},
        ])
    );
}

#[tokio::test]
async fn gemini_gets_inline_data_and_the_pdf_text() {
    let usage = json!({"promptTokenCount": 10, "candidatesTokenCount": 2, "totalTokenCount": 12});
    let (fake, base) = FakeUpstream::start(vec![Script::sse(gemini_reply(&["Ok"], usage))]).await;
    let app = app_with(&[("GEMINI_API_KEY", "g-test"), ("GEMINI_BASE_URL", &base)]).await;
    let image = png(300, 200);
    let picture = uploaded(&app, "chart.png", image.clone()).await;
    let report = uploaded(&app, "report.pdf", pdf(Some("Quarterly revenue grew"))).await;
    assert_eq!(report.kind, AttachmentKind::Document);
    assert_eq!(report.content_type, "application/pdf");
    ask_with(
        &app,
        "google",
        "gemini-2.5-flash",
        "Summarise",
        &[picture.id, report.id],
    )
    .await;

    let parts = &fake.last_request().body["contents"][0]["parts"];
    let text = parts[0]["text"].as_str().unwrap();
    assert!(
        text.starts_with("Summarise\n\n<document name=\"report.pdf\">\n"),
        "{text}"
    );
    assert!(text.contains("Quarterly revenue grew"), "{text}");
    assert!(text.ends_with("</document>"), "{text}");
    assert_eq!(
        parts[1],
        json!({"inline_data": {"mime_type": "image/png", "data": base64(&image)}})
    );
}

#[tokio::test]
async fn a_scanned_pdf_without_text_says_so_to_the_model() {
    let (fake, base) = FakeUpstream::start(vec![Script::sse(openai_reply(&["Ok"], None))]).await;
    let app = app_with(&[
        ("OPENAI_API_KEY", "sk-test"),
        ("OPENAI_BASE_URL", &format!("{base}/v1")),
    ])
    .await;
    let scan = uploaded(&app, "scan.pdf", pdf(None)).await;
    ask_with(&app, "openai", "gpt-4o-mini", "Read this", &[scan.id]).await;
    let text = fake.last_request().body["messages"][0]["content"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(text.contains("<document name=\"scan.pdf\">"), "{text}");
    assert!(text.contains("no text that can be extracted"), "{text}");
}

#[tokio::test]
async fn the_demo_acknowledges_each_attachment_by_name_and_kind() {
    let app = app_with(&[("DEMO_WORD_DELAY", "0ms")]).await;
    let picture = uploaded(&app, "cat.png", png(10, 10)).await;
    let report = uploaded(&app, "report.pdf", pdf(Some("Hello there"))).await;
    let (_, _, reply) = ask_with(
        &app,
        "demo",
        "demo-offline",
        "Look",
        &[picture.id, report.id],
    )
    .await;
    assert!(reply.contains("**cat.png** (image,"), "{reply}");
    assert!(reply.contains("**report.pdf** (document,"), "{reply}");
}

#[tokio::test]
async fn sniffing_refuses_html_named_png_and_an_executable_named_pdf_and_stores_nothing() {
    let app = app_with(&[]).await;
    for (name, bytes) in [
        (
            "cat.png",
            b"<html><body><script>alert(1)</script></body></html>".to_vec(),
        ),
        (
            "cat.png",
            b"Just some text pretending to be an image".to_vec(),
        ),
        (
            "report.pdf",
            b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00PE\0\0".to_vec(),
        ),
        ("data.bin", vec![0u8, 1, 2, 3, 255, 254]),
    ] {
        let response = upload(&app, name, bytes).await;
        assert_eq!(response.status(), 415, "{name}");
        assert_eq!(error_code(response).await, "unsupported_file_type");
    }
    assert_eq!(rows(&app).await, 0);
    assert_eq!(stored_files(&app), 0);
    // And the scratch folder holds nothing either.
    let scratch = std::fs::read_dir(app.data_dir.path().join("uploads")).unwrap();
    assert_eq!(scratch.count(), 0);
}

#[tokio::test]
async fn uploads_past_the_size_limit_or_the_quota_answer_413_and_store_nothing() {
    let app = app_with(&[
        ("MAX_UPLOAD_BYTES", "1000"),
        ("USER_STORAGE_QUOTA_BYTES", "1500"),
    ])
    .await;
    let response = upload(&app, "big.txt", vec![b'a'; 1001]).await;
    assert_eq!(response.status(), 413);
    assert_eq!(error_code(response).await, "file_too_large");
    uploaded(&app, "one.txt", vec![b'a'; 800]).await;
    let response = upload(&app, "two.txt", vec![b'b'; 800]).await;
    assert_eq!(response.status(), 413);
    assert_eq!(error_code(response).await, "quota_exceeded");
    assert_eq!(rows(&app).await, 1);
    assert_eq!(stored_files(&app), 1);
}

#[tokio::test]
async fn content_is_served_with_its_sniffed_type_nosniff_and_as_a_download_unless_an_image() {
    let app = app_with(&[]).await;
    let image = png(10, 10);
    let picture = uploaded(&app, "../../cat \"1\".png", image.clone()).await;
    assert_eq!(picture.filename, "cat _1_.png");
    let response = app
        .get(&format!("/api/attachments/{}/content", picture.id))
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "image/png");
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    assert!(response.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("inline;"));
    assert_eq!(response.bytes().await.unwrap().to_vec(), image);

    let script = uploaded(&app, "page.html", b"<p>hi</p>".to_vec()).await;
    assert_eq!(script.content_type, "text/plain; charset=utf-8");
    let response = app
        .get(&format!("/api/attachments/{}/content", script.id))
        .await;
    assert_eq!(
        response.headers()["content-type"],
        "text/plain; charset=utf-8"
    );
    assert_eq!(
        response.headers()["content-disposition"],
        "attachment; filename=\"page.html\"; filename*=UTF-8''page.html"
    );

    let shown: AttachmentView = app
        .get_json(&format!("/api/attachments/{}", picture.id))
        .await;
    assert_eq!(shown, picture);
}

#[tokio::test]
async fn another_persons_attachment_is_404_and_refused_in_a_send_with_nothing_stored() {
    let app = app_with(&[]).await;
    let mine = uploaded(&app, "cat.png", png(10, 10)).await;
    let other = app.register_person("bob@example.com").await;
    for path in [
        format!("/api/attachments/{}", mine.id),
        format!("/api/attachments/{}/content", mine.id),
        format!("/api/attachments/{}", Uuid::now_v7()),
        "/api/attachments/not-a-uuid".to_owned(),
    ] {
        let response = other.client.get(app.url(&path)).send().await.unwrap();
        assert_eq!(response.status(), 404, "{path}");
    }
    let conversation: Value = json_body(
        other
            .client
            .post(app.url("/api/conversations"))
            .json(&json!({}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let conversation_id = conversation["id"].as_str().unwrap();
    let response = other
        .client
        .post(app.url(&format!("/api/conversations/{conversation_id}/messages")))
        .json(&json!({"content": "Mine now", "attachment_ids": [mine.id]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let stored = messages::Entity::find().count(&app.db).await.unwrap();
    assert_eq!(stored, 0);
}

#[tokio::test]
async fn more_than_ten_files_or_an_image_to_a_model_without_vision_answer_422() {
    let app = app_with(&[("DEMO_WORD_DELAY", "0ms")]).await;
    let conversation = app
        .create_conversation(json!({"provider": "demo", "model": "demo-offline"}))
        .await;
    let mut ids = Vec::new();
    for i in 0..11 {
        ids.push(
            uploaded(&app, &format!("n{i}.txt"), format!("note {i}").into_bytes())
                .await
                .id,
        );
    }
    let response = send_with(&app, conversation.id, "All of them", &ids).await;
    assert_eq!(response.status(), 422);
    assert_eq!(error_code(response).await, "too_many_attachments");

    // The first account is the admin: it turns image support off for the demo model.
    let models: Vec<Value> = app.get_json("/api/admin/models").await;
    let demo = models
        .iter()
        .find(|m| m["model"] == "demo-offline")
        .unwrap();
    assert_eq!(demo["supports_images"], true, "seeded with image support");
    let response = app
        .client
        .patch(app.url(&format!(
            "/api/admin/models/{}",
            demo["id"].as_str().unwrap()
        )))
        .json(&json!({"supports_images": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let picture = uploaded(&app, "cat.png", png(10, 10)).await;
    let response = send_with(&app, conversation.id, "See", &[picture.id]).await;
    assert_eq!(response.status(), 422);
    assert_eq!(error_code(response).await, "unsupported_attachment");
    // A document still goes.
    let response = send_with(&app, conversation.id, "Read", &[ids[0]]).await;
    assert_eq!(response.status(), 202);
    assert_eq!(messages::Entity::find().count(&app.db).await.unwrap(), 2);
}

#[tokio::test]
async fn the_context_count_includes_each_image_by_the_providers_formula() {
    let (_fake, base) = FakeUpstream::start(vec![Script::sse(openai_reply(&["Ok"], None))]).await;
    let app = app_with(&[
        ("OPENAI_API_KEY", "sk-test"),
        ("OPENAI_BASE_URL", &format!("{base}/v1")),
    ])
    .await;
    let (_, plain, _) = ask_with(&app, "openai", "gpt-4o-mini", "Hello", &[]).await;
    let picture = uploaded(&app, "big.png", png(1024, 1024)).await;
    let (_, with_image, _) = ask_with(&app, "openai", "gpt-4o-mini", "Hello", &[picture.id]).await;
    let tokens = |sent: SendResponse| {
        let app = &app;
        async move {
            ai_prompts::Entity::find()
                .filter(ai_prompts::Column::ResponseMessageId.eq(sent.assistant_message.id))
                .one(&app.db)
                .await
                .unwrap()
                .unwrap()
                .context_tokens
        }
    };
    // OpenAI: a 1024×1024 image is 4 tiles, 85 + 4 × 170 = 765 tokens.
    assert_eq!(tokens(with_image).await - tokens(plain).await, 765);
}

#[tokio::test]
async fn the_same_bytes_are_stored_once_and_deleting_removes_only_unused_files() {
    let app = app_with(&[("DEMO_WORD_DELAY", "0ms")]).await;
    let shared = png(20, 20);
    let first = uploaded(&app, "a.png", shared.clone()).await;
    let again = uploaded(&app, "b.png", shared).await;
    assert_eq!(first.sha256, again.sha256);
    assert_ne!(first.id, again.id);
    assert_eq!(stored_files(&app), 1);
    let only_here = uploaded(&app, "only.txt", b"only in the first chat".to_vec()).await;

    let (one, _, _) = ask_with(
        &app,
        "demo",
        "demo-offline",
        "One",
        &[first.id, only_here.id],
    )
    .await;
    let (two, _, _) = ask_with(&app, "demo", "demo-offline", "Two", &[first.id]).await;
    assert_eq!(stored_files(&app), 2);

    let deleted = app
        .client
        .delete(app.url(&format!("/api/conversations/{one}")))
        .send()
        .await
        .unwrap();
    assert!(deleted.status().is_success());
    // The text file went with its only message; the image is still used by the second chat.
    let gone = app.get(&format!("/api/attachments/{}", only_here.id)).await;
    assert_eq!(gone.status(), 404);
    assert!(!app
        .chat
        .attachments
        .is_stored(&only_here.sha256)
        .await
        .unwrap());
    assert!(app.chat.attachments.is_stored(&first.sha256).await.unwrap());

    app.client
        .delete(app.url(&format!("/api/conversations/{two}")))
        .send()
        .await
        .unwrap();
    // `first` is gone; `again` (never sent) still holds the bytes.
    assert_eq!(
        app.get(&format!("/api/attachments/{}", first.id))
            .await
            .status(),
        404
    );
    assert!(app.chat.attachments.is_stored(&again.sha256).await.unwrap());
    assert_eq!(stored_files(&app), 1);
}

/// The S3-compatible server the S3 test runs against: `S3_SERVER_BIN` (set by `scripts/test`,
/// which installs it: then it must exist), else `s3s-fs` in the tools folder. `None` only when
/// neither is set nor installed.
fn s3_server_binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("S3_SERVER_BIN").filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        assert!(
            path.exists(),
            "S3_SERVER_BIN is set but {} does not exist",
            path.display()
        );
        return Some(path);
    }
    let cache = std::env::var_os("RUSTCHAT_CACHE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/rustchat")))?;
    Some(cache.join("tools/bin/s3s-fs")).filter(|p| p.exists())
}

/// An `s3s-fs` process serving a temporary folder, with one bucket; stopped when dropped.
struct S3Server {
    child: std::process::Child,
    endpoint: String,
    _root: tempfile::TempDir,
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start_s3(binary: &std::path::Path, bucket: &str) -> S3Server {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir(root.path().join(bucket)).unwrap();
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let child = std::process::Command::new(binary)
        .args(["--host", "127.0.0.1", "--port", &port.to_string()])
        .args([
            "--access-key",
            "rustchat",
            "--secret-key",
            "rustchat-secret",
        ])
        .arg(root.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start the S3 server");
    let endpoint = format!("http://127.0.0.1:{port}");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the S3 server did not start"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    S3Server {
        child,
        endpoint,
        _root: root,
    }
}

#[tokio::test]
async fn on_s3_storage_an_upload_is_stored_served_sent_and_removed_with_its_conversation() {
    let Some(binary) = s3_server_binary() else {
        eprintln!("skipped: no S3 server installed (scripts/setup installs s3s-fs)");
        return;
    };
    let s3 = start_s3(&binary, "rustchat").await;
    let app = app_with(&[
        ("DEMO_WORD_DELAY", "0ms"),
        ("S3_BUCKET", "rustchat"),
        ("S3_ENDPOINT", &s3.endpoint),
        ("S3_REGION", "us-east-1"),
        ("S3_ACCESS_KEY_ID", "rustchat"),
        ("S3_SECRET_ACCESS_KEY", "rustchat-secret"),
    ])
    .await;
    // Larger than one part of a streamed upload (5 MiB), so the multipart path runs too.
    let mut big = vec![b'x'; 6 * 1024 * 1024];
    big.extend_from_slice(b"\nthe end\n");
    let text = uploaded(&app, "big.txt", big.clone()).await;
    let image = png(30, 30);
    let picture = uploaded(&app, "cat.png", image.clone()).await;
    assert_eq!(stored_files(&app), 0, "nothing in the local folder");
    assert!(app.chat.attachments.is_stored(&text.sha256).await.unwrap());

    let served = app
        .get(&format!("/api/attachments/{}/content", text.id))
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(served.len(), big.len());
    assert!(served == big);

    let (conversation, _, reply) =
        ask_with(&app, "demo", "demo-offline", "Both", &[picture.id, text.id]).await;
    assert!(
        reply.contains(&format!("**cat.png** (image, {} bytes)", image.len())),
        "{reply}"
    );

    app.client
        .delete(app.url(&format!("/api/conversations/{conversation}")))
        .send()
        .await
        .unwrap();
    assert!(!app.chat.attachments.is_stored(&text.sha256).await.unwrap());
    assert!(!app
        .chat
        .attachments
        .is_stored(&picture.sha256)
        .await
        .unwrap());
}
