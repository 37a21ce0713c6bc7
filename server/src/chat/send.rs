//! `send_message`, the heart of the product (seed 004): save the prompt and an `ai_prompts`
//! row, start the reply in its own task, and answer at once with both messages. Also stop.

use app::wire::{EventEnvelope, EventKind, MessageView, SendResponse};
use sea_orm::{
    sea_query::Expr, ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, TransactionTrait,
};
use uuid::Uuid;

use super::{
    budget, context,
    conversations::DEFAULT_TITLE,
    generation::Generation,
    pricing::PriceSnapshot,
    provider::{ChatTurn, Role},
    views::{conversation_view, message_view},
    ChatService,
};
use crate::{
    db::{
        entities::{ai_prompts, conversations, messages},
        now,
    },
    error::ApiError,
};

pub const MAX_MESSAGE_CHARS: usize = 100_000;

/// A title from the first message: its first line, at most 60 characters.
fn title_from(content: &str) -> String {
    let line = content
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or(DEFAULT_TITLE);
    if line.chars().count() > 60 {
        format!("{}…", line.chars().take(59).collect::<String>().trim_end())
    } else {
        line.to_owned()
    }
}

impl ChatService {
    pub async fn send_message(
        &self,
        user_id: Uuid,
        conversation_id: Uuid,
        content: String,
    ) -> Result<SendResponse, ApiError> {
        if content.trim().is_empty() {
            return Err(ApiError::validation(
                "invalid_content",
                "Write a message first.",
            ));
        }
        if content.chars().count() > MAX_MESSAGE_CHARS {
            return Err(ApiError::validation(
                "invalid_content",
                "A message can be at most 100,000 characters.",
            ));
        }
        let conversation = self.conversation(user_id, conversation_id).await?;
        let model = self
            .available_model(&conversation.provider, &conversation.model)
            .await?;
        let provider = self
            .providers
            .get(&model.provider)
            .ok_or_else(|| ApiError::Internal("configured provider missing".into()))?;

        let prices = PriceSnapshot {
            input: model.input_micros_per_mtok,
            cached_input: model.cached_input_micros_per_mtok,
            output: model.output_micros_per_mtok,
        };
        // The context is built before anything is stored: a message that can never fit is
        // refused, and its token count prices the worst case the budget must cover.
        let (mut history, previous) = self.history(conversation.id).await?;
        history.push(ChatTurn {
            role: Role::User,
            content: content.clone(),
        });
        let system = conversation.system_prompt.clone();
        let (window, max_tokens) = (
            i64::from(model.context_window),
            i64::from(conversation.max_tokens),
        );
        let context = tokio::task::spawn_blocking(move || {
            context::build(system.as_deref(), history, window, max_tokens)
        })
        .await
        .map_err(|e| ApiError::Internal(format!("building the context: {e}")))?
        .map_err(|too_long| ApiError::validation("message_too_long", too_long.to_string()))?;
        let worst_case = budget::worst_case_micros(&prices, context.tokens, max_tokens);

        let gate = self.writes.enter().await;
        let now = now();
        // Only writes inside: SQLite lets a writer wait for the lock, not a reader upgrade.
        let txn = self.db.begin().await?;
        let reservation = budget::Reservation {
            month: budget::month_of(now),
            micros: worst_case,
        };
        if !budget::reserve(&txn, user_id, &reservation.month, worst_case).await? {
            txn.rollback().await?;
            drop(gate);
            let status = budget::status(&self.db, user_id, now).await?;
            return Err(ApiError::BudgetExceeded(budget::refusal_message(
                worst_case, &status,
            )));
        }
        let user_message = new_message(&conversation, previous, "user", "complete", &content, now)
            .insert(&txn)
            .await?;

        let mut assistant = new_message(
            &conversation,
            Some(user_message.id),
            "assistant",
            "streaming",
            "",
            now,
        );
        assistant.is_streaming = Set(true);
        assistant.stream_chunks = Set(Some(serde_json::json!([])));
        assistant.provider = Set(Some(model.provider.clone()));
        assistant.model = Set(Some(model.model.clone()));
        assistant.input_micros_per_mtok = Set(Some(prices.input));
        assistant.cached_input_micros_per_mtok = Set(prices.cached_input);
        assistant.output_micros_per_mtok = Set(Some(prices.output));
        let assistant = assistant.insert(&txn).await?;

        let prompt = ai_prompts::ActiveModel {
            id: Set(Uuid::now_v7()),
            user_id: Set(user_id),
            conversation_id: Set(conversation.id),
            message_id: Set(user_message.id),
            response_message_id: Set(Some(assistant.id)),
            provider: Set(model.provider.clone()),
            model: Set(model.model.clone()),
            status: Set("streaming".into()),
            context_tokens: Set(context.tokens),
            error: Set(None),
            created_at: Set(now),
            completed_at: Set(None),
            reserved_micros: Set(reservation.micros),
            budget_month: Set(Some(reservation.month.clone())),
        }
        .insert(&txn)
        .await?;

        use sea_orm::ExprTrait as _;
        let mut update = conversations::Entity::update_many()
            .col_expr(
                conversations::Column::MessageCount,
                Expr::col(conversations::Column::MessageCount).add(2),
            )
            .col_expr(conversations::Column::UpdatedAt, Expr::value(now))
            .filter(conversations::Column::Id.eq(conversation.id));
        if conversation.message_count == 0 && conversation.title == DEFAULT_TITLE {
            update = update.col_expr(
                conversations::Column::Title,
                Expr::value(title_from(&content)),
            );
        }
        update.exec(&txn).await?;
        txn.commit().await?;
        drop(gate);

        // Clients learn of the two messages before any delta, then the provider is called at
        // once; the conversation's new totals follow.
        let user_view = message_view(user_message.clone());
        let assistant_view = message_view(assistant.clone());
        self.publish_message(user_id, EventKind::MessageCreated, &user_view);
        self.publish_message(user_id, EventKind::MessageCreated, &assistant_view);
        let reply = self.active.start(assistant.id, user_id, conversation.id);

        let generation = Generation {
            service: self.clone(),
            provider,
            reply,
            user_id,
            conversation: conversation.clone(),
            assistant_message_id: assistant.id,
            prompt_id: prompt.id,
            context,
            prices,
            reservation,
        };
        // Not tied to the request: closing the browser does not stop or lose the reply.
        tokio::spawn(generation.run());

        if let Ok(updated) = self.conversation(user_id, conversation.id).await {
            self.publish_conversation(
                user_id,
                EventKind::ConversationUpdated,
                &conversation_view(updated),
            );
        }

        Ok(SendResponse {
            user_message: user_view,
            assistant_message: assistant_view,
        })
    }

    /// Stops a reply that is still streaming and returns it as stored: partial text, status
    /// `stopped`, usage recorded. A reply that has already ended is returned as it is.
    pub async fn stop(&self, user_id: Uuid, message_id: Uuid) -> Result<MessageView, ApiError> {
        let message = self.owned_message(user_id, message_id).await?;
        if message.status != "streaming" {
            return Ok(message_view(message));
        }
        match self.active.get(message_id) {
            Some(reply) => {
                reply.cancel.cancel();
                let _ =
                    tokio::time::timeout(std::time::Duration::from_secs(10), reply.wait_finished())
                        .await;
            }
            None if self.bus.is_shared() => {
                // Another process generates it: ask over the bus, then wait for the stored end.
                self.bus.request_stop(user_id, message_id);
                let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
                while tokio::time::Instant::now() < deadline {
                    let message = self.owned_message(user_id, message_id).await?;
                    if message.status != "streaming" {
                        return Ok(message_view(message));
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            }
            None => {
                // Nobody generates it: a leftover that start-up recovery did not see.
                super::recovery::mark_message_interrupted(&self.db, message_id).await?;
            }
        }
        Ok(message_view(self.owned_message(user_id, message_id).await?))
    }

    /// The turns a new message follows: every user message and every reply that finished
    /// (complete or stopped), oldest first; and the id of the last message, whatever it is.
    pub(super) async fn history(
        &self,
        conversation_id: Uuid,
    ) -> Result<(Vec<ChatTurn>, Option<Uuid>), ApiError> {
        // Only the columns a context needs: not each reply's stored HTML and chunk list.
        let rows: Vec<(Uuid, String, String, String)> = messages::Entity::find()
            .select_only()
            .columns([
                messages::Column::Id,
                messages::Column::Role,
                messages::Column::Status,
                messages::Column::Content,
            ])
            .filter(messages::Column::ConversationId.eq(conversation_id))
            .order_by_asc(messages::Column::Id)
            .into_tuple()
            .all(&self.db)
            .await?;
        let last = rows.last().map(|(id, ..)| *id);
        let turns = rows
            .into_iter()
            .filter(|(_, role, status, _)| {
                role == "user" || matches!(status.as_str(), "complete" | "stopped")
            })
            .map(|(_, role, _, content)| ChatTurn {
                role: if role == "user" {
                    Role::User
                } else {
                    Role::Assistant
                },
                content,
            })
            .collect();
        Ok((turns, last))
    }

    pub async fn owned_message(
        &self,
        user_id: Uuid,
        message_id: Uuid,
    ) -> Result<messages::Model, ApiError> {
        messages::Entity::find_by_id(message_id)
            .filter(messages::Column::UserId.eq(user_id))
            .one(&self.db)
            .await?
            .ok_or(ApiError::NotFound)
    }

    pub(super) fn publish_message(&self, owner: Uuid, kind: EventKind, view: &MessageView) {
        self.bus.publish(
            owner,
            EventEnvelope {
                kind,
                conversation_id: view.conversation_id,
                message_id: Some(view.id),
                seq: None,
                data: serde_json::to_value(view).unwrap_or_default(),
            },
        );
    }
}

fn new_message(
    conversation: &conversations::Model,
    parent_id: Option<Uuid>,
    role: &str,
    status: &str,
    content: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> messages::ActiveModel {
    messages::ActiveModel {
        id: Set(Uuid::now_v7()),
        conversation_id: Set(conversation.id),
        user_id: Set(conversation.user_id),
        parent_id: Set(parent_id),
        role: Set(role.into()),
        content: Set(content.to_owned()),
        status: Set(status.into()),
        is_streaming: Set(false),
        stream_chunks: Set(None),
        prompt_tokens: Set(0),
        completion_tokens: Set(0),
        total_tokens: Set(0),
        cached_tokens: Set(0),
        reasoning_tokens: Set(0),
        cost_micros: Set(0),
        input_micros_per_mtok: Set(None),
        cached_input_micros_per_mtok: Set(None),
        output_micros_per_mtok: Set(None),
        provider: Set(None),
        model: Set(None),
        error: Set(None),
        content_html: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
}

#[cfg(test)]
mod tests {
    use super::title_from;

    #[test]
    fn titles_come_from_the_first_non_empty_line() {
        assert_eq!(title_from("\n  How do I sort?  \nmore"), "How do I sort?");
        let long = "word ".repeat(30);
        let title = title_from(&long);
        assert!(title.chars().count() <= 60);
        assert!(title.ends_with('…'));
    }
}
