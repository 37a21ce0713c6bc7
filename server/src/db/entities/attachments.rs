use sea_orm::entity::prelude::*;

/// A file a person uploaded. Its bytes live in the attachment store under `sha256`, once for
/// every upload of the same content; a document's text is extracted once, at upload.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "attachments")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    pub file_name: String,
    pub content_type: String,
    pub kind: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub extracted_text: Option<String>,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
