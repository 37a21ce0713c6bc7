//! One reply being generated, in its own task: build the context, stream from the provider,
//! publish every delta (of the answer or of its reasoning, one `seq` counter for both), write the text to the database every `flush_interval` (never once per
//! token), and at the end write the message, its usage and cost, the conversation's totals, a
//! usage log and the prompt's outcome in one transaction.

use std::{ops::ControlFlow, sync::Arc, time::Duration};

use app::wire::{Event, MessageStatus, StreamDelta};
use futures::StreamExt;
use sea_orm::{
    sea_query::{BinOper, Expr, Func},
    ColumnTrait, DbErr, EntityTrait, QueryFilter, QuerySelect, Set,
};
use tokio::time::{sleep_until, Instant};
use uuid::Uuid;

use super::{
    active::ActiveReply,
    budget, context,
    conversations::DEFAULT_TITLE,
    pricing::PriceSnapshot,
    provider::{
        retry::Attempts, ChatProvider, ChatTurn, ProviderError, ProviderEvent, ProviderId,
        ProviderRequest, Purpose, Usage,
    },
    send::title_from,
    titles::FirstExchange,
    tokenizer,
    tree::{self, Siblings},
    views::{conversation_view, message_view},
    ChatService,
};
use crate::db::{
    entities::{ai_prompts, budget_periods, conversations, messages, usage_logs},
    now,
    writer::{WriteConn, WriteJob},
};
use crate::markdown::{render_message, RenderOptions};

/// Without any write for this long, a streaming message is touched anyway, so other server
/// processes can tell a live reply from one whose process died.
const HEARTBEAT: Duration = Duration::from_secs(30);

/// How replies are rendered when stored: the default settings. Someone who turned Markdown or
/// highlighting off gets theirs rendered when shown.
pub const STORED_RENDERING: RenderOptions = RenderOptions {
    markdown: true,
    highlight: true,
};

pub(super) struct Generation {
    pub service: ChatService,
    pub provider: Arc<dyn ChatProvider>,
    pub reply: Arc<ActiveReply>,
    pub user_id: Uuid,
    pub conversation: conversations::Model,
    pub assistant_message_id: Uuid,
    /// The reply's parent: the question it answers.
    pub question_id: Option<Uuid>,
    pub prompt_id: Uuid,
    /// The context, built (and its worst case reserved from the budget) by the send.
    pub context: context::Context,
    pub prices: PriceSnapshot,
    pub reservation: budget::Reservation,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Status {
    Complete,
    Stopped,
    Error,
}

/// The three ways a generation ends, as the message's stored status.
impl From<Status> for MessageStatus {
    fn from(status: Status) -> Self {
        match status {
            Status::Complete => MessageStatus::Complete,
            Status::Stopped => MessageStatus::Stopped,
            Status::Error => MessageStatus::Error,
        }
    }
}

/// Everything the stream produced, whatever way it ended.
#[derive(Default)]
struct Streamed {
    content: String,
    /// What the model thought, apart from the answer.
    reasoning: String,
    /// Byte length of each piece, in order, negative for a piece of `reasoning`: with
    /// `content` and `reasoning` it gives back every piece by `seq` (`replay::stored_pieces`).
    chunk_lengths: Vec<i64>,
    reported_usage: Option<Usage>,
    context_tokens: i64,
    /// How much of `content`, `reasoning` and `chunk_lengths` the database has.
    flushed_bytes: usize,
    flushed_reasoning_bytes: usize,
    flushed_chunks: usize,
}

struct Ended {
    status: Status,
    error: Option<String>,
}

impl Generation {
    pub async fn run(mut self) {
        let mut streamed = Streamed::default();
        let turns = std::mem::take(&mut self.context.turns);
        let question = turns.last().map(|turn| turn.content.clone());
        let ended = self.stream(&mut streamed, turns).await;
        let first_exchange = self.first_exchange(&ended, question, &streamed);
        let service = self.service.clone();
        self.finish(streamed, ended).await;
        if let Some(exchange) = first_exchange {
            tokio::spawn(service.write_title(exchange));
        }
    }

    /// The exchange to title, when this reply completed a conversation's first exchange and
    /// the title is still the first line of its first message.
    fn first_exchange(
        &self,
        ended: &Ended,
        question: Option<String>,
        streamed: &Streamed,
    ) -> Option<FirstExchange> {
        let conversation = &self.conversation;
        let first = conversation.message_count == 0 && conversation.title == DEFAULT_TITLE;
        if !(self.service.settings.titles.enabled && first && ended.status == Status::Complete) {
            return None;
        }
        let question = question?;
        Some(FirstExchange {
            user_id: self.user_id,
            conversation_id: conversation.id,
            provider: conversation.provider,
            model: conversation.model.clone(),
            provisional: title_from(&question),
            question,
            answer: streamed.content.clone(),
        })
    }

    async fn stream(&self, streamed: &mut Streamed, turns: Vec<ChatTurn>) -> Ended {
        let fail = |message: String| Ended {
            status: Status::Error,
            error: Some(message),
        };
        streamed.context_tokens = self.context.tokens;
        let request = ProviderRequest {
            model: self.conversation.model.clone(),
            system: self.conversation.system_prompt.clone(),
            turns,
            temperature: self.conversation.temperature,
            max_tokens: self.conversation.max_tokens.max(1) as u32,
            context_tokens: self.context.tokens,
            thinking_budget: self
                .conversation
                .thinking_budget_tokens
                .and_then(|budget| u32::try_from(budget).ok()),
            purpose: Purpose::Reply,
        };

        let name = self.provider.id().in_sentence();
        let network = &self.service.providers.network;
        let flush_interval = self.service.settings.flush_interval;
        let cancel = self.reply.cancel.clone();
        // The one layer that retries (why this one: `provider::retry`).
        let mut attempts = Attempts::new(network);
        'attempts: loop {
            let opened = tokio::select! {
                _ = cancel.cancelled() => return Ended { status: Status::Stopped, error: None },
                opened = self.provider.open(request.clone()) => opened,
            };
            let mut stream = match opened {
                Ok(stream) => stream,
                Err(e) => match self.wait_to_retry(&mut attempts, e).await {
                    ControlFlow::Continue(()) => continue 'attempts,
                    ControlFlow::Break(ended) => return ended,
                },
            };
            let mut finished = false;
            let mut last_write = Instant::now();
            let mut flush_tick = tokio::time::interval(flush_interval);
            flush_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            // Built once per attempt, not once per token: each delta then costs no timer or
            // waiter registration. The idle timer is not pushed back by every delta either; when
            // it fires, it moves to `idle_timeout` after the last one heard, if that is later.
            let stopped = cancel.cancelled();
            tokio::pin!(stopped);
            let mut last_heard = Instant::now();
            let idle = sleep_until(last_heard + network.idle_timeout);
            tokio::pin!(idle);
            loop {
                tokio::select! {
                    biased;
                    _ = &mut stopped => return Ended { status: Status::Stopped, error: None },
                    _ = flush_tick.tick() => {
                        let dirty = streamed.chunk_lengths.len() > streamed.flushed_chunks;
                        if dirty || last_write.elapsed() >= HEARTBEAT {
                            self.flush(streamed).await;
                            last_write = Instant::now();
                        }
                    }
                    _ = &mut idle => {
                        let deadline = last_heard + network.idle_timeout;
                        if deadline > Instant::now() {
                            idle.as_mut().reset(deadline);
                            continue;
                        }
                        return fail(format!(
                            "{name} sent nothing for {} s, so the reply was cut off.",
                            network.idle_timeout.as_secs_f32()
                        ));
                    }
                    item = stream.next() => {
                        last_heard = Instant::now();
                        match item {
                            None if finished => return Ended { status: Status::Complete, error: None },
                            None => return fail(format!(
                                "The connection to {name} ended before the reply was complete."
                            )),
                            Some(Ok(ProviderEvent::Delta(delta))) => {
                                self.publish_piece(streamed, StreamDelta::Answer { delta })
                            }
                            Some(Ok(ProviderEvent::Reasoning(reasoning))) => {
                                self.publish_piece(streamed, StreamDelta::Reasoning { reasoning })
                            }
                            Some(Ok(ProviderEvent::Usage(usage))) => streamed.reported_usage = Some(usage),
                            Some(Ok(ProviderEvent::Finished)) => finished = true,
                            // Retrying is only safe before the first token: after it, the
                            // person has already seen part of a reply.
                            Some(Err(e)) if streamed.chunk_lengths.is_empty() => {
                                match self.wait_to_retry(&mut attempts, e).await {
                                    ControlFlow::Continue(()) => continue 'attempts,
                                    ControlFlow::Break(ended) => return ended,
                                }
                            }
                            Some(Err(e)) => {
                                self.log_failure(&e);
                                return fail(e.message);
                            }
                        }
                    }
                }
            }
        }
    }

    /// After an attempt failed before the first token: waits, then goes on to the next
    /// attempt, or ends the reply — given up by the retry policy, or stopped while waiting.
    async fn wait_to_retry(
        &self,
        attempts: &mut Attempts,
        failure: ProviderError,
    ) -> ControlFlow<Ended> {
        let Some(delay) = attempts.next_delay(&failure) else {
            self.log_failure(&failure);
            return ControlFlow::Break(Ended {
                status: Status::Error,
                error: Some(attempts.give_up(failure).message),
            });
        };
        tracing::warn!(
            provider = %self.provider.id(),
            ?delay,
            error = %failure.message,
            upstream = %failure.logged_detail(),
            "retrying the provider request"
        );
        tokio::select! {
            _ = self.reply.cancel.cancelled() => ControlFlow::Break(Ended { status: Status::Stopped, error: None }),
            _ = tokio::time::sleep(delay) => ControlFlow::Continue(()),
        }
    }

    /// The person sees our sentence; the upstream's own words go to the log, keys masked.
    fn log_failure(&self, failure: &ProviderError) {
        tracing::warn!(
            provider = %self.provider.id(),
            message_id = %self.assistant_message_id,
            kind = ?failure.kind,
            error = %failure.message,
            upstream = %failure.logged_detail(),
            "the provider request failed"
        );
    }

    fn publish_piece(&self, streamed: &mut Streamed, mut piece: StreamDelta) {
        let text = match &mut piece {
            StreamDelta::Answer { delta } => delta,
            StreamDelta::Reasoning { reasoning } => reasoning,
        };
        // No database text column can hold a NUL (PostgreSQL refuses it), and a reply that
        // cannot be stored would stay `streaming`: it is dropped here, before anyone sees it.
        if text.contains('\0') {
            tracing::info!(
                message_id = %self.assistant_message_id,
                "the provider sent a NUL character; it was removed from the reply"
            );
            text.retain(|c| c != '\0');
            if text.is_empty() {
                return;
            }
        }
        let length = text.len() as i64;
        match &piece {
            StreamDelta::Answer { delta } => {
                streamed.content.push_str(delta);
                streamed.chunk_lengths.push(length);
            }
            StreamDelta::Reasoning { reasoning } => {
                streamed.reasoning.push_str(reasoning);
                streamed.chunk_lengths.push(-length);
            }
        }
        // Into the replay buffer first, then onto the feed: a client that resumes from the
        // buffer and then listens live misses nothing.
        let seq = self.reply.push(piece.clone());
        self.service.publish(
            self.user_id,
            Event::piece(self.conversation.id, self.assistant_message_id, seq, piece),
        );
    }

    /// The coalesced write while streaming: appends the text that arrived since the last one
    /// (so a long reply costs O(its length) in writes, not O(length²)) and the chunk boundaries.
    async fn flush(&self, streamed: &mut Streamed) {
        let job = FlushWrite {
            message_id: self.assistant_message_id,
            new_text: streamed.content[streamed.flushed_bytes..].to_owned(),
            new_reasoning: streamed.reasoning[streamed.flushed_reasoning_bytes..].to_owned(),
            chunk_lengths: streamed.chunk_lengths.clone(),
        };
        match self.service.writes.write(&self.service.db, job).await {
            Ok(()) => {
                streamed.flushed_bytes = streamed.content.len();
                streamed.flushed_reasoning_bytes = streamed.reasoning.len();
                streamed.flushed_chunks = streamed.chunk_lengths.len();
            }
            // Not fatal: the next flush appends this text too, and the final write has it all.
            Err(e) => {
                tracing::warn!(error = %e, message_id = %self.assistant_message_id, "flushing streamed text")
            }
        }
    }

    /// The usage to book. A complete reply books what the provider reported (our tokenizer's
    /// count only if it reported nothing, as some compatible servers do); a stopped reply books
    /// what was reported and estimates the rest, since the provider bills the tokens it made;
    /// a failed one books only what the provider reported.
    /// `counted` is our tokenizer's count of the reply (its reasoning included), made when
    /// [`needs_count`] says so.
    fn usage_to_book(&self, streamed: &Streamed, status: Status, counted: i64) -> Option<Usage> {
        let estimate = || Usage {
            prompt_tokens: streamed.context_tokens,
            completion_tokens: counted,
            ..Usage::default()
        };
        match (status, streamed.reported_usage) {
            (Status::Complete, Some(usage)) => Some(usage),
            (Status::Complete, None) => Some(estimate()),
            (Status::Stopped, reported) => {
                let reported = reported.unwrap_or_default();
                let estimated = estimate();
                Some(Usage {
                    prompt_tokens: if reported.prompt_tokens > 0 {
                        reported.prompt_tokens
                    } else {
                        estimated.prompt_tokens
                    },
                    completion_tokens: reported.completion_tokens.max(estimated.completion_tokens),
                    ..reported
                })
            }
            (Status::Error, reported) => reported,
        }
    }

    async fn finish(self, streamed: Streamed, ended: Ended) {
        // Rendered once here, so pages show finished replies without rendering them again;
        // counted only when the provider's report does not settle it. Both are CPU work over
        // the whole reply (seconds for megabytes): only a short reply with no code to
        // highlight is done on the async runtime.
        let text = streamed.content.clone();
        let reasoning = streamed.reasoning.clone();
        let count = needs_count(ended.status, streamed.reported_usage.is_some());
        let bytes = match may_hold_code(&text) {
            true => usize::MAX,
            false => text.len() + reasoning.len(),
        };
        // The text's own count is stored with it, for every later send's context.
        let (html, content_tokens, counted, reasoning_counted) =
            tokenizer::off_runtime_unless_short(bytes, move || {
                let html = (!text.is_empty()).then(|| render_message(&text, STORED_RENDERING));
                let content_tokens = tokenizer::count(&text);
                let reasoning_counted = tokenizer::count(&reasoning);
                let counted = if count {
                    content_tokens + reasoning_counted
                } else {
                    0
                };
                (html, Some(content_tokens), counted, reasoning_counted)
            })
            .await
            .unwrap_or((None, None, 0, 0));
        // Anthropic bills thinking inside `output_tokens` without saying how much of it was
        // thinking: the reasoning is then counted by our tokenizer, within the completion.
        let usage = self
            .usage_to_book(&streamed, ended.status, counted)
            .map(|mut usage| {
                if usage.reasoning_tokens == 0 {
                    usage.reasoning_tokens = reasoning_counted.min(usage.completion_tokens);
                }
                usage
            });
        let cost = usage.map_or(0, |u| self.prices.cost_micros(&u));
        let mut attempt = 0;
        let siblings = loop {
            let job = FinalWrite {
                user_id: self.user_id,
                conversation_id: self.conversation.id,
                provider: self.conversation.provider,
                model: self.conversation.model.clone(),
                prompt_id: self.prompt_id,
                message_id: self.assistant_message_id,
                question_id: self.question_id,
                reservation: self.reservation.clone(),
                content: streamed.content.clone(),
                reasoning: streamed.reasoning.clone(),
                chunk_lengths: streamed.chunk_lengths.clone(),
                context_tokens: streamed.context_tokens,
                status: ended.status,
                error: ended.error.clone(),
                usage,
                cost,
                html: html.clone(),
                content_tokens,
            };
            match self.service.writes.write(&self.service.db, job).await {
                Ok(written) => break written,
                Err(e) if attempt < 3 => {
                    attempt += 1;
                    tracing::warn!(error = %e, attempt, "writing the finished reply; retrying");
                    tokio::time::sleep(Duration::from_millis(200 * 2u64.pow(attempt))).await;
                }
                Err(e) => {
                    // The message stays `streaming` and becomes `interrupted` at the next start.
                    tracing::error!(error = %e, message_id = %self.assistant_message_id, "could not store the finished reply");
                    self.service.active.finish(self.assistant_message_id);
                    return;
                }
            }
        };
        self.service.active.finish(self.assistant_message_id);
        tracing::info!(
            message_id = %self.assistant_message_id,
            status = %MessageStatus::from(ended.status),
            deltas = streamed.chunk_lengths.len(),
            cost_micros = cost,
            "reply finished"
        );
        // The reply as stored and its conversation's new totals, in one read (its siblings
        // were read by the write); nothing when the conversation was deleted meanwhile.
        let stored = messages::Entity::find_by_id(self.assistant_message_id)
            .find_also_related(conversations::Entity)
            .one(&self.service.db)
            .await;
        if let Ok(Some((message, conversation))) = stored {
            self.service.publish(
                self.user_id,
                Event::message_updated(message_view(message, siblings)),
            );
            if let Some(conversation) = conversation {
                self.service.publish(
                    self.user_id,
                    Event::conversation_updated(conversation_view(conversation)),
                );
            }
        }
    }
}

/// The coalesced write while a reply streams: appends the text that arrived since the last one
/// (so a long reply costs O(its length) in writes, not O(length²)) and the chunk boundaries.
struct FlushWrite {
    message_id: Uuid,
    new_text: String,
    new_reasoning: String,
    chunk_lengths: Vec<i64>,
}

impl WriteJob for FlushWrite {
    type Output = ();
    type Error = DbErr;
    const ONE_STATEMENT: bool = true;

    async fn run(&self, conn: &impl WriteConn) -> Result<(), DbErr> {
        // `||` concatenates in SQLite and PostgreSQL alike. (Not a custom SQL string: its
        // placeholders differ between the two.)
        use sea_orm::ExprTrait as _;
        let appended = Expr::col(messages::Column::Content)
            .binary(BinOper::Custom("||"), Expr::value(self.new_text.clone()));
        let mut update = messages::Entity::update_many();
        if !self.new_reasoning.is_empty() {
            let so_far = Func::coalesce([Expr::col(messages::Column::Reasoning), Expr::value("")]);
            update = update.col_expr(
                messages::Column::Reasoning,
                Expr::expr(so_far).binary(
                    BinOper::Custom("||"),
                    Expr::value(self.new_reasoning.clone()),
                ),
            );
        }
        let update = update
            .col_expr(messages::Column::Content, appended)
            .col_expr(
                messages::Column::StreamChunks,
                Expr::value(serde_json::json!(self.chunk_lengths)),
            )
            .col_expr(messages::Column::UpdatedAt, Expr::value(now()))
            .filter(messages::Column::Id.eq(self.message_id));
        conn.execute(conn.build(&update)).await?;
        Ok(())
    }
}

/// A reply's final write, one transaction: the prompt's outcome and the budget settled, the
/// message's final text, status, usage and rendering, and (when there is usage) the
/// conversation's totals and a usage log. Rows are locked in the order a send locks them (the
/// budget period, then the conversation), so a send and a finishing reply of one person never
/// deadlock. Owns what it writes, so it can run on SQLite's writing thread.
struct FinalWrite {
    user_id: Uuid,
    conversation_id: Uuid,
    provider: ProviderId,
    model: String,
    prompt_id: Uuid,
    message_id: Uuid,
    question_id: Option<Uuid>,
    reservation: budget::Reservation,
    content: String,
    reasoning: String,
    chunk_lengths: Vec<i64>,
    context_tokens: i64,
    status: Status,
    error: Option<String>,
    usage: Option<Usage>,
    cost: i64,
    /// The reply rendered, and our count of its text.
    html: Option<String>,
    content_tokens: Option<i64>,
}

impl WriteJob for FinalWrite {
    /// The reply's place among its siblings, for the event that ends it.
    type Output = Siblings;
    type Error = DbErr;

    async fn run(&self, txn: &impl WriteConn) -> Result<Siblings, DbErr> {
        let now = now();
        // Read before the locks below, so PostgreSQL does not hold them for it.
        let siblings =
            tree::siblings_under(txn, self.conversation_id, self.question_id, self.message_id)
                .await?;
        lock_in_send_order(
            txn,
            self.user_id,
            &self.reservation.month,
            self.conversation_id,
        )
        .await?;
        self.settle_prompt(txn, now).await?;
        self.write_message(txn, now).await?;
        // The reply's text counts toward the storage caps once it is final.
        let added_bytes = (self.content.len() + self.reasoning.len()) as i64;
        match &self.usage {
            Some(usage) => self.book_usage(txn, usage, added_bytes, now).await?,
            None => {
                use sea_orm::ExprTrait as _;
                let update = conversations::Entity::update_many()
                    .col_expr(
                        conversations::Column::ContentBytes,
                        Expr::col(conversations::Column::ContentBytes).add(added_bytes),
                    )
                    .filter(conversations::Column::Id.eq(self.conversation_id));
                txn.execute(txn.build(&update)).await?;
            }
        }
        Ok(siblings)
    }
}

impl FinalWrite {
    /// Ends the `ai_prompts` row and settles the budget reservation to the actual cost.
    async fn settle_prompt(
        &self,
        txn: &impl WriteConn,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), DbErr> {
        let prompt_update = || {
            ai_prompts::Entity::update_many()
                .col_expr(
                    ai_prompts::Column::Status,
                    Expr::value(MessageStatus::from(self.status)),
                )
                .col_expr(
                    ai_prompts::Column::ContextTokens,
                    Expr::value(self.context_tokens),
                )
                .col_expr(ai_prompts::Column::Error, Expr::value(self.error.clone()))
                .col_expr(ai_prompts::Column::CompletedAt, Expr::value(Some(now)))
                .filter(ai_prompts::Column::Id.eq(self.prompt_id))
        };
        let still_streaming =
            prompt_update().filter(ai_prompts::Column::Status.eq(MessageStatus::Streaming));
        let still_reserved = txn.execute(txn.build(&still_streaming)).await? == 1;
        let prompt_exists = still_reserved || {
            let found = ai_prompts::Entity::find_by_id(self.prompt_id)
                .select_only()
                .column(ai_prompts::Column::Id);
            txn.read_uuid(txn.build(&found)).await?.is_some()
        };
        let reservation = if still_reserved {
            self.reservation.clone()
        } else if prompt_exists {
            // Marked interrupted meanwhile (a stop that found no live generator), which already
            // gave the reservation back: only the actual cost is left to add.
            txn.execute(txn.build(&prompt_update())).await?;
            budget::Reservation {
                micros: 0,
                ..self.reservation.clone()
            }
        } else {
            // The conversation was deleted under the reply: nobody gave the reservation back.
            tracing::info!(
                message_id = %self.message_id,
                "the reply's conversation was deleted; its reservation is given back"
            );
            self.reservation.clone()
        };
        budget::settle(txn, self.user_id, &reservation, self.cost).await
    }

    async fn write_message(
        &self,
        txn: &impl WriteConn,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), DbErr> {
        use messages::Column as M;
        let booked = self.usage.unwrap_or_default();
        let update = messages::Entity::update_many()
            .col_expr(M::Content, Expr::value(self.content.clone()))
            .col_expr(
                M::Reasoning,
                Expr::value(Some(self.reasoning.clone()).filter(|r| !r.is_empty())),
            )
            .col_expr(
                M::StreamChunks,
                Expr::value(serde_json::json!(self.chunk_lengths)),
            )
            .col_expr(M::Status, Expr::value(MessageStatus::from(self.status)))
            .col_expr(M::PromptTokens, Expr::value(booked.prompt_tokens))
            .col_expr(M::CompletionTokens, Expr::value(booked.completion_tokens))
            .col_expr(M::TotalTokens, Expr::value(booked.total_tokens()))
            .col_expr(M::CachedTokens, Expr::value(booked.cached_tokens))
            .col_expr(M::ReasoningTokens, Expr::value(booked.reasoning_tokens))
            .col_expr(M::CostMicros, Expr::value(self.cost))
            .col_expr(M::Error, Expr::value(self.error.clone()))
            .col_expr(M::ContentHtml, Expr::value(self.html.clone()))
            .col_expr(M::ContentTokens, Expr::value(self.content_tokens))
            .col_expr(M::UpdatedAt, Expr::value(now))
            .filter(M::Id.eq(self.message_id));
        txn.execute(txn.build(&update)).await?;
        Ok(())
    }

    /// The conversation's totals and the usage log that usage reports and budgets read.
    async fn book_usage(
        &self,
        txn: &impl WriteConn,
        usage: &Usage,
        added_bytes: i64,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), DbErr> {
        add_to_conversation_totals(
            txn,
            self.conversation_id,
            usage,
            self.cost,
            added_bytes,
            now,
        )
        .await?;
        let log = usage_logs::Entity::insert(usage_logs::ActiveModel {
            id: Set(Uuid::now_v7()),
            user_id: Set(self.user_id),
            conversation_id: Set(Some(self.conversation_id)),
            message_id: Set(Some(self.message_id)),
            provider: Set(self.provider),
            model: Set(self.model.clone()),
            prompt_tokens: Set(usage.prompt_tokens),
            completion_tokens: Set(usage.completion_tokens),
            total_tokens: Set(usage.total_tokens()),
            cached_tokens: Set(usage.cached_tokens),
            reasoning_tokens: Set(usage.reasoning_tokens),
            cost_micros: Set(self.cost),
            created_at: Set(now),
        });
        txn.execute(txn.build(&log)).await?;
        Ok(())
    }
}

/// Locks the rows a send locks, in its order (the budget period, then the conversation), before
/// the rows under the conversation. A delete of the conversation locks the conversation, then
/// its messages, then its prompts; a final write that updated its prompt first and then waited
/// for its message deadlocked with it on PostgreSQL (`deadlock detected`, and the delete
/// answered 500). SQLite's one writer holds the whole database: nothing to do there.
async fn lock_in_send_order(
    txn: &impl WriteConn,
    user_id: Uuid,
    month: &str,
    conversation_id: Uuid,
) -> Result<(), DbErr> {
    use sea_orm::QuerySelect as _;
    if txn.backend() != sea_orm::DbBackend::Postgres {
        return Ok(());
    }
    let period = budget_periods::Entity::find()
        .select_only()
        .column(budget_periods::Column::UserId)
        .filter(budget_periods::Column::UserId.eq(user_id))
        .filter(budget_periods::Column::Month.eq(month))
        .lock_exclusive();
    txn.execute(txn.build(&period)).await?;
    let conversation = conversations::Entity::find_by_id(conversation_id)
        .select_only()
        .column(conversations::Column::Id)
        .lock_exclusive();
    txn.execute(txn.build(&conversation)).await?;
    Ok(())
}

/// Whether rendering `text` may highlight code (a fenced or an indented block), which loads
/// and runs syntect.
fn may_hold_code(text: &str) -> bool {
    text.contains("```")
        || text.contains("~~~")
        || text.contains('\t')
        || text.starts_with("    ")
        || text.contains("\n    ")
}

/// Whether booking a reply's usage needs our own count of its text: a complete reply the
/// provider reported nothing for, and a stopped one (the provider bills what it made).
fn needs_count(status: Status, reported: bool) -> bool {
    matches!(
        (status, reported),
        (Status::Complete, false) | (Status::Stopped, _)
    )
}

/// Adds in the database (`x = x + n`), so concurrent replies in one conversation never lose
/// each other's counts. `added_bytes` is text that now counts toward the conversation's
/// storage cap (a finished reply's), in the same statement.
pub(super) async fn add_to_conversation_totals(
    db: &impl WriteConn,
    conversation_id: Uuid,
    usage: &Usage,
    cost: i64,
    added_bytes: i64,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), DbErr> {
    use conversations::Column as C;
    use sea_orm::ExprTrait as _;
    let update = conversations::Entity::update_many()
        .col_expr(
            C::PromptTokens,
            Expr::col(C::PromptTokens).add(usage.prompt_tokens),
        )
        .col_expr(
            C::CompletionTokens,
            Expr::col(C::CompletionTokens).add(usage.completion_tokens),
        )
        .col_expr(
            C::TotalTokens,
            Expr::col(C::TotalTokens).add(usage.total_tokens()),
        )
        .col_expr(C::CostMicros, Expr::col(C::CostMicros).add(cost))
        .col_expr(C::ContentBytes, Expr::col(C::ContentBytes).add(added_bytes))
        .col_expr(C::UpdatedAt, Expr::value(now))
        .filter(C::Id.eq(conversation_id));
    db.execute(db.build(&update)).await?;
    Ok(())
}
