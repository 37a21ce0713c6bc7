//! `send_message`, the heart of the product (seed 004), in three steps: prepare (check the
//! model, build the context, price the worst case), store (reserve the budget, save the
//! prompt, the streaming reply and an `ai_prompts` row in one transaction), start (publish,
//! spawn the reply's task, answer at once with both messages). Also stop.

use std::sync::Arc;

use app::wire::{Event, MessageStatus, MessageView, RegenerateResponse, Role, SendResponse};
use sea_orm::{
    sea_query::{Expr, QueryStatementBuilder, SimpleExpr},
    ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set, TryIntoModel,
};
use uuid::Uuid;

use super::{
    budget, context,
    conversations::DEFAULT_TITLE,
    generation::Generation,
    models,
    pricing::PriceSnapshot,
    provider::ProviderId,
    provider::{ChatProvider, ChatTurn},
    send_attachments, tokenizer,
    tree::{self, Siblings},
    views::{conversation_view, message_view},
    ChatError, ChatService,
};
use crate::{
    attachments::{view as attachment_view, Attachments},
    db::{
        entities::{ai_model_configs, ai_prompts, attachments, conversations, messages},
        now,
        writer::{WriteConn, WriteJob},
    },
};

pub const MAX_MESSAGE_CHARS: usize = 100_000;

/// A title from the first message: its first line, at most 60 characters.
pub(super) fn title_from(content: &str) -> String {
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

/// What the new reply answers: a message the person sends now (a send, or an edit when its
/// parent already has children), or a question already stored (a regeneration).
#[derive(Clone)]
enum Prompt {
    New {
        content: String,
        parent: Option<Uuid>,
        /// No parent was asked for: the message follows the branch shown, whose end is read
        /// again when the send takes its turn to write, so concurrent sends line up.
        follows_shown: bool,
    },
    Stored(Box<messages::Model>),
}

impl Prompt {
    fn text(&self) -> &str {
        match self {
            Prompt::New { content, .. } => content,
            Prompt::Stored(question) => &question.content,
        }
    }

    /// Our count of the prompt's text when it is stored already (a regeneration's question).
    fn stored_tokens(&self) -> Option<i64> {
        match self {
            Prompt::New { .. } => None,
            Prompt::Stored(question) => question.content_tokens,
        }
    }

    /// The message the prompt follows: the context is the branch that ends there.
    fn parent(&self) -> Option<Uuid> {
        match self {
            Prompt::New { parent, .. } => *parent,
            Prompt::Stored(question) => question.parent_id,
        }
    }

    /// The messages and bytes of text the send adds to its conversation.
    fn adds(&self) -> (i32, i64) {
        match self {
            Prompt::New { content, .. } => (2, content.len() as i64),
            Prompt::Stored(_) => (1, 0),
        }
    }
}

/// A send that passed every check: the conversation, the model and provider, the context
/// the reply will get and the most it can cost. Nothing is stored yet.
struct PreparedSend {
    conversation: conversations::Model,
    model: ai_model_configs::Model,
    provider: Arc<dyn ChatProvider>,
    prices: PriceSnapshot,
    prompt: Prompt,
    /// Our count of the prompt's text, stored with a new message.
    prompt_tokens: i64,
    context: context::Context,
    worst_case: i64,
    /// The files sent with the message, in order.
    attachments: Vec<attachments::Model>,
}

/// What [`ChatService::store_send`] wrote, in one transaction.
struct StoredSend {
    /// The person's new message and its place among its siblings (read in the transaction,
    /// so the first event already shows an edit's `‹ n/m ›`); none for a regeneration.
    user_message: Option<(messages::Model, Siblings)>,
    assistant: (messages::Model, Siblings),
    prompt_id: Uuid,
    reservation: budget::Reservation,
}

impl ChatService {
    /// Stores the person's message and a streaming reply, reserves the reply's worst case from
    /// the budget, and starts generating it in its own task. Answers at once; the reply
    /// streams on the feed.
    ///
    /// `parent`: absent, the message follows the branch shown (the current leaf); `Some(None)`
    /// makes it a new first message; `Some(Some(id))` makes it follow that message, beside
    /// any it already has (an edit).
    pub async fn send_message(
        &self,
        user_id: Uuid,
        conversation_id: Uuid,
        content: String,
        parent: Option<Option<Uuid>>,
        attachment_ids: Vec<Uuid>,
    ) -> Result<SendResponse, ChatError> {
        let attachment_ids = send_attachments::check_ids(attachment_ids)?;
        check_content(&content, !attachment_ids.is_empty())?;
        let (conversation, model) = self
            .conversation_and_model(user_id, conversation_id)
            .await?;
        let follows_shown = parent.is_none();
        // Neither reads the conversation's tree: a send costs its context, not the
        // conversation's length.
        let parent = match parent {
            None => tree::shown_leaf(&self.db, &conversation).await?,
            Some(None) => None,
            Some(Some(id)) if tree::holds(&self.db, conversation.id, id).await? => Some(id),
            Some(Some(_)) => return Err(ChatError::NotFound),
        };
        let model = self.usable(models::known(&conversation.model, model)?)?;
        let files = self
            .files_for_send(user_id, &model, &attachment_ids)
            .await?;
        let prompt = Prompt::New {
            content,
            parent,
            follows_shown,
        };
        let prepared = self
            .prepare_send(conversation, model, prompt, files)
            .await?;
        let stored = self.store_send(user_id, &prepared).await?;
        let (user_message, assistant_message) = self.start_reply(user_id, prepared, stored).await?;
        Ok(SendResponse {
            user_message: user_message
                .ok_or_else(|| ChatError::Internal("a send stores its message".into()))?,
            assistant_message,
        })
    }

    /// A new reply beside `message_id` (a reply), to the same question, from the conversation's
    /// model or another one (`provider` and `model` together). Reserved, accounted, streamed,
    /// stopped and resumed like any reply; the conversation then shows the new one.
    pub async fn regenerate(
        &self,
        user_id: Uuid,
        message_id: Uuid,
        provider: Option<String>,
        model: Option<String>,
    ) -> Result<RegenerateResponse, ChatError> {
        let reply = self.owned_message(user_id, message_id).await?;
        let question = match (reply.role, reply.parent_id) {
            (Role::Assistant, Some(question)) => self.owned_message(user_id, question).await?,
            _ => {
                return Err(ChatError::invalid(
                    "not_a_reply",
                    "Only a reply can be regenerated.",
                ))
            }
        };
        let (conversation, own_model) = self
            .conversation_and_model(user_id, reply.conversation_id)
            .await?;
        let model = match (provider, model) {
            (Some(provider), Some(model)) => self.available_model(&provider, &model).await?,
            (None, None) => self.usable(models::known(&conversation.model, own_model)?)?,
            _ => {
                return Err(ChatError::invalid(
                    "model_unavailable",
                    "Give both provider and model, or neither for the conversation's model.",
                ))
            }
        };
        // The question's files go with it again, to a model that must take them.
        let files = self.files_of_question(&model, question.id).await?;
        let prepared = self
            .prepare_send(
                conversation,
                model,
                Prompt::Stored(Box::new(question)),
                files,
            )
            .await?;
        let stored = self.store_send(user_id, &prepared).await?;
        let (_, assistant_message) = self.start_reply(user_id, prepared, stored).await?;
        Ok(RegenerateResponse { assistant_message })
    }

    /// Everything a send needs before it writes: the model must be usable, and the context
    /// (the branch up to the prompt, then the prompt) is built first, so a message that can
    /// never fit is refused and its token count prices the worst case the budget must cover.
    async fn prepare_send(
        &self,
        conversation: conversations::Model,
        model: ai_model_configs::Model,
        prompt: Prompt,
        attachments: Vec<attachments::Model>,
    ) -> Result<PreparedSend, ChatError> {
        self.check_conversation_room(&conversation, prompt.adds())?;
        // The reply is generated with the conversation's settings and the model chosen for it
        // (another one when regenerating with another), within what that model can write.
        let mut conversation = conversation;
        conversation.provider = model.provider;
        conversation.model = model.model.clone();
        conversation.max_tokens = conversation.max_tokens.clamp(1, model.max_output_tokens);
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
            let new_message = ChatTurn {
                role: Role::User,
                content: prompt.text().to_owned(),
                attachments: self
                    .attachments
                    .turn_attachments_of_rows(&attachments, model.provider),
            };
            let stored = prompt.stored_tokens();
            let bytes = system.as_ref().map_or(0, String::len) + new_message.content.len();
            tokenizer::off_runtime_unless_short(bytes, move || {
                let new_message = context::CountedTurn::with_count(new_message, stored);
                context::Gathering::new(system.as_deref(), new_message, window, max_tokens)
            })
            .await
            .map_err(|e| ChatError::Internal(format!("building the context: {e}")))?
        };
        let prompt_tokens = gathering.prompt_tokens();
        let history = self
            .history(conversation.id, prompt.parent(), model.provider, gathering)
            .await?;
        let bytes = system.as_ref().map_or(0, String::len)
            + history.iter().map(|t| t.turn.content.len()).sum::<usize>();
        let mut context = tokenizer::off_runtime_unless_short(bytes, move || {
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
            prompt,
            prompt_tokens,
            context,
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
        (messages, added): (i32, i64),
    ) -> Result<(), ChatError> {
        let limits = &self.settings.limits;
        let cap = limits.max_messages_per_conversation;
        if i64::from(conversation.message_count) + i64::from(messages) > i64::from(cap) {
            return Err(ChatError::invalid(
                "conversation_full",
                format!(
                    "This conversation has reached its limit of {cap} messages. Start a new \
                     conversation to go on."
                ),
            ));
        }
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

    /// Stores the send (see [`SendWrite`]) in a write transaction: on SQLite's writing thread,
    /// with the other sends and final writes waiting at that moment.
    async fn store_send(
        &self,
        user_id: Uuid,
        prepared: &PreparedSend,
    ) -> Result<StoredSend, ChatError> {
        let now = now();
        let reservation = budget::Reservation {
            month: budget::month_of(now),
            micros: prepared.worst_case,
        };
        let job = SendWrite {
            user_id,
            now,
            conversation: prepared.conversation.clone(),
            provider: prepared.model.provider,
            model: prepared.model.model.clone(),
            prices: prepared.prices,
            prompt: prepared.prompt.clone(),
            prompt_tokens: prepared.prompt_tokens,
            context_tokens: prepared.context.tokens,
            reservation: reservation.clone(),
            attachments: prepared.attachments.clone(),
            limits: self.settings.limits.clone(),
            max_active_replies: self.settings.max_active_replies_per_user,
        };
        match self.writes.write(&self.db, job).await {
            Ok(stored) => Ok(stored),
            Err(SendRefused::Chat(refused)) => Err(refused),
            Err(SendRefused::OverBudget) => {
                let status = budget::status(&self.db, user_id, now).await?;
                Err(ChatError::BudgetExceeded(budget::refusal_message(
                    reservation.micros,
                    &status,
                )))
            }
        }
    }

    /// Tells clients of the new messages before any delta, starts the reply's task (not tied
    /// to the request: closing the browser does not stop or lose the reply), then publishes
    /// the conversation's new count, title and current leaf.
    async fn start_reply(
        &self,
        user_id: Uuid,
        prepared: PreparedSend,
        stored: StoredSend,
    ) -> Result<(Option<MessageView>, MessageView), ChatError> {
        let user_view = stored.user_message.map(|(message, siblings)| {
            let mut view = message_view(message, siblings);
            view.attachments = prepared.attachments.iter().map(attachment_view).collect();
            view
        });
        let (assistant, siblings) = stored.assistant;
        let question_id = assistant.parent_id;
        let assistant_view = message_view(assistant, siblings);
        if let Some(user_view) = &user_view {
            self.publish(user_id, Event::message_created(user_view.clone()));
        }
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
            question_id,
            prompt_id: stored.prompt_id,
            context: prepared.context,
            prices: prepared.prices,
            reservation: stored.reservation,
        };
        tokio::spawn(generation.run());
        self.publish_conversation_state(user_id, conversation_id)
            .await;
        Ok((user_view, assistant_view))
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
            return self.view_of(message).await;
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
                        return self.view_of(message).await;
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            }
            None => {
                // Nobody generates it: a leftover that start-up recovery did not see.
                super::recovery::mark_message_interrupted(&self.db, message_id).await?;
            }
        }
        self.view_of(self.owned_message(user_id, message_id).await?)
            .await
    }

    /// The turns a new message follows, oldest first, ending with the new message: user
    /// messages and replies that finished (complete or stopped) of the branch that ends at
    /// `parent`, read newest first a page at a time, up the parents, until they fill the
    /// window (`gathering`). Each turn's stored token count is used; only turns without one
    /// are counted.
    pub(super) async fn history(
        &self,
        conversation_id: Uuid,
        parent: Option<Uuid>,
        provider: ProviderId,
        mut gathering: context::Gathering,
    ) -> Result<Vec<context::CountedTurn>, ChatError> {
        let mut next = parent;
        while let Some(from) = next {
            let page =
                tree::path_up(&self.db, conversation_id, from, context::HISTORY_PAGE).await?;
            // A short page reached the first message (or a parent deleted with its subtree).
            next = match page.len() as u64 {
                context::HISTORY_PAGE => page.last().and_then(|(_, parent)| *parent),
                _ => None,
            };
            // Only the columns a context needs: not each reply's stored HTML and chunk list.
            let rows: Vec<(Uuid, Role, MessageStatus, String, Option<i64>)> =
                messages::Entity::find()
                    .select_only()
                    .columns([
                        messages::Column::Id,
                        messages::Column::Role,
                        messages::Column::Status,
                        messages::Column::Content,
                        messages::Column::ContentTokens,
                    ])
                    .filter(messages::Column::Id.is_in(page.iter().map(|(id, _)| *id)))
                    .order_by_desc(messages::Column::Id)
                    .into_tuple()
                    .all(&self.db)
                    .await?;
            let bytes: usize = rows.iter().map(|(.., content, _)| content.len()).sum();
            let uncounted = rows.iter().filter(|(.., tokens)| tokens.is_none()).count();
            self.history_reads
                .add(rows.len() as u64, bytes as u64, uncounted as u64);
            let mut attached = self
                .history_attachments(rows.iter().map(|(id, role, ..)| (*id, *role)), provider)
                .await?;
            // Counting tokens (of turns stored without a count) is CPU work: off the runtime.
            gathering = tokio::task::spawn_blocking(move || {
                for (id, role, status, content, tokens) in rows {
                    let attachments = attached.remove(&id).unwrap_or_default();
                    let turn = ChatTurn {
                        role,
                        content,
                        attachments,
                    };
                    if (role == Role::User || status.is_usable_context())
                        && !gathering.push_older(context::CountedTurn::with_count(turn, tokens))
                    {
                        break;
                    }
                }
                gathering
            })
            .await
            .map_err(|e| ChatError::Internal(format!("building the context: {e}")))?;
            if gathering.is_full() {
                break;
            }
        }
        Ok(gathering.into_history())
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

async fn streaming_replies(conn: &impl WriteConn, user_id: Uuid) -> Result<u64, sea_orm::DbErr> {
    let count = messages::Entity::find()
        .select_only()
        .column_as(Expr::cust("COUNT(*)"), "streaming")
        .filter(messages::Column::UserId.eq(user_id))
        .filter(messages::Column::Status.eq(MessageStatus::Streaming));
    let streaming = conn.read_i64(conn.build(&count)).await?.unwrap_or(0);
    Ok(u64::try_from(streaming).unwrap_or(0))
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

/// The text an account's conversations hold, in bytes (a `BIGINT` named `stored`): read by
/// itself, or as a subquery.
fn stored_by(user_id: Uuid) -> sea_orm::sea_query::SelectStatement {
    sea_orm::sea_query::Query::select()
        .expr_as(
            Expr::cust("CAST(COALESCE(SUM(content_bytes), 0) AS BIGINT)"),
            "stored",
        )
        .from(conversations::Entity)
        .and_where(conversations::Column::UserId.eq(user_id))
        .to_owned()
}

/// A send's one write transaction: the budget reservation (refused when it does not fit, with
/// nothing stored), the person's message (unless it is a regeneration), the streaming reply, its
/// `ai_prompts` row, and the conversation's count, first title and current leaf (the new reply:
/// the conversation now shows its branch). Owns what it writes, so it can run on SQLite's
/// writing thread.
struct SendWrite {
    user_id: Uuid,
    now: chrono::DateTime<chrono::Utc>,
    conversation: conversations::Model,
    provider: ProviderId,
    model: String,
    prices: PriceSnapshot,
    prompt: Prompt,
    prompt_tokens: i64,
    context_tokens: i64,
    reservation: budget::Reservation,
    attachments: Vec<attachments::Model>,
    limits: super::ChatLimits,
    max_active_replies: u32,
}

/// Why a [`SendWrite`] stored nothing.
enum SendRefused {
    /// The reservation does not fit this month's budget (the refusal reads the budget after).
    OverBudget,
    Chat(ChatError),
}

impl From<sea_orm::DbErr> for SendRefused {
    fn from(e: sea_orm::DbErr) -> Self {
        Self::Chat(e.into())
    }
}

impl From<ChatError> for SendRefused {
    fn from(e: ChatError) -> Self {
        Self::Chat(e)
    }
}

impl WriteJob for SendWrite {
    type Output = StoredSend;
    type Error = SendRefused;

    async fn run(&self, conn: &impl WriteConn) -> Result<StoredSend, SendRefused> {
        let Self {
            user_id,
            now,
            conversation,
            prompt,
            reservation,
            ..
        } = self;
        let (user_id, now) = (*user_id, *now);
        if !budget::reserve(conn, user_id, &reservation.month, reservation.micros).await? {
            return Err(SendRefused::OverBudget);
        }
        // The reservation's UPDATE holds the user's budget row (PostgreSQL) or the database's
        // write lock (SQLite) until this transaction ends: concurrent sends of one user, on
        // any process, count each other's committed replies here one at a time.
        let cap = self.max_active_replies;
        if cap != 0 && streaming_replies(conn, user_id).await? >= u64::from(cap) {
            return Err(ChatError::TooManyReplies(cap).into());
        }
        // The messages are made before anything is written, so that the conversation's row is
        // the first row under the budget this transaction writes, as a finishing reply does
        // (`generation::lock_in_send_order`): a delete of the conversation then either waits
        // for the send or makes it find nothing (404). Inserting first took a share lock on the
        // row (the messages' foreign key) that the update had to raise past a waiting delete.
        let (user_message, question_id) = match prompt {
            Prompt::New {
                content,
                parent,
                follows_shown,
            } => {
                let parent = match follows_shown {
                    true => {
                        let leaf = conversations::Entity::find_by_id(conversation.id)
                            .select_only()
                            .column(conversations::Column::CurrentLeafId);
                        conn.read_uuid(conn.build(&leaf))
                            .await?
                            .flatten()
                            .or(*parent)
                    }
                    false => *parent,
                };
                let mut message = new_message(conversation, parent, Role::User, content, now);
                message.content_tokens = Set(Some(self.prompt_tokens));
                let id = message.id.clone().unwrap();
                (Some(message), id)
            }
            Prompt::Stored(question) => (None, question.id),
        };
        let mut assistant = new_message(conversation, Some(question_id), Role::Assistant, "", now);
        assistant.status = Set(MessageStatus::Streaming);
        assistant.stream_chunks = Set(Some(serde_json::json!([])));
        assistant.provider = Set(Some(self.provider));
        assistant.model = Set(Some(self.model.clone()));
        assistant.input_micros_per_mtok = Set(Some(self.prices.input));
        assistant.cached_input_micros_per_mtok = Set(self.prices.cached_input);
        assistant.output_micros_per_mtok = Set(Some(self.prices.output));
        let assistant_id = assistant.id.clone().unwrap();

        use sea_orm::ExprTrait as _;
        let (added_messages, added_bytes) = prompt.adds();
        let mut update = conversations::Entity::update_many()
            .col_expr(
                conversations::Column::MessageCount,
                Expr::col(conversations::Column::MessageCount).add(added_messages),
            )
            .col_expr(
                conversations::Column::ContentBytes,
                Expr::col(conversations::Column::ContentBytes).add(added_bytes),
            )
            .col_expr(
                conversations::Column::CurrentLeafId,
                Expr::value(assistant_id),
            )
            .col_expr(conversations::Column::UpdatedAt, Expr::value(now))
            .filter(conversations::Column::Id.eq(conversation.id))
            // The caps, exactly: this transaction holds the user's turn, so the counts it
            // reads are every committed send's.
            .filter(
                Expr::col(conversations::Column::MessageCount)
                    .add(added_messages)
                    .lte(i64::from(self.limits.max_messages_per_conversation)),
            )
            .filter(
                Expr::col(conversations::Column::ContentBytes)
                    .add(added_bytes)
                    .lte(i64::try_from(self.limits.max_conversation_bytes).unwrap_or(i64::MAX)),
            )
            // And the account's cap, over all its conversations, in the same statement.
            .filter(
                Expr::expr(SimpleExpr::SubQuery(
                    None,
                    Box::new(stored_by(user_id).into_sub_query_statement()),
                ))
                .add(added_bytes)
                .lte(self.user_cap()),
            );
        if let (Prompt::New { content, .. }, true) = (
            prompt,
            conversation.message_count == 0 && conversation.title == DEFAULT_TITLE,
        ) {
            update = update.col_expr(
                conversations::Column::Title,
                Expr::value(title_from(content)),
            );
        }
        if conn.execute(conn.build(&update)).await? == 0 {
            // Deleted meanwhile, or full.
            let found = conversations::Entity::find_by_id(conversation.id)
                .select_only()
                .column(conversations::Column::Id);
            let exists = conn.read_uuid(conn.build(&found)).await?.is_some();
            return Err(match exists {
                false => ChatError::NotFound,
                true => match self.check_user_storage(conn, added_bytes).await? {
                    Err(full) => full,
                    Ok(()) => self.conversation_full(),
                },
            }
            .into());
        }

        // Both messages in one statement (the reply's parent, the question, is the row before
        // it: foreign keys are checked at the statement's end). Every column is set here, so
        // the rows are what was written; nothing is read back.
        let user_message = user_message
            .map(|m| m.clone().try_into_model().map(|model| (m, model)))
            .transpose()?;
        let assistant_row = assistant.clone().try_into_model()?;
        let insert = messages::Entity::insert_many(
            user_message
                .as_ref()
                .map(|(m, _)| m.clone())
                .into_iter()
                .chain([assistant]),
        );
        conn.execute(conn.build(&insert)).await?;
        let user_message = match user_message {
            Some((_, model)) => {
                Attachments::link(conn, model.id, &self.attachments).await?;
                let siblings = tree::siblings_of(conn, &model).await?;
                Some((model, siblings))
            }
            None => None,
        };
        let assistant_siblings = match user_message {
            // A new question's reply is its only one.
            Some(_) => Siblings::ONLY,
            None => tree::siblings_of(conn, &assistant_row).await?,
        };

        let prompt_id = Uuid::now_v7();
        let insert = ai_prompts::Entity::insert(ai_prompts::ActiveModel {
            id: Set(prompt_id),
            user_id: Set(user_id),
            conversation_id: Set(conversation.id),
            message_id: Set(question_id),
            response_message_id: Set(Some(assistant_id)),
            provider: Set(self.provider),
            model: Set(self.model.clone()),
            status: Set(MessageStatus::Streaming),
            context_tokens: Set(self.context_tokens),
            error: Set(None),
            created_at: Set(now),
            completed_at: Set(None),
            reserved_micros: Set(reservation.micros),
            budget_month: Set(Some(reservation.month.clone())),
        });
        conn.execute(conn.build(&insert)).await?;
        Ok(StoredSend {
            user_message,
            assistant: (assistant_row, assistant_siblings),
            prompt_id,
            reservation: reservation.clone(),
        })
    }
}

impl SendWrite {
    /// The most text an account's conversations may hold, in bytes.
    fn user_cap(&self) -> i64 {
        i64::try_from(self.limits.max_user_bytes).unwrap_or(i64::MAX)
    }

    /// Whether the account's conversations, with `added` bytes more, fit the account's cap: the
    /// refusal's reason when a send's update found its caps passed. (The send itself checks the
    /// cap in its update, inside the transaction where one user's sends take turns, so the cap
    /// holds exactly however many sends race.)
    async fn check_user_storage(
        &self,
        conn: &impl WriteConn,
        added: i64,
    ) -> Result<Result<(), ChatError>, sea_orm::DbErr> {
        let stored_by = conn.backend().build(&stored_by(self.user_id));
        let stored = conn.read_i64(stored_by).await?.unwrap_or(0);
        Ok(match stored.saturating_add(added) > self.user_cap() {
            true => Err(ChatError::invalid(
                "storage_full",
                "Your conversations hold as much text as an account can. Delete some to go on.",
            )),
            false => Ok(()),
        })
    }

    /// The refusal when a conversation is full (by messages or by text).
    fn conversation_full(&self) -> ChatError {
        let cap = self.limits.max_messages_per_conversation;
        ChatError::invalid(
            "conversation_full",
            format!(
                "This conversation has reached its limit of {cap} messages or of text. Start a \
                 new conversation to go on."
            ),
        )
    }
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
        reasoning: Set(None),
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
        imported: Set(false),
        content_tokens: Set(None),
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
