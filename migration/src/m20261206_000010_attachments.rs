//! Attachments (issue 14): files a person uploads and then sends with a message. The
//! `attachments` table of the first schema was never used and tied a file to one message at
//! upload time, before any message exists; it is replaced by an upload of its own (with the
//! content's sha256, under which the bytes are stored once, its kind, the text extracted from
//! a document and an image's size) and `message_attachments`, which links a sent message to
//! its files in order, so one upload can go with several messages (an edited or resent
//! prompt) and is removed with the last message that uses it. Models gain `supports_images`,
//! true for every seeded model (all of them take images); a model an admin adds starts without.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261121_000001_create_schema::AiModelConfigs;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The seeded models, all of which accept images (the demo acknowledges them).
const VISION_MODELS: &[&str] = &[
    "demo-offline",
    "gpt-5",
    "gpt-5-mini",
    "gpt-5-nano",
    "gpt-4.1",
    "gpt-4.1-mini",
    "gpt-4o",
    "gpt-4o-mini",
    "o4-mini",
    "claude-opus-4-1",
    "claude-sonnet-4-5",
    "claude-haiku-4-5",
    "gemini-2.5-pro",
    "gemini-2.5-flash",
    "gemini-2.5-flash-lite",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(Attachments::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Attachments::Table)
                    .col(pk_uuid(Attachments::Id))
                    .col(uuid(Attachments::UserId))
                    .col(string(Attachments::FileName))
                    .col(string(Attachments::ContentType))
                    .col(string(Attachments::Kind))
                    .col(big_integer(Attachments::SizeBytes))
                    .col(string(Attachments::Sha256))
                    .col(text_null(Attachments::ExtractedText))
                    .col(integer_null(Attachments::Width))
                    .col(integer_null(Attachments::Height))
                    .col(timestamp_with_time_zone(Attachments::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Attachments::Table, Attachments::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_attachments_user")
                    .table(Attachments::Table)
                    .col(Attachments::UserId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_attachments_sha256")
                    .table(Attachments::Table)
                    .col(Attachments::Sha256)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(MessageAttachments::Table)
                    .col(uuid(MessageAttachments::MessageId))
                    .col(uuid(MessageAttachments::AttachmentId))
                    .col(integer(MessageAttachments::Position))
                    .primary_key(
                        Index::create()
                            .col(MessageAttachments::MessageId)
                            .col(MessageAttachments::AttachmentId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(MessageAttachments::Table, MessageAttachments::MessageId)
                            .to(Messages::Table, Messages::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(MessageAttachments::Table, MessageAttachments::AttachmentId)
                            .to(Attachments::Table, Attachments::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_message_attachments_attachment")
                    .table(MessageAttachments::Table)
                    .col(MessageAttachments::AttachmentId)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(AiModelConfigs::Table)
                    .add_column(boolean(ModelColumns::SupportsImages).default(false))
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::update()
                    .table(AiModelConfigs::Table)
                    .value(ModelColumns::SupportsImages, true)
                    .and_where(
                        Expr::col(AiModelConfigs::Model).is_in(VISION_MODELS.iter().copied()),
                    )
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(AiModelConfigs::Table)
                    .drop_column(ModelColumns::SupportsImages)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(MessageAttachments::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Attachments::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Attachments {
    Table,
    Id,
    UserId,
    FileName,
    ContentType,
    Kind,
    SizeBytes,
    Sha256,
    ExtractedText,
    Width,
    Height,
    CreatedAt,
}

#[derive(DeriveIden)]
enum MessageAttachments {
    Table,
    MessageId,
    AttachmentId,
    Position,
}

#[derive(DeriveIden)]
enum Messages {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum ModelColumns {
    SupportsImages,
}
