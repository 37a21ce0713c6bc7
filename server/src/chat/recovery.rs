//! Start-up recovery: replies left `streaming` by a server that crashed or was killed become
//! `interrupted`, keeping the text that was flushed before it stopped.

use std::time::Duration;

use app::wire::MessageStatus;
use sea_orm::{
    sea_query::{Expr, Query},
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, ExprTrait, QueryFilter,
};

use super::budget::{self, Reservation};
use crate::db::{
    entities::{ai_prompts, messages},
    now,
};

pub const INTERRUPTED_ERROR: &str = "The server stopped before this reply finished.";

/// Marks streaming replies as interrupted. With `quiet_for`, only those not written to for
/// that long (their process is gone; live ones write at least every 30 s); without, all of them
/// (a single server that is starting cannot have live replies).
pub async fn mark_interrupted(
    db: &DatabaseConnection,
    quiet_for: Option<Duration>,
) -> Result<u64, DbErr> {
    let mut stale = messages::Column::Status.eq(MessageStatus::Streaming);
    if let Some(quiet) = quiet_for {
        let cutoff = now() - chrono::Duration::from_std(quiet).unwrap_or_default();
        stale = stale.and(messages::Column::UpdatedAt.lt(cutoff));
    }
    interrupt(db, stale).await
}

/// Marks one streaming reply interrupted: one that no process is generating.
pub async fn mark_message_interrupted(
    db: &DatabaseConnection,
    message_id: uuid::Uuid,
) -> Result<u64, DbErr> {
    let one = messages::Column::Status
        .eq(MessageStatus::Streaming)
        .and(messages::Column::Id.eq(message_id));
    interrupt(db, one).await
}

async fn interrupt(
    db: &DatabaseConnection,
    stale: sea_orm::sea_query::SimpleExpr,
) -> Result<u64, DbErr> {
    let now = now();
    // Each stale request ends in its own write-only transaction that checks it is still
    // streaming, and gives back what it reserved from the budget (it booked no usage).
    let prompts = ai_prompts::Entity::find()
        .filter(ai_prompts::Column::Status.eq(MessageStatus::Streaming))
        .filter(
            ai_prompts::Column::ResponseMessageId.in_subquery(
                Query::select()
                    .column(messages::Column::Id)
                    .from(messages::Entity)
                    .cond_where(stale.clone())
                    .to_owned(),
            ),
        )
        .all(db)
        .await?;
    for prompt in prompts {
        let txn = crate::db::begin_write(db).await?;
        let ended = ai_prompts::Entity::update_many()
            .col_expr(
                ai_prompts::Column::Status,
                Expr::value(MessageStatus::Interrupted),
            )
            .col_expr(ai_prompts::Column::Error, Expr::value(INTERRUPTED_ERROR))
            .col_expr(ai_prompts::Column::CompletedAt, Expr::value(Some(now)))
            .filter(ai_prompts::Column::Id.eq(prompt.id))
            .filter(ai_prompts::Column::Status.eq(MessageStatus::Streaming))
            .exec(&txn)
            .await?;
        if ended.rows_affected == 1 {
            if let Some(month) = prompt.budget_month {
                let reservation = Reservation {
                    month,
                    micros: prompt.reserved_micros,
                };
                budget::settle(&txn, prompt.user_id, &reservation, 0).await?;
            }
        }
        txn.commit().await?;
    }
    let txn = crate::db::begin_write(db).await?;
    let result = messages::Entity::update_many()
        .col_expr(
            messages::Column::Status,
            Expr::value(MessageStatus::Interrupted),
        )
        .col_expr(messages::Column::Error, Expr::value(INTERRUPTED_ERROR))
        .col_expr(messages::Column::UpdatedAt, Expr::value(now))
        .filter(stale)
        .exec(&txn)
        .await?;
    txn.commit().await?;
    if result.rows_affected > 0 {
        tracing::warn!(
            count = result.rows_affected,
            "replies interrupted by a previous stop were marked"
        );
    }
    Ok(result.rows_affected)
}

/// With several processes, one may die while the others run: every minute, replies nobody has
/// written to for 90 s (live ones write at least every 30 s) are marked interrupted.
pub async fn sweep_dead_peers(db: DatabaseConnection) {
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    loop {
        tick.tick().await;
        if let Err(e) = mark_interrupted(&db, Some(Duration::from_secs(90))).await {
            tracing::warn!(error = %e, "sweeping interrupted replies");
        }
    }
}
