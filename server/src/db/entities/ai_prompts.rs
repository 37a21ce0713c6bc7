use app::wire::{MessageStatus, ProviderId};
use sea_orm::entity::prelude::*;

/// One request to a provider: the user message that asked, the reply that answered.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ai_prompts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    pub conversation_id: Uuid,
    pub message_id: Uuid,
    pub response_message_id: Option<Uuid>,
    pub provider: ProviderId,
    pub model: String,
    pub status: MessageStatus,
    pub context_tokens: i64,
    #[sea_orm(column_type = "Text", nullable)]
    pub error: Option<String>,
    pub created_at: DateTimeUtc,
    pub completed_at: Option<DateTimeUtc>,
    /// The worst-case cost reserved from the budget for this request, settled at its end.
    pub reserved_micros: i64,
    /// The budget period (`YYYY-MM`) the reservation was taken from.
    pub budget_month: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
