//! Accounts for a team (issue 12): a status on every user (`active`, `pending` approval,
//! `disabled`), personal API tokens (stored as hashes), invites (stored as hashes of their
//! codes) and the audit log of admin and security actions. Existing accounts stay active.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(string(Users::Status).default("active"))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ApiTokens::Table)
                    .col(pk_uuid(ApiTokens::Id))
                    .col(uuid(ApiTokens::UserId))
                    .col(string(ApiTokens::Name))
                    .col(string_uniq(ApiTokens::TokenHash))
                    .col(string(ApiTokens::TokenPrefix))
                    .col(timestamp_with_time_zone(ApiTokens::CreatedAt))
                    .col(timestamp_with_time_zone_null(ApiTokens::LastUsedAt))
                    .col(timestamp_with_time_zone_null(ApiTokens::RevokedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ApiTokens::Table, ApiTokens::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_api_tokens_user")
                    .table(ApiTokens::Table)
                    .col(ApiTokens::UserId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Invites::Table)
                    .col(pk_uuid(Invites::Id))
                    .col(string_uniq(Invites::CodeHash))
                    .col(string_null(Invites::Email))
                    .col(string(Invites::Role).default("user"))
                    // Kept when the admin who made it is deleted: the log still says who.
                    .col(uuid_null(Invites::CreatedBy))
                    .col(timestamp_with_time_zone(Invites::CreatedAt))
                    .col(timestamp_with_time_zone(Invites::ExpiresAt))
                    .col(timestamp_with_time_zone_null(Invites::UsedAt))
                    .col(uuid_null(Invites::UsedBy))
                    .col(timestamp_with_time_zone_null(Invites::RevokedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AuditLog::Table)
                    // UUIDv7: ordered by time, so the id is the paging cursor.
                    .col(pk_uuid(AuditLog::Id))
                    // None for the operator's command line on the host.
                    .col(uuid_null(AuditLog::ActorId))
                    .col(string(AuditLog::Action))
                    .col(string_null(AuditLog::Target))
                    .col(text_null(AuditLog::Details))
                    .col(timestamp_with_time_zone(AuditLog::CreatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            AuditLog::Table.into_iden(),
            Invites::Table.into_iden(),
            ApiTokens::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .drop_column(Users::Status)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Status,
}

#[derive(DeriveIden)]
enum ApiTokens {
    Table,
    Id,
    UserId,
    Name,
    TokenHash,
    TokenPrefix,
    CreatedAt,
    LastUsedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum Invites {
    Table,
    Id,
    CodeHash,
    Email,
    Role,
    CreatedBy,
    CreatedAt,
    ExpiresAt,
    UsedAt,
    UsedBy,
    RevokedAt,
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    ActorId,
    Action,
    Target,
    Details,
    CreatedAt,
}
