//! `POST /api/import`: the file (already spooled, bounded by `MAX_IMPORT_BYTES`) is read
//! twice. The first reading checks every conversation and the caps, so a malformed file or
//! one that does not fit stores nothing; the second writes each new conversation in its own
//! transaction. See the module above for what is skipped.

use std::{
    collections::{HashMap, HashSet},
    fs::File,
    io::{Seek, SeekFrom},
};

use app::wire::{Event, ImportSummary, MessageStatus};
use sea_orm::{
    sea_query::Expr, ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QuerySelect, Set, SqlErr,
};
use uuid::Uuid;

use super::{read::read_file, Incoming};
use crate::{
    chat::{
        conversations::{
            default_max_tokens, validate_max_tokens, validate_system_prompt, validate_temperature,
        },
        tree::Tree,
        views::conversation_view,
        ChatError, ChatService,
    },
    db::entities::{ai_model_configs, conversations, messages},
};

/// Rows per insert statement: well within SQLite's and PostgreSQL's parameter limits.
const INSERT_CHUNK: usize = 200;

/// What the first reading learns of each conversation.
struct Planned {
    source_id: String,
    original_id: Option<Uuid>,
    messages: usize,
    bytes: i64,
}

fn unreadable(message: String) -> ChatError {
    ChatError::invalid(
        "invalid_import",
        format!(
            "The file is not an export we can import (ours, or ChatGPT's conversations.json): \
             {message}. Nothing was imported."
        ),
    )
}

fn rewound(file: &File) -> Result<File, ChatError> {
    let mut copy = file
        .try_clone()
        .map_err(|e| ChatError::Internal(format!("the import file: {e}")))?;
    copy.seek(SeekFrom::Start(0))
        .map_err(|e| ChatError::Internal(format!("the import file: {e}")))?;
    Ok(copy)
}

impl ChatService {
    pub async fn import(&self, user_id: Uuid, file: File) -> Result<ImportSummary, ChatError> {
        let first = rewound(&file)?;
        let planned = tokio::task::spawn_blocking(move || {
            let mut planned = Vec::new();
            read_file(first, &mut |c: Incoming| {
                planned.push(Planned {
                    bytes: c.bytes(),
                    messages: c.messages.len(),
                    source_id: c.source_id,
                    original_id: c.original_id,
                });
                Ok(())
            })
            .map(|()| planned)
        })
        .await
        .map_err(|e| ChatError::Internal(e.to_string()))?
        .map_err(unreadable)?;
        let skip = self.already_here(user_id, &planned).await?;
        self.check_import_room(user_id, &planned, &skip).await?;

        let (tx, mut rx) = tokio::sync::mpsc::channel::<Incoming>(2);
        let second = rewound(&file)?;
        let reader = tokio::task::spawn_blocking(move || {
            read_file(second, &mut |c| {
                tx.blocking_send(c)
                    .map_err(|_| "the import stopped".to_owned())
            })
        });
        let mut summary = ImportSummary::default();
        let mut models = ModelChoice::default();
        let mut at = 0;
        while let Some(incoming) = rx.recv().await {
            let skipped = skip.get(at).copied().unwrap_or(true);
            at += 1;
            if skipped {
                summary.skipped += 1;
                continue;
            }
            let count = incoming.messages.len() as u64;
            match self.store_imported(user_id, incoming, &mut models).await? {
                Some(id) => {
                    summary.imported += 1;
                    summary.messages += count;
                    summary.conversation_ids.push(id);
                }
                // Imported meanwhile by another request.
                None => summary.skipped += 1,
            }
        }
        reader
            .await
            .map_err(|e| ChatError::Internal(e.to_string()))?
            .map_err(|e| ChatError::Internal(format!("the import file changed: {e}")))?;
        Ok(summary)
    }

    /// For each planned conversation, whether it is skipped: imported before (its source id),
    /// the user's own conversation that was exported, or a repeat within the file.
    async fn already_here(
        &self,
        user_id: Uuid,
        planned: &[Planned],
    ) -> Result<Vec<bool>, ChatError> {
        let mut here: HashSet<String> = HashSet::new();
        for chunk in planned.chunks(500) {
            let sources: Vec<Option<String>> = conversations::Entity::find()
                .select_only()
                .column(conversations::Column::SourceId)
                .filter(conversations::Column::UserId.eq(user_id))
                .filter(
                    conversations::Column::SourceId
                        .is_in(chunk.iter().map(|p| p.source_id.clone())),
                )
                .into_tuple()
                .all(&self.db)
                .await?;
            here.extend(sources.into_iter().flatten());
            let own: Vec<Uuid> = conversations::Entity::find()
                .select_only()
                .column(conversations::Column::Id)
                .filter(conversations::Column::UserId.eq(user_id))
                .filter(conversations::Column::Id.is_in(chunk.iter().filter_map(|p| p.original_id)))
                .into_tuple()
                .all(&self.db)
                .await?;
            here.extend(own.into_iter().map(|id| format!("rustchat:{id}")));
        }
        Ok(planned
            .iter()
            .map(|p| !here.insert(p.source_id.clone()))
            .collect())
    }

    /// The caps a send meets, met by the import as a whole before anything is written.
    async fn check_import_room(
        &self,
        user_id: Uuid,
        planned: &[Planned],
        skip: &[bool],
    ) -> Result<(), ChatError> {
        let limits = &self.settings.limits;
        let new: Vec<&Planned> = planned
            .iter()
            .zip(skip)
            .filter(|(_, s)| !**s)
            .map(|(p, _)| p)
            .collect();
        for (i, p) in new.iter().enumerate() {
            if p.messages > limits.max_messages_per_conversation as usize
                || p.bytes as u64 > limits.max_conversation_bytes
            {
                return Err(ChatError::invalid(
                    "conversation_full",
                    format!(
                        "Conversation {} of the file holds more than a conversation can here \
                         ({} messages, {} bytes of text). Nothing was imported.",
                        i + 1,
                        limits.max_messages_per_conversation,
                        limits.max_conversation_bytes
                    ),
                ));
            }
        }
        let owned = conversations::Entity::find()
            .filter(conversations::Column::UserId.eq(user_id))
            .count(&self.db)
            .await?;
        let cap = u64::from(limits.max_conversations_per_user);
        if owned + new.len() as u64 > cap {
            return Err(ChatError::invalid(
                "too_many_conversations",
                format!(
                    "The file has {} new conversations; with your {owned} that is more than \
                     the {cap} an account can keep. Nothing was imported.",
                    new.len()
                ),
            ));
        }
        let stored: Option<i64> = conversations::Entity::find()
            .select_only()
            .column_as(
                Expr::cust("CAST(COALESCE(SUM(content_bytes), 0) AS BIGINT)"),
                "stored",
            )
            .filter(conversations::Column::UserId.eq(user_id))
            .into_tuple()
            .one(&self.db)
            .await?;
        let adding: i64 = new.iter().map(|p| p.bytes).sum();
        if stored.unwrap_or(0).saturating_add(adding) as u64 > limits.max_user_bytes {
            return Err(ChatError::invalid(
                "storage_full",
                "The file holds more text than your account has room for. Nothing was \
                 imported.",
            ));
        }
        Ok(())
    }

    /// Writes one conversation and its messages in one transaction; `None` when its source id
    /// is already taken (a concurrent import of the same file).
    async fn store_imported(
        &self,
        user_id: Uuid,
        incoming: Incoming,
        models: &mut ModelChoice,
    ) -> Result<Option<Uuid>, ChatError> {
        let model = models.for_conversation(self, user_id, &incoming).await?;
        let max_tokens = incoming
            .max_tokens
            .and_then(|m| validate_max_tokens(m, &model).ok())
            .unwrap_or_else(|| default_max_tokens(&model));
        let temperature = incoming
            .temperature
            .and_then(|t| validate_temperature(t).ok())
            .unwrap_or(0.7);
        let system_prompt = incoming.system_prompt.clone().map(|p| {
            validate_system_prompt(Some(p.clone()))
                .unwrap_or_else(|_| Some(p.chars().take(20_000).collect()))
        });
        let conversation_id = Uuid::now_v7();
        let rows = message_rows(conversation_id, user_id, &incoming);
        let tree = Tree::of(
            rows.iter()
                .map(|r| (r.id.clone().unwrap(), r.parent_id.clone().unwrap()))
                .collect(),
        );
        let current = incoming
            .current
            .map(|i| rows_by_place(&rows, i))
            .or_else(|| tree.newest_leaf());
        let bytes = incoming.bytes();
        let conversation = conversations::ActiveModel {
            id: Set(conversation_id),
            user_id: Set(user_id),
            title: Set(incoming.title),
            provider: Set(model.provider),
            model: Set(model.model.clone()),
            temperature: Set(temperature),
            max_tokens: Set(max_tokens),
            system_prompt: Set(system_prompt.flatten()),
            current_leaf_id: Set(current),
            thinking_budget_tokens: Set(None),
            message_count: Set(rows.len() as i32),
            prompt_tokens: Set(0),
            completion_tokens: Set(0),
            total_tokens: Set(0),
            cost_micros: Set(0),
            content_bytes: Set(bytes),
            created_at: Set(incoming.created_at),
            updated_at: Set(incoming.updated_at),
            pinned: Set(incoming.pinned),
            archived: Set(incoming.archived),
            imported_from: Set(Some(incoming.origin.as_str().to_owned())),
            source_id: Set(Some(incoming.source_id)),
        };
        let mut sorted = rows;
        sorted.sort_by_key(|r| r.id.clone().unwrap());
        let gate = self.writes.enter().await;
        let txn = crate::db::begin_write(&self.db).await?;
        let stored = match conversation.insert(&txn).await {
            Ok(stored) => stored,
            Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
                txn.rollback().await?;
                return Ok(None);
            }
            Err(e) => return Err(e.into()),
        };
        // Parents first: ids follow creation, and a parent is never created after its child.
        for chunk in sorted.chunks(INSERT_CHUNK) {
            messages::Entity::insert_many(chunk.to_vec())
                .exec_without_returning(&txn)
                .await?;
        }
        txn.commit().await?;
        drop(gate);
        self.publish(
            user_id,
            Event::conversation_created(conversation_view(stored)),
        );
        Ok(Some(conversation_id))
    }
}

/// The id given to the message at `place` (rows are in the file's order, parents first).
fn rows_by_place(rows: &[messages::ActiveModel], place: usize) -> Uuid {
    rows[place].id.clone().unwrap()
}

/// The rows of a conversation's messages, in the file's order. Ids are UUIDv7 made from each
/// message's own time, handed out in order of (time, place), so ordering by id is ordering by
/// creation here as everywhere, and a parent's id is below its children's.
fn message_rows(
    conversation_id: Uuid,
    user_id: Uuid,
    incoming: &Incoming,
) -> Vec<messages::ActiveModel> {
    let mut ids: Vec<Uuid> = incoming
        .messages
        .iter()
        .map(|m| {
            let at = m.created_at;
            let ts = uuid::Timestamp::from_unix(
                uuid::NoContext,
                at.timestamp().max(0) as u64,
                at.timestamp_subsec_nanos(),
            );
            Uuid::new_v7(ts)
        })
        .collect();
    ids.sort();
    let mut order: Vec<usize> = (0..incoming.messages.len()).collect();
    order.sort_by_key(|&i| (incoming.messages[i].created_at, i));
    let mut id_of = vec![Uuid::nil(); incoming.messages.len()];
    for (id, i) in ids.into_iter().zip(order) {
        id_of[i] = id;
    }
    incoming
        .messages
        .iter()
        .enumerate()
        .map(|(i, m)| messages::ActiveModel {
            id: Set(id_of[i]),
            conversation_id: Set(conversation_id),
            user_id: Set(user_id),
            parent_id: Set(m.parent.map(|p| id_of[p])),
            role: Set(m.role),
            content: Set(m.content.clone()),
            reasoning: Set(m.reasoning.clone()),
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
            created_at: Set(m.created_at),
            updated_at: Set(m.created_at),
            imported: Set(true),
            content_tokens: Set(None),
        })
        .collect()
}

/// The model an imported conversation goes on with: its own when this server offers it, else
/// the user's default; looked up once per import.
#[derive(Default)]
struct ModelChoice {
    checked: HashMap<(String, String), Option<ai_model_configs::Model>>,
    default: Option<ai_model_configs::Model>,
}

impl ModelChoice {
    async fn for_conversation(
        &mut self,
        chat: &ChatService,
        user_id: Uuid,
        incoming: &Incoming,
    ) -> Result<ai_model_configs::Model, ChatError> {
        if let (Some(provider), Some(model)) = (&incoming.provider, &incoming.model) {
            let key = (provider.clone(), model.clone());
            if !self.checked.contains_key(&key) {
                let found = chat.available_model(provider, model).await.ok();
                self.checked.insert(key.clone(), found);
            }
            if let Some(Some(found)) = self.checked.get(&key) {
                return Ok(found.clone());
            }
        }
        if self.default.is_none() {
            self.default = Some(chat.default_model_for(user_id).await?);
        }
        Ok(self.default.clone().expect("set above"))
    }
}
