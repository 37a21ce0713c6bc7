use sea_orm::entity::prelude::*;

/// One admin or security action. Rows are only ever added.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_log")]
pub struct Model {
    /// UUIDv7: time-ordered, the paging cursor.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// `None`: the operator's command line on the host.
    pub actor_id: Option<Uuid>,
    pub action: String,
    pub target: Option<String>,
    /// JSON text.
    pub details: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
