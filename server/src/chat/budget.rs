//! Monthly budgets that cannot be overdrawn.
//!
//! A send reserves its worst-case cost before any provider call: the prompt as we count it
//! (plus a margin for providers that tokenize differently, all priced as cache writes, the
//! dearest kind of input) and the full `max_tokens` of output. The check and the reservation
//! are one conditional `UPDATE … WHERE spent + reserved + worst <= budget` inside the send's
//! transaction, so concurrent sends serialise on the period's row and can never together
//! pass the cap. At the end of the reply the reservation is settled to the actual cost in the
//! same transaction that books the usage; start-up recovery releases what interrupted
//! replies had reserved.

use app::wire::{BudgetView, Micros};
use chrono::{DateTime, Datelike, TimeZone, Utc};
use sea_orm::{
    sea_query::{Expr, Func, OnConflict, Query, QueryStatementBuilder},
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter,
};
use uuid::Uuid;

use super::{pricing::PriceSnapshot, provider::Usage};
use crate::db::{
    entities::{budget_periods, users},
    writer::WriteConn,
};

/// The budget period of an instant: its calendar month in UTC, `YYYY-MM`.
pub fn month_of(at: DateTime<Utc>) -> String {
    format!("{:04}-{:02}", at.year(), at.month())
}

/// Midnight UTC on the first day of `at`'s month.
pub fn month_start(at: DateTime<Utc>) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(at.year(), at.month(), 1, 0, 0, 0)
        .single()
        .unwrap_or(at)
}

/// The most a request can cost: the prompt with an eighth more tokens than our count (other
/// tokenizers count differently) plus a fixed allowance, all billed as cache writes (1.25×
/// input), and every one of `max_tokens` generated.
pub fn worst_case_micros(prices: &PriceSnapshot, prompt_tokens: i64, max_tokens: i64) -> i64 {
    let prompt = prompt_tokens + prompt_tokens / 8 + 16;
    prices.cost_micros(&Usage {
        prompt_tokens: prompt,
        cache_write_tokens: prompt,
        completion_tokens: max_tokens.max(0),
        ..Usage::default()
    })
}

/// A reservation taken for one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reservation {
    pub month: String,
    pub micros: i64,
}

async fn ensure_period(db: &impl WriteConn, user_id: Uuid, month: &str) -> Result<(), DbErr> {
    let insert = budget_periods::Entity::insert(budget_periods::ActiveModel {
        user_id: sea_orm::Set(user_id),
        month: sea_orm::Set(month.to_owned()),
        spent_micros: sea_orm::Set(0),
        reserved_micros: sea_orm::Set(0),
    })
    .on_conflict(
        OnConflict::columns([
            budget_periods::Column::UserId,
            budget_periods::Column::Month,
        ])
        .do_nothing()
        .to_owned(),
    );
    db.execute(db.build(&insert)).await?;
    Ok(())
}

/// Reserves `micros` from the user's budget for `month`, if it fits: `Ok(true)` when reserved,
/// `Ok(false)` when it would pass the cap. Writes only, so it is safe as the first statements
/// of a SQLite transaction; run it inside the transaction that stores the send.
pub async fn reserve(
    db: &impl WriteConn,
    user_id: Uuid,
    month: &str,
    micros: i64,
) -> Result<bool, DbErr> {
    use budget_periods::Column as C;
    use sea_orm::ExprTrait as _;
    // The cap is read in the same statement; no cap (NULL) reads as an amount far beyond
    // any sum, which stays far below overflow.
    let users_cap = Query::select()
        .column(users::Column::MonthlyBudgetMicros)
        .from(users::Entity)
        .and_where(users::Column::Id.eq(user_id))
        .to_owned();
    let cap = Expr::expr(Func::coalesce([
        Expr::SubQuery(None, Box::new(users_cap.into_sub_query_statement())),
        Expr::value(i64::MAX / 2),
    ]));
    let update = budget_periods::Entity::update_many()
        .col_expr(C::ReservedMicros, Expr::col(C::ReservedMicros).add(micros))
        .filter(C::UserId.eq(user_id))
        .filter(C::Month.eq(month))
        .filter(
            Expr::col(C::SpentMicros)
                .add(Expr::col(C::ReservedMicros))
                .add(micros)
                .lte(cap),
        );
    let update = db.build(&update);
    if db.execute(update.clone()).await? == 1 {
        return Ok(true);
    }
    // Over the cap, or the month's first request: its row is made (or found made by a
    // concurrent request) and the update tried once more, whose answer is then the truth.
    ensure_period(db, user_id, month).await?;
    Ok(db.execute(update).await? == 1)
}

/// Turns a reservation into what the request actually cost.
pub async fn settle(
    db: &impl WriteConn,
    user_id: Uuid,
    reservation: &Reservation,
    actual_micros: i64,
) -> Result<(), DbErr> {
    use budget_periods::Column as C;
    use sea_orm::ExprTrait as _;
    let update = budget_periods::Entity::update_many()
        .col_expr(
            C::ReservedMicros,
            Expr::col(C::ReservedMicros).sub(reservation.micros),
        )
        .col_expr(C::SpentMicros, Expr::col(C::SpentMicros).add(actual_micros))
        .filter(C::UserId.eq(user_id))
        .filter(C::Month.eq(&reservation.month));
    // The reservation made the row, so the update alone is the usual one statement.
    let update = db.build(&update);
    if db.execute(update.clone()).await? == 0 {
        ensure_period(db, user_id, &reservation.month).await?;
        db.execute(update).await?;
    }
    Ok(())
}

/// The user's budget and spending this month.
pub async fn status(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> Result<BudgetView, DbErr> {
    let month = month_of(now);
    let budget = users::Entity::find_by_id(user_id)
        .one(db)
        .await?
        .and_then(|u| u.monthly_budget_micros);
    let period = budget_periods::Entity::find()
        .filter(budget_periods::Column::UserId.eq(user_id))
        .filter(budget_periods::Column::Month.eq(&month))
        .one(db)
        .await?;
    let (spent, reserved) = period.map_or((0, 0), |p| (p.spent_micros, p.reserved_micros));
    Ok(BudgetView {
        month,
        spent_micros: spent,
        reserved_micros: reserved,
        budget_micros: budget,
    })
}

/// The sentence a refused send shows.
pub fn refusal_message(worst_case: i64, status: &BudgetView) -> String {
    let cost = |micros: i64| Micros(micros).cost();
    match status.budget_micros {
        Some(budget) => format!(
            "This message could cost up to {} and only {} of your {} monthly budget is left \
             this month. Ask an admin to raise your budget, or choose a cheaper model or a \
             lower max tokens.",
            cost(worst_case),
            cost(status.remaining_micros().unwrap_or(0)),
            cost(budget),
        ),
        None => "This message does not fit your monthly budget.".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_are_utc_calendar_months() {
        let at = Utc.with_ymd_and_hms(2026, 3, 31, 23, 59, 59).unwrap();
        assert_eq!(month_of(at), "2026-03");
        assert_eq!(
            month_start(at),
            Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap()
        );
    }

    #[test]
    fn the_worst_case_covers_a_larger_prompt_and_every_output_token() {
        let prices = PriceSnapshot {
            input: 2_500_000,
            cached_input: Some(1_250_000),
            output: 10_000_000,
        };
        let worst = worst_case_micros(&prices, 1_000, 500);
        // What a provider could bill for that request, counting 12 % more prompt tokens.
        let billed = prices.cost_micros(&Usage {
            prompt_tokens: 1_120,
            completion_tokens: 500,
            ..Usage::default()
        });
        assert!(worst > billed, "{worst} <= {billed}");
        assert_eq!(worst_case_micros(&PriceSnapshot::default(), 1_000, 500), 0);
    }
}
