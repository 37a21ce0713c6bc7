//! One socket, served by one task: it reads the client's frames, answers them, pings, and
//! writes the live events of the user and of each subscribed conversation straight into the
//! socket. A delta thus goes from the generation through the hub's channel to this task and out,
//! with no forwarding task or outbox between them: every hop was a task to wake per token.
//!
//! Backpressure: the hub's channels never wait for anyone. While the client reads slowly, this
//! task waits on its socket and its subscriptions' channels fill; one that falls more than the
//! channel's capacity behind gets `Lagged`, tells the client to resync, and ends. The client
//! resumes with `after` and loses nothing. Memory per socket stays bounded, and a write that
//! does not finish within [`WRITE_TIMEOUT`] closes the socket.
//!
//! What is ready is written together: the deltas already waiting when one arrives go out with
//! it, and the socket is flushed once.
//!
//! Work per client is bounded too: frames past `WS_FRAMES_PER_SECOND` (after a burst) are
//! dropped with a `slow_down` error, and a client that keeps flooding is closed with 1008; a
//! subscribe names at most [`MAX_AFTER_ENTRIES`] replies to resume. A subscribe's ownership
//! check and replay run beside the socket, so a slow one holds up no other conversation's feed.

use std::{collections::HashMap, num::NonZeroU32};

use app::wire::{ClientMessage, ControlMessage, Event as WireEvent};
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures::{
    future::BoxFuture,
    stream::{BoxStream, FuturesUnordered},
    FutureExt, SinkExt, Stream, StreamExt,
};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::{sync::broadcast::error::RecvError, time::Instant};
use tokio_stream::StreamMap;
use uuid::Uuid;

use crate::{
    chat::{
        events::{Event, Subscription},
        ChatError,
    },
    state::AppState,
};

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
/// A write that takes longer than this means the client stopped reading: the socket is closed.
const WRITE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);
/// The most frames written before one flush: what was waiting when the first one arrived.
const BATCH_FRAMES: usize = 64;

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

fn close(code: u16, reason: &'static str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: reason.into(),
    }))
}

/// The live frames of one subscribed conversation.
type Feed = BoxStream<'static, Message>;

/// A subscribe being opened beside the socket: what to write, and the feed to listen to after.
struct Opened {
    conversation_id: Uuid,
    /// Which subscribe of this conversation it answers: only the newest is kept.
    attempt: u64,
    frames: Vec<Message>,
    feed: Option<Feed>,
}

/// The socket could not be written to (closed, or not read for [`WRITE_TIMEOUT`]).
struct Gone;

/// Why the session loop ended: the socket is finished with, or a last frame is to be sent.
enum End {
    Gone,
    Closing(Message),
}

impl From<Gone> for End {
    fn from(_: Gone) -> Self {
        End::Gone
    }
}

struct Session {
    state: AppState,
    user_id: Uuid,
    socket: WebSocket,
    /// The live feed of each subscribed conversation; a feed that ends is dropped.
    feeds: StreamMap<Uuid, Feed>,
    /// Subscribes whose ownership check and replay are running.
    opening: FuturesUnordered<BoxFuture<'static, Opened>>,
    /// The newest subscribe of each conversation being opened.
    pending: HashMap<Uuid, u64>,
    attempts: u64,
}

/// Serves one socket of `user_id`, opened with `token` (checked again whenever the account's
/// sessions change).
pub async fn run(socket: WebSocket, state: AppState, user_id: Uuid, token: String) {
    let mut session = Session {
        state,
        user_id,
        socket,
        feeds: StreamMap::new(),
        opening: FuturesUnordered::new(),
        pending: HashMap::new(),
        attempts: 0,
    };
    if let Err(End::Closing(last)) = session.serve(&token).await {
        let _ = tokio::time::timeout(WRITE_TIMEOUT, session.socket.send(last)).await;
    }
    let Session {
        mut socket, feeds, ..
    } = session;
    drop(feeds);
    // Answers the client's Close, or closes after ours.
    let _ = tokio::time::timeout(std::time::Duration::from_secs(1), socket.close()).await;
    // The closing handshake: read until the client's Close (or a short timeout) instead of
    // dropping the connection under frames it is still sending, which would reset it and
    // destroy our Close frame before the client reads it.
    let _ = tokio::time::timeout(std::time::Duration::from_secs(2), async {
        while let Some(Ok(frame)) = socket.recv().await {
            if matches!(frame, Message::Close(_)) {
                break;
            }
        }
    })
    .await;
}

impl Session {
    /// Serves the socket until it ends: `Err` says how (the loop has no other way out).
    async fn serve(&mut self, token: &str) -> Result<(), End> {
        let settings = self.state.sockets.clone();
        // conversation.* events of this user, to every socket of theirs.
        let mut user_feed = self.state.chat.bus.subscribe_user(self.user_id);
        let mut ping = tokio::time::interval(settings.ping_interval);
        ping.tick().await;
        let mut last_heard = Instant::now();
        let mut account = self.state.chat.bus.watch_account(self.user_id);
        // Frames a client may send per second (`WS_FRAMES_PER_SECOND`, after a burst of twice
        // that); none when it is 0.
        let frame_limit = NonZeroU32::new(settings.frames_per_second).map(|rate| {
            let burst = rate.saturating_mul(NonZeroU32::new(2).expect("not zero"));
            let frames: DefaultDirectRateLimiter =
                RateLimiter::direct(Quota::per_second(rate).allow_burst(burst));
            let dropped: DefaultDirectRateLimiter = RateLimiter::direct(
                Quota::per_second(DROPPED_FRAMES_PER_SECOND).allow_burst(burst),
            );
            (frames, dropped)
        });

        loop {
            tokio::select! {
                // In this order when several are ready: a send publishes its messages before
                // the conversation's new state, and the client sees them in that order.
                biased;
                Some((_, message)) = self.feeds.next(), if !self.feeds.is_empty() => {
                    self.write_ready(message).await?;
                }
                event = user_feed.recv() => match event {
                    Ok(event) => self.write(event_message(&event)).await?,
                    // Conversation events carry whole objects: the next one supersedes a
                    // missed one.
                    Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => return Err(End::Gone),
                },
                Some(opened) = self.opening.next(), if !self.opening.is_empty() => {
                    // Boxed, as the client's frames below: rare next to deltas, and inline their
                    // futures would be part of every idle socket's task.
                    Box::pin(self.opened(opened)).await?;
                }
                _ = account.changed() => {
                    // Boxed: a database query's future is kilobytes, and inline it would make
                    // every idle socket's task that much larger for a check that is rare.
                    if let Err(e) = Box::pin(self.state.auth.session_for_token(token)).await {
                        if e.is_session_problem() {
                            self.write(error("session_ended", "You were signed out. Log in again.", None))
                                .await?;
                            return Err(End::Closing(close(CLOSE_SESSION_ENDED, "session ended")));
                        }
                    }
                }
                frame = self.socket.recv() => {
                    let frame = match frame {
                        Some(Ok(frame)) if frame_len(&frame) <= settings.max_frame_bytes => frame,
                        // Too large, measured here or (past the read limit) refused while
                        // reading: close code 1009 ("message too big"), then the closing
                        // handshake reads the client's Close.
                        Some(Ok(_)) => return Err(End::Closing(too_large())),
                        Some(Err(e)) if is_too_large(&e) => return Err(End::Closing(too_large())),
                        _ => return Err(End::Gone),
                    };
                    last_heard = Instant::now();
                    if matches!(frame, Message::Close(_)) {
                        return Err(End::Gone);
                    }
                    if let Some((_, dropped_frames)) =
                        frame_limit.as_ref().filter(|(frames, _)| frames.check().is_err())
                    {
                        if dropped_frames.check().is_err() {
                            return Err(End::Closing(close(CLOSE_FLOODING, "too many frames")));
                        }
                        self.write(error(
                            "slow_down",
                            "You are sending frames too fast; this one was dropped.",
                            None,
                        ))
                        .await?;
                        continue;
                    }
                    match frame {
                        Message::Text(text) => Box::pin(self.handle_client_message(&text)).await?,
                        Message::Binary(_) => {
                            self.write(error("unsupported_frame", "Send JSON text frames, not binary.", None))
                                .await?;
                        }
                        Message::Close(_) => return Err(End::Gone),
                        Message::Ping(_) | Message::Pong(_) => {}
                    }
                }
                _ = ping.tick() => {
                    if last_heard.elapsed() >= settings.idle_timeout {
                        return Err(End::Closing(close(CLOSE_IDLE, "idle timeout")));
                    }
                    self.write(Message::Ping(Default::default())).await?;
                }
            }
        }
    }

    /// Writes one frame and flushes it.
    async fn write(&mut self, message: Message) -> Result<(), Gone> {
        match tokio::time::timeout(WRITE_TIMEOUT, self.socket.send(message)).await {
            Ok(Ok(())) => Ok(()),
            _ => Err(Gone),
        }
    }

    /// Writes `first` and whatever the feeds already hold behind it, then flushes once.
    async fn write_ready(&mut self, first: Message) -> Result<(), Gone> {
        let Self { socket, feeds, .. } = self;
        let written = tokio::time::timeout(WRITE_TIMEOUT, async {
            socket.feed(first).await?;
            for _ in 1..BATCH_FRAMES {
                match feeds.next().now_or_never() {
                    Some(Some((_, message))) => socket.feed(message).await?,
                    _ => break,
                }
            }
            socket.flush().await
        })
        .await;
        match written {
            Ok(Ok(())) => Ok(()),
            _ => Err(Gone),
        }
    }

    /// A subscribe has been checked and its replay read: its frames go out, then its feed.
    async fn opened(&mut self, opened: Opened) -> Result<(), Gone> {
        if self.pending.get(&opened.conversation_id) != Some(&opened.attempt) {
            // Unsubscribed, or subscribed again, meanwhile.
            return Ok(());
        }
        self.pending.remove(&opened.conversation_id);
        let Self { socket, .. } = self;
        let written = tokio::time::timeout(WRITE_TIMEOUT, async {
            for message in opened.frames {
                socket.feed(message).await?;
            }
            socket.flush().await
        })
        .await;
        if !matches!(written, Ok(Ok(()))) {
            return Err(Gone);
        }
        if let Some(feed) = opened.feed {
            self.feeds.insert(opened.conversation_id, feed);
        }
        Ok(())
    }

    async fn handle_client_message(&mut self, text: &str) -> Result<(), Gone> {
        let value: serde_json::Value = match serde_json::from_str(text) {
            Ok(value) => value,
            Err(_) => {
                return self
                    .write(error("invalid_json", "That frame is not valid JSON.", None))
                    .await
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
                return self.write(error(code, &text, None)).await;
            }
        };
        match message {
            ClientMessage::Ping => self.write(control(&ControlMessage::Pong)).await,
            ClientMessage::Unsubscribe { conversation_id } => {
                self.feeds.remove(&conversation_id);
                self.pending.remove(&conversation_id);
                Ok(())
            }
            ClientMessage::Subscribe {
                conversation_id,
                after,
            } => {
                if after.len() > MAX_AFTER_ENTRIES {
                    let message = format!(
                        "`after` may name at most {MAX_AFTER_ENTRIES} replies: the ones you saw \
                         streaming."
                    );
                    return self
                        .write(error("too_many_entries", &message, Some(conversation_id)))
                        .await;
                }
                // A subscribe again replaces the one before.
                self.feeds.remove(&conversation_id);
                self.pending.remove(&conversation_id);
                if self.feeds.len() + self.pending.len() >= MAX_SUBSCRIPTIONS {
                    return self
                        .write(error(
                            "too_many_subscriptions",
                            "Unsubscribe from a conversation before subscribing to another.",
                            Some(conversation_id),
                        ))
                        .await;
                }
                self.attempts += 1;
                self.pending.insert(conversation_id, self.attempts);
                self.opening.push(
                    open_feed(
                        self.state.clone(),
                        self.user_id,
                        conversation_id,
                        after,
                        self.attempts,
                    )
                    .boxed(),
                );
                Ok(())
            }
        }
    }
}

/// One subscribe: check ownership, listen, and read what the client missed; the session then
/// writes that and passes on live events without duplicates.
async fn open_feed(
    state: AppState,
    user_id: Uuid,
    conversation_id: Uuid,
    after: HashMap<Uuid, u64>,
    attempt: u64,
) -> Opened {
    let mut opened = Opened {
        conversation_id,
        attempt,
        frames: Vec::new(),
        feed: None,
    };
    // Listen before looking at what exists, so nothing falls between the two; the feed is
    // dropped unread unless the conversation is the user's.
    let live = state.chat.bus.subscribe_conversation(conversation_id);
    // The ownership check, then the replies the client asked about and every reply streaming
    // now.
    let replays = match state.chat.catch_up(user_id, conversation_id, after).await {
        Ok(replays) => replays,
        Err(e) => {
            if !matches!(e, ChatError::NotFound) {
                tracing::warn!(error = %e, %conversation_id, "opening a subscription");
            }
            opened.frames.push(error(
                "not_found",
                "There is no such conversation.",
                Some(conversation_id),
            ));
            return opened;
        }
    };
    opened
        .frames
        .push(control(&ControlMessage::Subscribed { conversation_id }));
    let mut delivered: HashMap<Uuid, u64> = HashMap::new();
    for (message_id, replayed) in replays {
        delivered.insert(message_id, replayed.last_seq);
        opened.frames.extend(replayed.events.iter().map(frame));
    }
    opened.feed = Some(conversation_feed(conversation_id, live, delivered).boxed());
    opened
}

/// The live events of one conversation as frames, each delta once: those up to what the
/// replay gave (`delivered`) are skipped. Ends after telling the client to resync when it fell
/// more than the channel's capacity behind.
fn conversation_feed(
    conversation_id: Uuid,
    live: Subscription,
    delivered: HashMap<Uuid, u64>,
) -> impl Stream<Item = Message> + Send + 'static {
    futures::stream::unfold(Some((live, delivered)), move |listening| async move {
        let (mut live, mut delivered) = listening?;
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
                    return Some((event_message(&event), Some((live, delivered))));
                }
                Err(RecvError::Lagged(missed)) => {
                    tracing::debug!(%conversation_id, missed, "socket fell behind; asking it to resync");
                    let resync = error(
                        "resync",
                        "You fell behind the live feed. Subscribe again with `after` to catch up.",
                        Some(conversation_id),
                    );
                    return Some((resync, None));
                }
                Err(RecvError::Closed) => return None,
            }
        }
    })
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

/// Close code 1009 ("message too big").
fn too_large() -> Message {
    close(axum::extract::ws::close_code::SIZE, "frame too large")
}
