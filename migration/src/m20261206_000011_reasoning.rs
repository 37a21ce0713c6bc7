//! Reasoning kept apart from the answer: `messages.reasoning` holds what a model thought
//! before answering (never sent back upstream as context), and
//! `conversations.thinking_budget_tokens` turns on extended thinking for the conversation.
//! One column per statement: SQLite alters one column at a time.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Messages::Table)
                    .add_column(text_null(Messages::Reasoning))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Conversations::Table)
                    .add_column(integer_null(Conversations::ThinkingBudgetTokens))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Conversations::Table)
                    .drop_column(Conversations::ThinkingBudgetTokens)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Messages::Table)
                    .drop_column(Messages::Reasoning)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Messages {
    Table,
    Reasoning,
}

#[derive(DeriveIden)]
enum Conversations {
    Table,
    ThinkingBudgetTokens,
}
