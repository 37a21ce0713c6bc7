//! Finding and moving conversations: full-text search over message text, presets, pinning and
//! archiving, and what import needs to be idempotent.
//!
//! Search lives in the database itself, so its index is written in the same transaction as
//! the text and can never drift from it (the trap of a separate search service):
//! - SQLite: an FTS5 table with external content (`messages`, by rowid), kept by triggers on
//!   insert, on a change of `content`, and on delete (cascades from a deleted conversation
//!   fire them too). The `unicode61` tokenizer folds case and diacritics. The server never
//!   runs `VACUUM`, which could renumber the rowids of a table without an integer key; after
//!   one run by hand, `INSERT INTO messages_fts(messages_fts) VALUES('rebuild')` re-derives it.
//! - PostgreSQL: a generated `tsvector` column (`simple` configuration: no stemming, like
//!   FTS5's tokenizer, so both backends find the same words) with a GIN index. It indexes a
//!   message's first 250,000 characters: a `tsvector` cannot pass 1 MB, and a longer text
//!   (an imported document) must still be stored.
//!
//! `conversations.source_id` is the stable id of an imported conversation (`chatgpt:ID`,
//! `rustchat:ID`): unique per user, so importing the same file twice writes nothing new.

use sea_orm_migration::{prelude::*, schema::*, sea_orm::DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

const SQLITE_SEARCH_UP: &[&str] = &[
    "CREATE VIRTUAL TABLE messages_fts USING fts5(content, content='messages', \
     content_rowid='rowid', tokenize='unicode61 remove_diacritics 2')",
    "INSERT INTO messages_fts(messages_fts) VALUES('rebuild')",
    "CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN \
       INSERT INTO messages_fts(rowid, content) VALUES (new.rowid, new.content); \
     END",
    "CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN \
       INSERT INTO messages_fts(messages_fts, rowid, content) \
         VALUES ('delete', old.rowid, old.content); \
     END",
    "CREATE TRIGGER messages_fts_update AFTER UPDATE OF content ON messages \
       WHEN old.content IS NOT new.content BEGIN \
       INSERT INTO messages_fts(messages_fts, rowid, content) \
         VALUES ('delete', old.rowid, old.content); \
       INSERT INTO messages_fts(rowid, content) VALUES (new.rowid, new.content); \
     END",
];

const SQLITE_SEARCH_DOWN: &[&str] = &[
    "DROP TRIGGER IF EXISTS messages_fts_update",
    "DROP TRIGGER IF EXISTS messages_fts_delete",
    "DROP TRIGGER IF EXISTS messages_fts_insert",
    "DROP TABLE IF EXISTS messages_fts",
];

const POSTGRES_SEARCH_UP: &[&str] = &[
    "ALTER TABLE messages ADD COLUMN search_vector tsvector \
     GENERATED ALWAYS AS (to_tsvector('simple', left(content, 250000))) STORED",
    "CREATE INDEX idx_messages_search ON messages USING GIN (search_vector)",
];

const POSTGRES_SEARCH_DOWN: &[&str] = &[
    "DROP INDEX IF EXISTS idx_messages_search",
    "ALTER TABLE messages DROP COLUMN IF EXISTS search_vector",
];

async fn run(manager: &SchemaManager<'_>, statements: &[&str]) -> Result<(), DbErr> {
    let db = manager.get_connection();
    for statement in statements {
        db.execute_unprepared(statement).await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one column at a time.
        for column in [
            boolean(Conversations::Pinned).default(false).to_owned(),
            boolean(Conversations::Archived).default(false).to_owned(),
            string_null(Conversations::ImportedFrom).to_owned(),
            string_null(Conversations::SourceId).to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Conversations::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Messages::Table)
                    .add_column(boolean(Messages::Imported).default(false))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_conversations_source")
                    .table(Conversations::Table)
                    .col(Conversations::UserId)
                    .col(Conversations::SourceId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // The list: one user's conversations, archived or not, pinned first, newest first.
        manager
            .create_index(
                Index::create()
                    .name("idx_conversations_list")
                    .table(Conversations::Table)
                    .col(Conversations::UserId)
                    .col(Conversations::Archived)
                    .col(Conversations::Pinned)
                    .col(Conversations::UpdatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Presets::Table)
                    .col(pk_uuid(Presets::Id))
                    .col(uuid(Presets::UserId))
                    .col(string(Presets::Name))
                    .col(string(Presets::Provider))
                    .col(string(Presets::Model))
                    .col(double(Presets::Temperature))
                    .col(integer(Presets::MaxTokens))
                    .col(text_null(Presets::SystemPrompt))
                    .col(timestamp_with_time_zone(Presets::CreatedAt))
                    .col(timestamp_with_time_zone(Presets::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Presets::Table, Presets::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_presets_user")
                    .table(Presets::Table)
                    .col(Presets::UserId)
                    .col(Presets::Name)
                    .to_owned(),
            )
            .await?;
        match manager.get_database_backend() {
            DbBackend::Sqlite => run(manager, SQLITE_SEARCH_UP).await,
            DbBackend::Postgres => run(manager, POSTGRES_SEARCH_UP).await,
            _ => Err(DbErr::Migration(
                "only SQLite and PostgreSQL are supported".into(),
            )),
        }
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        match manager.get_database_backend() {
            DbBackend::Sqlite => run(manager, SQLITE_SEARCH_DOWN).await?,
            DbBackend::Postgres => run(manager, POSTGRES_SEARCH_DOWN).await?,
            _ => {}
        }
        manager
            .drop_table(Table::drop().table(Presets::Table).to_owned())
            .await?;
        for name in ["idx_conversations_list", "idx_conversations_source"] {
            manager
                .drop_index(
                    Index::drop()
                        .name(name)
                        .table(Conversations::Table)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Messages::Table)
                    .drop_column(Messages::Imported)
                    .to_owned(),
            )
            .await?;
        for column in [
            Conversations::SourceId,
            Conversations::ImportedFrom,
            Conversations::Archived,
            Conversations::Pinned,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Conversations::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Conversations {
    Table,
    UserId,
    UpdatedAt,
    Pinned,
    Archived,
    ImportedFrom,
    SourceId,
}

#[derive(DeriveIden)]
enum Messages {
    Table,
    Imported,
}

#[derive(DeriveIden)]
enum Presets {
    Table,
    Id,
    UserId,
    Name,
    Provider,
    Model,
    Temperature,
    MaxTokens,
    SystemPrompt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}
