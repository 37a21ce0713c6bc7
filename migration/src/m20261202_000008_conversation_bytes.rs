//! `conversations.content_bytes`: the bytes of text its messages hold, kept up to date by the
//! send and the reply's final write, so the storage caps per conversation and per account are
//! checked without reading any message. Filled in for the conversations that exist.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Conversations::Table)
                    .add_column(big_integer(Conversations::ContentBytes).default(0))
                    .to_owned(),
            )
            .await?;
        // Bytes, not characters: what the caps count is what the server holds.
        let bytes = match manager.get_database_backend() {
            sea_orm::DatabaseBackend::Postgres => "OCTET_LENGTH(content)",
            _ => "LENGTH(CAST(content AS BLOB))",
        };
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "UPDATE conversations SET content_bytes = COALESCE((SELECT SUM({bytes}) \
                 FROM messages WHERE messages.conversation_id = conversations.id), 0)"
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Conversations::Table)
                    .drop_column(Conversations::ContentBytes)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Conversations {
    Table,
    ContentBytes,
}
