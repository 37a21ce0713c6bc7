//! Chat settings through the real server: the JSON API, the settings page's plain HTML form,
//! and the theme and font size the server puts on every page.

use app::wire::{ProviderId, SettingsView};
use serde_json::{json, Value};

use crate::helpers::{anonymous_client, error_code, location, spawn_app, spawn_app_with, TestApp};

async fn settings(app: &TestApp) -> SettingsView {
    let response = app.get("/api/settings").await;
    assert_eq!(response.status(), 200, "GET /api/settings");
    response.json().await.unwrap()
}

/// What a new account starts with.
fn new_user_settings() -> SettingsView {
    SettingsView {
        default_provider: "demo".into(),
        default_model: "demo-offline".into(),
        theme: "system".into(),
        font_size: 16,
        streaming: true,
        markdown: true,
        code_highlight: true,
    }
}

async fn put_settings(app: &TestApp, body: Value) -> reqwest::Response {
    app.client
        .put(app.url("/api/settings"))
        .json(&body)
        .send()
        .await
        .expect("request")
}

async fn post_form(app: &TestApp, fields: &[(&str, &str)]) -> reqwest::Response {
    app.client
        .post(app.url("/settings/save"))
        .form(fields)
        .send()
        .await
        .expect("request")
}

async fn page(app: &TestApp, path: &str) -> String {
    let response = app.get(path).await;
    assert_eq!(response.status(), 200, "GET {path}");
    response.text().await.unwrap()
}

/// The opening tag of the element with this id, e.g. `<input type="checkbox" id="markdown" …>`.
fn tag_with_id<'a>(html: &'a str, id: &str) -> &'a str {
    let needle = format!(r#"id="{id}""#);
    let at = html
        .find(&needle)
        .unwrap_or_else(|| panic!("no element with {needle}"));
    let start = html[..at].rfind('<').unwrap();
    let end = at + html[at..].find('>').unwrap();
    &html[start..=end]
}

/// The opening tag of the `<option>` with this value.
fn option_tag<'a>(html: &'a str, value: &str) -> &'a str {
    let needle = format!(r#"value="{value}""#);
    let at = html
        .match_indices(&needle)
        .map(|(at, _)| at)
        .find(|&at| {
            html[..at]
                .rfind('<')
                .is_some_and(|s| html[s..].starts_with("<option"))
        })
        .unwrap_or_else(|| panic!("no option with {needle}"));
    let start = html[..at].rfind('<').unwrap();
    let end = at + html[at..].find('>').unwrap();
    &html[start..=end]
}

fn has_attribute(tag: &str, name: &str) -> bool {
    tag.split(|c: char| c.is_whitespace() || c == '>' || c == '/')
        .any(|part| part == name || part.starts_with(&format!("{name}=")))
}

#[tokio::test]
async fn a_new_user_gets_the_default_settings() {
    let app = spawn_app().await;
    app.register("defaults@example.com").await;
    assert_eq!(settings(&app).await, new_user_settings());
}

#[tokio::test]
async fn put_changes_the_given_fields_and_get_reads_them_back() {
    let app = spawn_app_with(&[("OPENAI_API_KEY", "sk-test")]).await;
    app.register("put@example.com").await;
    let response = put_settings(
        &app,
        json!({
            "default_provider": "openai",
            "default_model": "gpt-5-mini",
            "theme": "dark",
            "font_size": 18,
            "streaming": false,
        }),
    )
    .await;
    assert_eq!(response.status(), 200);
    let saved: SettingsView = response.json().await.unwrap();
    let expected = SettingsView {
        default_provider: "openai".into(),
        default_model: "gpt-5-mini".into(),
        theme: "dark".into(),
        font_size: 18,
        streaming: false,
        ..new_user_settings()
    };
    assert_eq!(saved, expected);
    assert_eq!(settings(&app).await, expected);

    // Absent fields stay as they are.
    let response = put_settings(&app, json!({ "code_highlight": false })).await;
    assert_eq!(response.status(), 200);
    let after = settings(&app).await;
    assert!(!after.code_highlight);
    assert_eq!(after.theme, "dark");
    assert_eq!(after.default_model, "gpt-5-mini");

    // New conversations start with the new default.
    let conversation = app.create_conversation(json!({})).await;
    assert_eq!(conversation.provider, ProviderId::OpenAi);
    assert_eq!(conversation.model, "gpt-5-mini");
}

#[tokio::test]
async fn put_creates_the_settings_row_when_there_is_none() {
    use sea_orm::ConnectionTrait;
    let app = spawn_app().await;
    app.register("norow@example.com").await;
    app.db
        .execute_unprepared("DELETE FROM chat_settings")
        .await
        .unwrap();
    let response = put_settings(&app, json!({ "font_size": 20 })).await;
    assert_eq!(response.status(), 200);
    let after = settings(&app).await;
    assert_eq!(after.font_size, 20);
    assert_eq!(after.theme, "system");
    assert_eq!(after.default_model, "demo-offline");
}

#[tokio::test]
async fn saves_of_different_settings_at_the_same_time_both_stick() {
    let app = spawn_app().await;
    app.register("race@example.com").await;
    for round in 0..5 {
        let (size, theme) = if round % 2 == 0 {
            (20, "dark")
        } else {
            (14, "light")
        };
        let (a, b) = tokio::join!(
            put_settings(&app, json!({ "font_size": size })),
            put_settings(&app, json!({ "theme": theme })),
        );
        assert_eq!((a.status().as_u16(), b.status().as_u16()), (200, 200));
        let after = settings(&app).await;
        assert_eq!((after.font_size, after.theme.as_str()), (size, theme));
    }
}

#[tokio::test]
async fn invalid_settings_are_422_with_a_code_and_change_nothing() {
    let app = spawn_app().await;
    app.register("invalid@example.com").await;
    let before = settings(&app).await;

    let cases = [
        (json!({ "theme": "blue" }), "invalid_theme"),
        (json!({ "font_size": 11 }), "invalid_font_size"),
        (json!({ "font_size": 25 }), "invalid_font_size"),
        // Known, but OpenAI has no key on this server.
        (
            json!({ "default_provider": "openai", "default_model": "gpt-5" }),
            "model_unavailable",
        ),
        (
            json!({ "default_provider": "demo", "default_model": "no-such-model" }),
            "model_unavailable",
        ),
        // A valid field next to an invalid one is not saved either.
        (
            json!({ "theme": "dark", "font_size": 99 }),
            "invalid_font_size",
        ),
    ];
    for (body, code) in cases {
        let response = put_settings(&app, body.clone()).await;
        assert_eq!(response.status(), 422, "{body}");
        assert_eq!(error_code(response).await, code, "{body}");
    }
    assert_eq!(settings(&app).await, before);

    let response = app
        .client
        .put(app.url("/api/settings"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(error_code(response).await, "bad_request");
}

#[tokio::test]
async fn the_api_needs_a_logged_in_user() {
    let app = spawn_app().await;
    let response = anonymous_client()
        .get(app.url("/api/settings"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let response = anonymous_client()
        .put(app.url("/api/settings"))
        .json(&json!({ "theme": "dark" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
}

#[tokio::test]
async fn a_bearer_token_works_like_the_cookie() {
    let app = spawn_app().await;
    let token = app.register("bearer@example.com").await;
    let response = anonymous_client()
        .put(app.url("/api/settings"))
        .bearer_auth(&token)
        .json(&json!({ "theme": "light" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(settings(&app).await.theme, "light");
}

#[tokio::test]
async fn the_form_saves_and_unchecked_boxes_mean_off() {
    let app = spawn_app().await;
    app.register("form@example.com").await;
    // Only `streaming` is checked: `markdown` and `code_highlight` are absent from the body.
    let response = post_form(
        &app,
        &[
            ("default_model", "demo/demo-offline"),
            ("theme", "dark"),
            ("font_size", "18"),
            ("streaming", "on"),
        ],
    )
    .await;
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), "/settings?saved=1");
    assert_eq!(
        settings(&app).await,
        SettingsView {
            theme: "dark".into(),
            font_size: 18,
            streaming: true,
            markdown: false,
            code_highlight: false,
            ..new_user_settings()
        }
    );

    let html = page(&app, "/settings?saved=1").await;
    assert!(html.contains("Settings saved."), "the saved status shows");
    assert!(html.contains(r#"role="status""#));

    // Checking them again turns them back on; nothing checked turns everything off.
    post_form(
        &app,
        &[
            ("theme", "dark"),
            ("font_size", "18"),
            ("markdown", "on"),
            ("code_highlight", "on"),
        ],
    )
    .await;
    let after = settings(&app).await;
    assert_eq!(
        (after.streaming, after.markdown, after.code_highlight),
        (false, true, true)
    );
}

#[tokio::test]
async fn a_rejected_form_comes_back_with_an_error_code_not_the_input() {
    let app = spawn_app().await;
    app.register("formerror@example.com").await;
    let before = settings(&app).await;
    let cases: [(&[(&str, &str)], &str); 5] = [
        (
            &[("theme", "<script>alert(1)</script>"), ("font_size", "16")],
            "invalid_theme",
        ),
        (
            &[("theme", "dark"), ("font_size", "40")],
            "invalid_font_size",
        ),
        (
            &[("theme", "dark"), ("font_size", "big")],
            "invalid_font_size",
        ),
        (
            &[("default_model", "openai/gpt-5"), ("theme", "dark")],
            "model_unavailable",
        ),
        (
            &[("default_model", "no-slash"), ("theme", "dark")],
            "model_unavailable",
        ),
    ];
    for (fields, code) in cases {
        let response = post_form(&app, fields).await;
        assert_eq!(response.status(), 303, "{fields:?}");
        assert_eq!(
            location(&response),
            format!("/settings?error={code}"),
            "{fields:?}"
        );
    }
    assert_eq!(settings(&app).await, before, "nothing was saved");

    let html = page(&app, "/settings?error=invalid_theme").await;
    assert!(html.contains("Choose light, dark or system for the theme."));
    assert!(html.contains(r#"role="alert""#));
    assert!(!html.contains("Settings saved."));
    let html = page(&app, "/settings?error=%3Cscript%3Ealert(1)%3C%2Fscript%3E").await;
    assert!(!html.contains("<script>alert(1)"));
    assert!(!html.contains(r#"role="alert""#));
}

#[tokio::test]
async fn the_form_without_a_session_goes_to_the_login_page() {
    let app = spawn_app().await;
    let response = anonymous_client()
        .post(app.url("/settings/save"))
        .form(&[("theme", "dark")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), "/login");
}

#[tokio::test]
async fn the_settings_page_shows_the_saved_values() {
    let app = spawn_app_with(&[("OPENAI_API_KEY", "sk-test")]).await;
    app.register("page@example.com").await;

    // Defaults first.
    let html = page(&app, "/settings").await;
    assert!(html.contains(r#"action="/settings/save""#));
    assert!(html.contains(r#"method="post""#));
    assert!(html.contains("Back to chats"));
    assert!(html.contains(">Settings</h1>"));
    assert!(html.contains("page@example.com"), "the user menu");
    assert!(has_attribute(tag_with_id(&html, "theme-system"), "checked"));
    assert!(!has_attribute(tag_with_id(&html, "theme-dark"), "checked"));
    assert!(has_attribute(option_tag(&html, "16"), "selected"));
    assert!(has_attribute(
        option_tag(&html, "demo/demo-offline"),
        "selected"
    ));
    for toggle in ["streaming", "markdown", "code_highlight"] {
        let tag = tag_with_id(&html, toggle);
        assert!(tag.contains(r#"type="checkbox""#), "{tag}");
        assert!(has_attribute(tag, "checked"), "{tag}");
        assert!(
            html.contains(&format!(r#"for="{toggle}""#)),
            "{toggle} has a label"
        );
    }
    assert!(!html.contains("Settings saved."));
    // The models come grouped by provider, each option `provider/model`.
    assert!(html.contains(r#"<optgroup label="OpenAI">"#));
    assert!(html.contains(r#"<optgroup label="Offline demo">"#));
    assert!(!has_attribute(
        option_tag(&html, "openai/gpt-5-mini"),
        "selected"
    ));
    assert!(html.contains(">GPT-5 mini</option>"));
    assert!(
        !html.contains(r#"optgroup label="Anthropic""#),
        "no key, no models"
    );

    post_form(
        &app,
        &[
            ("default_model", "openai/gpt-5-mini"),
            ("theme", "light"),
            ("font_size", "20"),
            ("code_highlight", "on"),
        ],
    )
    .await;
    let html = page(&app, "/settings").await;
    assert!(has_attribute(tag_with_id(&html, "theme-light"), "checked"));
    assert!(!has_attribute(
        tag_with_id(&html, "theme-system"),
        "checked"
    ));
    assert!(has_attribute(option_tag(&html, "20"), "selected"));
    assert!(!has_attribute(option_tag(&html, "16"), "selected"));
    assert!(has_attribute(
        option_tag(&html, "openai/gpt-5-mini"),
        "selected"
    ));
    assert!(!has_attribute(
        option_tag(&html, "demo/demo-offline"),
        "selected"
    ));
    assert!(!has_attribute(tag_with_id(&html, "streaming"), "checked"));
    assert!(!has_attribute(tag_with_id(&html, "markdown"), "checked"));
    assert!(has_attribute(
        tag_with_id(&html, "code_highlight"),
        "checked"
    ));
}

#[tokio::test]
async fn a_default_model_that_became_unavailable_stays_and_does_not_block_saving() {
    use sea_orm::ConnectionTrait;
    let app = spawn_app().await;
    app.register("stale@example.com").await;
    // As if it had been chosen while OpenAI had a key.
    app.db
        .execute_unprepared(
            "UPDATE chat_settings SET default_provider = 'openai', default_model = 'gpt-5'",
        )
        .await
        .unwrap();
    let html = page(&app, "/settings").await;
    assert!(has_attribute(option_tag(&html, "openai/gpt-5"), "selected"));
    let response = post_form(
        &app,
        &[
            ("default_model", "openai/gpt-5"),
            ("theme", "dark"),
            ("font_size", "16"),
        ],
    )
    .await;
    assert_eq!(location(&response), "/settings?saved=1");
    let after = settings(&app).await;
    assert_eq!(after.theme, "dark");
    assert_eq!(after.default_model, "gpt-5");
}

#[tokio::test]
async fn saved_theme_and_font_size_shape_every_page() {
    let app = spawn_app().await;
    app.register("theme@example.com").await;
    let html = page(&app, "/").await;
    assert!(!html.contains("data-theme="), "system: no theme attribute");
    assert!(html.contains("--font-size: 16px"));

    let response = post_form(
        &app,
        &[
            ("default_model", "demo/demo-offline"),
            ("theme", "dark"),
            ("font_size", "18"),
            ("streaming", "on"),
            ("markdown", "on"),
            ("code_highlight", "on"),
        ],
    )
    .await;
    assert_eq!(location(&response), "/settings?saved=1");
    for path in ["/", "/settings"] {
        let html = page(&app, path).await;
        assert!(html.contains(r#"data-theme="dark""#), "{path}");
        assert!(html.contains("--font-size: 18px"), "{path}");
    }

    put_settings(&app, json!({ "theme": "light", "font_size": 14 })).await;
    let html = page(&app, "/").await;
    assert!(html.contains(r#"data-theme="light""#));
    assert!(html.contains("--font-size: 14px"));
}

#[tokio::test]
async fn a_logged_out_visitor_of_the_settings_page_is_sent_to_log_in() {
    let app = spawn_app().await;
    let response = anonymous_client()
        .get(app.url("/settings"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), "/login");
}

#[tokio::test]
async fn each_user_has_their_own_settings() {
    let app = spawn_app().await;
    app.register("first@example.com").await;
    let response = put_settings(&app, json!({ "theme": "dark", "font_size": 20 })).await;
    assert_eq!(response.status(), 200);

    let second = app.register_person("second@example.com").await.client;
    let theirs: SettingsView = second
        .get(app.url("/api/settings"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(theirs.theme, "system");
    assert_eq!(theirs.font_size, 16);

    let response = second
        .post(app.url("/settings/save"))
        .form(&[("theme", "light"), ("font_size", "14")])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&response), "/settings?saved=1");
    let html = second
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains(r#"data-theme="light""#));

    let mine = settings(&app).await;
    assert_eq!(mine.theme, "dark");
    assert_eq!(mine.font_size, 20);
    let html = page(&app, "/").await;
    assert!(html.contains(r#"data-theme="dark""#));
    assert!(html.contains("--font-size: 20px"));
}
