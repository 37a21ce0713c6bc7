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

use super::openapi;
use crate::{
    chat::budget, db::now, http::error::ApiError, http::session::AuthUser, state::AppState, usage,
};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UsageQuery {
    days: Option<u32>,
}

#[utoipa::path(
    get,
    path = "/api/budget",
    tag = "usage",
    responses(
        (status = 200, description = "This month's spending against the cap.", body = BudgetView),
        (status = 401, response = openapi::Unauthorized),
        (status = 403, response = openapi::Forbidden),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn budget(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> Result<Json<BudgetView>, ApiError> {
    Ok(Json(budget::status(&state.db, user.id, now()).await?))
}

#[utoipa::path(
    get,
    path = "/api/usage",
    tag = "usage",
    params(UsageQuery),
    responses(
        (status = 200, description = "The usage report.", body = UsageReport),
        (status = 401, response = openapi::Unauthorized),
        (status = 403, response = openapi::Forbidden),
        (status = 422, response = openapi::Unprocessable),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn usage_json(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    query: Result<Query<UsageQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<UsageReport>, ApiError> {
    let days = usage::parse_days(days_of(query)?)?;
    Ok(Json(usage::report(&state.db, user.id, now(), days).await?))
}

#[utoipa::path(
    get,
    path = "/api/usage.csv",
    tag = "usage",
    params(UsageQuery),
    responses(
        (status = 200, description = "One row per usage log of the period.", body = String, content_type = "text/csv"),
        (status = 401, response = openapi::Unauthorized),
        (status = 403, response = openapi::Forbidden),
        (status = 422, response = openapi::Unprocessable),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
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
