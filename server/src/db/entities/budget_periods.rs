use sea_orm::entity::prelude::*;

/// What a user has spent (settled) and has reserved (replies still streaming) in one calendar
/// month, in micro-dollars.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "budget_periods")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: Uuid,
    /// `YYYY-MM`, UTC.
    #[sea_orm(primary_key, auto_increment = false)]
    pub month: String,
    pub spent_micros: i64,
    pub reserved_micros: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
