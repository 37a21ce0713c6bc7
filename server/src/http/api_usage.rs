//! The signed-in user's spending: `GET /api/budget` (this month against the cap),
//! `GET /api/usage?days=N` (the usage page's figures as JSON) and `GET /api/usage.csv`.

use app::wire::{BudgetView, UsageReport};
use axum::{
    extract::{Query, State},
    http::header,
    response::{IntoResponse, Response},
    Json,
};
use serde::Deserialize;

use crate::{
    chat::budget, db::now, http::error::ApiError, http::session::AuthUser, state::AppState, usage,
};

#[derive(Debug, Deserialize)]
pub struct UsageQuery {
    days: Option<u32>,
}

pub async fn budget(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> Result<Json<BudgetView>, ApiError> {
    Ok(Json(budget::status(&state.db, user.id, now()).await?))
}

pub async fn usage_json(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    query: Result<Query<UsageQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<UsageReport>, ApiError> {
    let days = usage::parse_days(days_of(query)?)?;
    Ok(Json(usage::report(&state.db, user.id, now(), days).await?))
}

pub async fn usage_csv(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    query: Result<Query<UsageQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let days = usage::parse_days(days_of(query)?)?;
    let now = now();
    let body = usage::csv(&state.db, user.id, now, days).await?;
    let file = format!("attachment; filename=\"usage-{}.csv\"", now.date_naive());
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, file),
        ],
        body,
    )
        .into_response())
}

fn days_of(
    query: Result<Query<UsageQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Option<u32>, ApiError> {
    query
        .map(|Query(q)| q.days)
        .map_err(|_| ApiError::validation("invalid_days", "days must be a whole number of days."))
}
