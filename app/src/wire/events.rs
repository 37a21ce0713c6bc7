//! The live feed's protocol (ARCHITECTURE.md, "WebSocket feed"), typed end to end: the server
//! publishes [`Event`]s on its bus and writes them to sockets, the browser decodes the same
//! enum. Each event is `{"type": …, "conversation_id": …, "message_id"?: …, "seq"?: …,
//! "data": …}` on the wire, as it always was.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{ConversationView, MessageView};

/// One event of the live feed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Event {
    /// To every socket of the owner.
    #[serde(rename = "conversation.created")]
    ConversationCreated {
        conversation_id: Uuid,
        data: ConversationView,
    },
    /// To every socket of the owner: a new title, new totals, new settings.
    #[serde(rename = "conversation.updated")]
    ConversationUpdated {
        conversation_id: Uuid,
        data: ConversationView,
    },
    /// To the conversation's subscribers: a message was stored (a reply starts `streaming`).
    #[serde(rename = "message.created")]
    MessageCreated {
        conversation_id: Uuid,
        message_id: Uuid,
        data: MessageView,
    },
    /// One piece of a reply's text or of its reasoning; `seq` counts a reply's pieces (both
    /// kinds, one counter) from 1 without gaps.
    #[serde(rename = "message.streaming")]
    MessageStreaming {
        conversation_id: Uuid,
        message_id: Uuid,
        seq: u64,
        data: StreamDelta,
    },
    /// A message left `streaming` (or was edited): the whole stored message.
    #[serde(rename = "message.updated")]
    MessageUpdated {
        conversation_id: Uuid,
        message_id: Uuid,
        data: MessageView,
    },
}

impl Event {
    pub fn conversation_created(view: ConversationView) -> Self {
        Event::ConversationCreated {
            conversation_id: view.id,
            data: view,
        }
    }

    pub fn conversation_updated(view: ConversationView) -> Self {
        Event::ConversationUpdated {
            conversation_id: view.id,
            data: view,
        }
    }

    pub fn message_created(view: MessageView) -> Self {
        Event::MessageCreated {
            conversation_id: view.conversation_id,
            message_id: view.id,
            data: view,
        }
    }

    pub fn message_updated(view: MessageView) -> Self {
        Event::MessageUpdated {
            conversation_id: view.conversation_id,
            message_id: view.id,
            data: view,
        }
    }

    pub fn delta(conversation_id: Uuid, message_id: Uuid, seq: u64, delta: String) -> Self {
        Event::MessageStreaming {
            conversation_id,
            message_id,
            seq,
            data: StreamDelta::Answer { delta },
        }
    }

    pub fn reasoning(conversation_id: Uuid, message_id: Uuid, seq: u64, reasoning: String) -> Self {
        Event::MessageStreaming {
            conversation_id,
            message_id,
            seq,
            data: StreamDelta::Reasoning { reasoning },
        }
    }

    /// The event carrying `piece` of a reply as its `seq`th.
    pub fn piece(conversation_id: Uuid, message_id: Uuid, seq: u64, piece: StreamDelta) -> Self {
        Event::MessageStreaming {
            conversation_id,
            message_id,
            seq,
            data: piece,
        }
    }

    pub fn conversation_id(&self) -> Uuid {
        match self {
            Event::ConversationCreated {
                conversation_id, ..
            }
            | Event::ConversationUpdated {
                conversation_id, ..
            }
            | Event::MessageCreated {
                conversation_id, ..
            }
            | Event::MessageStreaming {
                conversation_id, ..
            }
            | Event::MessageUpdated {
                conversation_id, ..
            } => *conversation_id,
        }
    }

    /// `conversation.*` events go to every socket of the owner; `message.*` events to the
    /// sockets subscribed to the conversation.
    pub fn is_for_owner(&self) -> bool {
        matches!(
            self,
            Event::ConversationCreated { .. } | Event::ConversationUpdated { .. }
        )
    }

    /// The wire name of the event's type, e.g. `message.streaming`.
    pub fn type_name(&self) -> &'static str {
        match self {
            Event::ConversationCreated { .. } => "conversation.created",
            Event::ConversationUpdated { .. } => "conversation.updated",
            Event::MessageCreated { .. } => "message.created",
            Event::MessageStreaming { .. } => "message.streaming",
            Event::MessageUpdated { .. } => "message.updated",
        }
    }
}

/// `data` of a `message.streaming` event: `{"delta": …}`, a piece of the answer (the deltas
/// concatenated give exactly the final `content`), or `{"reasoning": …}`, a piece of what the
/// model thought (concatenated: the final `reasoning`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum StreamDelta {
    Answer { delta: String },
    Reasoning { reasoning: String },
}

impl StreamDelta {
    /// The piece's text, whichever kind it is.
    pub fn text(&self) -> &str {
        match self {
            StreamDelta::Answer { delta } => delta,
            StreamDelta::Reasoning { reasoning } => reasoning,
        }
    }
}

/// What a WebSocket client sends.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMessage {
    /// Start receiving a conversation's `message.*` events. `after` holds, per message, the
    /// last `seq` the client has: the server replays what follows, then continues live.
    Subscribe {
        conversation_id: Uuid,
        #[serde(default)]
        after: HashMap<Uuid, u64>,
    },
    Unsubscribe {
        conversation_id: Uuid,
    },
    Ping,
}

impl ClientMessage {
    /// The `type`s a client may send, for error messages.
    pub const TYPES: [&'static str; 3] = ["subscribe", "unsubscribe", "ping"];
}

/// The server's own control messages, besides the events.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ControlMessage {
    Subscribed {
        conversation_id: Uuid,
    },
    Error {
        code: String,
        message: String,
        #[serde(skip_serializing_if = "Option::is_none", default)]
        conversation_id: Option<Uuid>,
    },
    Pong,
}

/// Anything the server writes to a socket, as a client decodes it.
// Decoded once per frame and consumed at once, never stored in bulk: boxing the event would
// cost an allocation per frame to save stack space nobody holds.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ServerMessage {
    Event(Event),
    Control(ControlMessage),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{MessageStatus, Role};

    fn message() -> MessageView {
        let now = chrono::Utc::now();
        MessageView {
            id: Uuid::now_v7(),
            conversation_id: Uuid::now_v7(),
            parent_id: None,
            sibling_index: 1,
            sibling_count: 1,
            prev_sibling_id: None,
            next_sibling_id: None,
            role: Role::Assistant,
            content: "Hi".into(),
            reasoning: None,
            status: MessageStatus::Complete,
            provider: None,
            model: None,
            prompt_tokens: 0,
            completion_tokens: 0,
            total_tokens: 0,
            cached_tokens: 0,
            reasoning_tokens: 0,
            cost_micros: 0,
            error: None,
            created_at: now,
            updated_at: now,
            attachments: Vec::new(),
            imported: false,
        }
    }

    #[test]
    fn events_keep_the_envelope_of_the_wire_protocol() {
        let (conversation, message_id) = (Uuid::now_v7(), Uuid::now_v7());
        let delta = Event::delta(conversation, message_id, 7, "Hel".into());
        let json: serde_json::Value = serde_json::to_value(&delta).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "type": "message.streaming",
                "conversation_id": conversation,
                "message_id": message_id,
                "seq": 7,
                "data": {"delta": "Hel"},
            })
        );
        let thought = Event::reasoning(conversation, message_id, 8, "Hmm".into());
        let json = serde_json::to_value(&thought).unwrap();
        assert_eq!(json["data"], serde_json::json!({"reasoning": "Hmm"}));
        assert_eq!(
            serde_json::from_value::<Event>(json).unwrap(),
            thought,
            "a client tells a reasoning piece from an answer piece"
        );
        let updated = Event::message_updated(message());
        let json = serde_json::to_value(&updated).unwrap();
        assert_eq!(json["type"], "message.updated");
        assert_eq!(json["data"]["status"], "complete");
        assert!(json.get("seq").is_none());
    }

    #[test]
    fn a_client_decodes_events_and_control_messages_alike() {
        let event = Event::message_created(message());
        let text = serde_json::to_string(&event).unwrap();
        assert_eq!(
            serde_json::from_str::<ServerMessage>(&text).unwrap(),
            ServerMessage::Event(event)
        );
        assert_eq!(
            serde_json::from_str::<ServerMessage>(r#"{"type":"pong"}"#).unwrap(),
            ServerMessage::Control(ControlMessage::Pong)
        );
        let error = r#"{"type":"error","code":"resync","message":"catch up"}"#;
        assert!(matches!(
            serde_json::from_str::<ServerMessage>(error).unwrap(),
            ServerMessage::Control(ControlMessage::Error { .. })
        ));
    }
}
