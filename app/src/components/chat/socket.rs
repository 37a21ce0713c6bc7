//! The live feed in the browser: one WebSocket per page, reopened with backoff after a drop,
//! resubscribing with the last `seq` held per streaming reply so nothing is lost or repeated.

use futures::{channel::mpsc, SinkExt, StreamExt};
use gloo_net::websocket::{futures::WebSocket, Message};
use leptos::prelude::*;

use super::state::Connection;
use crate::wire::ClientMessage;

/// Where to send frames while a socket is open.
#[derive(Clone, Copy)]
pub struct Outbox(pub StoredValue<Option<mpsc::UnboundedSender<String>>, LocalStorage>);

impl Outbox {
    pub fn send(&self, message: &ClientMessage) {
        let Ok(frame) = serde_json::to_string(message) else {
            return;
        };
        self.0.with_value(|tx| {
            if let Some(tx) = tx {
                let _ = tx.unbounded_send(frame);
            }
        });
    }
}

fn frame(message: &ClientMessage) -> Option<String> {
    serde_json::to_string(message).ok()
}

fn url() -> String {
    let location = web_sys::window().map(|w| w.location());
    let host = location
        .as_ref()
        .and_then(|l| l.host().ok())
        .unwrap_or_default();
    let secure = location
        .and_then(|l| l.protocol().ok())
        .is_some_and(|p| p == "https:");
    format!("{}://{host}/ws", if secure { "wss" } else { "ws" })
}

/// Runs for the life of the page. `on_open` returns the messages to send first (the
/// subscription with `after`); `on_frame` gets every text frame.
pub async fn run(
    connection: RwSignal<Connection>,
    outbox: Outbox,
    on_open: impl Fn() -> Vec<ClientMessage>,
    on_frame: impl Fn(String),
) {
    let mut backoff_ms = 500;
    loop {
        connection.set(Connection::Connecting);
        if let Ok(socket) = WebSocket::open(&url()) {
            let (mut write, mut read) = socket.split();
            let (tx, mut rx) = mpsc::unbounded::<String>();
            outbox.0.set_value(Some(tx.clone()));
            let opening = std::iter::once(ClientMessage::Ping).chain(on_open());
            for text in opening.filter_map(|m| frame(&m)) {
                let _ = tx.unbounded_send(text);
            }
            let writer = async move {
                while let Some(frame) = rx.next().await {
                    if write.send(Message::Text(frame)).await.is_err() {
                        break;
                    }
                }
            };
            let reader = async {
                while let Some(message) = read.next().await {
                    match message {
                        Ok(Message::Text(text)) => {
                            connection.set(Connection::Live);
                            backoff_ms = 500;
                            on_frame(text);
                        }
                        Ok(Message::Bytes(_)) => {}
                        Err(_) => break,
                    }
                }
            };
            futures::future::select(Box::pin(writer), Box::pin(reader)).await;
            outbox.0.set_value(None);
        }
        connection.set(Connection::Offline);
        gloo_timers::future::TimeoutFuture::new(backoff_ms).await;
        backoff_ms = (backoff_ms * 2).min(10_000);
    }
}
