//! Monthly budgets that cannot be overdrawn (issue 6).
//!
//! - `users.monthly_budget_micros`: the user's cap per calendar month (UTC); NULL = no cap.
//! - `instance_settings`: one row (id 1) of instance-wide settings; here the budget new
//!   accounts start with.
//! - `budget_periods`: per user and month, what has been spent (settled replies) and what is
//!   reserved by replies still streaming. A send reserves its worst case with one conditional
//!   UPDATE (`spent + reserved + worst <= budget`), so the check and the reservation are one
//!   atomic step in the database.
//! - `ai_prompts.reserved_micros` / `budget_month`: what a prompt reserved and in which period,
//!   so completion (or start-up recovery) settles exactly that.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE.
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(big_integer_null(Users::MonthlyBudgetMicros))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(AiPrompts::Table)
                    .add_column(big_integer(AiPrompts::ReservedMicros).default(0))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(AiPrompts::Table)
                    .add_column(string_null(AiPrompts::BudgetMonth))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(InstanceSettings::Table)
                    .col(integer(InstanceSettings::Id).primary_key())
                    .col(big_integer_null(
                        InstanceSettings::DefaultMonthlyBudgetMicros,
                    ))
                    .col(timestamp_with_time_zone(InstanceSettings::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::insert()
                    .into_table(InstanceSettings::Table)
                    .columns([
                        InstanceSettings::Id,
                        InstanceSettings::DefaultMonthlyBudgetMicros,
                        InstanceSettings::UpdatedAt,
                    ])
                    .values_panic([
                        1.into(),
                        Option::<i64>::None.into(),
                        chrono::Utc::now().into(),
                    ])
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(BudgetPeriods::Table)
                    .col(uuid(BudgetPeriods::UserId))
                    .col(string(BudgetPeriods::Month))
                    .col(big_integer(BudgetPeriods::SpentMicros).default(0))
                    .col(big_integer(BudgetPeriods::ReservedMicros).default(0))
                    .primary_key(
                        Index::create()
                            .col(BudgetPeriods::UserId)
                            .col(BudgetPeriods::Month),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(BudgetPeriods::Table, BudgetPeriods::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_usage_logs_created")
                    .table(UsageLogs::Table)
                    .col(UsageLogs::CreatedAt)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_usage_logs_created")
                    .table(UsageLogs::Table)
                    .to_owned(),
            )
            .await?;
        for table in [
            BudgetPeriods::Table.into_iden(),
            InstanceSettings::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        for (table, column) in [
            (
                AiPrompts::Table.into_iden(),
                AiPrompts::BudgetMonth.into_iden(),
            ),
            (
                AiPrompts::Table.into_iden(),
                AiPrompts::ReservedMicros.into_iden(),
            ),
            (
                Users::Table.into_iden(),
                Users::MonthlyBudgetMicros.into_iden(),
            ),
        ] {
            manager
                .alter_table(Table::alter().table(table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    MonthlyBudgetMicros,
}

#[derive(DeriveIden)]
enum AiPrompts {
    Table,
    ReservedMicros,
    BudgetMonth,
}

#[derive(DeriveIden)]
enum UsageLogs {
    Table,
    CreatedAt,
}

#[derive(DeriveIden)]
enum InstanceSettings {
    Table,
    Id,
    DefaultMonthlyBudgetMicros,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum BudgetPeriods {
    Table,
    UserId,
    Month,
    SpentMicros,
    ReservedMicros,
}
