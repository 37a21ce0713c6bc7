//! The chat engine: conversations, the `send_message` workflow, the providers, the event hub
//! and the accounting. HTTP handlers call [`ChatService`]; it never sees HTTP.

pub mod active;
pub mod budget;
pub mod bus;
pub mod context;
pub mod conversations;
pub mod events;
pub mod generation;
pub mod models;
pub mod pricing;
pub mod provider;
pub mod recovery;
pub mod send;
pub mod tokenizer;
pub mod views;

use std::{sync::Arc, time::Duration};

use app::wire::{ConversationView, EventEnvelope, EventKind};
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use self::{
    active::ActiveReplies,
    bus::{EventBus, RedisUnavailable},
    provider::Providers,
};

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

#[derive(Clone)]
pub struct ChatService {
    pub db: DatabaseConnection,
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
            None => EventBus::in_process(),
        };
        Ok(Self {
            db,
            providers: Arc::new(providers),
            bus: Arc::new(bus),
            active,
            settings,
        })
    }

    fn publish_conversation(&self, owner: Uuid, kind: EventKind, view: &ConversationView) {
        self.bus.publish(
            owner,
            EventEnvelope {
                kind,
                conversation_id: view.id,
                message_id: None,
                seq: None,
                data: serde_json::to_value(view).unwrap_or_default(),
            },
        );
    }
}
