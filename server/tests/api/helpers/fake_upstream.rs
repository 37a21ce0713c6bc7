//! Fake AI providers on loopback. Each request takes the next [`Script`] from a queue (the
//! last one repeats) and answers with a status and raw SSE frames in the provider's exact wire
//! format, then ends cleanly, cuts the connection, or goes silent. Requests are recorded.

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    body::{Body, Bytes},
    extract::State,
    http::{HeaderMap, StatusCode},
    response::Response,
    Router,
};
use futures::StreamExt;
use serde_json::{json, Value};

#[derive(Clone, Debug)]
pub enum End {
    /// Finish the body normally.
    Close,
    /// Break the connection mid-body.
    Cut,
    /// Keep the connection open and send nothing more.
    Hang,
}

#[derive(Clone, Debug)]
pub struct Script {
    pub status: u16,
    pub body: Vec<String>,
    pub end: End,
    /// Pause before each frame.
    pub pace: Duration,
    /// Never send the response headers.
    pub no_headers: bool,
}

impl Script {
    pub fn sse(frames: Vec<String>) -> Self {
        Self {
            status: 200,
            body: frames,
            end: End::Close,
            pace: Duration::ZERO,
            no_headers: false,
        }
    }

    pub fn status(status: u16, body: Value) -> Self {
        Self {
            status,
            body: vec![body.to_string()],
            end: End::Close,
            pace: Duration::ZERO,
            no_headers: false,
        }
    }

    pub fn then(mut self, end: End) -> Self {
        self.end = end;
        self
    }

    pub fn paced(mut self, pace: Duration) -> Self {
        self.pace = pace;
        self
    }

    pub fn silent() -> Self {
        Self {
            no_headers: true,
            ..Self::sse(vec![])
        }
    }
}

#[derive(Clone, Debug)]
pub struct Recorded {
    pub path: String,
    pub headers: HeaderMap,
    pub body: Value,
}

#[derive(Clone, Default)]
pub struct FakeUpstream {
    scripts: Arc<Mutex<VecDeque<Script>>>,
    pub requests: Arc<Mutex<Vec<Recorded>>>,
}

impl FakeUpstream {
    /// Starts the fake and returns it with its base address (`http://127.0.0.1:PORT`).
    pub async fn start(scripts: Vec<Script>) -> (Self, String) {
        let fake = Self {
            scripts: Arc::new(Mutex::new(scripts.into())),
            requests: Arc::default(),
        };
        let router = Router::new().fallback(answer).with_state(fake.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await });
        (fake, address)
    }

    pub fn request_count(&self) -> usize {
        self.requests.lock().unwrap().len()
    }

    pub fn last_request(&self) -> Recorded {
        self.requests
            .lock()
            .unwrap()
            .last()
            .cloned()
            .expect("a request reached the fake")
    }

    fn next_script(&self) -> Script {
        let mut scripts = self.scripts.lock().unwrap();
        if scripts.len() > 1 {
            scripts.pop_front().unwrap()
        } else {
            scripts.front().cloned().expect("a script")
        }
    }
}

async fn answer(State(fake): State<FakeUpstream>, request: axum::extract::Request) -> Response {
    let path = request
        .uri()
        .path_and_query()
        .map(|p| p.to_string())
        .unwrap_or_default();
    let headers = request.headers().clone();
    let bytes = axum::body::to_bytes(request.into_body(), usize::MAX)
        .await
        .unwrap_or_default();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    fake.requests.lock().unwrap().push(Recorded {
        path,
        headers,
        body,
    });
    let script = fake.next_script();
    if script.no_headers {
        futures::future::pending::<()>().await;
    }
    let pace = script.pace;
    let frames = futures::stream::iter(script.body.clone()).then(move |frame| async move {
        if !pace.is_zero() {
            tokio::time::sleep(pace).await;
        }
        Ok::<Bytes, std::io::Error>(Bytes::from(frame))
    });
    let tail: futures::stream::BoxStream<'static, Result<Bytes, std::io::Error>> = match script.end
    {
        End::Close => futures::stream::empty().boxed(),
        End::Cut => futures::stream::once(async {
            tokio::time::sleep(Duration::from_millis(20)).await;
            Err(std::io::Error::other("connection cut by the fake"))
        })
        .boxed(),
        End::Hang => futures::stream::pending().boxed(),
    };
    let content_type = if script.status == 200 {
        "text/event-stream"
    } else {
        "application/json"
    };
    Response::builder()
        .status(StatusCode::from_u16(script.status).unwrap())
        .header("content-type", content_type)
        .body(Body::from_stream(frames.chain(tail)))
        .unwrap()
}

fn data(value: Value) -> String {
    format!("data: {value}\n\n")
}

fn event(name: &str, value: Value) -> String {
    format!("event: {name}\ndata: {value}\n\n")
}

/// OpenAI chat-completion chunks: a role chunk, one chunk per delta, the finish chunk, the
/// usage chunk (`stream_options.include_usage`), `[DONE]`.
pub fn openai_reply(deltas: &[&str], usage: Option<Value>) -> Vec<String> {
    let chunk = |delta: Value, finish: Value| {
        data(json!({
            "id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1_700_000_000,
            "model": "gpt-4o", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            "usage": null
        }))
    };
    let mut frames = vec![chunk(
        json!({"role": "assistant", "content": ""}),
        Value::Null,
    )];
    frames.extend(
        deltas
            .iter()
            .map(|d| chunk(json!({"content": d}), Value::Null)),
    );
    frames.push(chunk(json!({}), json!("stop")));
    if let Some(usage) = usage {
        frames.push(data(json!({
            "id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1_700_000_000,
            "model": "gpt-4o", "choices": [], "usage": usage
        })));
    }
    frames.push("data: [DONE]\n\n".into());
    frames
}

/// Anthropic Messages events: message_start with input usage, a text block, message_delta with
/// the output count, message_stop.
pub fn anthropic_reply(deltas: &[&str], start_usage: Value, output_tokens: i64) -> Vec<String> {
    let mut frames = vec![
        event(
            "message_start",
            json!({"type": "message_start", "message": {"id": "msg_1", "type": "message", "role": "assistant",
                "model": "claude-sonnet-4-5", "content": [], "stop_reason": null, "usage": start_usage}}),
        ),
        event(
            "content_block_start",
            json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        ),
        event("ping", json!({"type": "ping"})),
    ];
    frames.extend(deltas.iter().map(|d| {
        event(
            "content_block_delta",
            json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": d}}),
        )
    }));
    frames.push(event(
        "content_block_stop",
        json!({"type": "content_block_stop", "index": 0}),
    ));
    frames.push(event(
        "message_delta",
        json!({"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": null},
            "usage": {"output_tokens": output_tokens}}),
    ));
    frames.push(event("message_stop", json!({"type": "message_stop"})));
    frames
}

/// Gemini `streamGenerateContent?alt=sse` chunks; the last carries `finishReason` and the usage.
pub fn gemini_reply(deltas: &[&str], usage: Value) -> Vec<String> {
    let last = deltas.len().saturating_sub(1);
    deltas
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let mut candidate =
                json!({"content": {"parts": [{"text": d}], "role": "model"}, "index": 0});
            let mut chunk = json!({"modelVersion": "gemini-2.5-flash"});
            if i == last {
                candidate["finishReason"] = json!("STOP");
                chunk["usageMetadata"] = usage.clone();
            }
            chunk["candidates"] = json!([candidate]);
            data(chunk)
        })
        .collect()
}

/// Anthropic Messages events with extended thinking: a `thinking` block (its
/// `thinking_delta`s, then the `signature_delta` that closes it), then the text block.
pub fn anthropic_thinking_reply(
    thoughts: &[&str],
    deltas: &[&str],
    start_usage: Value,
    output_tokens: i64,
) -> Vec<String> {
    let text = anthropic_reply(deltas, start_usage, output_tokens);
    // `message_start`, then the thinking block at index 0, then the text block moved to 1.
    let mut frames = vec![text[0].clone()];
    frames.push(event(
        "content_block_start",
        json!({"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": "", "signature": ""}}),
    ));
    frames.extend(thoughts.iter().map(|t| {
        event(
            "content_block_delta",
            json!({"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": t}}),
        )
    }));
    frames.push(event(
        "content_block_delta",
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "signature_delta", "signature": "EqQBCgIYAhIM1gbcDa9GJwZA2b3h"}}),
    ));
    frames.push(event(
        "content_block_stop",
        json!({"type": "content_block_stop", "index": 0}),
    ));
    frames.extend(
        text[1..]
            .iter()
            .map(|frame| frame.replace("\"index\":0", "\"index\":1")),
    );
    frames
}

/// Gemini chunks whose first parts are thought summaries (`"thought": true`), then the text.
pub fn gemini_thinking_reply(thoughts: &[&str], deltas: &[&str], usage: Value) -> Vec<String> {
    let mut frames: Vec<String> = thoughts
        .iter()
        .map(|t| {
            data(json!({"candidates": [{"content": {"parts": [{"text": t, "thought": true}], "role": "model"}, "index": 0}],
                "modelVersion": "gemini-2.5-flash"}))
        })
        .collect();
    frames.extend(gemini_reply(deltas, usage));
    frames
}

/// OpenAI-compatible chunks whose reasoning comes in `field` (`reasoning_content` as DeepSeek,
/// Qwen and vLLM send it, or `reasoning` as OpenRouter and Ollama do) before the text.
pub fn openai_reasoning_reply(field: &str, thoughts: &[&str], deltas: &[&str]) -> Vec<String> {
    let reply = openai_reply(deltas, None);
    let mut frames = vec![reply[0].clone()];
    frames.extend(thoughts.iter().map(|t| {
        let mut delta = json!({"content": null});
        delta[field] = json!(t);
        data(json!({
            "id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1_700_000_000,
            "model": "deepseek-reasoner", "choices": [{"index": 0, "delta": delta, "finish_reason": null}],
            "usage": null
        }))
    }));
    frames.extend(reply[1..].iter().cloned());
    frames
}

/// A TCP port that accepts no connection within any reasonable time: its accept queue is
/// full and nobody accepts, so the kernel drops new SYNs and `connect` hangs.
pub fn unconnectable_address() -> (String, Vec<std::net::TcpStream>, socket2::Socket) {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    socket
        .bind(
            &"127.0.0.1:0"
                .parse::<std::net::SocketAddr>()
                .unwrap()
                .into(),
        )
        .unwrap();
    socket.listen(0).unwrap();
    let addr = socket.local_addr().unwrap().as_socket().unwrap();
    let mut fillers = Vec::new();
    for _ in 0..4 {
        let filler = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
        filler.set_nonblocking(true).unwrap();
        let _ = filler.connect(&addr.into());
        fillers.push(std::net::TcpStream::from(filler));
    }
    std::thread::sleep(Duration::from_millis(100));
    (format!("http://{addr}"), fillers, socket)
}
