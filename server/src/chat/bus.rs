//! The event bus: every event goes to this process's [`EventHub`] at once, and — when
//! `REDIS_URL` is set — through Redis to the other server processes.
//!
//! Over Redis, one stream (`rustchat:events`, capped) carries every event and stop request in
//! order; each process reads it and feeds its own hub, skipping what it wrote itself. The deltas
//! of a reply being generated are also appended to a list per message
//! (`rustchat:deltas:{id}`, expiring), written before the event, so a client that resumes on
//! another process than the one generating can replay what it missed. Publishing never waits
//! for Redis: a writer task sends batches in pipelines.

use std::{sync::Arc, time::Duration};

use app::wire::{Event as WireEvent, StreamDelta};
use redis::{aio::ConnectionManager, streams::StreamReadOptions, AsyncCommands};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use uuid::Uuid;

use super::{
    active::ActiveReplies,
    events::{EventHub, Subscription},
    signals::{AccountSignals, AccountWatch},
};

const EVENTS_STREAM: &str = "rustchat:events";
/// Roughly how many entries the events stream keeps; readers only ever need the newest.
const EVENTS_STREAM_LENGTH: usize = 100_000;
const DELTAS_TTL_SECONDS: i64 = 3_600;
const OUTBOX: usize = 65_536;

fn deltas_key(message_id: Uuid) -> String {
    format!("rustchat:deltas:{message_id}")
}

#[derive(Serialize, Deserialize)]
struct Wire {
    node: Uuid,
    owner: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    event: Option<WireEvent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    stop: Option<Uuid>,
    /// The account `owner` was shut out: stop every reply of theirs.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    stop_all: bool,
    /// The sessions of `owner` changed: their sockets check their credential again.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    sessions_changed: bool,
}

pub struct EventBus {
    hub: Arc<EventHub>,
    signals: Arc<AccountSignals>,
    active: Arc<ActiveReplies>,
    redis: Option<RedisLink>,
}

struct RedisLink {
    node: Uuid,
    outbox: mpsc::Sender<Wire>,
    reads: ConnectionManager,
}

#[derive(Debug, thiserror::Error)]
#[error("cannot use Redis at REDIS_URL: {0}")]
pub struct RedisUnavailable(#[from] redis::RedisError);

impl EventBus {
    pub fn in_process(active: Arc<ActiveReplies>) -> Self {
        Self {
            hub: Arc::new(EventHub::default()),
            signals: Arc::new(AccountSignals::default()),
            active,
            redis: None,
        }
    }

    /// Connects to Redis (failing loudly if it cannot) and starts the writer and the reader.
    pub async fn with_redis(
        url: &str,
        active: Arc<ActiveReplies>,
    ) -> Result<Self, RedisUnavailable> {
        let client = redis::Client::open(url)?;
        let writes = ConnectionManager::new(client.clone()).await?;
        let reads = ConnectionManager::new(client.clone()).await?;
        let hub = Arc::new(EventHub::default());
        let signals = Arc::new(AccountSignals::default());
        let node = Uuid::now_v7();
        let (outbox, rx) = mpsc::channel(OUTBOX);
        tokio::spawn(write_loop(writes, rx));
        let local = Local {
            hub: hub.clone(),
            signals: signals.clone(),
            active: active.clone(),
        };
        tokio::spawn(read_loop(client, node, local));
        tracing::info!(%node, "event bus on Redis");
        Ok(Self {
            hub,
            signals,
            active,
            redis: Some(RedisLink {
                node,
                outbox,
                reads,
            }),
        })
    }

    pub fn is_shared(&self) -> bool {
        self.redis.is_some()
    }

    pub fn publish(&self, owner: Uuid, event: WireEvent) {
        if let Some(redis) = &self.redis {
            let wire = Wire {
                node: redis.node,
                owner,
                event: Some(event.clone()),
                stop: None,
                stop_all: false,
                sessions_changed: false,
            };
            if redis.outbox.try_send(wire).is_err() {
                tracing::error!("Redis outbox full: an event did not reach the other processes");
            }
        }
        self.hub.publish(owner, event);
    }

    /// Asks whichever process generates `message_id` to stop it.
    pub fn request_stop(&self, owner: Uuid, message_id: Uuid) {
        if let Some(redis) = &self.redis {
            let wire = Wire {
                node: redis.node,
                owner,
                event: None,
                stop: Some(message_id),
                stop_all: false,
                sessions_changed: false,
            };
            let _ = redis.outbox.try_send(wire);
        }
    }

    /// The account was shut out (disabled): stops every reply of `user_id` here and on the
    /// other processes, and has their sockets check their credential (and close).
    pub fn shut_out(&self, user_id: Uuid) {
        self.send_control(user_id, true);
        stop_replies_of(&self.active, user_id);
        self.signals.raise(user_id);
    }

    /// The sessions of `user_id` changed (revoked, password changed): their sockets on every
    /// process check their credential again.
    pub fn sessions_changed(&self, user_id: Uuid) {
        self.send_control(user_id, false);
        self.signals.raise(user_id);
    }

    fn send_control(&self, user_id: Uuid, stop_all: bool) {
        if let Some(redis) = &self.redis {
            let wire = Wire {
                node: redis.node,
                owner: user_id,
                event: None,
                stop: None,
                stop_all,
                sessions_changed: true,
            };
            if redis.outbox.try_send(wire).is_err() {
                tracing::error!("Redis outbox full: a sign-out did not reach the other processes");
            }
        }
    }

    /// The signal an open socket of `user_id` watches.
    pub fn watch_account(&self, user_id: Uuid) -> AccountWatch {
        self.signals.watch(user_id)
    }

    pub fn subscribe_conversation(&self, conversation_id: Uuid) -> Subscription {
        self.hub.subscribe_conversation(conversation_id)
    }

    pub fn subscribe_user(&self, user_id: Uuid) -> Subscription {
        self.hub.subscribe_user(user_id)
    }

    /// How many broadcast channels this process holds.
    pub fn channel_count(&self) -> usize {
        self.hub.channel_count()
    }

    /// The pieces of a reply after `seq`, as another process published them; `None` without
    /// Redis or when the list has expired.
    pub async fn shared_deltas_after(
        &self,
        message_id: Uuid,
        seq: u64,
    ) -> Option<Vec<StreamDelta>> {
        let redis = self.redis.as_ref()?;
        let mut conn = redis.reads.clone();
        let key = deltas_key(message_id);
        let exists: bool = conn.exists(&key).await.ok()?;
        if !exists {
            return None;
        }
        let entries: Vec<String> = conn.lrange(&key, seq as isize, -1).await.ok()?;
        Some(
            entries
                .into_iter()
                .map(|entry| shared_piece(&entry))
                .collect(),
        )
    }
}

async fn write_loop(mut conn: ConnectionManager, mut rx: mpsc::Receiver<Wire>) {
    let mut batch = Vec::with_capacity(256);
    while rx.recv_many(&mut batch, 256).await > 0 {
        let mut pipe = redis::pipe();
        for wire in batch.drain(..) {
            if let Some(WireEvent::MessageStreaming {
                message_id, data, ..
            }) = &wire.event
            {
                // Each entry is the piece's JSON (`{"delta": …}` or `{"reasoning": …}`).
                let entry = serde_json::to_string(data).unwrap_or_default();
                pipe.rpush(deltas_key(*message_id), entry).ignore();
                pipe.expire(deltas_key(*message_id), DELTAS_TTL_SECONDS)
                    .ignore();
            }
            let payload = match serde_json::to_string(&wire) {
                Ok(payload) => payload,
                Err(e) => {
                    tracing::error!(error = %e, "an event could not be serialised for Redis");
                    continue;
                }
            };
            pipe.cmd("XADD")
                .arg(EVENTS_STREAM)
                .arg("MAXLEN")
                .arg("~")
                .arg(EVENTS_STREAM_LENGTH)
                .arg("*")
                .arg("w")
                .arg(payload)
                .ignore();
        }
        if let Err(e) = pipe.query_async::<()>(&mut conn).await {
            tracing::error!(error = %e, "publishing events to Redis");
        }
    }
}

/// A piece as the list holds it; an entry that is not a piece's JSON is answer text, as a
/// process of the version before reasoning wrote it.
fn shared_piece(entry: &str) -> StreamDelta {
    serde_json::from_str(entry).unwrap_or_else(|_| StreamDelta::Answer {
        delta: entry.to_owned(),
    })
}

fn stop_replies_of(active: &ActiveReplies, user_id: Uuid) {
    for reply in active.of_user(user_id) {
        reply.cancel.cancel();
    }
}

/// What the reader feeds on this process.
struct Local {
    hub: Arc<EventHub>,
    signals: Arc<AccountSignals>,
    active: Arc<ActiveReplies>,
}

/// Feeds this process's hub from the shared stream, from the moment it starts.
async fn read_loop(client: redis::Client, node: Uuid, local: Local) {
    let Local {
        hub,
        signals,
        active,
    } = local;
    let mut last_id = "$".to_owned();
    loop {
        let mut conn = match client.get_multiplexed_async_connection().await {
            Ok(conn) => conn,
            Err(e) => {
                tracing::error!(error = %e, "connecting to Redis for events; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        loop {
            let options = StreamReadOptions::default().block(5_000).count(512);
            let reply: Result<redis::streams::StreamReadReply, _> = conn
                .xread_options(&[EVENTS_STREAM], &[&last_id], &options)
                .await;
            let reply = match reply {
                Ok(reply) => reply,
                Err(e) => {
                    tracing::error!(error = %e, "reading events from Redis; reconnecting");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    break;
                }
            };
            for key in reply.keys {
                for entry in key.ids {
                    last_id = entry.id.clone();
                    let Some(payload) = entry.get::<String>("w") else {
                        continue;
                    };
                    let Ok(wire) = serde_json::from_str::<Wire>(&payload) else {
                        continue;
                    };
                    if wire.node == node {
                        continue;
                    }
                    if let Some(event) = wire.event {
                        hub.publish(wire.owner, event);
                    }
                    if let Some(message_id) = wire.stop {
                        if let Some(reply) = active.get(message_id) {
                            reply.cancel.cancel();
                        }
                    }
                    if wire.stop_all {
                        stop_replies_of(&active, wire.owner);
                    }
                    if wire.sessions_changed {
                        signals.raise(wire.owner);
                    }
                }
            }
        }
    }
}
