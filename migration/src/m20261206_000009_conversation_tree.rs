//! The conversation tree: every message follows its `parent_id` (null for a first message),
//! and `conversations.current_leaf_id` is the last message of the branch being shown.
//!
//! Conversations written before edits and regenerations existed are single branches: each
//! message's parent is the one before it (the send path always set it so; any message left
//! without one is linked here), and the current leaf is the newest message.
//!
//! A second offline model, `demo-brief`, lets a reply be regenerated with another model (and
//! the browser tests show it) on a server with no keys.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261121_000001_create_schema::AiModelConfigs;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Conversations::Table)
                    .add_column(uuid_null(Conversations::CurrentLeafId))
                    .to_owned(),
            )
            .await?;
        // A message's siblings (the other children of its parent) are read on every view.
        manager
            .create_index(
                Index::create()
                    .name("idx_messages_conversation_parent")
                    .table(Messages::Table)
                    .col(Messages::ConversationId)
                    .col(Messages::ParentId)
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        // Ids are UUIDv7: ordering by id is ordering by creation.
        db.execute_unprepared(
            "UPDATE messages SET parent_id = (SELECT earlier.id FROM messages earlier \
             WHERE earlier.conversation_id = messages.conversation_id \
             AND earlier.id < messages.id ORDER BY earlier.id DESC LIMIT 1) \
             WHERE parent_id IS NULL",
        )
        .await?;
        db.execute_unprepared(
            "UPDATE conversations SET current_leaf_id = (SELECT m.id FROM messages m \
             WHERE m.conversation_id = conversations.id ORDER BY m.id DESC LIMIT 1)",
        )
        .await?;
        let now = chrono::Utc::now();
        let mut brief = Query::insert();
        brief
            .into_table(AiModelConfigs::Table)
            .columns([
                AiModelConfigs::Id,
                AiModelConfigs::Provider,
                AiModelConfigs::Model,
                AiModelConfigs::DisplayName,
                AiModelConfigs::ContextWindow,
                AiModelConfigs::MaxOutputTokens,
                AiModelConfigs::InputMicrosPerMtok,
                AiModelConfigs::CachedInputMicrosPerMtok,
                AiModelConfigs::OutputMicrosPerMtok,
                AiModelConfigs::Enabled,
                AiModelConfigs::SortOrder,
                AiModelConfigs::CreatedAt,
                AiModelConfigs::UpdatedAt,
            ])
            .values_panic([
                uuid::Uuid::now_v7().into(),
                "demo".into(),
                "demo-brief".into(),
                "Offline demo, brief (free)".into(),
                128_000.into(),
                1_024.into(),
                0i64.into(),
                Some(0i64).into(),
                0i64.into(),
                true.into(),
                // Beside the main demo (ties go by name, which puts the main one first).
                0.into(),
                now.into(),
                now.into(),
            ]);
        manager.exec_stmt(brief).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut brief = Query::delete();
        brief
            .from_table(AiModelConfigs::Table)
            .and_where(Expr::col(AiModelConfigs::Model).eq("demo-brief"));
        manager.exec_stmt(brief).await?;
        manager
            .drop_index(
                Index::drop()
                    .name("idx_messages_conversation_parent")
                    .table(Messages::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Conversations::Table)
                    .drop_column(Conversations::CurrentLeafId)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Conversations {
    Table,
    CurrentLeafId,
}

#[derive(DeriveIden)]
enum Messages {
    Table,
    ConversationId,
    ParentId,
}
