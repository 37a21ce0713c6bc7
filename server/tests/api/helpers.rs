//! Starts the real server on port 0 against a fresh database: a SQLite file in a temporary
//! folder by default, or a new PostgreSQL database when `TEST_DATABASE_URL` is set (then an
//! unreachable server fails the test; it is never skipped).

use app::wire::{AuthResponse, ConversationView, MessageStatus, MessageView, Page, SendResponse};
pub mod fake_upstream;
pub mod ws_client;

use std::{collections::HashMap, time::Duration};

use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use server::{chat::ChatService, config::Config, startup::Application};
use uuid::Uuid;

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub db: DatabaseConnection,
    pub database_url: String,
    pub data_dir: tempfile::TempDir,
    pub chat: ChatService,
    _database: TestDatabase,
}

/// A PostgreSQL database made for one test and dropped after it.
struct TestDatabase {
    admin_url: Option<String>,
    name: String,
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some(admin_url) = self.admin_url.clone() else {
            return;
        };
        let name = self.name.clone();
        // Drop runs outside any runtime we may block on: use a thread with its own.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                let db = Database::connect(&admin_url).await.ok()?;
                db.execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                    .await
                    .ok()
            })
        })
        .join();
    }
}

async fn fresh_database(dir: &std::path::Path) -> (String, TestDatabase) {
    match std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|v| !v.is_empty())
    {
        None => (
            format!("sqlite://{}?mode=rwc", dir.join("test.db").display()),
            TestDatabase {
                admin_url: None,
                name: String::new(),
            },
        ),
        Some(admin_url) => {
            let name = format!("rustchat_t_{}", uuid::Uuid::new_v4().simple());
            let admin = Database::connect(&admin_url).await.unwrap_or_else(|e| {
                panic!("TEST_DATABASE_URL is set but PostgreSQL is unreachable ({admin_url}): {e}")
            });
            admin
                .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                .await
                .expect("create the test database");
            let base = admin_url
                .rsplit_once('/')
                .map(|(base, _)| base)
                .unwrap_or(&admin_url);
            (
                format!("{base}/{name}"),
                TestDatabase {
                    admin_url: Some(admin_url),
                    name,
                },
            )
        }
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// Starts a server with extra configuration variables.
pub async fn spawn_app_with(vars: &[(&str, &str)]) -> TestApp {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let (database_url, database) = fresh_database(data_dir.path()).await;
    let app = start_server(&data_dir, &database_url, vars).await;
    let address = format!("http://127.0.0.1:{}", app.port());
    let db = app.state().db.clone();
    let chat = app.state().chat.clone();
    tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    TestApp {
        address,
        client,
        db,
        database_url,
        data_dir,
        chat,
        _database: database,
    }
}

/// The server binary, for the tests that run it as a process: `SERVER_BIN` when set (worktrees
/// that share one target folder overwrite each other's `debug/server`), else the one cargo
/// built for these tests.
pub fn server_binary() -> std::ffi::OsString {
    std::env::var_os("SERVER_BIN").unwrap_or_else(|| env!("CARGO_BIN_EXE_server").into())
}

/// Builds (but does not run) a server on an existing database: a restart, as far as the
/// database can tell.
pub async fn start_server(
    data_dir: &tempfile::TempDir,
    database_url: &str,
    vars: &[(&str, &str)],
) -> Application {
    let mut env: HashMap<String, String> = HashMap::from([
        ("DATA_DIR".into(), data_dir.path().display().to_string()),
        ("DATABASE_URL".into(), database_url.to_owned()),
        ("LEPTOS_SITE_ADDR".into(), "127.0.0.1:0".into()),
        (
            "JWT_SECRET".into(),
            "test-secret-that-is-long-enough-0123456789".into(),
        ),
        // Most suites register many people; the accounts suite sets the other modes.
        ("REGISTRATION".into(), "open".into()),
        // Every test registers and sends from 127.0.0.1: the limits are off unless a test of
        // them sets its own.
        ("AUTH_ATTEMPTS_PER_MINUTE".into(), "0".into()),
        ("SENDS_PER_MINUTE".into(), "0".into()),
        ("MAX_ACTIVE_REPLIES_PER_USER".into(), "1000".into()),
        // A title is a second provider call: only the titles suite wants it.
        ("AUTO_TITLES".into(), "off".into()),
    ]);
    for (k, v) in vars {
        env.insert((*k).into(), (*v).into());
    }
    let config = Config::from_lookup(|name| env.get(name).cloned()).expect("config");
    Application::build(config).await.expect("server starts")
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn post_json(&self, path: &str, body: Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .expect("request")
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request")
    }

    /// GETs `path` as the signed-in user and reads the body as `T`.
    pub async fn get_json<T: DeserializeOwned>(&self, path: &str) -> T {
        json_body(self.get(path).await).await
    }

    /// Registers a user through the API (the client keeps the cookie) and returns the token.
    pub async fn register(&self, email: &str) -> String {
        let response = self
            .post_json(
                "/api/auth/register",
                json!({ "email": email, "password": "correct horse battery", "name": "Test User" }),
            )
            .await;
        assert_eq!(response.status(), 201, "register {email}");
        json_body::<AuthResponse>(response).await.token
    }

    /// Creates a conversation through the API.
    pub async fn create_conversation(&self, body: Value) -> ConversationView {
        let response = self.post_json("/api/conversations", body).await;
        assert_eq!(response.status(), 201, "create conversation");
        json_body(response).await
    }

    /// Sends a message and returns the 202 body.
    pub async fn send(&self, conversation_id: Uuid, content: &str) -> SendResponse {
        let response = self
            .post_json(
                &format!("/api/conversations/{conversation_id}/messages"),
                json!({ "content": content }),
            )
            .await;
        assert_eq!(response.status(), 202, "send");
        json_body(response).await
    }

    /// Every message of the conversation, page after page (a page also ends at its byte
    /// budget).
    pub async fn messages(&self, conversation_id: Uuid) -> Vec<MessageView> {
        self.messages_on(conversation_id, "current").await
    }

    /// The messages of `branch` (`current` or `all`), page after page.
    pub async fn messages_on(&self, conversation_id: Uuid, branch: &str) -> Vec<MessageView> {
        let path =
            format!("/api/conversations/{conversation_id}/messages?limit=1000&branch={branch}");
        let mut page = self.get_json::<Page<MessageView>>(&path).await;
        let mut messages = std::mem::take(&mut page.items);
        while let Some(after) = page.next_cursor.take() {
            page = self.get_json(&format!("{path}&cursor={after}")).await;
            messages.append(&mut page.items);
        }
        messages
    }

    /// Polls the stored message until it has left `streaming`.
    pub async fn wait_for_reply(&self, conversation_id: Uuid, message_id: Uuid) -> MessageView {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            // On whichever branch it is.
            let message = self
                .messages_on(conversation_id, "all")
                .await
                .into_iter()
                .find(|m| m.id == message_id)
                .expect("the message exists");
            if message.status != MessageStatus::Streaming {
                return message;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "reply still streaming after 30 s"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub async fn conversation(&self, conversation_id: Uuid) -> ConversationView {
        self.get_json(&format!("/api/conversations/{conversation_id}"))
            .await
    }
}

/// Another person using the same server: their own cookie jar (signed in) and their token.
pub struct Person {
    pub client: reqwest::Client,
    pub token: String,
}

impl TestApp {
    pub async fn register_person(&self, email: &str) -> Person {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let response = client
            .post(self.url("/api/auth/register"))
            .json(&json!({ "email": email, "password": "correct horse battery", "name": "Other" }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201, "register {email}");
        let token = json_body::<AuthResponse>(response).await.token;
        Person { client, token }
    }
}

impl Person {
    /// GETs `path` as this person and reads the body as `T`.
    pub async fn get_json<T: DeserializeOwned>(&self, app: &TestApp, path: &str) -> T {
        json_body(
            self.client
                .get(app.url(path))
                .send()
                .await
                .expect("request"),
        )
        .await
    }
}

/// Reads a JSON body as `T`, failing with the status and the body when it is something else.
pub async fn json_body<T: DeserializeOwned>(response: reqwest::Response) -> T {
    let status = response.status();
    let body = response.text().await.expect("a body");
    serde_json::from_str(&body)
        .unwrap_or_else(|e| panic!("{status} {body:?} is not the expected JSON: {e}"))
}

/// A fresh client with no cookies, for acting as a second person.
pub fn anonymous_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Where a redirect points.
pub fn location(response: &reqwest::Response) -> String {
    response.headers()["location"].to_str().unwrap().to_owned()
}

/// The `code` of an error body `{"error": {"code", "message"}}`.
pub async fn error_code(response: reqwest::Response) -> String {
    let body: Value = response.json().await.expect("JSON error body");
    body["error"]["code"]
        .as_str()
        .expect("error.code")
        .to_owned()
}

/// Counts UPDATEs of `messages` rows from now on, with a database trigger.
pub struct MessageWriteCounter;

pub async fn count_message_updates(db: &DatabaseConnection) -> MessageWriteCounter {
    use sea_orm::DatabaseBackend;
    let statements: &[&str] = match db.get_database_backend() {
        DatabaseBackend::Postgres => &[
            "CREATE TABLE test_message_writes (n BIGINT NOT NULL)",
            "INSERT INTO test_message_writes VALUES (0)",
            "CREATE FUNCTION test_count_message_write() RETURNS trigger AS $$ \
             BEGIN UPDATE test_message_writes SET n = n + 1; RETURN NEW; END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER test_count_message_writes AFTER UPDATE ON messages \
             FOR EACH ROW EXECUTE FUNCTION test_count_message_write()",
        ],
        _ => &[
            "CREATE TABLE test_message_writes (n INTEGER NOT NULL)",
            "INSERT INTO test_message_writes VALUES (0)",
            "CREATE TRIGGER test_count_message_writes AFTER UPDATE ON messages \
             BEGIN UPDATE test_message_writes SET n = n + 1; END",
        ],
    };
    for statement in statements {
        db.execute_unprepared(statement)
            .await
            .expect("install the write counter");
    }
    MessageWriteCounter
}

impl MessageWriteCounter {
    pub async fn read(&self, db: &DatabaseConnection) -> i64 {
        use sea_orm::{FromQueryResult, Statement};
        #[derive(FromQueryResult)]
        struct Row {
            n: i64,
        }
        Row::find_by_statement(Statement::from_string(
            db.get_database_backend(),
            "SELECT n FROM test_message_writes",
        ))
        .one(db)
        .await
        .expect("read the write counter")
        .expect("a row")
        .n
    }
}
