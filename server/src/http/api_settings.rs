//! The user's chat settings: `GET, PUT /api/settings` for scripts and other clients, and
//! `POST /settings/save`, where the settings page's plain HTML form posts (it works without
//! any script: the answer is a redirect back to the page with `?saved=1` or `?error=CODE`).

use app::wire::SettingsView;
use axum::{
    extract::State,
    response::{IntoResponse, Redirect, Response},
    Form, Json,
};
use serde::Deserialize;

use super::{api_json::ApiJson, openapi};
use crate::{
    http::error::ApiError,
    http::session::AuthUser,
    settings::{self, SettingsChanges},
    state::AppState,
};

#[utoipa::path(
    get,
    path = "/api/settings",
    tag = "settings",
    responses(
        (status = 200, description = "The user's chat settings.", body = SettingsView),
        (status = 401, response = openapi::Unauthorized),
        (status = 403, response = openapi::Forbidden),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn get_settings(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> Result<Json<SettingsView>, ApiError> {
    Ok(Json(settings::load(&state.db, user.id).await?))
}

#[utoipa::path(
    put,
    path = "/api/settings",
    tag = "settings",
    request_body = SettingsChanges,
    responses(
        (status = 200, description = "The settings as saved.", body = SettingsView),
        (status = 400, response = openapi::BadRequest),
        (status = 401, response = openapi::Unauthorized),
        (status = 403, response = openapi::Forbidden),
        (status = 413, response = openapi::PayloadTooLarge),
        (status = 422, response = openapi::Unprocessable),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn put_settings(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiJson(changes): ApiJson<SettingsChanges>,
) -> Result<Json<SettingsView>, ApiError> {
    Ok(Json(
        settings::save(&state.db, &state.chat, user.id, changes).await?,
    ))
}

/// The settings page's form. Every field is text; an unchecked checkbox is not sent at all,
/// so an absent toggle means "off".
#[derive(Debug, Default, Deserialize)]
pub struct SettingsForm {
    /// `provider/model`
    default_model: Option<String>,
    theme: Option<String>,
    font_size: Option<String>,
    streaming: Option<String>,
    markdown: Option<String>,
    code_highlight: Option<String>,
}

impl SettingsForm {
    fn into_changes(self) -> Result<SettingsChanges, ApiError> {
        let (default_provider, default_model) = match self.default_model.filter(|v| !v.is_empty()) {
            // Provider ids have no slash; model ids may (`openai/gpt-4o` on OpenRouter).
            Some(value) => match value.split_once('/') {
                Some((provider, model)) if !provider.is_empty() && !model.is_empty() => {
                    (Some(provider.to_owned()), Some(model.to_owned()))
                }
                _ => {
                    return Err(ApiError::validation(
                        "model_unavailable",
                        "Pick a model from the list.",
                    ))
                }
            },
            None => (None, None),
        };
        let font_size = match self.font_size.filter(|v| !v.is_empty()) {
            Some(raw) => Some(raw.trim().parse::<i32>().map_err(|_| {
                ApiError::validation("invalid_font_size", "The font size must be a number.")
            })?),
            None => None,
        };
        Ok(SettingsChanges {
            default_provider,
            default_model,
            theme: self.theme.filter(|v| !v.is_empty()),
            font_size,
            streaming: Some(self.streaming.is_some()),
            markdown: Some(self.markdown.is_some()),
            code_highlight: Some(self.code_highlight.is_some()),
        })
    }
}

pub async fn save_form(
    State(state): State<AppState>,
    user: Result<AuthUser, ApiError>,
    Form(form): Form<SettingsForm>,
) -> Response {
    let user = match user {
        Ok(AuthUser(user)) => user,
        Err(e) if e.code() == "session_expired" => {
            return Redirect::to("/login?error=session_expired").into_response()
        }
        Err(_) => return Redirect::to("/login").into_response(),
    };
    let saved = match form.into_changes() {
        Ok(changes) => settings::save(&state.db, &state.chat, user.id, changes)
            .await
            .map_err(ApiError::from),
        Err(e) => Err(e),
    };
    match saved {
        Ok(_) => Redirect::to("/settings?saved=1").into_response(),
        Err(error) => {
            let code = match error {
                error @ (ApiError::Database(_) | ApiError::Internal(_)) => {
                    tracing::error!(%error, "settings form failed");
                    "server_error"
                }
                other => other.code(),
            };
            Redirect::to(&format!("/settings?error={code}")).into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_checkboxes_are_off_and_the_model_splits_at_the_first_slash() {
        let form = SettingsForm {
            default_model: Some("openai/meta/llama-3".into()),
            theme: Some("dark".into()),
            font_size: Some("18".into()),
            streaming: Some("on".into()),
            ..Default::default()
        };
        let changes = form.into_changes().unwrap();
        assert_eq!(changes.default_provider.as_deref(), Some("openai"));
        assert_eq!(changes.default_model.as_deref(), Some("meta/llama-3"));
        assert_eq!(changes.font_size, Some(18));
        assert_eq!(changes.streaming, Some(true));
        assert_eq!(changes.markdown, Some(false));
        assert_eq!(changes.code_highlight, Some(false));
    }

    #[test]
    fn malformed_fields_get_their_error_codes() {
        let form = SettingsForm {
            default_model: Some("no-slash".into()),
            ..Default::default()
        };
        assert_eq!(form.into_changes().unwrap_err().code(), "model_unavailable");
        let form = SettingsForm {
            font_size: Some("big".into()),
            ..Default::default()
        };
        assert_eq!(form.into_changes().unwrap_err().code(), "invalid_font_size");
    }
}
