//! What a resuming client missed of one reply, from the best source there is: this process's
//! memory while it generates the reply, Redis while another process does, and the stored chunks
//! once it has finished.

use std::sync::Arc;

use app::wire::{EventEnvelope, EventKind, StreamDelta};

use crate::{chat::views::message_view, db::entities::messages, state::AppState};

pub struct Replay {
    pub events: Vec<EventEnvelope>,
    /// The seq of the last delta replayed: live deltas up to it are duplicates.
    pub last_seq: u64,
}

fn delta_event(message: &messages::Model, seq: u64, delta: &str) -> EventEnvelope {
    EventEnvelope {
        kind: EventKind::MessageStreaming,
        conversation_id: message.conversation_id,
        message_id: Some(message.id),
        seq: Some(seq),
        data: serde_json::to_value(StreamDelta {
            delta: delta.to_owned(),
        })
        .unwrap_or_default(),
    }
}

/// The deltas of a stored reply, cut back out of its content by the recorded chunk lengths.
pub fn stored_deltas(message: &messages::Model) -> Vec<&str> {
    let lengths: Vec<usize> = message
        .stream_chunks
        .as_ref()
        .and_then(|v| serde_json::from_value(v.clone()).ok())
        .unwrap_or_default();
    let mut deltas = Vec::with_capacity(lengths.len());
    let mut at = 0;
    for length in lengths {
        match message.content.get(at..at + length) {
            Some(delta) => deltas.push(delta),
            None => break,
        }
        at += length;
    }
    deltas
}

pub async fn replay(state: &AppState, message: &messages::Model, after: u64) -> Replay {
    let start = after as usize;
    let numbered = |deltas: Vec<String>| -> Vec<EventEnvelope> {
        deltas
            .iter()
            .enumerate()
            .map(|(i, d)| delta_event(message, after + 1 + i as u64, d))
            .collect()
    };
    if let Some(active) = state.chat.active.get(message.id) {
        let (deltas, last_seq) = active.deltas_after(after);
        let deltas = deltas.iter().map(|d: &Arc<str>| d.to_string()).collect();
        return Replay {
            events: numbered(deltas),
            last_seq,
        };
    }
    if message.status == "streaming" {
        if let Some(deltas) = state.chat.bus.shared_deltas_after(message.id, after).await {
            let last_seq = after + deltas.len() as u64;
            return Replay {
                events: numbered(deltas),
                last_seq,
            };
        }
    }
    let stored = stored_deltas(message);
    let last_seq = stored.len() as u64;
    let mut events: Vec<EventEnvelope> = stored
        .iter()
        .enumerate()
        .skip(start)
        .map(|(i, d)| delta_event(message, i as u64 + 1, d))
        .collect();
    if message.status != "streaming" {
        // The client may have missed the end too.
        events.push(EventEnvelope {
            kind: EventKind::MessageUpdated,
            conversation_id: message.conversation_id,
            message_id: Some(message.id),
            seq: None,
            data: serde_json::to_value(message_view(message.clone())).unwrap_or_default(),
        });
    }
    Replay { events, last_seq }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    #[test]
    fn stored_chunks_give_back_the_deltas_even_across_multibyte_characters() {
        let now = chrono::Utc::now();
        let message = messages::Model {
            id: Uuid::nil(),
            conversation_id: Uuid::nil(),
            user_id: Uuid::nil(),
            parent_id: None,
            role: "assistant".into(),
            content: "Grüß dich 👋!".into(),
            status: "complete".into(),
            is_streaming: false,
            stream_chunks: Some(serde_json::json!([4, 3, 5, 5])),
            prompt_tokens: 0,
            completion_tokens: 0,
            total_tokens: 0,
            cached_tokens: 0,
            reasoning_tokens: 0,
            cost_micros: 0,
            input_micros_per_mtok: None,
            cached_input_micros_per_mtok: None,
            output_micros_per_mtok: None,
            provider: None,
            model: None,
            error: None,
            content_html: None,
            created_at: now,
            updated_at: now,
        };
        assert_eq!(stored_deltas(&message), vec!["Grü", "ß ", "dich ", "👋!"]);
        assert_eq!(stored_deltas(&message).concat(), message.content);
    }
}
