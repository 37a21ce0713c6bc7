//! The in-process event hub: `conversation.*` events go to the owner's channel, `message.*`
//! events to the conversation's channel. Channels exist only while someone listens, and each is
//! a bounded broadcast: a receiver that falls behind loses events (and is told so by
//! `RecvError::Lagged`) instead of growing memory or slowing the generation.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use app::wire::{EventEnvelope, EventKind};
use tokio::sync::broadcast;
use uuid::Uuid;

/// An event with its JSON text, serialised once however many sockets it goes to.
pub struct PublishedEvent {
    pub envelope: EventEnvelope,
    pub json: String,
}

pub type Event = Arc<PublishedEvent>;

const CHANNEL_CAPACITY: usize = 1024;

#[derive(Default)]
pub struct EventHub {
    channels: Mutex<Channels>,
}

#[derive(Default)]
struct Channels {
    conversations: HashMap<Uuid, broadcast::Sender<Event>>,
    users: HashMap<Uuid, broadcast::Sender<Event>>,
}

impl EventHub {
    /// Delivers an event of `owner`'s data to whoever listens. Never blocks.
    pub fn publish(&self, owner: Uuid, envelope: EventEnvelope) {
        let to_user = matches!(
            envelope.kind,
            EventKind::ConversationCreated | EventKind::ConversationUpdated
        );
        let key = if to_user {
            owner
        } else {
            envelope.conversation_id
        };
        let json = serde_json::to_string(&envelope).unwrap_or_default();
        let event = Arc::new(PublishedEvent { envelope, json });
        let mut channels = self.channels.lock().expect("event hub lock");
        let map = if to_user {
            &mut channels.users
        } else {
            &mut channels.conversations
        };
        if let Some(sender) = map.get(&key) {
            if sender.send(event).is_err() {
                // Nobody listens any more.
                map.remove(&key);
            }
        }
    }

    pub fn subscribe_conversation(&self, conversation_id: Uuid) -> broadcast::Receiver<Event> {
        let mut channels = self.channels.lock().expect("event hub lock");
        subscribe(&mut channels.conversations, conversation_id)
    }

    pub fn subscribe_user(&self, user_id: Uuid) -> broadcast::Receiver<Event> {
        let mut channels = self.channels.lock().expect("event hub lock");
        subscribe(&mut channels.users, user_id)
    }
}

fn subscribe(
    map: &mut HashMap<Uuid, broadcast::Sender<Event>>,
    key: Uuid,
) -> broadcast::Receiver<Event> {
    map.entry(key)
        .or_insert_with(|| broadcast::channel(CHANNEL_CAPACITY).0)
        .subscribe()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: EventKind, conversation_id: Uuid) -> EventEnvelope {
        EventEnvelope {
            kind,
            conversation_id,
            message_id: None,
            seq: None,
            data: serde_json::Value::Null,
        }
    }

    #[test]
    fn message_events_reach_the_conversation_and_conversation_events_the_owner() {
        let hub = EventHub::default();
        let (owner, conversation, other) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let mut by_conversation = hub.subscribe_conversation(conversation);
        let mut by_owner = hub.subscribe_user(owner);
        let mut by_other = hub.subscribe_user(other);
        hub.publish(owner, event(EventKind::MessageCreated, conversation));
        hub.publish(owner, event(EventKind::ConversationUpdated, conversation));
        let created = by_conversation.try_recv().unwrap();
        assert_eq!(created.envelope.kind, EventKind::MessageCreated);
        assert!(created.json.contains(r#""type":"message.created""#));
        assert!(by_conversation.try_recv().is_err());
        assert_eq!(
            by_owner.try_recv().unwrap().envelope.kind,
            EventKind::ConversationUpdated
        );
        assert!(by_other.try_recv().is_err());
    }

    #[test]
    fn channels_without_listeners_are_dropped() {
        let hub = EventHub::default();
        let conversation = Uuid::now_v7();
        drop(hub.subscribe_conversation(conversation));
        hub.publish(
            Uuid::now_v7(),
            event(EventKind::MessageCreated, conversation),
        );
        assert!(hub.channels.lock().unwrap().conversations.is_empty());
    }
}
