//! The load generator: users registered through the public API, their WebSocket feeds, and
//! replies requested either through the server (POST a message, read its deltas on the feed)
//! or directly from the fake upstream (the baseline), at a given concurrency for a bounded
//! count and time.

use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::{
    tungstenite::{protocol::WebSocketConfig, Message},
    MaybeTlsStream, WebSocketStream,
};

use crate::upstream::{FakeUpstream, ReplyShape};

/// The seeded OpenAI model every benchmark conversation uses.
pub const MODEL: &str = "gpt-4o-mini";
const REPLY_TIMEOUT: Duration = Duration::from_secs(120);

/// The public JSON API of one server.
#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    pub base: String,
}

/// A registered user.
#[derive(Clone)]
pub struct User {
    pub token: String,
}

impl Api {
    pub fn new(base: &str) -> Self {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(usize::MAX)
            .timeout(Duration::from_secs(120))
            .build()
            .unwrap_or_default();
        Self {
            http,
            base: base.to_owned(),
        }
    }

    async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Result<Value, String> {
        let mut request = self.http.post(format!("{}{path}", self.base)).json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.map_err(|e| format!("{path}: {e}"))?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            return Err(format!("{path}: {status} {body}"));
        }
        Ok(body)
    }

    pub async fn register(&self, email: &str) -> Result<User, String> {
        let body = self
            .post(
                "/api/auth/register",
                None,
                json!({"email": email, "password": "benchmark password 1234", "name": "Bench"}),
            )
            .await?;
        let token = body["token"].as_str().ok_or("register: no token")?;
        Ok(User {
            token: token.to_owned(),
        })
    }

    pub async fn create_conversation(&self, user: &User) -> Result<String, String> {
        let body = self
            .post(
                "/api/conversations",
                Some(&user.token),
                json!({"title": "bench", "provider": "openai", "model": MODEL}),
            )
            .await?;
        body["id"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| "create conversation: no id".into())
    }

    pub async fn send_message(
        &self,
        user: &User,
        conversation_id: &str,
        content: &str,
    ) -> Result<(), String> {
        self.post(
            &format!("/api/conversations/{conversation_id}/messages"),
            Some(&user.token),
            json!({"content": content}),
        )
        .await
        .map(|_| ())
    }

    pub async fn get_json(&self, user: &User, path: &str) -> Result<Value, String> {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&user.token)
            .send()
            .await
            .map_err(|e| format!("{path}: {e}"))?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            return Err(format!("{path}: {status} {body}"));
        }
        Ok(body)
    }

    /// GETs an API path; returns the body and the time taken to the whole body.
    pub async fn get_timed(&self, user: &User, path: &str) -> Result<(String, Duration), String> {
        let started = Instant::now();
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&user.token)
            .send()
            .await
            .map_err(|e| format!("{path}: {e}"))?;
        let status = response.status();
        let body = response.text().await.map_err(|e| e.to_string())?;
        if !status.is_success() {
            return Err(format!("{path}: {status} {body}"));
        }
        Ok((body, started.elapsed()))
    }

    /// GETs a page with the session cookie; returns the status, the body and the time taken
    /// to the whole body.
    pub async fn get_page(
        &self,
        user: &User,
        path: &str,
    ) -> Result<(u16, String, Duration), String> {
        let started = Instant::now();
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .header("cookie", format!("rustchat_session={}", user.token))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let body = response.text().await.map_err(|e| e.to_string())?;
        Ok((status, body, started.elapsed()))
    }
}

/// Registers `count` users, a few at a time (password hashing is deliberately slow).
pub async fn register_users(api: &Api, count: usize) -> Result<Vec<User>, String> {
    let run = uuid::Uuid::new_v4().simple().to_string();
    let emails: Vec<String> = (0..count)
        .map(|i| format!("bench-{}-{i}@example.com", &run[..8]))
        .collect();
    let results: Vec<Result<User, String>> = futures::stream::iter(emails)
        .map(|email| {
            let api = api.clone();
            async move { api.register(&email).await }
        })
        .buffered(4)
        .collect()
        .await;
    results.into_iter().collect()
}

/// One authenticated WebSocket feed.
pub struct FeedSocket {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl FeedSocket {
    pub async fn connect(base: &str, user: &User) -> Result<Self, String> {
        let url = format!(
            "{}/ws?token={}",
            base.replacen("http://", "ws://", 1),
            user.token
        );
        // Small buffers: the bench holds as many client sockets as the server holds.
        let config = WebSocketConfig::default()
            .read_buffer_size(4 * 1024)
            .write_buffer_size(0);
        let (ws, _) = tokio_tungstenite::connect_async_with_config(url, Some(config), true)
            .await
            .map_err(|e| format!("websocket: {e}"))?;
        Ok(Self { ws })
    }

    pub async fn send(&mut self, frame: Value) -> Result<(), String> {
        self.ws
            .send(Message::text(frame.to_string()))
            .await
            .map_err(|e| e.to_string())
    }

    /// The next JSON text frame (protocol pings are answered by tungstenite itself).
    pub async fn next_json(&mut self) -> Result<Value, String> {
        loop {
            match self.ws.next().await {
                Some(Ok(Message::Text(text))) => {
                    return serde_json::from_str(&text).map_err(|e| e.to_string())
                }
                Some(Ok(Message::Close(_))) | None => return Err("feed closed".into()),
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Err(e.to_string()),
            }
        }
    }

    async fn until(
        &mut self,
        limit: Duration,
        want: impl Fn(&Value) -> bool,
    ) -> Result<(), String> {
        tokio::time::timeout(limit, async {
            loop {
                let frame = self.next_json().await?;
                if frame["type"] == "error" {
                    return Err(format!("feed error: {frame}"));
                }
                if want(&frame) {
                    return Ok(());
                }
            }
        })
        .await
        .map_err(|_| "timed out waiting on the feed".to_owned())?
    }

    pub async fn subscribe(&mut self, conversation_id: &str) -> Result<(), String> {
        self.send(json!({"type": "subscribe", "conversation_id": conversation_id}))
            .await?;
        self.until(Duration::from_secs(30), |f| {
            f["type"] == "subscribed" && f["conversation_id"] == conversation_id
        })
        .await
    }

    pub async fn ping(&mut self) -> Result<(), String> {
        self.send(json!({"type": "ping"})).await?;
        self.until(Duration::from_secs(30), |f| f["type"] == "pong")
            .await
    }

    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }
}

/// Opens `count` feeds for `users` round-robin, `batch` handshakes at a time; each feed comes
/// with the user it is authenticated as.
pub async fn open_feeds(
    base: &str,
    users: &[User],
    count: usize,
    batch: usize,
) -> Result<Vec<(FeedSocket, User)>, String> {
    let results: Vec<Result<(FeedSocket, User), String>> = futures::stream::iter(0..count)
        .map(|i| {
            let user = users[i % users.len()].clone();
            let base = base.to_owned();
            async move { Ok((FeedSocket::connect(&base, &user).await?, user)) }
        })
        .buffer_unordered(batch.max(1))
        .collect()
        .await;
    results.into_iter().collect()
}

/// What the client saw of one reply, in milliseconds from sending the request.
#[derive(Clone, Copy, Debug, Default)]
pub struct ReplyTiming {
    pub first_delta_ms: f64,
    pub last_delta_ms: f64,
    pub deltas: usize,
    /// Through the server only: from the send to the upstream receiving its request, and from
    /// the upstream sending the first token to the client receiving it.
    pub before_upstream_ms: Option<f64>,
    pub first_token_relay_ms: Option<f64>,
}

/// All replies of one run.
#[derive(Debug, Default)]
pub struct RunResult {
    pub replies: Vec<ReplyTiming>,
    pub errors: Vec<String>,
    pub wall: Duration,
}

impl RunResult {
    pub fn deltas(&self) -> usize {
        self.replies.iter().map(|r| r.deltas).sum()
    }

    pub fn deltas_per_second(&self) -> f64 {
        self.deltas() as f64 / self.wall.as_secs_f64().max(1e-9)
    }
}

fn millis(from: Instant, to: Instant) -> f64 {
    to.saturating_duration_since(from).as_secs_f64() * 1e3
}

/// Limits of one run: at most `count` replies, none started after `time` has passed.
#[derive(Clone, Copy, Debug)]
pub struct Bounds {
    pub concurrency: usize,
    pub count: usize,
    pub time: Duration,
}

struct Tickets {
    next: AtomicUsize,
    count: usize,
    deadline: Instant,
}

impl Tickets {
    fn take(&self) -> bool {
        Instant::now() < self.deadline && self.next.fetch_add(1, Ordering::Relaxed) < self.count
    }
}

/// Replies through the server: `feeds.len()` workers, each with its own feed and user, each
/// reply in a fresh conversation (so every request has the same one-message history).
pub async fn run_through_server(
    api: &Api,
    upstream: &Arc<FakeUpstream>,
    feeds: Vec<(FeedSocket, User)>,
    shape: ReplyShape,
    bounds: Bounds,
) -> (RunResult, Vec<(FeedSocket, User)>) {
    let tickets = Arc::new(Tickets {
        next: AtomicUsize::new(0),
        count: bounds.count,
        deadline: Instant::now() + bounds.time,
    });
    let started = Instant::now();
    let workers: Vec<_> = feeds
        .into_iter()
        .map(|(mut feed, user)| {
            let api = api.clone();
            let upstream = upstream.clone();
            let tickets = tickets.clone();
            tokio::spawn(async move {
                let mut replies = Vec::new();
                let mut errors = Vec::new();
                while tickets.take() {
                    match reply_through_server(&api, &upstream, &mut feed, &user, shape).await {
                        Ok(timing) => replies.push(timing),
                        Err(e) => errors.push(e),
                    }
                }
                (replies, errors, feed, user)
            })
        })
        .collect();
    let mut result = RunResult::default();
    let mut feeds = Vec::new();
    for worker in workers {
        match worker.await {
            Ok((replies, errors, feed, user)) => {
                result.replies.extend(replies);
                result.errors.extend(errors);
                feeds.push((feed, user));
            }
            Err(e) => result.errors.push(format!("worker: {e}")),
        }
    }
    result.wall = started.elapsed();
    (result, feeds)
}

/// One reply through the server, timed from the moment the message is posted. Deltas may
/// arrive before the 202 does, so the feed is read while the POST is in flight.
pub async fn reply_through_server(
    api: &Api,
    upstream: &FakeUpstream,
    feed: &mut FeedSocket,
    user: &User,
    shape: ReplyShape,
) -> Result<ReplyTiming, String> {
    let conversation_id = api.create_conversation(user).await?;
    feed.subscribe(&conversation_id).await?;
    stream_reply(api, upstream, feed, user, &conversation_id, shape).await
}

/// Posts one message to a conversation the feed is subscribed to and follows its reply to the
/// end, then unsubscribes.
pub async fn stream_reply(
    api: &Api,
    upstream: &FakeUpstream,
    feed: &mut FeedSocket,
    user: &User,
    conversation_id: &str,
    shape: ReplyShape,
) -> Result<ReplyTiming, String> {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let prompt = shape.prompt(&id);
    let sent = Instant::now();
    let mut first = None;
    let mut last = sent;
    let mut deltas = 0;
    let outcome = tokio::time::timeout(REPLY_TIMEOUT, async {
        let post = api.send_message(user, conversation_id, &prompt);
        tokio::pin!(post);
        let mut posted = false;
        let mut finished = false;
        while !(posted && finished) {
            tokio::select! {
                result = &mut post, if !posted => {
                    result?;
                    posted = true;
                }
                frame = feed.next_json(), if !finished => {
                    let frame = frame?;
                    let now = Instant::now();
                    if frame["conversation_id"] != conversation_id {
                        continue;
                    }
                    match frame["type"].as_str() {
                        Some("message.streaming") => {
                            first.get_or_insert(now);
                            last = now;
                            deltas += 1;
                        }
                        Some("message.updated")
                            if frame["data"]["role"] == "assistant"
                                && frame["data"]["status"] != "streaming" =>
                        {
                            if frame["data"]["status"] != "complete" {
                                return Err(format!("reply ended {}: {}", frame["data"]["status"], frame["data"]["error"]));
                            }
                            finished = true;
                        }
                        Some("error") => return Err(format!("feed error: {frame}")),
                        _ => {}
                    }
                }
            }
        }
        Ok::<(), String>(())
    })
    .await;
    let _ = feed
        .send(json!({"type": "unsubscribe", "conversation_id": conversation_id}))
        .await;
    let upstream_timing = upstream.take_timing(&id);
    outcome.map_err(|_| "reply timed out".to_owned())??;
    let first = first.ok_or("the reply had no delta")?;
    Ok(ReplyTiming {
        first_delta_ms: millis(sent, first),
        last_delta_ms: millis(sent, last),
        deltas,
        before_upstream_ms: upstream_timing.map(|t| millis(sent, t.received)),
        first_token_relay_ms: upstream_timing
            .and_then(|t| t.first_token_sent)
            .map(|t| millis(t, first)),
    })
}

/// The baseline: the same replies requested straight from the fake upstream, the way the
/// server's provider asks for them (a streamed chat completion), at the same concurrency.
pub async fn run_direct(
    upstream: &Arc<FakeUpstream>,
    shape: ReplyShape,
    bounds: Bounds,
) -> RunResult {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(usize::MAX)
        .build()
        .unwrap_or_default();
    let url = format!("{}/v1/chat/completions", upstream.address);
    let tickets = Arc::new(Tickets {
        next: AtomicUsize::new(0),
        count: bounds.count,
        deadline: Instant::now() + bounds.time,
    });
    let started = Instant::now();
    let workers: Vec<_> = (0..bounds.concurrency)
        .map(|_| {
            let http = http.clone();
            let url = url.clone();
            let tickets = tickets.clone();
            let upstream = upstream.clone();
            tokio::spawn(async move {
                let mut replies = Vec::new();
                let mut errors = Vec::new();
                while tickets.take() {
                    let id = uuid::Uuid::new_v4().simple().to_string();
                    match reply_direct(&http, &url, &shape.prompt(&id)).await {
                        Ok(timing) => replies.push(timing),
                        Err(e) => errors.push(e),
                    }
                    upstream.take_timing(&id);
                }
                (replies, errors)
            })
        })
        .collect();
    let mut result = RunResult::default();
    for worker in workers {
        match worker.await {
            Ok((replies, errors)) => {
                result.replies.extend(replies);
                result.errors.extend(errors);
            }
            Err(e) => result.errors.push(format!("worker: {e}")),
        }
    }
    result.wall = started.elapsed();
    result
}

async fn reply_direct(
    http: &reqwest::Client,
    url: &str,
    prompt: &str,
) -> Result<ReplyTiming, String> {
    let body = json!({
        "model": MODEL,
        "messages": [{"role": "user", "content": prompt}],
        "stream": true,
        "stream_options": {"include_usage": true},
        "max_tokens": 4096,
        "temperature": 1.0
    });
    let sent = Instant::now();
    let response = http
        .post(url)
        .bearer_auth("bench")
        .json(&body)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if !response.status().is_success() {
        return Err(format!("upstream answered {}", response.status()));
    }
    let mut stream = response.bytes_stream();
    let mut pending = Vec::new();
    let mut first = None;
    let mut last = sent;
    let mut deltas = 0;
    while let Some(bytes) = stream.next().await {
        let bytes = bytes.map_err(|e| e.to_string())?;
        let now = Instant::now();
        pending.extend_from_slice(&bytes);
        while let Some(end) = find_frame_end(&pending) {
            let frame: Vec<u8> = pending.drain(..end + 2).collect();
            if content_delta(&frame).is_some() {
                first.get_or_insert(now);
                last = now;
                deltas += 1;
            }
        }
    }
    let first = first.ok_or("the reply had no delta")?;
    Ok(ReplyTiming {
        first_delta_ms: millis(sent, first),
        last_delta_ms: millis(sent, last),
        deltas,
        before_upstream_ms: None,
        first_token_relay_ms: None,
    })
}

fn find_frame_end(buffer: &[u8]) -> Option<usize> {
    buffer.windows(2).position(|w| w == b"\n\n")
}

/// The non-empty content of one SSE chat-completion chunk.
fn content_delta(frame: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(frame).ok()?;
    let data = text.trim().strip_prefix("data: ")?;
    if data == "[DONE]" {
        return None;
    }
    let chunk: Value = serde_json::from_str(data).ok()?;
    chunk["choices"][0]["delta"]["content"]
        .as_str()
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::upstream::reply_frames;

    #[test]
    fn the_direct_client_counts_only_content_chunks() {
        let tokens: Vec<String> = (0..5).map(|i| format!(" t{i}")).collect();
        let frames = reply_frames(&tokens, 10);
        let contents: Vec<String> = frames
            .iter()
            .filter_map(|f| content_delta(f.as_bytes()))
            .collect();
        assert_eq!(contents.len(), 5);
        let joined: String = frames.concat();
        assert_eq!(find_frame_end(joined.as_bytes()), Some(frames[0].len() - 2));
    }
}
