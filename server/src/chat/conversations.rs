//! Conversations: create, list, read, change, delete — always scoped to their owner, so a
//! conversation of someone else is simply not found.

use app::wire::{ConversationView, Event, MessageStatus, MessageView, Page};
use sea_orm::{
    sea_query::{Expr, Func, LockType},
    ActiveModelTrait, ColumnTrait, Condition, DbBackend, EntityTrait, IdenStatic, Iterable,
    QueryFilter, QueryOrder, QuerySelect, Set, TryIntoModel,
};
use serde::Deserialize;
use uuid::Uuid;

use super::{
    branches::Branch,
    views::{conversation_view, message_view},
    ChatError, ChatService,
};
use crate::{
    db::{
        entities::{ai_model_configs, chat_settings, conversations, messages, users},
        now,
        writer::{WriteConn, WriteJob},
    },
    domain::Invalid,
};

pub const DEFAULT_TITLE: &str = "New chat";
const MAX_TITLE_CHARS: usize = 200;
const MAX_SYSTEM_PROMPT_CHARS: usize = 20_000;

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct NewConversation {
    pub title: Option<String>,
    pub provider: Option<String>,
    pub model: Option<String>,
    pub temperature: Option<f64>,
    pub max_tokens: Option<i32>,
    pub system_prompt: Option<String>,
    /// Extended thinking: at least 1,024 tokens and fewer than `max_tokens` (the thinking is
    /// part of the reply's length); absent or 0 leaves it off.
    pub thinking_budget_tokens: Option<i32>,
    /// Start from a preset of the user's: its provider, model, temperature, reply length and
    /// system prompt, each unless given here.
    pub preset_id: Option<Uuid>,
}

/// A change to a conversation; absent fields stay as they are. An empty `system_prompt`
/// removes it, a `thinking_budget_tokens` of 0 turns extended thinking off.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct ConversationChanges {
    pub title: Option<String>,
    pub provider: Option<String>,
    pub model: Option<String>,
    pub temperature: Option<f64>,
    pub max_tokens: Option<i32>,
    pub system_prompt: Option<String>,
    pub thinking_budget_tokens: Option<i32>,
    /// Pinned conversations come first in the list.
    pub pinned: Option<bool>,
    /// Archived conversations leave the list (`?archived=true` shows them).
    pub archived: Option<bool>,
}

/// The least thinking budget Anthropic accepts, and so the least any provider gets.
const MIN_THINKING_BUDGET: i32 = 1_024;

/// A thinking budget for a reply of `max_tokens`: 0 is off; else from 1,024 tokens up to
/// below `max_tokens`, since the thinking counts toward the reply's length.
fn validate_thinking_budget(budget: i32, max_tokens: i32) -> Result<Option<i32>, Invalid> {
    if budget == 0 {
        return Ok(None);
    }
    if budget < MIN_THINKING_BUDGET || budget >= max_tokens {
        return Err(Invalid::new(
            "invalid_thinking_budget",
            format!(
                "The thinking budget must be 0 (off) or from {MIN_THINKING_BUDGET} tokens up to \
                 less than the reply's max_tokens ({max_tokens})."
            ),
        ));
    }
    Ok(Some(budget))
}

fn validate_title(title: &str) -> Result<String, Invalid> {
    let title = title.trim();
    if title.is_empty() || title.chars().count() > MAX_TITLE_CHARS {
        return Err(Invalid::new(
            "invalid_title",
            "A title needs 1 to 200 characters.",
        ));
    }
    Ok(title.to_owned())
}

pub(super) fn validate_temperature(t: f64) -> Result<f64, Invalid> {
    if !(0.0..=2.0).contains(&t) || t.is_nan() {
        return Err(Invalid::new(
            "invalid_temperature",
            "Temperature must be between 0 and 2.",
        ));
    }
    Ok(t)
}

pub(super) fn validate_max_tokens(
    value: i32,
    model: &ai_model_configs::Model,
) -> Result<i32, Invalid> {
    if value < 1 || value > model.max_output_tokens {
        return Err(Invalid::new(
            "invalid_max_tokens",
            format!(
                "max_tokens must be between 1 and {} for {}.",
                model.max_output_tokens, model.display_name
            ),
        ));
    }
    Ok(value)
}

pub(super) fn validate_system_prompt(prompt: Option<String>) -> Result<Option<String>, Invalid> {
    match prompt {
        Some(p) if p.chars().count() > MAX_SYSTEM_PROMPT_CHARS => Err(Invalid::new(
            "invalid_system_prompt",
            "The system prompt can be at most 20,000 characters.",
        )),
        Some(p) if p.trim().is_empty() => Ok(None),
        other => Ok(other),
    }
}

/// A sensible reply length: 4,096 tokens, or less when the model cannot write that much.
pub(super) fn default_max_tokens(model: &ai_model_configs::Model) -> i32 {
    model.max_output_tokens.min(4_096)
}

impl ChatService {
    pub async fn create_conversation(
        &self,
        user_id: Uuid,
        input: NewConversation,
    ) -> Result<ConversationView, ChatError> {
        let mut input = input;
        if let Some(preset_id) = input.preset_id {
            let preset = self.preset(user_id, preset_id).await?;
            if input.provider.is_none() && input.model.is_none() {
                input.provider = Some(preset.provider.as_str().to_owned());
                input.model = Some(preset.model);
                // A reply length belongs to its model.
                input.max_tokens = input.max_tokens.or(Some(preset.max_tokens));
            }
            input.temperature = input.temperature.or(Some(preset.temperature));
            input.system_prompt = input.system_prompt.or(preset.system_prompt);
        }
        let model = match (input.provider, input.model) {
            (Some(provider), Some(model)) => self.available_model(&provider, &model).await?,
            (None, None) => self.default_model_for(user_id).await?,
            _ => {
                return Err(ChatError::invalid(
                    "model_unavailable",
                    "Give both provider and model, or neither for your default.",
                ))
            }
        };
        let title = match input.title {
            Some(t) => validate_title(&t)?,
            None => DEFAULT_TITLE.to_owned(),
        };
        let max_tokens = match input.max_tokens {
            Some(m) => validate_max_tokens(m, &model)?,
            None => default_max_tokens(&model),
        };
        let thinking_budget_tokens = match input.thinking_budget_tokens {
            Some(budget) => validate_thinking_budget(budget, max_tokens)?,
            None => None,
        };
        let now = now();
        let conversation = conversations::ActiveModel {
            id: Set(Uuid::now_v7()),
            user_id: Set(user_id),
            title: Set(title),
            provider: Set(model.provider),
            model: Set(model.model.clone()),
            temperature: Set(validate_temperature(input.temperature.unwrap_or(0.7))?),
            max_tokens: Set(max_tokens),
            system_prompt: Set(validate_system_prompt(input.system_prompt)?),
            current_leaf_id: Set(None),
            thinking_budget_tokens: Set(thinking_budget_tokens),
            message_count: Set(0),
            prompt_tokens: Set(0),
            completion_tokens: Set(0),
            total_tokens: Set(0),
            cost_micros: Set(0),
            content_bytes: Set(0),
            created_at: Set(now),
            updated_at: Set(now),
            pinned: Set(false),
            archived: Set(false),
            imported_from: Set(None),
            source_id: Set(None),
        };
        let job = CreateConversation {
            row: conversation,
            cap: self.settings.limits.max_conversations_per_user,
        };
        let conversation = self.writes.write(&self.db, job).await?;
        let view = conversation_view(conversation);
        self.publish(user_id, Event::conversation_created(view.clone()));
        Ok(view)
    }

    /// The row of the user's default model when it is still available, else of the first
    /// available one.
    pub(super) async fn default_model_for(
        &self,
        user_id: Uuid,
    ) -> Result<ai_model_configs::Model, ChatError> {
        if let Some(settings) = chat_settings::Entity::find_by_id(user_id)
            .one(&self.db)
            .await?
        {
            if let Ok(model) = self
                .available_model(&settings.default_provider, &settings.default_model)
                .await
            {
                return Ok(model);
            }
        }
        self.available_models()
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| ChatError::invalid("model_unavailable", "No model is available."))
    }

    /// Pinned first, then newest first; `archived` lists the archived ones instead of the
    /// others. The cursor is `pinned_updatedAtMicros_id` of the last item (the older
    /// `updatedAtMicros_id` reads as not pinned).
    pub async fn list_conversations(
        &self,
        user_id: Uuid,
        archived: bool,
        cursor: Option<&str>,
        limit: u64,
    ) -> Result<Page<ConversationView>, ChatError> {
        let limit = limit.clamp(1, 200);
        let mut query = conversations::Entity::find()
            .filter(conversations::Column::UserId.eq(user_id))
            .filter(conversations::Column::Archived.eq(archived))
            .order_by_desc(conversations::Column::Pinned)
            .order_by_desc(conversations::Column::UpdatedAt)
            .order_by_desc(conversations::Column::Id)
            .limit(limit + 1);
        if let Some(cursor) = cursor {
            let (pinned, at, id) = parse_conversation_cursor(cursor)?;
            let later_in_group = Condition::any()
                .add(conversations::Column::UpdatedAt.lt(at))
                .add(
                    Condition::all()
                        .add(conversations::Column::UpdatedAt.eq(at))
                        .add(conversations::Column::Id.lt(id)),
                );
            query = query.filter(if pinned {
                Condition::any()
                    .add(conversations::Column::Pinned.eq(false))
                    .add(
                        Condition::all()
                            .add(conversations::Column::Pinned.eq(true))
                            .add(later_in_group),
                    )
            } else {
                Condition::all()
                    .add(conversations::Column::Pinned.eq(false))
                    .add(later_in_group)
            });
        }
        let mut rows = query.all(&self.db).await?;
        let next_cursor = if rows.len() as u64 > limit {
            rows.truncate(limit as usize);
            rows.last().map(|c| {
                format!(
                    "{}_{}_{}",
                    u8::from(c.pinned),
                    c.updated_at.timestamp_micros(),
                    c.id
                )
            })
        } else {
            None
        };
        Ok(Page {
            items: rows.into_iter().map(conversation_view).collect(),
            next_cursor,
        })
    }

    pub async fn conversation(
        &self,
        user_id: Uuid,
        id: Uuid,
    ) -> Result<conversations::Model, ChatError> {
        conversations::Entity::find_by_id(id)
            .filter(conversations::Column::UserId.eq(user_id))
            .one(&self.db)
            .await?
            .ok_or(ChatError::NotFound)
    }

    /// A conversation of the user's and its model's row (none when this server does not know
    /// the model), in one query: what a send reads first.
    pub(super) async fn conversation_and_model(
        &self,
        user_id: Uuid,
        id: Uuid,
    ) -> Result<(conversations::Model, Option<ai_model_configs::Model>), ChatError> {
        conversations::Entity::find_by_id(id)
            .filter(conversations::Column::UserId.eq(user_id))
            .find_also_related(ai_model_configs::Entity)
            .one(&self.db)
            .await?
            .ok_or(ChatError::NotFound)
    }

    pub async fn update_conversation(
        &self,
        user_id: Uuid,
        id: Uuid,
        changes: ConversationChanges,
    ) -> Result<ConversationView, ChatError> {
        let current = self.conversation(user_id, id).await?;
        // Pinning or archiving files a conversation; it is not news that moves it up.
        let only_filed = changes.title.is_none()
            && changes.provider.is_none()
            && changes.model.is_none()
            && changes.temperature.is_none()
            && changes.max_tokens.is_none()
            && changes.system_prompt.is_none()
            && changes.thinking_budget_tokens.is_none()
            && (changes.pinned.is_some() || changes.archived.is_some());
        let provider = changes
            .provider
            .unwrap_or_else(|| current.provider.as_str().to_owned());
        let model_id = changes.model.unwrap_or_else(|| current.model.clone());
        let model_changed = provider != current.provider.as_str() || model_id != current.model;
        let model = if model_changed {
            Some(self.available_model(&provider, &model_id).await?)
        } else {
            None
        };
        let mut active: conversations::ActiveModel = current.clone().into();
        if let Some(title) = changes.title {
            active.title = Set(validate_title(&title)?);
        }
        if let Some(model) = &model {
            active.provider = Set(model.provider);
            active.model = Set(model.model.clone());
            if changes.max_tokens.is_none() && current.max_tokens > model.max_output_tokens {
                active.max_tokens = Set(default_max_tokens(model));
            }
        }
        if let Some(t) = changes.temperature {
            active.temperature = Set(validate_temperature(t)?);
        }
        if let Some(max_tokens) = changes.max_tokens {
            let model = match &model {
                Some(m) => m.clone(),
                None => {
                    self.model_config(current.provider.as_str(), &current.model)
                        .await?
                }
            };
            active.max_tokens = Set(validate_max_tokens(max_tokens, &model)?);
        }
        if changes.system_prompt.is_some() {
            active.system_prompt = Set(validate_system_prompt(changes.system_prompt)?);
        }
        // Checked against the length the reply will have after this change, whichever of the
        // two changed.
        let budget = changes
            .thinking_budget_tokens
            .or(current.thinking_budget_tokens);
        if let Some(budget) = budget {
            let max_tokens = active
                .max_tokens
                .clone()
                .take()
                .unwrap_or(current.max_tokens);
            active.thinking_budget_tokens = Set(validate_thinking_budget(budget, max_tokens)?);
        }
        if let Some(pinned) = changes.pinned {
            active.pinned = Set(pinned);
        }
        if let Some(archived) = changes.archived {
            active.archived = Set(archived);
        }
        if !only_filed {
            active.updated_at = Set(now());
        }
        let updated = {
            let _turn = self.writes.enter().await;
            active.update(&self.db).await?
        };
        let view = conversation_view(updated);
        self.publish(user_id, Event::conversation_updated(view.clone()));
        Ok(view)
    }

    /// Deletes the conversation and its messages; usage logs stay. Replies still streaming in
    /// it are stopped first, on whichever process generates them, so each books what it cost
    /// and gives back the rest of its reservation. One that outlives the wait (a slow peer)
    /// finds its rows gone and gives its reservation back itself (`generation::settle_prompt`).
    pub async fn delete_conversation(&self, user_id: Uuid, id: Uuid) -> Result<(), ChatError> {
        let conversation = self.conversation(user_id, id).await?;
        let streaming = self.streaming_in(conversation.id).await?;
        let mut elsewhere = Vec::new();
        for message_id in streaming {
            match self.active.get(message_id) {
                Some(reply) => {
                    reply.cancel.cancel();
                    reply.wait_finished().await;
                }
                None if self.bus.is_shared() => {
                    self.bus.request_stop(user_id, message_id);
                    elsewhere.push(message_id);
                }
                // Nobody generates it: a leftover that start-up recovery did not see.
                None => {
                    super::recovery::mark_message_interrupted(&self.db, message_id).await?;
                }
            }
        }
        if !elsewhere.is_empty() {
            self.wait_for_stops_elsewhere(conversation.id).await?;
        }
        let attached = self.attachments.of_conversation(conversation.id).await?;
        {
            let _turn = self.writes.enter().await;
            conversations::Entity::delete_many()
                .filter(conversations::Column::Id.eq(conversation.id))
                .filter(conversations::Column::UserId.eq(user_id))
                .exec(&self.db)
                .await?;
        }
        // The messages are gone: their files go too, unless another message still uses them.
        // The conversation is deleted either way: files left behind are only space.
        if let Err(e) = self.attachments.remove_unused(&attached).await {
            tracing::warn!(error = %e, "the files of a deleted conversation were not all removed");
        }
        Ok(())
    }

    async fn streaming_in(&self, conversation_id: Uuid) -> Result<Vec<Uuid>, ChatError> {
        Ok(messages::Entity::find()
            .select_only()
            .column(messages::Column::Id)
            .filter(messages::Column::ConversationId.eq(conversation_id))
            .filter(messages::Column::Status.eq(MessageStatus::Streaming))
            .into_tuple()
            .all(&self.db)
            .await?)
    }

    /// Waits (up to 10 s) for the replies other processes generate in a conversation to store
    /// their end. Those still streaming then and silent for 90 s belong to a process that
    /// died: they are marked interrupted, which gives their reservations back.
    async fn wait_for_stops_elsewhere(&self, conversation_id: Uuid) -> Result<(), ChatError> {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let left = self.streaming_in(conversation_id).await?;
            if left.is_empty() {
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                let cutoff = now() - chrono::Duration::seconds(90);
                let dead: Vec<Uuid> = messages::Entity::find()
                    .select_only()
                    .column(messages::Column::Id)
                    .filter(messages::Column::Id.is_in(left))
                    .filter(messages::Column::UpdatedAt.lt(cutoff))
                    .into_tuple()
                    .all(&self.db)
                    .await?;
                for message_id in dead {
                    super::recovery::mark_message_interrupted(&self.db, message_id).await?;
                }
                return Ok(());
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// Oldest first, the branch shown or (`Branch::All`) every message of the tree; the cursor
    /// is the id of the last message of the previous page. A page holds at most `limit`
    /// messages and [`MAX_PAGE_BYTES`] of text (at least one message): the sizes are read
    /// first, then only the rows that fit.
    pub async fn list_messages(
        &self,
        user_id: Uuid,
        conversation_id: Uuid,
        branch: Branch,
        cursor: Option<&str>,
        limit: u64,
    ) -> Result<Page<MessageView>, ChatError> {
        let (conversation, tree) = self.tree_of(user_id, conversation_id).await?;
        let limit = limit.clamp(1, 1_000);
        let listed = match branch {
            Branch::Current => tree.branch(conversation.current_leaf_id),
            Branch::All => tree.ids().to_vec(),
        };
        let start = match cursor {
            None => 0,
            Some(cursor) => {
                let after = Uuid::parse_str(cursor).map_err(|_| ChatError::BadCursor)?;
                listed
                    .iter()
                    .position(|id| *id == after)
                    .ok_or(ChatError::BadCursor)?
                    + 1
            }
        };
        let candidates = listed.iter().skip(start).take(limit as usize + 1).copied();
        let sizes: Vec<(Uuid, i64)> = message_sizes(TEXT_SIZE)
            .filter(messages::Column::Id.is_in(candidates))
            .order_by_asc(messages::Column::Id)
            .into_tuple()
            .all(&self.db)
            .await?;
        let taken = within_budget(&sizes, limit);
        let rows = message_columns(&[
            messages::Column::StreamChunks,
            messages::Column::ContentHtml,
        ])
        .filter(messages::Column::Id.is_in(sizes.iter().take(taken).map(|(id, _)| *id)))
        .filter(messages::Column::UserId.eq(user_id))
        .order_by_asc(messages::Column::Id)
        .all(&self.db)
        .await?;
        let next_cursor = (sizes.len() > taken)
            .then(|| {
                sizes
                    .get(taken.saturating_sub(1))
                    .map(|(id, _)| id.to_string())
            })
            .flatten();
        let mut items: Vec<MessageView> = rows
            .into_iter()
            .map(|row| {
                let siblings = tree.siblings(row.id);
                message_view(row, siblings)
            })
            .collect();
        self.add_attachment_views(&mut items).await?;
        Ok(Page { items, next_cursor })
    }
}

/// The most text (content, error and stored rendering) one page of messages carries.
pub const MAX_PAGE_BYTES: i64 = 4 * 1024 * 1024;

/// What a message shown through the API weighs; a page also counts its stored rendering.
pub(super) const TEXT_SIZE: &str = "CAST(LENGTH(content) + LENGTH(COALESCE(error, '')) \
                         + LENGTH(COALESCE(reasoning, '')) AS BIGINT)";
/// Each message's id and size, by `size` (an SQL expression over its own columns).
pub(super) fn message_sizes(size: &str) -> sea_orm::Select<messages::Entity> {
    messages::Entity::find()
        .select_only()
        .column(messages::Column::Id)
        .column_as(Expr::cust(size.to_owned()), "size")
}

/// How many of `sizes` (in page order) one page takes: at most `limit`, within
/// [`MAX_PAGE_BYTES`], and at least one.
pub(super) fn within_budget(sizes: &[(Uuid, i64)], limit: u64) -> usize {
    let mut total = 0;
    let mut taken = 0;
    for (_, size) in sizes.iter().take(limit as usize) {
        total += size;
        if taken > 0 && total > MAX_PAGE_BYTES {
            break;
        }
        taken += 1;
    }
    taken
}

/// Messages with every column but `skipped`, read as NULL (columns a caller never needs and
/// that cost memory or a JSON parse per row).
pub(super) fn message_columns(skipped: &[messages::Column]) -> sea_orm::Select<messages::Entity> {
    let mut query = messages::Entity::find().select_only();
    for column in messages::Column::iter() {
        if !skipped.iter().any(|s| s.as_str() == column.as_str()) {
            query = query.column(column);
        }
    }
    for column in skipped {
        query = query.column_as(Expr::cust("NULL"), column.as_str());
    }
    query
}

fn parse_conversation_cursor(
    cursor: &str,
) -> Result<(bool, chrono::DateTime<chrono::Utc>, Uuid), ChatError> {
    let bad = || ChatError::BadCursor;
    let parts: Vec<&str> = cursor.split('_').collect();
    let (pinned, micros, id) = match parts.as_slice() {
        [micros, id] => (false, *micros, *id),
        ["0", micros, id] => (false, *micros, *id),
        ["1", micros, id] => (true, *micros, *id),
        _ => return Err(bad()),
    };
    let at = micros
        .parse::<i64>()
        .ok()
        .and_then(chrono::DateTime::from_timestamp_micros)
        .ok_or_else(bad)?;
    Ok((pinned, at, Uuid::parse_str(id).map_err(|_| bad())?))
}

/// A new conversation, refused when its owner already keeps as many as an account may: the
/// count and the insert are one write transaction, so tabs creating at once cannot pass the
/// cap, and on SQLite the insert waits in the write queue, not in SQLite's busy handler.
struct CreateConversation {
    row: conversations::ActiveModel,
    cap: u32,
}

impl WriteJob for CreateConversation {
    type Output = conversations::Model;
    type Error = ChatError;

    async fn run(&self, conn: &impl WriteConn) -> Result<conversations::Model, ChatError> {
        let cap = self.cap;
        let owner = self.row.user_id.clone().unwrap();
        if conn.backend() == DbBackend::Postgres {
            // An account's creates take turns on PostgreSQL, so each counts the others' rows
            // (SQLite's one writer already serialises them). A lock that no foreign key asks
            // for: the account's sends, whose rows point at it, do not wait.
            let account = users::Entity::find_by_id(owner)
                .select_only()
                .column(users::Column::Id)
                .lock(LockType::NoKeyUpdate);
            conn.execute(conn.build(&account)).await?;
        }
        let owned = conversations::Entity::find()
            .select_only()
            .expr(Func::count(Expr::col(conversations::Column::Id)))
            .filter(conversations::Column::UserId.eq(owner));
        if conn.read_i64(conn.build(&owned)).await?.unwrap_or(0) >= i64::from(cap) {
            return Err(ChatError::invalid(
                "too_many_conversations",
                format!(
                    "You have {cap} conversations, the most an account can keep. Delete some \
                     to start new ones."
                ),
            ));
        }
        let insert = conversations::Entity::insert(self.row.clone());
        conn.execute(conn.build(&insert)).await?;
        // Every column is set: the row is what was written.
        Ok(self.row.clone().try_into_model()?)
    }
}
