//! A WebSocket client for tests: connect with a token (or cookie), send protocol messages,
//! read JSON frames with a timeout.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::{
    tungstenite::{client::IntoClientRequest, Message},
    MaybeTlsStream, WebSocketStream,
};
use uuid::Uuid;

pub struct WsClient {
    pub socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl WsClient {
    pub async fn connect(address: &str, token: &str) -> Self {
        let url = format!("{}/ws?token={token}", address.replace("http://", "ws://"));
        let (socket, _) = tokio_tungstenite::connect_async(url)
            .await
            .expect("WebSocket connects");
        Self { socket }
    }

    /// Tries to connect with extra headers; returns the HTTP status of a refused upgrade.
    pub async fn try_connect(
        address: &str,
        query: &str,
        headers: &[(&str, &str)],
    ) -> Result<Self, u16> {
        let url = format!("{}/ws{query}", address.replace("http://", "ws://"));
        let mut request = url.into_client_request().unwrap();
        for (name, value) in headers {
            request.headers_mut().insert(
                http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        match tokio_tungstenite::connect_async(request).await {
            Ok((socket, _)) => Ok(Self { socket }),
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                Err(response.status().as_u16())
            }
            Err(e) => panic!("unexpected WebSocket error: {e}"),
        }
    }

    pub async fn send(&mut self, value: Value) {
        self.socket
            .send(Message::Text(value.to_string().into()))
            .await
            .unwrap();
    }

    pub async fn send_raw(&mut self, message: Message) {
        self.socket.send(message).await.unwrap();
    }

    pub async fn subscribe(&mut self, conversation_id: Uuid, after: Value) {
        self.send(json!({"type": "subscribe", "conversation_id": conversation_id, "after": after}))
            .await;
    }

    /// The next JSON frame, or `None` after `wait` without one (or when the socket closed).
    pub async fn next_json(&mut self, wait: Duration) -> Option<Value> {
        loop {
            let frame = tokio::time::timeout(wait, self.socket.next())
                .await
                .ok()??;
            match frame.ok()? {
                Message::Text(text) => return serde_json::from_str(&text).ok(),
                Message::Close(_) => return None,
                _ => continue,
            }
        }
    }

    /// Frames until one matches, failing after `wait`.
    pub async fn until(&mut self, wait: Duration, matches: impl Fn(&Value) -> bool) -> Vec<Value> {
        let deadline = tokio::time::Instant::now() + wait;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let frame = self
                .next_json(left)
                .await
                .unwrap_or_else(|| panic!("no matching frame; saw {seen:#?}"));
            let done = matches(&frame);
            seen.push(frame);
            if done {
                return seen;
            }
        }
    }

    /// The answer deltas of one message among frames, checking seq runs on without gaps
    /// from `from`.
    pub fn deltas(frames: &[Value], message_id: Uuid, from: u64) -> String {
        Self::pieces(frames, message_id, from).answer
    }

    /// The answer and reasoning pieces of one message among frames, each concatenated,
    /// checking that seq (one counter for both kinds) runs on without gaps from `from`.
    pub fn pieces(frames: &[Value], message_id: Uuid, from: u64) -> Pieces {
        let mut pieces = Pieces {
            last_seq: from,
            ..Pieces::default()
        };
        let mut expected = from + 1;
        for frame in frames {
            if is_event(frame, "message.streaming", message_id) {
                assert_eq!(
                    frame["seq"].as_u64().unwrap(),
                    expected,
                    "seq without gap or duplicate"
                );
                expected += 1;
                let data = &frame["data"];
                match (data["delta"].as_str(), data["reasoning"].as_str()) {
                    (Some(delta), None) => pieces.answer.push_str(delta),
                    (None, Some(reasoning)) => {
                        assert!(
                            pieces.answer.is_empty(),
                            "reasoning after the answer started: {frame}"
                        );
                        pieces.reasoning.push_str(reasoning)
                    }
                    _ => panic!("a piece is a delta or a reasoning: {frame}"),
                }
                pieces.last_seq = expected - 1;
            }
        }
        pieces
    }
}

/// What one reply's `message.streaming` events carried.
#[derive(Debug, Default)]
pub struct Pieces {
    pub answer: String,
    pub reasoning: String,
    /// The seq of the last piece seen (`from` when there was none).
    pub last_seq: u64,
}

/// Whether `frame` is the event `kind` (`message.streaming`, ...) of this message.
pub fn is_event(frame: &Value, kind: &str, message_id: Uuid) -> bool {
    frame["type"] == kind && frame["message_id"] == message_id.to_string()
}
