//! The chat engine: conversations, the `send_message` workflow, the providers, the event hub
//! and the accounting. HTTP handlers and the WebSocket call [`ChatService`]; it never sees
//! HTTP, and fails with its own [`ChatError`].

pub mod active;
pub mod branches;
pub mod budget;
pub mod bus;
pub mod context;
pub mod conversations;
mod error;
pub mod events;
pub mod generation;
pub mod models;
mod page;
pub mod presets;
pub mod pricing;
pub mod provider;
pub mod recovery;
pub mod replay;
pub mod search;
pub mod send;
mod send_attachments;
pub mod signals;
pub mod titles;
pub mod tokenizer;
pub mod transfer;
pub mod tree;
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

use crate::{attachments::Attachments, db::writer::Writer};

#[derive(Clone, Debug)]
pub struct EngineSettings {
    /// How often streamed text is written to the database while a reply streams: a crash loses
    /// at most this much, and the number of writes per reply depends on its duration, not its
    /// number of tokens.
    pub flush_interval: Duration,
    pub limits: ChatLimits,
    /// Replies one user may have streaming at once, on every process together; 0 is no limit.
    pub max_active_replies_per_user: u32,
    /// Titles written by a model after a conversation's first exchange.
    pub titles: titles::TitleSettings,
}

impl Default for EngineSettings {
    fn default() -> Self {
        Self {
            flush_interval: Duration::from_secs(30),
            limits: ChatLimits::default(),
            max_active_replies_per_user: 4,
            titles: titles::TitleSettings::default(),
        }
    }
}

/// What one person can store: generous for people, a wall for a script.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChatLimits {
    /// `MAX_MESSAGES_PER_CONVERSATION`: a send past it answers `conversation_full`.
    pub max_messages_per_conversation: u32,
    /// `MAX_CONVERSATIONS_PER_USER`: a new conversation past it answers `too_many_conversations`.
    pub max_conversations_per_user: u32,
    /// `MAX_CONVERSATION_BYTES`: text one conversation holds; a send past it answers
    /// `conversation_full`.
    pub max_conversation_bytes: u64,
    /// `MAX_STORED_BYTES_PER_USER`: text all of one account's conversations hold; a send past
    /// it answers `storage_full`.
    pub max_user_bytes: u64,
    /// `MAX_IMPORT_BYTES`: the largest file `POST /api/import` reads; past it, 413.
    pub max_import_bytes: u64,
}

impl Default for ChatLimits {
    fn default() -> Self {
        Self {
            max_messages_per_conversation: 10_000,
            max_conversations_per_user: 10_000,
            max_conversation_bytes: 100_000_000,
            max_user_bytes: 1_000_000_000,
            max_import_bytes: 256 * 1024 * 1024,
        }
    }
}

/// Why the chat service could not start.
#[derive(Debug, thiserror::Error)]
pub enum ChatStartError {
    #[error(transparent)]
    Redis(#[from] RedisUnavailable),
    #[error("cannot open SQLite's writing connection: {0}")]
    Writer(#[from] sea_orm::DbErr),
}

#[derive(Clone)]
pub struct ChatService {
    pub db: DatabaseConnection,
    /// Where the hot write transactions go: SQLite's writing thread, or the pool.
    pub writes: Arc<Writer>,
    pub providers: Arc<Providers>,
    pub bus: Arc<EventBus>,
    pub active: Arc<ActiveReplies>,
    pub settings: EngineSettings,
    /// Rows and bytes read to build contexts (see `context::Gathering`).
    pub history_reads: Arc<context::HistoryReads>,
    /// Uploaded files: what sends attach, and what deleting a conversation removes.
    pub attachments: Attachments,
}

impl ChatService {
    /// With `redis_url`, events are shared with the other server processes through Redis.
    pub async fn new(
        db: DatabaseConnection,
        providers: Providers,
        settings: EngineSettings,
        redis_url: Option<&str>,
        attachments: Attachments,
    ) -> Result<Self, ChatStartError> {
        let active = Arc::new(ActiveReplies::default());
        let bus = match redis_url {
            Some(url) => EventBus::with_redis(url, active.clone()).await?,
            None => EventBus::in_process(active.clone()),
        };
        Ok(Self {
            writes: Arc::new(Writer::for_database(&db)?),
            db,
            providers: Arc::new(providers),
            bus: Arc::new(bus),
            active,
            settings,
            history_reads: Arc::default(),
            attachments,
        })
    }

    /// Publishes an event of `owner`'s data to every process's listeners.
    pub(crate) fn publish(&self, owner: Uuid, event: Event) {
        self.bus.publish(owner, event);
    }
}
