//! The model catalog: `ai_model_configs` rows that are enabled and whose provider is
//! configured on this server.

use app::wire::ModelView;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use super::{views::model_view, ChatError, ChatService};
use crate::db::entities::ai_model_configs;

impl ChatService {
    pub async fn available_models(&self) -> Result<Vec<ai_model_configs::Model>, ChatError> {
        let rows = ai_model_configs::Entity::find()
            .filter(ai_model_configs::Column::Enabled.eq(true))
            .order_by_asc(ai_model_configs::Column::SortOrder)
            .order_by_asc(ai_model_configs::Column::DisplayName)
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .filter(|m| self.providers.is_configured(m.provider))
            .collect())
    }

    pub async fn model_views(&self) -> Result<Vec<ModelView>, ChatError> {
        Ok(self
            .available_models()
            .await?
            .into_iter()
            .map(model_view)
            .collect())
    }

    /// The model's row whatever its state (for prices and limits of existing conversations).
    pub async fn model_config(
        &self,
        provider: &str,
        model: &str,
    ) -> Result<ai_model_configs::Model, ChatError> {
        let row = ai_model_configs::Entity::find()
            .filter(ai_model_configs::Column::Provider.eq(provider))
            .filter(ai_model_configs::Column::Model.eq(model))
            .one(&self.db)
            .await?;
        known(model, row)
    }

    /// The model if it can be used right now: known, enabled, and its provider configured.
    pub async fn available_model(
        &self,
        provider: &str,
        model: &str,
    ) -> Result<ai_model_configs::Model, ChatError> {
        self.usable(self.model_config(provider, model).await?)
    }

    /// The model's row if it can be used right now: enabled, and its provider configured.
    pub(super) fn usable(
        &self,
        config: ai_model_configs::Model,
    ) -> Result<ai_model_configs::Model, ChatError> {
        if !config.enabled {
            return Err(ChatError::invalid(
                "model_unavailable",
                format!(
                    "{} is disabled on this server. Pick another model.",
                    config.display_name
                ),
            ));
        }
        if !self.providers.is_configured(config.provider) {
            return Err(ChatError::invalid(
                "model_unavailable",
                format!(
                    "{} is not configured on this server (no API key). Pick another model.",
                    config.provider.in_sentence()
                ),
            ));
        }
        Ok(config)
    }
}

/// The row read for `model`, or the refusal of a model this server does not know.
pub(super) fn known(
    model: &str,
    row: Option<ai_model_configs::Model>,
) -> Result<ai_model_configs::Model, ChatError> {
    row.ok_or_else(|| {
        ChatError::invalid(
            "model_unavailable",
            format!("The model {model} is not known to this server."),
        )
    })
}
