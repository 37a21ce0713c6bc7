//! `send_message`, the heart of the product (seed 004), in three steps: prepare (check the
//! model, build the context, price the worst case), store (reserve the budget, save the
//! prompt, the streaming reply and an `ai_prompts` row in one transaction), start (publish,
//! spawn the reply's task, answer at once with both messages). Also stop.

use std::sync::Arc;

use app::wire::{Event, MessageStatus, MessageView, Role, SendResponse};
use sea_orm::{
    sea_query::Expr, ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, TransactionTrait,
};
use uuid::Uuid;

use super::{
    budget, context,
    conversations::DEFAULT_TITLE,
    generation::Generation,
    pricing::PriceSnapshot,
    provider::ProviderId,
    provider::{ChatProvider, ChatTurn},
    send_attachments,
    views::{conversation_view, message_view},
    ChatError, ChatService,
};
use crate::{
    attachments::{view as attachment_view, Attachments},
    db::{
        entities::{ai_model_configs, ai_prompts, attachments, conversations, messages},
        now,
    },
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

/// A send that passed every check: the conversation, its model and provider, the context
/// the reply will get and the most it can cost. Nothing is stored yet.
struct PreparedSend {
    conversation: conversations::Model,
    model: ai_model_configs::Model,
    provider: Arc<dyn ChatProvider>,
    prices: PriceSnapshot,
    context: context::Context,
    /// The message the new one follows (the conversation's last).
    previous: Option<Uuid>,
    worst_case: i64,
    /// The files sent with the message, in order.
    attachments: Vec<attachments::Model>,
}

/// What [`ChatService::store_send`] wrote, in one transaction.
struct StoredSend {
    user_message: messages::Model,
    assistant: messages::Model,
    prompt_id: Uuid,
    reservation: budget::Reservation,
}

impl ChatService {
    /// Stores the person's message and a streaming reply, reserves the reply's worst case from
    /// the budget, and starts generating it in its own task. Answers at once; the reply
    /// streams on the feed.
    pub async fn send_message(
        &self,
        user_id: Uuid,
        conversation_id: Uuid,
        content: String,
        attachment_ids: Vec<Uuid>,
    ) -> Result<SendResponse, ChatError> {
        let attachment_ids = send_attachments::check_ids(attachment_ids)?;
        check_content(&content, !attachment_ids.is_empty())?;
        let prepared = self
            .prepare_send(user_id, conversation_id, &content, &attachment_ids)
            .await?;
        let stored = self.store_send(user_id, &prepared, &content).await?;
        Ok(self.start_reply(user_id, prepared, stored).await)
    }

    /// Everything a send needs before it writes: the model must be usable, and the context
    /// is built first, so a message that can never fit is refused and its token count prices
    /// the worst case the budget must cover.
    async fn prepare_send(
        &self,
        user_id: Uuid,
        conversation_id: Uuid,
        content: &str,
        attachment_ids: &[Uuid],
    ) -> Result<PreparedSend, ChatError> {
        let conversation = self.conversation(user_id, conversation_id).await?;
        self.check_conversation_room(&conversation, content)?;
        let model = self
            .available_model(conversation.provider.as_str(), &conversation.model)
            .await?;
        let (attachments, new_message) = self
            .attached_turn(user_id, &model, content, attachment_ids)
            .await?;
        let provider = self
            .providers
            .get(model.provider)
            .ok_or_else(|| ChatError::Internal("configured provider missing".into()))?;
        let prices = PriceSnapshot::of(&model);
        let system = conversation.system_prompt.clone();
        let (window, max_tokens) = (
            i64::from(model.context_window),
            i64::from(conversation.max_tokens),
        );
        let gathering = {
            let system = system.clone();
            tokio::task::spawn_blocking(move || {
                context::Gathering::new(system.as_deref(), new_message, window, max_tokens)
            })
            .await
            .map_err(|e| ChatError::Internal(format!("building the context: {e}")))?
        };
        let (history, previous) = self
            .history(conversation.id, model.provider, gathering)
            .await?;
        let mut context = tokio::task::spawn_blocking(move || {
            context::build(system.as_deref(), history, window, max_tokens)
        })
        .await
        .map_err(|e| ChatError::Internal(format!("building the context: {e}")))?
        .map_err(|too_long| ChatError::invalid("message_too_long", too_long.to_string()))?;
        self.attachments
            .load_images(&mut context.turns)
            .await
            .map_err(|e| ChatError::Internal(format!("reading an attachment: {e}")))?;
        let worst_case = budget::worst_case_micros(&prices, context.tokens, max_tokens);
        Ok(PreparedSend {
            conversation,
            model,
            provider,
            prices,
            context,
            previous,
            worst_case,
            attachments,
        })
    }

    /// The early refusal of a send to a full conversation, from the row already read (no
    /// I/O): messages and text per conversation. The send's transaction enforces these caps
    /// and the account's exactly (replies are counted when they end, so a text cap is passed
    /// by one reply at most).
    fn check_conversation_room(
        &self,
        conversation: &conversations::Model,
        content: &str,
    ) -> Result<(), ChatError> {
        let limits = &self.settings.limits;
        let cap = limits.max_messages_per_conversation;
        if i64::from(conversation.message_count) + 2 > i64::from(cap) {
            return Err(ChatError::invalid(
                "conversation_full",
                format!(
                    "This conversation has reached its limit of {cap} messages. Start a new \
                     conversation to go on."
                ),
            ));
        }
        let added = content.len() as i64;
        let conversation_cap = i64::try_from(limits.max_conversation_bytes).unwrap_or(i64::MAX);
        if conversation.content_bytes.saturating_add(added) > conversation_cap {
            return Err(ChatError::invalid(
                "conversation_full",
                "This conversation holds as much text as one can. Start a new conversation to \
                 go on.",
            ));
        }
        Ok(())
    }

    /// Whether the account's conversations, this send's text included, fit the account's cap.
    /// Read inside the send's transaction, where one user's sends take turns, so the cap holds
    /// exactly however many sends race.
    async fn check_user_storage(
        &self,
        conn: &impl ConnectionTrait,
        user_id: Uuid,
    ) -> Result<(), ChatError> {
        let stored: Option<i64> = conversations::Entity::find()
            .select_only()
            .column_as(
                Expr::cust("CAST(COALESCE(SUM(content_bytes), 0) AS BIGINT)"),
                "stored",
            )
            .filter(conversations::Column::UserId.eq(user_id))
            .into_tuple()
            .one(conn)
            .await?;
        let user_cap = i64::try_from(self.settings.limits.max_user_bytes).unwrap_or(i64::MAX);
        if stored.unwrap_or(0) > user_cap {
            return Err(ChatError::invalid(
                "storage_full",
                "Your conversations hold as much text as an account can. Delete some to go on.",
            ));
        }
        Ok(())
    }

    /// The refusal when a conversation is full (by messages or by text).
    fn conversation_full(&self) -> ChatError {
        let cap = self.settings.limits.max_messages_per_conversation;
        ChatError::invalid(
            "conversation_full",
            format!(
                "This conversation has reached its limit of {cap} messages or of text. Start a \
                 new conversation to go on."
            ),
        )
    }

    /// One write transaction: the budget reservation (refused when it does not fit, with
    /// nothing stored), the person's message, the streaming reply, its `ai_prompts` row, and
    /// the conversation's count and first title.
    async fn store_send(
        &self,
        user_id: Uuid,
        prepared: &PreparedSend,
        content: &str,
    ) -> Result<StoredSend, ChatError> {
        let PreparedSend {
            conversation,
            model,
            prices,
            ..
        } = prepared;
        let gate = self.writes.enter().await;
        let now = now();
        // Only writes inside: SQLite lets a writer wait for the lock, not a reader upgrade.
        let txn = self.db.begin().await?;
        let reservation = budget::Reservation {
            month: budget::month_of(now),
            micros: prepared.worst_case,
        };
        if !budget::reserve(&txn, user_id, &reservation.month, reservation.micros).await? {
            txn.rollback().await?;
            drop(gate);
            let status = budget::status(&self.db, user_id, now).await?;
            return Err(ChatError::BudgetExceeded(budget::refusal_message(
                reservation.micros,
                &status,
            )));
        }
        // The reservation's UPDATE holds the user's budget row (PostgreSQL) or the database's
        // write lock (SQLite) until this transaction ends: concurrent sends of one user, on
        // any process, count each other's committed replies here one at a time.
        let cap = self.settings.max_active_replies_per_user;
        if cap != 0 && streaming_replies(&txn, user_id).await? >= u64::from(cap) {
            txn.rollback().await?;
            return Err(ChatError::TooManyReplies(cap));
        }
        let user_message = new_message(conversation, prepared.previous, Role::User, content, now)
            .insert(&txn)
            .await?;
        Attachments::link(&txn, user_message.id, &prepared.attachments).await?;

        let mut assistant = new_message(
            conversation,
            Some(user_message.id),
            Role::Assistant,
            "",
            now,
        );
        assistant.status = Set(MessageStatus::Streaming);
        assistant.stream_chunks = Set(Some(serde_json::json!([])));
        assistant.provider = Set(Some(model.provider));
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
            provider: Set(model.provider),
            model: Set(model.model.clone()),
            status: Set(MessageStatus::Streaming),
            context_tokens: Set(prepared.context.tokens),
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
            .col_expr(
                conversations::Column::ContentBytes,
                Expr::col(conversations::Column::ContentBytes).add(content.len() as i64),
            )
            .col_expr(conversations::Column::UpdatedAt, Expr::value(now))
            .filter(conversations::Column::Id.eq(conversation.id))
            // The caps, exactly: this transaction holds the user's turn, so the counts it
            // reads are every committed send's.
            .filter(
                Expr::col(conversations::Column::MessageCount)
                    .add(2)
                    .lte(i64::from(
                        self.settings.limits.max_messages_per_conversation,
                    )),
            )
            .filter(
                Expr::col(conversations::Column::ContentBytes)
                    .add(content.len() as i64)
                    .lte(
                        i64::try_from(self.settings.limits.max_conversation_bytes)
                            .unwrap_or(i64::MAX),
                    ),
            );
        if conversation.message_count == 0 && conversation.title == DEFAULT_TITLE {
            update = update.col_expr(
                conversations::Column::Title,
                Expr::value(title_from(content)),
            );
        }
        if update.exec(&txn).await?.rows_affected == 0 {
            txn.rollback().await?;
            return Err(self.conversation_full());
        }
        if let Err(full) = self.check_user_storage(&txn, user_id).await {
            txn.rollback().await?;
            return Err(full);
        }
        txn.commit().await?;
        drop(gate);
        Ok(StoredSend {
            user_message,
            assistant,
            prompt_id: prompt.id,
            reservation,
        })
    }

    /// Tells clients of the two messages before any delta, starts the reply's task (not tied
    /// to the request: closing the browser does not stop or lose the reply), then publishes
    /// the conversation's new count and title.
    async fn start_reply(
        &self,
        user_id: Uuid,
        prepared: PreparedSend,
        stored: StoredSend,
    ) -> SendResponse {
        let mut user_view = message_view(stored.user_message);
        user_view.attachments = prepared.attachments.iter().map(attachment_view).collect();
        let assistant_view = message_view(stored.assistant);
        self.publish(user_id, Event::message_created(user_view.clone()));
        self.publish(user_id, Event::message_created(assistant_view.clone()));
        let conversation_id = prepared.conversation.id;
        let generation = Generation {
            service: self.clone(),
            provider: prepared.provider,
            reply: self
                .active
                .start(assistant_view.id, user_id, conversation_id),
            user_id,
            conversation: prepared.conversation,
            assistant_message_id: assistant_view.id,
            prompt_id: stored.prompt_id,
            context: prepared.context,
            prices: prepared.prices,
            reservation: stored.reservation,
        };
        tokio::spawn(generation.run());
        self.publish_conversation_state(user_id, conversation_id)
            .await;
        SendResponse {
            user_message: user_view,
            assistant_message: assistant_view,
        }
    }

    /// Publishes the conversation as stored now (totals, count, title) to its owner's tabs.
    pub(super) async fn publish_conversation_state(&self, user_id: Uuid, conversation_id: Uuid) {
        if let Ok(conversation) = self.conversation(user_id, conversation_id).await {
            self.publish(
                user_id,
                Event::conversation_updated(conversation_view(conversation)),
            );
        }
    }

    /// Stops a reply that is still streaming and returns it as stored: partial text, status
    /// `stopped`, usage recorded. A reply that has already ended is returned as it is.
    pub async fn stop(&self, user_id: Uuid, message_id: Uuid) -> Result<MessageView, ChatError> {
        let message = self.owned_message(user_id, message_id).await?;
        if !message.status.is_streaming() {
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
                    if !message.status.is_streaming() {
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

    /// The turns a new message follows, oldest first, ending with the new message: user
    /// messages and replies that finished (complete or stopped), read newest first a page at
    /// a time until they fill the window (`gathering`); and the id of the last message,
    /// whatever it is.
    pub(super) async fn history(
        &self,
        conversation_id: Uuid,
        provider: ProviderId,
        mut gathering: context::Gathering,
    ) -> Result<(Vec<ChatTurn>, Option<Uuid>), ChatError> {
        let mut last = None;
        let mut before: Option<Uuid> = None;
        loop {
            // Only the columns a context needs: not each reply's stored HTML and chunk list.
            let mut page = messages::Entity::find()
                .select_only()
                .columns([
                    messages::Column::Id,
                    messages::Column::Role,
                    messages::Column::Status,
                    messages::Column::Content,
                ])
                .filter(messages::Column::ConversationId.eq(conversation_id))
                .order_by_desc(messages::Column::Id)
                .limit(context::HISTORY_PAGE);
            if let Some(before) = before {
                page = page.filter(messages::Column::Id.lt(before));
            }
            let rows: Vec<(Uuid, Role, MessageStatus, String)> =
                page.into_tuple().all(&self.db).await?;
            let bytes: usize = rows.iter().map(|(.., content)| content.len()).sum();
            self.history_reads.add(rows.len() as u64, bytes as u64);
            last = last.or_else(|| rows.first().map(|(id, ..)| *id));
            before = rows.last().map(|(id, ..)| *id);
            let end = (rows.len() as u64) < context::HISTORY_PAGE;
            let mut attached = self.history_attachments(&rows, provider).await?;
            // Counting tokens is CPU work: off the async runtime.
            gathering = tokio::task::spawn_blocking(move || {
                for (id, role, status, content) in rows {
                    let attachments = attached.remove(&id).unwrap_or_default();
                    let turn = ChatTurn {
                        role,
                        content,
                        attachments,
                    };
                    if (role == Role::User || status.is_usable_context())
                        && !gathering.push_older(turn)
                    {
                        break;
                    }
                }
                gathering
            })
            .await
            .map_err(|e| ChatError::Internal(format!("building the context: {e}")))?;
            if end || gathering.is_full() {
                break;
            }
        }
        Ok((gathering.into_history(), last))
    }

    pub async fn owned_message(
        &self,
        user_id: Uuid,
        message_id: Uuid,
    ) -> Result<messages::Model, ChatError> {
        messages::Entity::find_by_id(message_id)
            .filter(messages::Column::UserId.eq(user_id))
            .one(&self.db)
            .await?
            .ok_or(ChatError::NotFound)
    }
}

async fn streaming_replies(
    db: &impl sea_orm::ConnectionTrait,
    user_id: Uuid,
) -> Result<u64, sea_orm::DbErr> {
    use sea_orm::PaginatorTrait as _;
    messages::Entity::find()
        .filter(messages::Column::UserId.eq(user_id))
        .filter(messages::Column::Status.eq(MessageStatus::Streaming))
        .count(db)
        .await
}

fn check_content(content: &str, has_attachments: bool) -> Result<(), ChatError> {
    if content.trim().is_empty() && !has_attachments {
        return Err(ChatError::invalid(
            "invalid_content",
            "Write a message first.",
        ));
    }
    if content.chars().count() > MAX_MESSAGE_CHARS {
        return Err(ChatError::invalid(
            "invalid_content",
            "A message can be at most 100,000 characters.",
        ));
    }
    Ok(())
}

/// A finished message of `role` (a reply is made `Streaming` by its caller).
fn new_message(
    conversation: &conversations::Model,
    parent_id: Option<Uuid>,
    role: Role,
    content: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> messages::ActiveModel {
    messages::ActiveModel {
        id: Set(Uuid::now_v7()),
        conversation_id: Set(conversation.id),
        user_id: Set(conversation.user_id),
        parent_id: Set(parent_id),
        role: Set(role),
        content: Set(content.to_owned()),
        status: Set(MessageStatus::Complete),
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
