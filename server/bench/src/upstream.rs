//! A fake OpenAI chat-completions upstream on loopback. Each request's last user message holds
//! a [`ReplyShape`] and a request id (see [`ReplyShape::prompt`]); the fake waits the time to
//! first token, then streams one token per chunk at the given pace, in OpenAI's exact SSE wire
//! format (role chunk, content chunks, finish chunk, usage chunk, `[DONE]`). The tokens are
//! short words, or the pieces of one of the sample markdown answers.
//!
//! It runs on its own tokio runtime on its own threads, so the load generator's work does not
//! delay its tokens, and it records when each request arrived and when its first token left,
//! on the same clock as the load generator: that splits the server's added latency into the
//! part before the upstream call and the part relaying the first token.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{
    body::{Body, Bytes},
    extract::State,
    response::Response,
    serve::ListenerExt,
    Router,
};
use futures::StreamExt;
use serde_json::{json, Value};

use crate::sample_text;

/// What a reply looks like: how many tokens, after how long, how fast.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReplyShape {
    pub tokens: usize,
    pub first_token: Duration,
    pub pace: Duration,
    /// Stream this kind of sample markdown answer (with the template marker) instead of
    /// `tokens` words.
    pub markdown: Option<usize>,
}

impl ReplyShape {
    /// The user message that asks the fake for this shape; `id` keys its timestamps.
    pub fn prompt(&self, id: &str) -> String {
        let markdown = self
            .markdown
            .map(|kind| format!(" markdown={kind}"))
            .unwrap_or_default();
        format!(
            "bench id={id} tokens={} ttft_us={} pace_us={}{markdown}",
            self.tokens,
            self.first_token.as_micros(),
            self.pace.as_micros()
        )
    }

    /// Reads a prompt made by [`ReplyShape::prompt`]: the id and the shape.
    pub fn parse(prompt: &str) -> Option<(String, Self)> {
        let mut id = None;
        let (mut tokens, mut ttft, mut pace, mut markdown) = (None, None, None, None);
        for pair in prompt.split_whitespace() {
            let Some((key, value)) = pair.split_once('=') else {
                continue;
            };
            match key {
                "id" => id = Some(value.to_owned()),
                "tokens" => tokens = value.parse().ok(),
                "ttft_us" => ttft = value.parse().ok().map(Duration::from_micros),
                "pace_us" => pace = value.parse().ok().map(Duration::from_micros),
                "markdown" => markdown = value.parse().ok(),
                _ => {}
            }
        }
        Some((
            id?,
            Self {
                tokens: tokens?,
                first_token: ttft?,
                pace: pace?,
                markdown,
            },
        ))
    }

    pub fn describe(&self) -> String {
        let rest = match self.pace.is_zero() {
            true => "then the rest at once".to_owned(),
            false => format!("then one every {} ms", self.pace.as_millis()),
        };
        format!(
            "{} tokens, first token after {} ms, {rest}",
            self.tokens,
            self.first_token.as_millis(),
        )
    }
}

/// The text of token `index`: a short word with a leading space, like most BPE tokens.
pub fn token_text(index: usize) -> &'static str {
    const WORDS: [&str; 8] = [
        " stream", " token", " latency", " server", " reply", " socket", " bench", " rust",
    ];
    WORDS[index % WORDS.len()]
}

fn sse(value: Value) -> String {
    format!("data: {value}\n\n")
}

fn chunk(delta: Value, finish: Value) -> String {
    sse(json!({
        "id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": 1_700_000_000,
        "model": "gpt-4o-mini", "system_fingerprint": null,
        "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}],
        "usage": null
    }))
}

/// The tokens of a reply of this shape.
pub fn reply_tokens(shape: &ReplyShape) -> Vec<String> {
    match shape.markdown {
        Some(kind) => sample_text::pieces(&sample_text::answer(kind, sample_text::TEMPLATE_MARKER))
            .into_iter()
            .map(str::to_owned)
            .collect(),
        None => (0..shape.tokens)
            .map(|i| token_text(i).to_owned())
            .collect(),
    }
}

/// Every SSE frame of a reply of `tokens` to a prompt of `prompt_tokens`: the role chunk, one
/// content chunk per token, the finish chunk, the usage chunk, `[DONE]`.
pub fn reply_frames(tokens: &[String], prompt_tokens: usize) -> Vec<String> {
    let mut frames = Vec::with_capacity(tokens.len() + 4);
    frames.push(chunk(
        json!({"role": "assistant", "content": "", "refusal": null}),
        Value::Null,
    ));
    frames.extend(
        tokens
            .iter()
            .map(|token| chunk(json!({"content": token}), Value::Null)),
    );
    let completion = tokens.len();
    frames.push(chunk(json!({}), json!("stop")));
    frames.push(sse(json!({
        "id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": 1_700_000_000,
        "model": "gpt-4o-mini", "system_fingerprint": null, "choices": [],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion,
                  "total_tokens": prompt_tokens + completion,
                  "prompt_tokens_details": {"cached_tokens": 0},
                  "completion_tokens_details": {"reasoning_tokens": 0}}
    })));
    frames.push("data: [DONE]\n\n".into());
    frames
}

/// When the fake saw a request and sent its first token.
#[derive(Clone, Copy, Debug)]
pub struct UpstreamTiming {
    pub received: Instant,
    pub first_token_sent: Option<Instant>,
}

#[derive(Clone, Default)]
struct Shared {
    timings: Arc<Mutex<HashMap<String, UpstreamTiming>>>,
}

/// A running fake upstream; it stops when dropped.
pub struct FakeUpstream {
    shared: Shared,
    /// `http://127.0.0.1:PORT`.
    pub address: String,
    pub threads: usize,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FakeUpstream {
    /// Starts the fake on a runtime of its own with `threads` worker threads.
    pub fn start(threads: usize) -> std::io::Result<Self> {
        let shared = Shared::default();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads.max(1))
            .thread_name("fake-upstream")
            .enable_all()
            .build()?;
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let address = format!("http://{}", listener.local_addr()?);
        let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
        let router = Router::new().fallback(answer).with_state(shared.clone());
        let thread = std::thread::spawn(move || {
            runtime.block_on(async move {
                let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                    return;
                };
                // Tokens are small writes: without TCP_NODELAY each could wait for an ACK.
                let listener = listener.tap_io(|tcp| {
                    let _ = tcp.set_nodelay(true);
                });
                let _ = axum::serve(listener, router)
                    .with_graceful_shutdown(async {
                        let _ = stopped.await;
                    })
                    .await;
            });
        });
        Ok(Self {
            shared,
            address,
            threads: threads.max(1),
            shutdown: Some(shutdown),
            thread: Some(thread),
        })
    }

    /// The timestamps of request `id`, forgotten once taken.
    pub fn take_timing(&self, id: &str) -> Option<UpstreamTiming> {
        self.shared
            .timings
            .lock()
            .ok()
            .and_then(|mut timings| timings.remove(id))
    }

    pub fn forget_all(&self) {
        if let Ok(mut timings) = self.shared.timings.lock() {
            timings.clear();
        }
    }
}

impl Drop for FakeUpstream {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        // Streams still open would keep the graceful shutdown waiting; do not join.
        drop(self.thread.take());
    }
}

/// The content of the last user message of an OpenAI chat request.
fn last_user_text(body: &Value) -> Option<&str> {
    body["messages"]
        .as_array()?
        .iter()
        .rev()
        .find(|m| m["role"] == "user")
        .and_then(|m| m["content"].as_str())
}

async fn answer(State(shared): State<Shared>, request: axum::extract::Request) -> Response {
    let received = Instant::now();
    let bytes = axum::body::to_bytes(request.into_body(), 16 * 1024 * 1024)
        .await
        .unwrap_or_default();
    let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let prompt = last_user_text(&body).unwrap_or_default();
    let Some((id, shape)) = ReplyShape::parse(prompt) else {
        return Response::builder()
            .status(400)
            .header("content-type", "application/json")
            .body(Body::from(
                json!({"error": {"message": "not a benchmark prompt", "type": "invalid_request_error"}})
                    .to_string(),
            ))
            .unwrap_or_default();
    };
    if let Ok(mut timings) = shared.timings.lock() {
        timings.insert(
            id.clone(),
            UpstreamTiming {
                received,
                first_token_sent: None,
            },
        );
    }
    let prompt_tokens = prompt.split_whitespace().count() + 8;
    let tokens = reply_tokens(&shape);
    let last_token = tokens.len();
    let frames = reply_frames(&tokens, prompt_tokens);
    // Frame 0 is the role chunk, 1..=tokens the tokens, then the tail; tokens keep an absolute
    // schedule so a slow write does not push every later token back.
    let stream = futures::stream::iter(frames.into_iter().enumerate()).then(move |(i, frame)| {
        let shared = shared.clone();
        let id = id.clone();
        async move {
            if i >= 1 && i <= last_token {
                let due = received + shape.first_token + shape.pace * (i as u32 - 1);
                tokio::time::sleep_until(due.into()).await;
                if i == 1 {
                    if let Ok(mut timings) = shared.timings.lock() {
                        if let Some(timing) = timings.get_mut(&id) {
                            timing.first_token_sent = Some(Instant::now());
                        }
                    }
                }
            }
            Ok::<Bytes, std::io::Error>(Bytes::from(frame))
        }
    });
    Response::builder()
        .status(200)
        .header("content-type", "text/event-stream")
        .header("cache-control", "no-cache")
        .body(Body::from_stream(stream))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prompt_carries_its_shape_and_id() {
        let shape = ReplyShape {
            tokens: 42,
            first_token: Duration::from_millis(20),
            pace: Duration::from_micros(2500),
            markdown: None,
        };
        let prompt = shape.prompt("abc-1");
        assert_eq!(ReplyShape::parse(&prompt), Some(("abc-1".into(), shape)));
        assert_eq!(ReplyShape::parse("hello there"), None);
        let markdown = ReplyShape {
            markdown: Some(2),
            ..shape
        };
        assert_eq!(
            ReplyShape::parse(&markdown.prompt("x")),
            Some(("x".into(), markdown))
        );
    }

    #[test]
    fn a_reply_is_openai_sse_with_one_chunk_per_token_then_usage_and_done() {
        let tokens: Vec<String> = (0..3).map(|i| token_text(i).to_owned()).collect();
        let frames = reply_frames(&tokens, 10);
        assert_eq!(frames.len(), 3 + 4);
        for frame in &frames {
            assert!(
                frame.starts_with("data: ") && frame.ends_with("\n\n"),
                "{frame}"
            );
        }
        let json = |i: usize| -> Value {
            serde_json::from_str(frames[i].trim_start_matches("data: ").trim()).unwrap()
        };
        assert_eq!(json(0)["choices"][0]["delta"]["role"], "assistant");
        let text: String = (1..=3)
            .map(|i| {
                json(i)["choices"][0]["delta"]["content"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        assert_eq!(text, " stream token latency");
        assert_eq!(json(4)["choices"][0]["finish_reason"], "stop");
        assert_eq!(json(5)["usage"]["completion_tokens"], 3);
        assert_eq!(json(5)["usage"]["total_tokens"], 13);
        assert_eq!(frames[6], "data: [DONE]\n\n");
    }

    #[test]
    fn the_last_user_message_is_the_one_read() {
        let body = json!({"messages": [
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": "first"},
            {"role": "assistant", "content": "reply"},
            {"role": "user", "content": "second"}
        ]});
        assert_eq!(last_user_text(&body), Some("second"));
    }
}
