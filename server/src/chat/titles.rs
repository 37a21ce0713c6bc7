//! A conversation's title, written by a cheap model of its own provider once its first
//! exchange is complete (`AUTO_TITLES`, on by default; `TITLE_MODEL_*` picks the model). The
//! call is booked like any other: its worst case reserved from the budget first, then a usage
//! log, the conversation's totals and the budget settled to what it cost. The new title
//! replaces the first-line one only if that is still the title: a conversation renamed
//! meanwhile keeps its name.

use std::collections::BTreeMap;

use app::wire::ProviderId;
use futures::StreamExt;
use sea_orm::{sea_query::Expr, ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use super::{
    budget,
    generation::add_to_conversation_totals,
    pricing::PriceSnapshot,
    provider::{ChatTurn, ProviderEvent, ProviderRequest, Purpose, Role, Usage},
    tokenizer, ChatError, ChatService,
};
use crate::db::{
    entities::{ai_model_configs, conversations, usage_logs},
    now,
};

/// What the title model is asked.
const INSTRUCTION: &str = "Write a title of at most six words for the conversation below. \
Answer with the title only: no quotes, no punctuation at the end.";
/// Enough for six words; a title model that thinks gets its thinking cut off, not its bill.
const TITLE_MAX_TOKENS: u32 = 32;
/// How much of the exchange the title model reads.
const MAX_EXCHANGE_CHARS: usize = 4_000;
const MAX_TITLE_CHARS: usize = 60;

/// `AUTO_TITLES` and the model per provider (`TITLE_MODEL_OPENAI`, `_ANTHROPIC`, `_GEMINI`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TitleSettings {
    pub enabled: bool,
    /// A provider without an entry (or whose model is not enabled) uses the conversation's.
    pub models: BTreeMap<ProviderId, String>,
}

impl Default for TitleSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            models: BTreeMap::from([
                (ProviderId::OpenAi, "gpt-4o-mini".to_owned()),
                (ProviderId::Anthropic, "claude-haiku-4-5".to_owned()),
                (ProviderId::Google, "gemini-2.5-flash-lite".to_owned()),
                (ProviderId::Demo, "demo-offline".to_owned()),
            ]),
        }
    }
}

/// The first exchange of a conversation, whose title is still the first line of its first
/// message (`provisional`).
pub(super) struct FirstExchange {
    pub user_id: Uuid,
    pub conversation_id: Uuid,
    pub provider: ProviderId,
    pub model: String,
    pub provisional: String,
    pub question: String,
    pub answer: String,
}

impl ChatService {
    /// Writes the title of a conversation after its first exchange; failures only log, the
    /// first-line title stays.
    pub(super) async fn write_title(self, exchange: FirstExchange) {
        if let Err(e) = self.try_write_title(&exchange).await {
            tracing::warn!(conversation_id = %exchange.conversation_id, error = %e, "writing a title");
        }
    }

    async fn try_write_title(&self, exchange: &FirstExchange) -> Result<(), ChatError> {
        let model = self.title_model(exchange).await?;
        let Some(provider) = self.providers.get(model.provider) else {
            return Ok(());
        };
        let prices = PriceSnapshot::of(&model);
        let text = format!(
            "{}\n\n---\n\n{}",
            cut(&exchange.question, MAX_EXCHANGE_CHARS / 2),
            cut(&exchange.answer, MAX_EXCHANGE_CHARS / 2)
        );
        let context_tokens = tokenizer::count(INSTRUCTION) + tokenizer::count(&text);
        let request = ProviderRequest {
            model: model.model.clone(),
            system: Some(INSTRUCTION.to_owned()),
            turns: vec![ChatTurn::new(Role::User, text)],
            temperature: 0.2,
            max_tokens: TITLE_MAX_TOKENS,
            context_tokens,
            thinking_budget: None,
            purpose: Purpose::Title,
        };
        let reservation = budget::Reservation {
            month: budget::month_of(now()),
            micros: budget::worst_case_micros(&prices, context_tokens, i64::from(TITLE_MAX_TOKENS)),
        };
        if !budget::reserve(
            &self.db,
            exchange.user_id,
            &reservation.month,
            reservation.micros,
        )
        .await?
        {
            // Out of budget: the first-line title is good enough.
            return Ok(());
        }
        let network = &self.providers.network;
        let patience = network.first_byte_timeout + network.idle_timeout;
        let (title, reported) = tokio::time::timeout(patience, collect(provider.open(request)))
            .await
            .unwrap_or_default();
        let usage = reported.unwrap_or(Usage {
            prompt_tokens: context_tokens,
            completion_tokens: tokenizer::count(&title),
            ..Usage::default()
        });
        let cost = prices.cost_micros(&usage);
        let title = clean(&title);
        let renamed = self
            .book_title(
                exchange,
                &model,
                &reservation,
                &usage,
                cost,
                title.as_deref(),
            )
            .await?;
        if renamed {
            self.publish_conversation_state(exchange.user_id, exchange.conversation_id)
                .await;
        }
        Ok(())
    }

    /// The title model of the conversation's provider when it is enabled, else the
    /// conversation's own model.
    async fn title_model(
        &self,
        exchange: &FirstExchange,
    ) -> Result<ai_model_configs::Model, ChatError> {
        if let Some(name) = self.settings.titles.models.get(&exchange.provider) {
            if let Ok(model) = self.available_model(exchange.provider.as_str(), name).await {
                return Ok(model);
            }
        }
        self.available_model(exchange.provider.as_str(), &exchange.model)
            .await
    }

    /// One transaction: the budget settled, a usage log, the conversation's totals, and the
    /// title if the conversation still has its first-line one. Whether the title changed.
    async fn book_title(
        &self,
        exchange: &FirstExchange,
        model: &ai_model_configs::Model,
        reservation: &budget::Reservation,
        usage: &Usage,
        cost: i64,
        title: Option<&str>,
    ) -> Result<bool, ChatError> {
        let now = now();
        let _gate = self.writes.enter().await;
        let txn = crate::db::begin_write(&self.db).await?;
        budget::settle(&txn, exchange.user_id, reservation, cost).await?;
        add_to_conversation_totals(&txn, exchange.conversation_id, usage, cost, 0, now).await?;
        usage_logs::ActiveModel {
            id: Set(Uuid::now_v7()),
            user_id: Set(exchange.user_id),
            conversation_id: Set(Some(exchange.conversation_id)),
            message_id: Set(None),
            provider: Set(model.provider),
            model: Set(model.model.clone()),
            prompt_tokens: Set(usage.prompt_tokens),
            completion_tokens: Set(usage.completion_tokens),
            total_tokens: Set(usage.total_tokens()),
            cached_tokens: Set(usage.cached_tokens),
            reasoning_tokens: Set(usage.reasoning_tokens),
            cost_micros: Set(cost),
            created_at: Set(now),
        }
        .insert(&txn)
        .await?;
        let renamed = match title {
            Some(title) => {
                conversations::Entity::update_many()
                    .col_expr(conversations::Column::Title, Expr::value(title))
                    .filter(conversations::Column::Id.eq(exchange.conversation_id))
                    .filter(conversations::Column::UserId.eq(exchange.user_id))
                    .filter(conversations::Column::Title.eq(exchange.provisional.as_str()))
                    .exec(&txn)
                    .await?
                    .rows_affected
                    == 1
            }
            None => false,
        };
        txn.commit().await?;
        Ok(renamed)
    }
}

/// The title's text and the usage reported, from one attempt (no retries: a title is not
/// worth waiting for). A failure gives what arrived, usually nothing.
async fn collect(
    opened: futures::future::BoxFuture<
        '_,
        Result<super::provider::ProviderStream, super::provider::ProviderError>,
    >,
) -> (String, Option<Usage>) {
    let mut text = String::new();
    let mut usage = None;
    let Ok(mut stream) = opened.await else {
        return (text, usage);
    };
    while let Some(event) = stream.next().await {
        match event {
            Ok(ProviderEvent::Delta(delta)) => text.push_str(&delta),
            Ok(ProviderEvent::Usage(reported)) => usage = Some(reported),
            Ok(ProviderEvent::Reasoning(_)) | Ok(ProviderEvent::Finished) => {}
            Err(_) => break,
        }
    }
    (text, usage)
}

/// The model's answer as a title: its first line, without quotes or a trailing full stop,
/// at most 60 characters; `None` when nothing is left.
fn clean(answer: &str) -> Option<String> {
    let line = answer.lines().map(str::trim).find(|l| !l.is_empty())?;
    let line = line
        .trim_start_matches(['"', '\'', '“', '*', '#', ' '])
        .trim_end_matches(['"', '\'', '”', '*', '.', ' ']);
    let line = line.strip_prefix("Title:").unwrap_or(line).trim();
    if line.is_empty() {
        return None;
    }
    Some(cut(line, MAX_TITLE_CHARS))
}

/// At most `max` characters, with an ellipsis when cut.
fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let kept: String = text.chars().take(max - 1).collect();
    format!("{}…", kept.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_become_clean_short_titles() {
        assert_eq!(
            clean("\"Sorting Lists in Rust.\"\n").as_deref(),
            Some("Sorting Lists in Rust")
        );
        assert_eq!(
            clean("Title: Weekend plans").as_deref(),
            Some("Weekend plans")
        );
        assert_eq!(clean("  \n\"\"  "), None);
        let long = clean(&"word ".repeat(40)).unwrap();
        assert!(long.chars().count() <= MAX_TITLE_CHARS && long.ends_with('…'));
    }
}
