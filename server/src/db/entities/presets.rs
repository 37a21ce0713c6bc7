use app::wire::ProviderId;
use sea_orm::entity::prelude::*;

/// Saved settings a conversation can start from (migration 12).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "presets")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    pub name: String,
    pub provider: ProviderId,
    pub model: String,
    pub temperature: f64,
    pub max_tokens: i32,
    #[sea_orm(column_type = "Text", nullable)]
    pub system_prompt: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
