//! Presets: `/api/presets` and `/api/presets/{id}`, the signed-in user's own.

use app::wire::{PresetInput, PresetView};
use axum::{
    extract::{Path, State},
    http::StatusCode,
    Json,
};
use uuid::Uuid;

use super::{api_json::ApiJson, openapi};
use crate::{
    chat::presets::preset_view,
    http::{error::ApiError, session::AuthUser},
    state::AppState,
};

fn id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| ApiError::NotFound)
}

#[utoipa::path(
    get,
    path = "/api/presets",
    tag = "presets",
    responses(
        (status = 200, description = "The user's presets, by name.", body = Vec<PresetView>),
        (status = 401, response = openapi::Unauthorized),
        (status = 403, response = openapi::Forbidden),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> Result<Json<Vec<PresetView>>, ApiError> {
    Ok(Json(state.chat.presets(user.id).await?))
}

#[utoipa::path(
    post,
    path = "/api/presets",
    tag = "presets",
    request_body = PresetInput,
    responses(
        (status = 201, description = "The new preset. `name`, `provider` and `model` are required.", body = PresetView),
        (status = 400, response = openapi::BadRequest),
        (status = 401, response = openapi::Unauthorized),
        (status = 403, response = openapi::Forbidden),
        (status = 413, response = openapi::PayloadTooLarge),
        (status = 422, response = openapi::Unprocessable),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn create(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiJson(input): ApiJson<PresetInput>,
) -> Result<(StatusCode, Json<PresetView>), ApiError> {
    let view = state.chat.create_preset(user.id, input).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

#[utoipa::path(
    get,
    path = "/api/presets/{id}",
    tag = "presets",
    params(("id" = Uuid, Path, description = "A preset id.")),
    responses(
        (status = 200, description = "The preset.", body = PresetView),
        (status = 401, response = openapi::Unauthorized),
        (status = 403, response = openapi::Forbidden),
        (status = 404, response = openapi::NotFound),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn get(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(raw): Path<String>,
) -> Result<Json<PresetView>, ApiError> {
    Ok(Json(preset_view(
        state.chat.preset(user.id, id(&raw)?).await?,
    )))
}

#[utoipa::path(
    patch,
    path = "/api/presets/{id}",
    tag = "presets",
    params(("id" = Uuid, Path, description = "A preset id.")),
    request_body = PresetInput,
    responses(
        (status = 200, description = "The preset as changed; absent fields stay.", body = PresetView),
        (status = 400, response = openapi::BadRequest),
        (status = 401, response = openapi::Unauthorized),
        (status = 403, response = openapi::Forbidden),
        (status = 404, response = openapi::NotFound),
        (status = 413, response = openapi::PayloadTooLarge),
        (status = 422, response = openapi::Unprocessable),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn update(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(raw): Path<String>,
    ApiJson(input): ApiJson<PresetInput>,
) -> Result<Json<PresetView>, ApiError> {
    Ok(Json(
        state.chat.update_preset(user.id, id(&raw)?, input).await?,
    ))
}

#[utoipa::path(
    delete,
    path = "/api/presets/{id}",
    tag = "presets",
    params(("id" = Uuid, Path, description = "A preset id.")),
    responses(
        (status = 204, description = "Deleted; conversations made from it keep their values."),
        (status = 401, response = openapi::Unauthorized),
        (status = 403, response = openapi::Forbidden),
        (status = 404, response = openapi::NotFound),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn delete(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(raw): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.chat.delete_preset(user.id, id(&raw)?).await?;
    Ok(StatusCode::NO_CONTENT)
}
