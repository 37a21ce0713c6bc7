use app::wire::ProviderId;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "conversations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    pub title: String,
    pub provider: ProviderId,
    pub model: String,
    pub temperature: f64,
    pub max_tokens: i32,
    pub system_prompt: Option<String>,
    /// The last message of the branch being shown (migration 9).
    pub current_leaf_id: Option<Uuid>,
    /// Extended thinking: the most tokens the model may think for, when turned on.
    pub thinking_budget_tokens: Option<i32>,
    pub message_count: i32,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub total_tokens: i64,
    pub cost_micros: i64,
    /// The bytes of text its messages hold (for the storage caps).
    pub content_bytes: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// Shown first in the list (migration 12).
    pub pinned: bool,
    /// Out of the list unless archived ones are asked for.
    pub archived: bool,
    /// `rustchat` or `chatgpt` for an imported conversation.
    pub imported_from: Option<String>,
    /// The imported conversation's stable id where it came from (`chatgpt:ID`,
    /// `rustchat:ID`), unique per user: a second import of it is skipped.
    pub source_id: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The model it is set to (`ai_model_configs` is unique on the pair): a send reads the
    /// conversation and its model's row together.
    #[sea_orm(
        belongs_to = "super::ai_model_configs::Entity",
        from = "(Column::Provider, Column::Model)",
        to = "(super::ai_model_configs::Column::Provider, super::ai_model_configs::Column::Model)"
    )]
    Model,
}

impl Related<super::ai_model_configs::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Model.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
