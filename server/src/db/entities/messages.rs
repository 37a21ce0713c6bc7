use app::wire::{MessageStatus, ProviderId, Role};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "messages")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub conversation_id: Uuid,
    pub user_id: Uuid,
    pub parent_id: Option<Uuid>,
    pub role: Role,
    #[sea_orm(column_type = "Text")]
    pub content: String,
    /// What the model thought before answering, apart from the answer: shown, never sent
    /// back upstream as context.
    #[sea_orm(column_type = "Text", nullable)]
    pub reasoning: Option<String>,
    pub status: MessageStatus,
    /// The byte length of each delta persisted so far, in order (a JSON array of numbers):
    /// positive for a piece of `content`, negative for a piece of `reasoning`.
    pub stream_chunks: Option<Json>,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub total_tokens: i64,
    pub cached_tokens: i64,
    pub reasoning_tokens: i64,
    pub cost_micros: i64,
    pub input_micros_per_mtok: Option<i64>,
    pub cached_input_micros_per_mtok: Option<i64>,
    pub output_micros_per_mtok: Option<i64>,
    pub provider: Option<ProviderId>,
    pub model: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub error: Option<String>,
    /// A finished reply's HTML, rendered once with the default settings (Markdown, highlight).
    #[sea_orm(column_type = "Text", nullable)]
    pub content_html: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// Brought in by an import (migration 12): written elsewhere, costing nothing here.
    pub imported: bool,
    /// Our tokenizer's count of `content`, written with it (migration 13): a send reads it
    /// instead of tokenising the history again. None for messages from before and imported
    /// ones, which are counted when read.
    pub content_tokens: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The conversation it is in: a finished reply is published with its conversation's new
    /// totals, read together.
    #[sea_orm(
        belongs_to = "super::conversations::Entity",
        from = "Column::ConversationId",
        to = "super::conversations::Column::Id"
    )]
    Conversation,
}

impl Related<super::conversations::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Conversation.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
