//! What a resuming client missed of one reply, from the best source there is: this process's
//! memory while it generates the reply, Redis while another process does, and the stored chunks
//! once it has finished. The WebSocket asks for it on every subscribe with `after`; the chat
//! page asks for a streaming reply's text so far.

use std::collections::HashMap;

use app::wire::{Event, MessageStatus, StreamDelta};
use sea_orm::{
    sea_query::Expr, ColumnTrait, Condition, EntityTrait, JoinType, QueryFilter, QuerySelect,
    RelationTrait,
};
use uuid::Uuid;

use super::{views::message_view, ChatError, ChatService};
use crate::db::entities::{conversations, messages};

pub struct Replay {
    pub events: Vec<Event>,
    /// The seq of the last delta replayed: live deltas up to it are duplicates.
    pub last_seq: u64,
}

fn piece_event(message: &messages::Model, seq: u64, piece: StreamDelta) -> Event {
    Event::piece(message.conversation_id, message.id, seq, piece)
}

/// The pieces of a stored reply, in `seq` order, cut back out of its content and reasoning by
/// the recorded chunk lengths (negative ones are pieces of the reasoning).
pub fn stored_pieces(message: &messages::Model) -> Vec<StreamDelta> {
    let lengths: Vec<i64> = message
        .stream_chunks
        .as_ref()
        .and_then(|v| serde_json::from_value(v.clone()).ok())
        .unwrap_or_default();
    let reasoning = message.reasoning.as_deref().unwrap_or_default();
    let mut pieces = Vec::with_capacity(lengths.len());
    let (mut at, mut reasoning_at) = (0, 0);
    for length in lengths {
        let size = length.unsigned_abs() as usize;
        let piece = if length >= 0 {
            let piece = message
                .content
                .get(at..at + size)
                .map(|delta| StreamDelta::Answer {
                    delta: delta.to_owned(),
                });
            at += size;
            piece
        } else {
            let piece =
                reasoning
                    .get(reasoning_at..reasoning_at + size)
                    .map(|r| StreamDelta::Reasoning {
                        reasoning: r.to_owned(),
                    });
            reasoning_at += size;
            piece
        };
        match piece {
            Some(piece) => pieces.push(piece),
            None => break,
        }
    }
    pieces
}

impl ChatService {
    /// For one subscription to `conversation_id`: per reply, the events the client misses
    /// after the `seq` it holds (`after`), with every reply streaming now included from its
    /// start when the client did not name it. Replies that are not the user's or not in the
    /// conversation are skipped.
    ///
    /// [`ChatError::NotFound`] when the conversation is not the user's: the ownership check and
    /// the list of streaming replies are one query (a left join: one row with no reply when
    /// none streams, no row for a conversation that is not the user's).
    pub async fn catch_up(
        &self,
        user_id: Uuid,
        conversation_id: Uuid,
        after: HashMap<Uuid, u64>,
    ) -> Result<Vec<(Uuid, Replay)>, ChatError> {
        let mut wanted = after;
        let streaming_replies =
            messages::Relation::Conversation
                .def()
                .rev()
                .on_condition(move |_, message| {
                    use sea_orm::ExprTrait as _;
                    Condition::all()
                        .add(
                            Expr::col((message.clone(), messages::Column::Status))
                                .eq(MessageStatus::Streaming),
                        )
                        .add(Expr::col((message, messages::Column::UserId)).eq(user_id))
                });
        let rows: Vec<(Uuid, Option<Uuid>)> = conversations::Entity::find_by_id(conversation_id)
            .filter(conversations::Column::UserId.eq(user_id))
            .select_only()
            .column(conversations::Column::Id)
            .column_as(messages::Column::Id, "streaming_id")
            .join(JoinType::LeftJoin, streaming_replies)
            .into_tuple()
            .all(&self.db)
            .await?;
        if rows.is_empty() {
            return Err(ChatError::NotFound);
        }
        for id in rows.into_iter().filter_map(|(_, streaming)| streaming) {
            wanted.entry(id).or_insert(0);
        }
        let mut replays = Vec::with_capacity(wanted.len());
        for (message_id, seq) in wanted {
            let Ok(message) = self.owned_message(user_id, message_id).await else {
                continue;
            };
            if message.conversation_id != conversation_id {
                continue;
            }
            let mut replay = self.replay(&message, seq).await;
            replay.last_seq = replay.last_seq.max(seq);
            replays.push((message_id, replay));
        }
        Ok(replays)
    }

    /// The events of one reply after `after`.
    pub async fn replay(&self, message: &messages::Model, after: u64) -> Replay {
        let start = after as usize;
        let numbered = |pieces: Vec<StreamDelta>| -> Vec<Event> {
            pieces
                .into_iter()
                .enumerate()
                .map(|(i, piece)| piece_event(message, after + 1 + i as u64, piece))
                .collect()
        };
        if let Some(active) = self.active.get(message.id) {
            let (deltas, last_seq) = active.deltas_after(after);
            return Replay {
                events: numbered(deltas),
                last_seq,
            };
        }
        if message.status.is_streaming() {
            if let Some(deltas) = self.bus.shared_deltas_after(message.id, after).await {
                let last_seq = after + deltas.len() as u64;
                return Replay {
                    events: numbered(deltas),
                    last_seq,
                };
            }
        }
        let stored = stored_pieces(message);
        let last_seq = stored.len() as u64;
        let mut events: Vec<Event> = stored
            .into_iter()
            .enumerate()
            .skip(start)
            .map(|(i, piece)| piece_event(message, i as u64 + 1, piece))
            .collect();
        if !message.status.is_streaming() {
            // The client may have missed the end too.
            let siblings = super::tree::siblings_of(&self.db, message)
                .await
                .unwrap_or(super::tree::Siblings::ONLY);
            events.push(Event::message_updated(message_view(
                message.clone(),
                siblings,
            )));
        }
        Replay { events, last_seq }
    }
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
            role: app::wire::Role::Assistant,
            content: "Grüß dich 👋!".into(),
            reasoning: None,
            status: MessageStatus::Complete,
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
            imported: false,
            content_tokens: None,
        };
        let texts: Vec<String> = stored_pieces(&message)
            .iter()
            .map(|p| p.text().to_owned())
            .collect();
        assert_eq!(texts, vec!["Grü", "ß ", "dich ", "👋!"]);
        assert_eq!(texts.concat(), message.content);
    }

    #[test]
    fn negative_chunks_are_pieces_of_the_reasoning_in_their_place() {
        let now = chrono::Utc::now();
        let message = messages::Model {
            id: Uuid::nil(),
            conversation_id: Uuid::nil(),
            user_id: Uuid::nil(),
            parent_id: None,
            role: app::wire::Role::Assistant,
            content: "Yes.".into(),
            reasoning: Some("Hmm, ok".into()),
            status: MessageStatus::Complete,
            stream_chunks: Some(serde_json::json!([-4, -3, 4])),
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
            imported: false,
            content_tokens: None,
        };
        assert_eq!(
            stored_pieces(&message),
            vec![
                StreamDelta::Reasoning {
                    reasoning: "Hmm,".into()
                },
                StreamDelta::Reasoning {
                    reasoning: " ok".into()
                },
                StreamDelta::Answer {
                    delta: "Yes.".into()
                },
            ]
        );
    }
}
