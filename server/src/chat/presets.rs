//! Presets: a name for a provider, model, temperature, reply length and system prompt, that a
//! new conversation copies (`POST /api/conversations {preset_id}`). Always the owner's own:
//! another user's preset is not found. A preset keeps its values when its model is later
//! turned off; a conversation from it then answers `model_unavailable`, as choosing that model
//! by hand would.

use app::wire::{PresetInput, PresetView};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set,
};
use uuid::Uuid;

use super::{
    conversations::{
        default_max_tokens, validate_max_tokens, validate_system_prompt, validate_temperature,
    },
    ChatError, ChatService,
};
use crate::{
    db::{entities::presets, now},
    domain::Invalid,
};

const MAX_NAME_CHARS: usize = 100;
/// Generous for people, a wall for a script.
const MAX_PRESETS_PER_USER: u64 = 200;

fn validate_name(name: &str) -> Result<String, Invalid> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(Invalid::new(
            "invalid_name",
            "A preset's name needs 1 to 100 characters.",
        ));
    }
    Ok(name.to_owned())
}

pub fn preset_view(p: presets::Model) -> PresetView {
    PresetView {
        id: p.id,
        name: p.name,
        provider: p.provider,
        model: p.model,
        temperature: p.temperature,
        max_tokens: p.max_tokens,
        system_prompt: p.system_prompt,
        created_at: p.created_at,
        updated_at: p.updated_at,
    }
}

impl ChatService {
    /// The user's presets, by name.
    pub async fn presets(&self, user_id: Uuid) -> Result<Vec<PresetView>, ChatError> {
        Ok(presets::Entity::find()
            .filter(presets::Column::UserId.eq(user_id))
            .order_by_asc(presets::Column::Name)
            .order_by_asc(presets::Column::Id)
            .all(&self.db)
            .await?
            .into_iter()
            .map(preset_view)
            .collect())
    }

    pub async fn preset(&self, user_id: Uuid, id: Uuid) -> Result<presets::Model, ChatError> {
        presets::Entity::find_by_id(id)
            .filter(presets::Column::UserId.eq(user_id))
            .one(&self.db)
            .await?
            .ok_or(ChatError::NotFound)
    }

    pub async fn create_preset(
        &self,
        user_id: Uuid,
        input: PresetInput,
    ) -> Result<PresetView, ChatError> {
        let owned = presets::Entity::find()
            .filter(presets::Column::UserId.eq(user_id))
            .count(&self.db)
            .await?;
        if owned >= MAX_PRESETS_PER_USER {
            return Err(ChatError::invalid(
                "too_many_presets",
                format!("An account can keep {MAX_PRESETS_PER_USER} presets. Delete some first."),
            ));
        }
        let name = validate_name(input.name.as_deref().unwrap_or_default())?;
        let (Some(provider), Some(model)) = (input.provider, input.model) else {
            return Err(ChatError::invalid(
                "model_unavailable",
                "A preset needs a provider and a model.",
            ));
        };
        let model = self.available_model(&provider, &model).await?;
        let max_tokens = match input.max_tokens {
            Some(m) => validate_max_tokens(m, &model)?,
            None => default_max_tokens(&model),
        };
        let now = now();
        let preset = presets::ActiveModel {
            id: Set(Uuid::now_v7()),
            user_id: Set(user_id),
            name: Set(name),
            provider: Set(model.provider),
            model: Set(model.model.clone()),
            temperature: Set(validate_temperature(input.temperature.unwrap_or(0.7))?),
            max_tokens: Set(max_tokens),
            system_prompt: Set(validate_system_prompt(input.system_prompt)?),
            created_at: Set(now),
            updated_at: Set(now),
        };
        let _turn = self.writes.enter().await;
        Ok(preset_view(preset.insert(&self.db).await?))
    }

    /// Absent fields stay; a new model is checked as a new conversation's would be, and a
    /// reply length past what it can write falls back to its default.
    pub async fn update_preset(
        &self,
        user_id: Uuid,
        id: Uuid,
        input: PresetInput,
    ) -> Result<PresetView, ChatError> {
        let current = self.preset(user_id, id).await?;
        let provider = input
            .provider
            .unwrap_or_else(|| current.provider.as_str().to_owned());
        let model_id = input.model.unwrap_or_else(|| current.model.clone());
        let model_changed = provider != current.provider.as_str() || model_id != current.model;
        let model = if model_changed {
            self.available_model(&provider, &model_id).await?
        } else {
            self.model_config(&provider, &model_id).await?
        };
        let mut active: presets::ActiveModel = current.clone().into();
        if let Some(name) = input.name {
            active.name = Set(validate_name(&name)?);
        }
        if model_changed {
            active.provider = Set(model.provider);
            active.model = Set(model.model.clone());
        }
        match input.max_tokens {
            Some(m) => active.max_tokens = Set(validate_max_tokens(m, &model)?),
            None if current.max_tokens > model.max_output_tokens => {
                active.max_tokens = Set(default_max_tokens(&model))
            }
            None => {}
        }
        if let Some(t) = input.temperature {
            active.temperature = Set(validate_temperature(t)?);
        }
        if input.system_prompt.is_some() {
            active.system_prompt = Set(validate_system_prompt(input.system_prompt)?);
        }
        active.updated_at = Set(now());
        let _turn = self.writes.enter().await;
        Ok(preset_view(active.update(&self.db).await?))
    }

    pub async fn delete_preset(&self, user_id: Uuid, id: Uuid) -> Result<(), ChatError> {
        let _turn = self.writes.enter().await;
        let deleted = presets::Entity::delete_many()
            .filter(presets::Column::Id.eq(id))
            .filter(presets::Column::UserId.eq(user_id))
            .exec(&self.db)
            .await?;
        if deleted.rows_affected == 0 {
            return Err(ChatError::NotFound);
        }
        Ok(())
    }
}
