use app::wire::ProviderId;
use sea_orm::entity::prelude::*;

/// A model as offered to users, with its list prices in micro-dollars per million tokens.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ai_model_configs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub provider: ProviderId,
    pub model: String,
    pub display_name: String,
    pub context_window: i32,
    pub max_output_tokens: i32,
    pub input_micros_per_mtok: i64,
    pub cached_input_micros_per_mtok: Option<i64>,
    pub output_micros_per_mtok: i64,
    pub enabled: bool,
    /// Whether the model takes images; an image sent to one that does not is refused.
    pub supports_images: bool,
    pub sort_order: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
