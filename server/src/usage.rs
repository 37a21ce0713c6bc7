//! What a user has spent, from `usage_logs` (which outlive deleted conversations): per day for
//! the last N days, per model, the dearest conversations, and this calendar month. The JSON of
//! `GET /api/usage`, the `/usage` page and the CSV export all come from here.

use std::collections::{BTreeMap, HashMap};

use app::wire::{
    Micros, ProviderId, UsageByConversation, UsageByModel, UsageDay, UsageReport, UsageTotals,
};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use futures::TryStreamExt;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use crate::{
    chat::budget::{self, month_start},
    db::entities::{ai_model_configs, conversations, usage_logs},
    domain::Invalid,
};

/// What reading usage can fail with.
#[derive(Debug, thiserror::Error)]
pub enum UsageError {
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error("database error: {0}")]
    Database(#[from] sea_orm::DbErr),
}

pub const DEFAULT_DAYS: u32 = 30;
pub const MAX_DAYS: u32 = 366;
const TOP_CONVERSATIONS: usize = 10;

/// `days` from a query string: 1 to 366, 30 when absent.
pub fn parse_days(days: Option<u32>) -> Result<u32, Invalid> {
    match days {
        None => Ok(DEFAULT_DAYS),
        Some(d) if (1..=MAX_DAYS).contains(&d) => Ok(d),
        Some(_) => Err(Invalid::new(
            "invalid_days",
            format!("days must be between 1 and {MAX_DAYS}."),
        )),
    }
}

/// Adds one usage log to running totals.
fn add(totals: &mut UsageTotals, log: &usage_logs::Model) {
    totals.requests += 1;
    totals.prompt_tokens += log.prompt_tokens;
    totals.completion_tokens += log.completion_tokens;
    totals.cached_tokens += log.cached_tokens;
    totals.reasoning_tokens += log.reasoning_tokens;
    totals.total_tokens += log.total_tokens;
    totals.cost_micros += log.cost_micros;
}

/// The first day of a `days`-long period that ends today, and the earliest instant to read.
fn period_start(now: DateTime<Utc>, days: u32) -> (NaiveDate, DateTime<Utc>) {
    let first_day = now.date_naive() - Duration::days(i64::from(days) - 1);
    let first_instant = first_day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
    (first_day, first_instant.min(month_start(now)))
}

/// Hands the user's logs since `since` to `fold` one at a time, oldest first, as the database
/// streams them: a report holds its sums, never the period's rows, however many replies a
/// period has.
async fn each_log_since(
    db: &DatabaseConnection,
    user_id: Uuid,
    since: DateTime<Utc>,
    mut fold: impl FnMut(&usage_logs::Model),
) -> Result<(), UsageError> {
    let mut logs = usage_logs::Entity::find()
        .filter(usage_logs::Column::UserId.eq(user_id))
        .filter(usage_logs::Column::CreatedAt.gte(since))
        .order_by_asc(usage_logs::Column::CreatedAt)
        .stream(db)
        .await?;
    while let Some(log) = logs.try_next().await? {
        fold(&log);
    }
    Ok(())
}

pub async fn report(
    db: &DatabaseConnection,
    user_id: Uuid,
    now: DateTime<Utc>,
    days: u32,
) -> Result<UsageReport, UsageError> {
    let (first_day, since) = period_start(now, days);
    let mut sums = Sums::new(first_day, days, month_start(now));
    each_log_since(db, user_id, since, |log| sums.add(log)).await?;
    Ok(UsageReport {
        from: first_day.to_string(),
        to: now.date_naive().to_string(),
        days: sums
            .by_day
            .into_iter()
            .map(|(date, totals)| UsageDay {
                date: date.to_string(),
                totals,
            })
            .collect(),
        models: by_model(db, sums.by_model).await?,
        top_conversations: top_conversations(db, user_id, sums.by_conversation).await?,
        period_totals: sums.period,
        month_totals: sums.month,
        budget: budget::status(db, user_id, now).await?,
    })
}

/// The logs added up per day of the period (every day present), per model, per
/// conversation, over the period and over this calendar month.
struct Sums {
    by_day: BTreeMap<NaiveDate, UsageTotals>,
    by_model: HashMap<(ProviderId, String), UsageTotals>,
    by_conversation: HashMap<Option<Uuid>, UsageTotals>,
    period: UsageTotals,
    month: UsageTotals,
    month_from: DateTime<Utc>,
}

impl Sums {
    fn new(first_day: NaiveDate, days: u32, month_from: DateTime<Utc>) -> Self {
        Sums {
            by_day: (0..days)
                .map(|i| {
                    let day = first_day + Duration::days(i64::from(i));
                    (day, UsageTotals::default())
                })
                .collect(),
            by_model: HashMap::new(),
            by_conversation: HashMap::new(),
            period: UsageTotals::default(),
            month: UsageTotals::default(),
            month_from,
        }
    }

    fn add(&mut self, log: &usage_logs::Model) {
        if log.created_at >= self.month_from {
            add(&mut self.month, log);
        }
        let Some(day) = self.by_day.get_mut(&log.created_at.date_naive()) else {
            return;
        };
        add(day, log);
        add(&mut self.period, log);
        let model = self
            .by_model
            .entry((log.provider, log.model.clone()))
            .or_default();
        add(model, log);
        add(
            self.by_conversation.entry(log.conversation_id).or_default(),
            log,
        );
    }
}

/// Per model with its display name, dearest first.
async fn by_model(
    db: &DatabaseConnection,
    sums: HashMap<(ProviderId, String), UsageTotals>,
) -> Result<Vec<UsageByModel>, UsageError> {
    let names: HashMap<(ProviderId, String), String> = ai_model_configs::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|m| ((m.provider, m.model), m.display_name))
        .collect();
    let mut models: Vec<UsageByModel> = sums
        .into_iter()
        .map(|((provider, model), totals)| UsageByModel {
            display_name: names
                .get(&(provider, model.clone()))
                .cloned()
                .unwrap_or_else(|| model.clone()),
            provider,
            model,
            totals,
        })
        .collect();
    models.sort_by(|a, b| {
        (b.totals.cost_micros, b.totals.total_tokens, &a.display_name).cmp(&(
            a.totals.cost_micros,
            a.totals.total_tokens,
            &b.display_name,
        ))
    });
    Ok(models)
}

/// The dearest conversations with their titles; a deleted one keeps its usage under
/// "Deleted conversation".
async fn top_conversations(
    db: &DatabaseConnection,
    user_id: Uuid,
    sums: HashMap<Option<Uuid>, UsageTotals>,
) -> Result<Vec<UsageByConversation>, UsageError> {
    let mut top: Vec<(Option<Uuid>, UsageTotals)> = sums.into_iter().collect();
    top.sort_by(|a, b| {
        (b.1.cost_micros, b.1.total_tokens, a.0).cmp(&(a.1.cost_micros, a.1.total_tokens, b.0))
    });
    top.truncate(TOP_CONVERSATIONS);
    let ids: Vec<Uuid> = top.iter().filter_map(|(id, _)| *id).collect();
    let titles: HashMap<Uuid, String> = conversations::Entity::find()
        .filter(conversations::Column::UserId.eq(user_id))
        .filter(conversations::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id, c.title))
        .collect();
    Ok(top
        .into_iter()
        .map(|(id, totals)| {
            let title = id.and_then(|id| titles.get(&id).cloned());
            UsageByConversation {
                conversation_id: id,
                deleted: title.is_none(),
                title: title.unwrap_or_else(|| "Deleted conversation".into()),
                totals,
            }
        })
        .collect())
}

/// The period's usage as CSV, one row per day and model, with exact costs.
pub async fn csv(
    db: &DatabaseConnection,
    user_id: Uuid,
    now: DateTime<Utc>,
    days: u32,
) -> Result<String, UsageError> {
    let (first_day, _) = period_start(now, days);
    let since = first_day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
    // Keyed by the provider's id string, so rows sort by name as they always have.
    let mut rows: BTreeMap<(NaiveDate, &str, String), UsageTotals> = BTreeMap::new();
    each_log_since(db, user_id, since, |log| {
        let key = (
            log.created_at.date_naive(),
            log.provider.as_str(),
            log.model.clone(),
        );
        add(rows.entry(key).or_default(), log);
    })
    .await?;
    let mut out = String::from(
        "date,provider,model,requests,prompt_tokens,completion_tokens,cached_tokens,\
         reasoning_tokens,total_tokens,cost_usd\n",
    );
    for ((date, provider, model), t) in rows {
        out.push_str(&format!(
            "{date},{},{},{},{},{},{},{},{},{}\n",
            csv_field(provider),
            csv_field(&model),
            t.requests,
            t.prompt_tokens,
            t.completion_tokens,
            t.cached_tokens,
            t.reasoning_tokens,
            t.total_tokens,
            Micros(t.cost_micros).dollars_fixed(),
        ));
    }
    Ok(out)
}

/// Quotes a field that needs it, and defuses spreadsheet formulas (`=`, `+`, `-`, `@`).
fn csv_field(value: &str) -> String {
    let mut value = value.to_owned();
    if value.starts_with(['=', '+', '-', '@']) {
        value.insert(0, '\'');
    }
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_period_reaches_back_to_the_month_start_when_that_is_earlier() {
        let now = Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap();
        let (first, since) = period_start(now, 7);
        assert_eq!(first.to_string(), "2026-11-15");
        assert_eq!(since, Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap());
        let (first, since) = period_start(now, 30);
        assert_eq!(first.to_string(), "2026-10-23");
        assert_eq!(since, Utc.with_ymd_and_hms(2026, 10, 23, 0, 0, 0).unwrap());
    }

    #[test]
    fn csv_fields_are_safe() {
        assert_eq!(csv_field("gpt-4o"), "gpt-4o");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
    }

    #[test]
    fn days_are_bounded() {
        assert_eq!(parse_days(None).unwrap(), 30);
        assert_eq!(parse_days(Some(7)).unwrap(), 7);
        assert!(parse_days(Some(0)).is_err());
        assert!(parse_days(Some(400)).is_err());
    }
}
