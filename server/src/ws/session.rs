//! One socket: a reader that handles the client's messages and the heartbeat, a writer that
//! drains a bounded outbox, and one forwarding task per subscription.
//!
//! Backpressure: forwarders wait for room in the bounded outbox, so a slow reader only ever
//! holds up its own forwarders. The hub's channels never wait for anyone; a forwarder that falls
//! more than the channel's capacity behind gets `Lagged`, tells the client to resync, and stops —
//! the client resumes with `after` and loses nothing. Memory per socket stays bounded.
//!
//! Work per client is bounded too: frames past `WS_FRAMES_PER_SECOND` (after a burst) are
//! dropped with a `slow_down` error, and a client that keeps flooding is closed with 1008; a
//! subscribe names at most [`MAX_AFTER_ENTRIES`] replies to resume.

use std::{collections::HashMap, num::NonZeroU32};

use app::wire::{ClientMessage, ControlMessage, Event as WireEvent};
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures::{SinkExt, StreamExt};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::{
    sync::{broadcast::error::RecvError, mpsc},
    task::JoinHandle,
    time::Instant,
};
use uuid::Uuid;

use crate::{chat::events::Event, state::AppState};

/// Close codes of ours (4000–4999 are for applications).
const CLOSE_IDLE: u16 = 4408;
/// The credential the socket was opened with stopped working (revoked, account disabled).
const CLOSE_SESSION_ENDED: u16 = 4401;
/// Policy violation: the client kept sending after being told to slow down.
const CLOSE_FLOODING: u16 = 1008;
const MAX_SUBSCRIPTIONS: usize = 64;
/// Replies one subscribe may ask to resume; a client only names the ones it saw streaming.
const MAX_AFTER_ENTRIES: usize = 32;
/// Dropped frames a client may send (after a burst as large as the frames' own) before it is
/// closed.
const DROPPED_FRAMES_PER_SECOND: NonZeroU32 = NonZeroU32::new(4).expect("not zero");
/// A write that takes longer than this means the client stopped reading: drop it.
const WRITE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

type Outbox = mpsc::Sender<Message>;

/// A frame of ours as JSON text. Our types always serialise; the fallback is a valid
/// frame that says something went wrong, never `null`.
fn frame(value: &impl serde::Serialize) -> Message {
    let text = serde_json::to_string(value).unwrap_or_else(|e| {
        tracing::error!(error = %e, "a frame could not be serialised");
        r#"{"type":"error","code":"internal","message":"Something went wrong on our side."}"#
            .to_owned()
    });
    Message::Text(text.into())
}

fn control(message: &ControlMessage) -> Message {
    frame(message)
}

fn error(code: &str, message: &str, conversation_id: Option<Uuid>) -> Message {
    control(&ControlMessage::Error {
        code: code.into(),
        message: message.into(),
        conversation_id,
    })
}

fn event_message(event: &Event) -> Message {
    Message::Text(Utf8Bytes::from(event.json.as_str()))
}

/// Serves one socket of `user_id`, opened with `token` (checked again whenever the account's
/// sessions change).
pub async fn run(socket: WebSocket, state: AppState, user_id: Uuid, token: String) {
    let settings = state.sockets.clone();
    let (mut sink, mut stream) = socket.split();
    let (outbox, mut outgoing) = mpsc::channel::<Message>(settings.outbox);

    let writer = tokio::spawn(async move {
        while let Some(message) = outgoing.recv().await {
            let closing = matches!(message, Message::Close(_));
            match tokio::time::timeout(WRITE_TIMEOUT, sink.send(message)).await {
                Ok(Ok(())) if !closing => {}
                _ => break,
            }
        }
        let _ = sink.close().await;
    });

    // conversation.* events of this user, to every socket of theirs.
    let user_feed = tokio::spawn(forward_user_events(state.clone(), user_id, outbox.clone()));
    let mut subscriptions: HashMap<Uuid, JoinHandle<()>> = HashMap::new();
    let mut ping = tokio::time::interval(settings.ping_interval);
    ping.tick().await;
    let mut last_heard = Instant::now();
    let mut account = state.chat.bus.watch_account(user_id);
    // Frames a client may send per second (`WS_FRAMES_PER_SECOND`, after a burst of twice
    // that); none when it is 0.
    let frame_limit = NonZeroU32::new(settings.frames_per_second).map(|rate| {
        let burst = rate.saturating_mul(NonZeroU32::new(2).expect("not zero"));
        let frames: DefaultDirectRateLimiter =
            RateLimiter::direct(Quota::per_second(rate).allow_burst(burst));
        let dropped: DefaultDirectRateLimiter =
            RateLimiter::direct(Quota::per_second(DROPPED_FRAMES_PER_SECOND).allow_burst(burst));
        (frames, dropped)
    });

    loop {
        tokio::select! {
            _ = account.changed() => {
                if let Err(e) = state.auth.session_for_token(&token).await {
                    if e.is_session_problem() {
                        let _ = outbox
                            .send(error("session_ended", "You were signed out. Log in again.", None))
                            .await;
                        let _ = outbox.try_send(Message::Close(Some(CloseFrame {
                            code: CLOSE_SESSION_ENDED,
                            reason: "session ended".into(),
                        })));
                        break;
                    }
                }
            }
            frame = stream.next() => {
                let frame = match frame {
                    Some(Ok(frame)) if frame_len(&frame) <= settings.max_frame_bytes => frame,
                    // Too large, measured here or (past the read limit) refused while reading.
                    Some(Ok(_)) => {
                        close_too_large(&outbox);
                        break;
                    }
                    Some(Err(e)) if is_too_large(&e) => {
                        close_too_large(&outbox);
                        break;
                    }
                    _ => break,
                };
                last_heard = Instant::now();
                if matches!(frame, Message::Close(_)) {
                    break;
                }
                if let Some((frames, dropped_frames)) =
                    frame_limit.as_ref().filter(|(frames, _)| frames.check().is_err())
                {
                    if dropped_frames.check().is_err() {
                        let _ = outbox.try_send(Message::Close(Some(CloseFrame {
                            code: CLOSE_FLOODING,
                            reason: "too many frames".into(),
                        })));
                        break;
                    }
                    // Never waits: a flooding client that does not read gets fewer of these.
                    let _ = outbox.try_send(error(
                        "slow_down",
                        "You are sending frames too fast; this one was dropped.",
                        None,
                    ));
                    continue;
                }
                match frame {
                    Message::Text(text) => {
                        handle_client_message(&state, user_id, &text, &outbox, &mut subscriptions).await;
                    }
                    Message::Binary(_) => {
                        let _ = outbox
                            .send(error("unsupported_frame", "Send JSON text frames, not binary.", None))
                            .await;
                    }
                    Message::Close(_) => break,
                    Message::Ping(_) | Message::Pong(_) => {}
                }
            }
            _ = ping.tick() => {
                if last_heard.elapsed() >= settings.idle_timeout {
                    let _ = outbox.try_send(Message::Close(Some(CloseFrame {
                        code: CLOSE_IDLE,
                        reason: "idle timeout".into(),
                    })));
                    break;
                }
                // A full outbox means the client is not reading; no point queueing pings.
                let _ = outbox.try_send(Message::Ping(Default::default()));
            }
        }
    }

    user_feed.abort();
    for (_, task) in subscriptions.drain() {
        task.abort();
    }
    drop(outbox);
    let _ = tokio::time::timeout(std::time::Duration::from_secs(1), writer).await;
    // The closing handshake: read until the client's Close (or a short timeout) instead of
    // dropping the connection under frames it is still sending, which would reset it and
    // destroy our Close frame before the client reads it.
    let _ = tokio::time::timeout(std::time::Duration::from_secs(2), async {
        while let Some(Ok(frame)) = stream.next().await {
            if matches!(frame, Message::Close(_)) {
                break;
            }
        }
    })
    .await;
}

fn frame_len(frame: &Message) -> usize {
    match frame {
        Message::Text(text) => text.len(),
        Message::Binary(bytes) => bytes.len(),
        _ => 0,
    }
}

fn is_too_large(error: &axum::Error) -> bool {
    use std::error::Error as _;
    error
        .source()
        .and_then(|source| source.downcast_ref::<tungstenite::Error>())
        .is_some_and(|e| matches!(e, tungstenite::Error::Capacity(_)))
}

/// Close code 1009 ("message too big"); the closing handshake then reads the client's Close.
fn close_too_large(outbox: &Outbox) {
    let _ = outbox.try_send(Message::Close(Some(CloseFrame {
        code: axum::extract::ws::close_code::SIZE,
        reason: "frame too large".into(),
    })));
}

async fn handle_client_message(
    state: &AppState,
    user_id: Uuid,
    text: &str,
    outbox: &Outbox,
    subscriptions: &mut HashMap<Uuid, JoinHandle<()>>,
) {
    let value: serde_json::Value = match serde_json::from_str(text) {
        Ok(value) => value,
        Err(_) => {
            let _ = outbox
                .send(error("invalid_json", "That frame is not valid JSON.", None))
                .await;
            return;
        }
    };
    let kind = value
        .get("type")
        .and_then(|t| t.as_str())
        .unwrap_or_default()
        .to_owned();
    let message: ClientMessage = match serde_json::from_value(value) {
        Ok(message) => message,
        Err(e) => {
            let (code, text) = if ClientMessage::TYPES.contains(&kind.as_str()) {
                (
                    "invalid_message",
                    format!("The {kind} message is malformed: {e}."),
                )
            } else {
                (
                    "unknown_type",
                    format!(
                        "Unknown message type `{kind}`; expected subscribe, unsubscribe or ping."
                    ),
                )
            };
            let _ = outbox.send(error(code, &text, None)).await;
            return;
        }
    };
    match message {
        ClientMessage::Ping => {
            let _ = outbox.send(control(&ControlMessage::Pong)).await;
        }
        ClientMessage::Unsubscribe { conversation_id } => {
            if let Some(task) = subscriptions.remove(&conversation_id) {
                task.abort();
            }
        }
        ClientMessage::Subscribe {
            conversation_id,
            after,
        } => {
            if after.len() > MAX_AFTER_ENTRIES {
                let _ = outbox
                    .send(error(
                        "too_many_entries",
                        &format!(
                            "`after` may name at most {MAX_AFTER_ENTRIES} replies: the ones you \
                             saw streaming."
                        ),
                        Some(conversation_id),
                    ))
                    .await;
                return;
            }
            subscriptions.retain(|_, task| !task.is_finished());
            if let Some(previous) = subscriptions.remove(&conversation_id) {
                previous.abort();
            }
            if subscriptions.len() >= MAX_SUBSCRIPTIONS {
                let _ = outbox
                    .send(error(
                        "too_many_subscriptions",
                        "Unsubscribe from a conversation before subscribing to another.",
                        Some(conversation_id),
                    ))
                    .await;
                return;
            }
            let task = tokio::spawn(forward_conversation(
                state.clone(),
                user_id,
                conversation_id,
                after,
                outbox.clone(),
            ));
            subscriptions.insert(conversation_id, task);
        }
    }
}

/// One subscription: check ownership, listen, replay what the client missed, then pass on
/// live events without duplicates.
async fn forward_conversation(
    state: AppState,
    user_id: Uuid,
    conversation_id: Uuid,
    after: HashMap<Uuid, u64>,
    outbox: Outbox,
) {
    if state
        .chat
        .conversation(user_id, conversation_id)
        .await
        .is_err()
    {
        let _ = outbox
            .send(error(
                "not_found",
                "There is no such conversation.",
                Some(conversation_id),
            ))
            .await;
        return;
    }
    // Listen before looking at what exists, so nothing falls between the two.
    let mut live = state.chat.bus.subscribe_conversation(conversation_id);
    if outbox
        .send(control(&ControlMessage::Subscribed { conversation_id }))
        .await
        .is_err()
    {
        return;
    }

    // The replies the client asked about, and every reply streaming now.
    let replays = match state.chat.catch_up(user_id, conversation_id, after).await {
        Ok(replays) => replays,
        Err(e) => {
            tracing::warn!(error = %e, %conversation_id, "replaying a subscription");
            Vec::new()
        }
    };
    let mut delivered: HashMap<Uuid, u64> = HashMap::new();
    for (message_id, replayed) in replays {
        delivered.insert(message_id, replayed.last_seq);
        for event in replayed.events {
            if outbox.send(frame(&event)).await.is_err() {
                return;
            }
        }
    }

    loop {
        match live.recv().await {
            Ok(event) => {
                if let WireEvent::MessageStreaming {
                    message_id, seq, ..
                } = event.event
                {
                    let last = delivered.entry(message_id).or_insert(0);
                    if seq <= *last {
                        continue;
                    }
                    *last = seq;
                }
                if outbox.send(event_message(&event)).await.is_err() {
                    return;
                }
            }
            Err(RecvError::Lagged(missed)) => {
                tracing::debug!(%conversation_id, missed, "socket fell behind; asking it to resync");
                let _ = outbox
                    .send(error(
                        "resync",
                        "You fell behind the live feed. Subscribe again with `after` to catch up.",
                        Some(conversation_id),
                    ))
                    .await;
                return;
            }
            Err(RecvError::Closed) => return,
        }
    }
}

async fn forward_user_events(state: AppState, user_id: Uuid, outbox: Outbox) {
    let mut feed = state.chat.bus.subscribe_user(user_id);
    loop {
        match feed.recv().await {
            Ok(event) => {
                if outbox.send(event_message(&event)).await.is_err() {
                    return;
                }
            }
            // Conversation events carry whole objects: the next one supersedes a missed one.
            Err(RecvError::Lagged(_)) => continue,
            Err(RecvError::Closed) => return,
        }
    }
}
