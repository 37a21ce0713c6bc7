//! The live feed in the browser: one WebSocket per page, reopened with backoff after a drop,
//! resubscribing with the last `seq` held per streaming reply so nothing is lost or repeated.
//! When the session has ended (logged out elsewhere, revoked, or the account disabled) the
//! page goes to the log-in page instead of reconnecting.

use std::sync::atomic::{AtomicBool, Ordering};

use futures::{channel::mpsc, SinkExt, StreamExt};
use gloo_net::websocket::{futures::WebSocket, Message, WebSocketError};
use leptos::prelude::*;

use super::state::Connection;
use crate::{
    routes::AppRoute,
    wire::{ClientMessage, UserStatus, UserView},
};

/// The close code the server ends a socket with when its session has ended.
const SESSION_ENDED_CLOSE: u16 = 4401;

/// Whether the page's session still holds, as a frame tells.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Session {
    Live,
    Ended,
}

/// The page is already on its way elsewhere (a link, or the log-out form whose own redirect
/// ends the session and so this socket): then its end is not news to announce.
static UNLOADING: AtomicBool = AtomicBool::new(false);

/// Notes when the page starts to go (and when the back button brings it back from the cache).
fn watch_unloading() {
    window_event_listener(leptos::ev::beforeunload, |_| {
        UNLOADING.store(true, Ordering::Relaxed)
    });
    window_event_listener(leptos::ev::pageshow, |_| {
        UNLOADING.store(false, Ordering::Relaxed)
    });
}

/// Leaves the page for the log-in page, saying the session ended. `replace`: going back would
/// only land on a page that can no longer load.
pub fn leave_for_login() {
    leave_for(&format!("{}?error=session_expired", AppRoute::Login.href()));
}

fn leave_for(href: &str) {
    if UNLOADING.load(Ordering::Relaxed) {
        return;
    }
    if let Some(window) = web_sys::window() {
        let _ = window.location().replace(href);
    }
}

/// After a socket could not open: is it the network, or did the session end (the upgrade is
/// refused with 401) or the account wait for approval? `/api/me` tells; the network's failure
/// says nothing, so the caller keeps retrying.
async fn leave_if_signed_out() -> bool {
    let Ok(response) = gloo_net::http::Request::get("/api/me").send().await else {
        return false;
    };
    if response.status() == 401 {
        leave_for_login();
        return true;
    }
    let waiting = response.ok()
        && response
            .json::<UserView>()
            .await
            .is_ok_and(|me| me.status == UserStatus::Pending);
    if waiting {
        leave_for(&AppRoute::Waiting.href());
    }
    waiting
}

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

/// Runs for the life of the page, or until its session ends. `on_open` returns the messages to
/// send first (the subscription with `after`); `on_frame` gets every text frame and says
/// whether the session still holds.
pub async fn run(
    connection: RwSignal<Connection>,
    outbox: Outbox,
    on_open: impl Fn() -> Vec<ClientMessage>,
    on_frame: impl Fn(String) -> Session,
) {
    watch_unloading();
    let mut backoff_ms = 500;
    loop {
        connection.set(Connection::Connecting);
        // The server answers the opening ping at once, so a socket that got no frame at all
        // never really opened.
        let mut opened = false;
        let mut session = Session::Live;
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
                            opened = true;
                            connection.set(Connection::Live);
                            backoff_ms = 500;
                            if on_frame(text) == Session::Ended {
                                session = Session::Ended;
                                break;
                            }
                        }
                        Ok(Message::Bytes(_)) => {}
                        Err(WebSocketError::ConnectionClose(close)) => {
                            if close.code == SESSION_ENDED_CLOSE {
                                session = Session::Ended;
                            }
                            break;
                        }
                        Err(_) => break,
                    }
                }
            };
            futures::future::select(Box::pin(writer), Box::pin(reader)).await;
            outbox.0.set_value(None);
        }
        connection.set(Connection::Offline);
        if session == Session::Ended {
            leave_for_login();
            return;
        }
        if !opened && leave_if_signed_out().await {
            return;
        }
        gloo_timers::future::TimeoutFuture::new(backoff_ms).await;
        backoff_ms = (backoff_ms * 2).min(10_000);
    }
}
