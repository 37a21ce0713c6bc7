//! Per-user chat settings: default model, theme, font size, streaming/markdown/highlight.

use app::wire::{ProviderId, SettingsView};
use sea_orm::{sea_query::OnConflict, DatabaseConnection, EntityTrait, Set};
use serde::Deserialize;
use uuid::Uuid;

use crate::{
    db::{entities::chat_settings, now},
    domain::Invalid,
};

/// What changing settings can fail with.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// The chosen default model cannot be used.
    #[error(transparent)]
    Model(#[from] crate::chat::ChatError),
    #[error("database error: {0}")]
    Database(#[from] sea_orm::DbErr),
}

pub fn settings_view(row: chat_settings::Model) -> SettingsView {
    SettingsView {
        default_provider: row.default_provider,
        default_model: row.default_model,
        theme: row.theme,
        font_size: row.font_size,
        streaming: row.streaming,
        markdown: row.markdown,
        code_highlight: row.code_highlight,
    }
}

/// What a new account starts with: the offline demo, the system theme, everything on.
pub fn defaults() -> SettingsView {
    SettingsView {
        default_provider: ProviderId::Demo.as_str().into(),
        default_model: "demo-offline".into(),
        theme: "system".into(),
        font_size: 16,
        streaming: true,
        markdown: true,
        code_highlight: true,
    }
}

/// The user's settings; the defaults when they have none stored.
pub async fn load(db: &DatabaseConnection, user_id: Uuid) -> Result<SettingsView, SettingsError> {
    Ok(
        match chat_settings::Entity::find_by_id(user_id).one(db).await? {
            Some(row) => settings_view(row),
            None => defaults(),
        },
    )
}

/// The themes a user can pick: `system` follows the operating system's preference.
pub const THEMES: [&str; 3] = ["light", "dark", "system"];
/// The font sizes the server accepts, in pixels (the settings page offers a few of them).
pub const FONT_SIZES: std::ops::RangeInclusive<i32> = 12..=24;

/// A change to the settings (`PUT /api/settings`, the settings form); absent fields stay as
/// they are. A new default model needs a provider and model that can be used now; when only
/// one of the two is given, the other is the stored one.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, utoipa::ToSchema)]
pub struct SettingsChanges {
    pub default_provider: Option<String>,
    pub default_model: Option<String>,
    pub theme: Option<String>,
    pub font_size: Option<i32>,
    pub streaming: Option<bool>,
    pub markdown: Option<bool>,
    pub code_highlight: Option<bool>,
}

fn validate_theme(theme: String) -> Result<String, Invalid> {
    if THEMES.contains(&theme.as_str()) {
        Ok(theme)
    } else {
        Err(Invalid::new(
            "invalid_theme",
            "The theme must be light, dark or system.",
        ))
    }
}

fn validate_font_size(size: i32) -> Result<i32, Invalid> {
    if FONT_SIZES.contains(&size) {
        Ok(size)
    } else {
        Err(Invalid::new(
            "invalid_font_size",
            format!(
                "The font size must be between {} and {} pixels.",
                FONT_SIZES.start(),
                FONT_SIZES.end()
            ),
        ))
    }
}

/// Applies `changes` to the user's settings (creating the row when they have none yet) and
/// returns the result. Nothing is written when a change is invalid.
pub async fn save(
    db: &DatabaseConnection,
    chat: &crate::chat::ChatService,
    user_id: Uuid,
    changes: SettingsChanges,
) -> Result<SettingsView, SettingsError> {
    use chat_settings::Column;
    let mut settings = load(db, user_id).await?;
    // Only the columns this change touches are overwritten, so two saves of different
    // settings at the same moment both stick.
    let mut changed = vec![Column::UpdatedAt];
    if let Some(theme) = changes.theme {
        settings.theme = validate_theme(theme)?;
        changed.push(Column::Theme);
    }
    if let Some(size) = changes.font_size {
        settings.font_size = validate_font_size(size)?;
        changed.push(Column::FontSize);
    }
    if changes.default_provider.is_some() || changes.default_model.is_some() {
        let provider = changes
            .default_provider
            .unwrap_or_else(|| settings.default_provider.clone());
        let model = changes
            .default_model
            .unwrap_or_else(|| settings.default_model.clone());
        // Keeping a default that has since become unavailable is not a change: saving the
        // theme must not fail because a provider's key was removed.
        if provider != settings.default_provider || model != settings.default_model {
            let config = chat.available_model(&provider, &model).await?;
            settings.default_provider = config.provider.as_str().to_owned();
            settings.default_model = config.model;
            changed.extend([Column::DefaultProvider, Column::DefaultModel]);
        }
    }
    if let Some(streaming) = changes.streaming {
        settings.streaming = streaming;
        changed.push(Column::Streaming);
    }
    if let Some(markdown) = changes.markdown {
        settings.markdown = markdown;
        changed.push(Column::Markdown);
    }
    if let Some(code_highlight) = changes.code_highlight {
        settings.code_highlight = code_highlight;
        changed.push(Column::CodeHighlight);
    }

    let row = chat_settings::ActiveModel {
        user_id: Set(user_id),
        default_provider: Set(settings.default_provider.clone()),
        default_model: Set(settings.default_model.clone()),
        theme: Set(settings.theme.clone()),
        font_size: Set(settings.font_size),
        streaming: Set(settings.streaming),
        markdown: Set(settings.markdown),
        code_highlight: Set(settings.code_highlight),
        updated_at: Set(now()),
    };
    // One statement whether or not the row exists: a first save inserts the whole row.
    chat_settings::Entity::insert(row)
        .on_conflict(
            OnConflict::column(Column::UserId)
                .update_columns(changed)
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    // Read back: another save may have changed other settings in the meantime.
    load(db, user_id).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn themes_and_font_sizes_are_checked() {
        assert!(validate_theme("dark".into()).is_ok());
        assert_eq!(
            validate_theme("blue".into()).unwrap_err().code,
            "invalid_theme"
        );
        assert!(validate_font_size(12).is_ok());
        assert!(validate_font_size(24).is_ok());
        assert_eq!(
            validate_font_size(11).unwrap_err().code,
            "invalid_font_size"
        );
        assert_eq!(
            validate_font_size(25).unwrap_err().code,
            "invalid_font_size"
        );
    }
}
