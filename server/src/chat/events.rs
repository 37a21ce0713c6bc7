//! The in-process event hub: `conversation.*` events go to the owner's channel, `message.*`
//! events to the conversation's channel. Channels exist only while someone listens: the last
//! [`Subscription`] of a channel removes it when dropped, so subscribing to and leaving many
//! conversations keeps no memory. Each is a bounded broadcast: a receiver that falls behind
//! loses events (and is told so by `RecvError::Lagged`) instead of growing memory or slowing
//! the generation.

use std::{
    collections::HashMap,
    ops::{Deref, DerefMut},
    sync::{Arc, Mutex},
};

use app::wire::Event as WireEvent;
use tokio::sync::broadcast;
use uuid::Uuid;

/// An event with its JSON text, serialised once however many sockets it goes to.
pub struct PublishedEvent {
    pub event: WireEvent,
    pub json: String,
}

pub type Event = Arc<PublishedEvent>;

const CHANNEL_CAPACITY: usize = 1024;

#[derive(Default)]
pub struct EventHub {
    channels: Arc<Mutex<Channels>>,
}

#[derive(Default)]
struct Channels {
    conversations: HashMap<Uuid, broadcast::Sender<Event>>,
    users: HashMap<Uuid, broadcast::Sender<Event>>,
}

impl EventHub {
    /// Delivers an event of `owner`'s data to whoever listens. Never blocks.
    pub fn publish(&self, owner: Uuid, event: WireEvent) {
        let to_user = event.is_for_owner();
        let key = if to_user {
            owner
        } else {
            event.conversation_id()
        };
        let json = match serde_json::to_string(&event) {
            Ok(json) => json,
            // Our own types always serialise; if one ever did not, say so instead of sending
            // `null` to every listener.
            Err(e) => {
                tracing::error!(error = %e, kind = event.type_name(), "an event could not be serialised");
                return;
            }
        };
        let event = Arc::new(PublishedEvent { event, json });
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

    pub fn subscribe_conversation(&self, conversation_id: Uuid) -> Subscription {
        self.subscribe(Feed::Conversation, conversation_id)
    }

    pub fn subscribe_user(&self, user_id: Uuid) -> Subscription {
        self.subscribe(Feed::User, user_id)
    }

    fn subscribe(&self, feed: Feed, key: Uuid) -> Subscription {
        let mut channels = self.channels.lock().expect("event hub lock");
        let sender = channels
            .map(feed)
            .entry(key)
            .or_insert_with(|| broadcast::channel(CHANNEL_CAPACITY).0);
        Subscription {
            receiver: sender.subscribe(),
            channel: sender.clone(),
            hub: self.channels.clone(),
            feed,
            key,
        }
    }

    /// How many channels exist (conversations and users): what the hub holds in memory.
    pub fn channel_count(&self) -> usize {
        let channels = self.channels.lock().expect("event hub lock");
        channels.conversations.len() + channels.users.len()
    }
}

#[derive(Clone, Copy)]
enum Feed {
    Conversation,
    User,
}

impl Channels {
    fn map(&mut self, feed: Feed) -> &mut HashMap<Uuid, broadcast::Sender<Event>> {
        match feed {
            Feed::Conversation => &mut self.conversations,
            Feed::User => &mut self.users,
        }
    }
}

/// A listener on one channel; it reads like the broadcast receiver it holds. Dropping the
/// last one of a channel removes the channel.
pub struct Subscription {
    receiver: broadcast::Receiver<Event>,
    /// Which channel `receiver` belongs to: the hub's entry for `key` may be a newer one.
    channel: broadcast::Sender<Event>,
    hub: Arc<Mutex<Channels>>,
    feed: Feed,
    key: Uuid,
}

impl Deref for Subscription {
    type Target = broadcast::Receiver<Event>;
    fn deref(&self) -> &Self::Target {
        &self.receiver
    }
}

impl DerefMut for Subscription {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.receiver
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        // Under the lock no one can subscribe meanwhile: a count of one is this receiver.
        let Ok(mut channels) = self.hub.lock() else {
            return;
        };
        let map = channels.map(self.feed);
        if map.get(&self.key).is_some_and(|sender| {
            sender.same_channel(&self.channel) && sender.receiver_count() <= 1
        }) {
            map.remove(&self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delta(conversation_id: Uuid) -> WireEvent {
        WireEvent::delta(conversation_id, Uuid::now_v7(), 1, "Hi".into())
    }

    fn renamed(conversation_id: Uuid) -> WireEvent {
        let now = chrono::Utc::now();
        WireEvent::conversation_updated(app::wire::ConversationView {
            id: conversation_id,
            title: "Renamed".into(),
            provider: app::wire::ProviderId::Demo,
            model: "demo-offline".into(),
            temperature: 0.7,
            max_tokens: 100,
            system_prompt: None,
            current_leaf_id: None,
            thinking_budget_tokens: None,
            message_count: 0,
            prompt_tokens: 0,
            completion_tokens: 0,
            total_tokens: 0,
            cost_micros: 0,
            created_at: now,
            updated_at: now,
            pinned: false,
            archived: false,
            imported_from: None,
        })
    }

    #[test]
    fn message_events_reach_the_conversation_and_conversation_events_the_owner() {
        let hub = EventHub::default();
        let (owner, conversation, other) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let mut by_conversation = hub.subscribe_conversation(conversation);
        let mut by_owner = hub.subscribe_user(owner);
        let mut by_other = hub.subscribe_user(other);
        hub.publish(owner, delta(conversation));
        hub.publish(owner, renamed(conversation));
        let streamed = by_conversation.try_recv().unwrap();
        assert!(matches!(streamed.event, WireEvent::MessageStreaming { .. }));
        assert!(streamed.json.contains(r#""type":"message.streaming""#));
        assert!(by_conversation.try_recv().is_err());
        assert!(matches!(
            by_owner.try_recv().unwrap().event,
            WireEvent::ConversationUpdated { .. }
        ));
        assert!(by_other.try_recv().is_err());
    }

    #[test]
    fn the_last_listener_leaving_drops_the_channel() {
        let hub = EventHub::default();
        let (conversation, owner) = (Uuid::now_v7(), Uuid::now_v7());
        let first = hub.subscribe_conversation(conversation);
        let second = hub.subscribe_conversation(conversation);
        let user = hub.subscribe_user(owner);
        assert_eq!(hub.channel_count(), 2);
        drop(first);
        assert_eq!(hub.channel_count(), 2, "one listener is left");
        drop(second);
        drop(user);
        assert_eq!(hub.channel_count(), 0);
    }

    #[test]
    fn a_listener_of_a_replaced_channel_leaves_the_new_one_alone() {
        let hub = EventHub::default();
        let conversation = Uuid::now_v7();
        let old = hub.subscribe_conversation(conversation);
        // A publish that finds nobody (as if `old` had lagged away) removes the entry, and a
        // new listener makes a new channel.
        hub.channels.lock().unwrap().conversations.clear();
        let mut new = hub.subscribe_conversation(conversation);
        drop(old);
        assert_eq!(hub.channel_count(), 1);
        hub.publish(Uuid::now_v7(), delta(conversation));
        assert!(new.try_recv().is_ok());
    }
}
