//! The chat engine: conversations, the `send_message` workflow, the providers, the event hub
//! and the accounting. HTTP handlers and the WebSocket call [`ChatService`]; it never sees
//! HTTP, and fails with its own [`ChatError`].

pub mod active;
pub mod budget;
pub mod bus;
pub mod context;
pub mod conversations;
mod error;
pub mod events;
pub mod generation;
pub mod models;
mod page;
pub mod pricing;
pub mod provider;
pub mod recovery;
pub mod replay;
pub mod send;
pub mod signals;
pub mod tokenizer;
pub mod views;

use std::{sync::Arc, time::Duration};

use app::wire::Event;
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use self::{
    active::ActiveReplies,
    bus::{EventBus, RedisUnavailable},
    provider::Providers,
};
pub use error::ChatError;

#[derive(Clone, Debug)]
pub struct EngineSettings {
    /// How often streamed text is written to the database while a reply streams: a crash loses
    /// at most this much, and the number of writes per reply depends on its duration, not its
    /// number of tokens.
    pub flush_interval: Duration,
}

impl Default for EngineSettings {
    fn default() -> Self {
        Self {
            flush_interval: Duration::from_secs(30),
        }
    }
}

/// SQLite has one writer at a time; a second connection that tries to write waits in
/// SQLite's busy handler, which sleeps in steps of milliseconds and dominated the latency of
/// concurrent sends. The hot write transactions (a send, a reply's flushes and final write)
/// queue here instead, in order and woken at once. PostgreSQL needs no gate.
#[derive(Default)]
pub struct WriteGate(Option<tokio::sync::Mutex<()>>);

impl WriteGate {
    pub fn for_backend(db: &DatabaseConnection) -> Self {
        match db.get_database_backend() {
            sea_orm::DatabaseBackend::Sqlite => Self(Some(tokio::sync::Mutex::new(()))),
            _ => Self(None),
        }
    }

    pub async fn enter(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match &self.0 {
            Some(gate) => Some(gate.lock().await),
            None => None,
        }
    }
}

#[derive(Clone)]
pub struct ChatService {
    pub db: DatabaseConnection,
    pub writes: Arc<WriteGate>,
    pub providers: Arc<Providers>,
    pub bus: Arc<EventBus>,
    pub active: Arc<ActiveReplies>,
    pub settings: EngineSettings,
}

impl ChatService {
    /// With `redis_url`, events are shared with the other server processes through Redis.
    pub async fn new(
        db: DatabaseConnection,
        providers: Providers,
        settings: EngineSettings,
        redis_url: Option<&str>,
    ) -> Result<Self, RedisUnavailable> {
        let active = Arc::new(ActiveReplies::default());
        let bus = match redis_url {
            Some(url) => EventBus::with_redis(url, active.clone()).await?,
            None => EventBus::in_process(active.clone()),
        };
        Ok(Self {
            writes: Arc::new(WriteGate::for_backend(&db)),
            db,
            providers: Arc::new(providers),
            bus: Arc::new(bus),
            active,
            settings,
        })
    }

    /// Publishes an event of `owner`'s data to every process's listeners.
    pub(crate) fn publish(&self, owner: Uuid, event: Event) {
        self.bus.publish(owner, event);
    }
}
