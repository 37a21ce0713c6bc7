//! The whole first schema. Ids are UUIDs (v7, so they sort by creation), money is integer
//! micro-dollars (`*_micros`), token counts are 64-bit. Every table that holds a user's data
//! carries `user_id` so queries can authorise by owner without a join.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(pk_uuid(Users::Id))
                    .col(string_uniq(Users::Email))
                    .col(string(Users::Name))
                    .col(string(Users::PasswordHash))
                    .col(string(Users::Role).default("user"))
                    .col(timestamp_with_time_zone(Users::CreatedAt))
                    .col(timestamp_with_time_zone(Users::UpdatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ChatSettings::Table)
                    .col(pk_uuid(ChatSettings::UserId))
                    .col(string(ChatSettings::DefaultProvider))
                    .col(string(ChatSettings::DefaultModel))
                    .col(string(ChatSettings::Theme).default("system"))
                    .col(integer(ChatSettings::FontSize).default(16))
                    .col(boolean(ChatSettings::Streaming).default(true))
                    .col(boolean(ChatSettings::Markdown).default(true))
                    .col(boolean(ChatSettings::CodeHighlight).default(true))
                    .col(timestamp_with_time_zone(ChatSettings::UpdatedAt))
                    .foreign_key(&mut owner_fk(ChatSettings::Table, ChatSettings::UserId))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Conversations::Table)
                    .col(pk_uuid(Conversations::Id))
                    .col(uuid(Conversations::UserId))
                    .col(string(Conversations::Title))
                    .col(string(Conversations::Provider))
                    .col(string(Conversations::Model))
                    .col(double(Conversations::Temperature))
                    .col(integer(Conversations::MaxTokens))
                    .col(text_null(Conversations::SystemPrompt))
                    .col(integer(Conversations::MessageCount).default(0))
                    .col(big_integer(Conversations::PromptTokens).default(0))
                    .col(big_integer(Conversations::CompletionTokens).default(0))
                    .col(big_integer(Conversations::TotalTokens).default(0))
                    .col(big_integer(Conversations::CostMicros).default(0))
                    .col(timestamp_with_time_zone(Conversations::CreatedAt))
                    .col(timestamp_with_time_zone(Conversations::UpdatedAt))
                    .foreign_key(&mut owner_fk(Conversations::Table, Conversations::UserId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_conversations_user_updated")
                    .table(Conversations::Table)
                    .col(Conversations::UserId)
                    .col(Conversations::UpdatedAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Messages::Table)
                    .col(pk_uuid(Messages::Id))
                    .col(uuid(Messages::ConversationId))
                    .col(uuid(Messages::UserId))
                    .col(uuid_null(Messages::ParentId))
                    .col(string(Messages::Role))
                    .col(text(Messages::Content))
                    .col(string(Messages::Status))
                    .col(boolean(Messages::IsStreaming).default(false))
                    .col(json_null(Messages::StreamChunks))
                    .col(big_integer(Messages::PromptTokens).default(0))
                    .col(big_integer(Messages::CompletionTokens).default(0))
                    .col(big_integer(Messages::TotalTokens).default(0))
                    .col(big_integer(Messages::CachedTokens).default(0))
                    .col(big_integer(Messages::ReasoningTokens).default(0))
                    .col(big_integer(Messages::CostMicros).default(0))
                    .col(big_integer_null(Messages::InputMicrosPerMtok))
                    .col(big_integer_null(Messages::CachedInputMicrosPerMtok))
                    .col(big_integer_null(Messages::OutputMicrosPerMtok))
                    .col(string_null(Messages::Provider))
                    .col(string_null(Messages::Model))
                    .col(text_null(Messages::Error))
                    .col(timestamp_with_time_zone(Messages::CreatedAt))
                    .col(timestamp_with_time_zone(Messages::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Messages::Table, Messages::ConversationId)
                            .to(Conversations::Table, Conversations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(&mut owner_fk(Messages::Table, Messages::UserId))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Messages::Table, Messages::ParentId)
                            .to(Messages::Table, Messages::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_messages_conversation_created")
                    .table(Messages::Table)
                    .col(Messages::ConversationId)
                    .col(Messages::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_messages_status")
                    .table(Messages::Table)
                    .col(Messages::Status)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AiPrompts::Table)
                    .col(pk_uuid(AiPrompts::Id))
                    .col(uuid(AiPrompts::UserId))
                    .col(uuid(AiPrompts::ConversationId))
                    .col(uuid(AiPrompts::MessageId))
                    .col(uuid_null(AiPrompts::ResponseMessageId))
                    .col(string(AiPrompts::Provider))
                    .col(string(AiPrompts::Model))
                    .col(string(AiPrompts::Status))
                    .col(big_integer(AiPrompts::ContextTokens).default(0))
                    .col(text_null(AiPrompts::Error))
                    .col(timestamp_with_time_zone(AiPrompts::CreatedAt))
                    .col(timestamp_with_time_zone_null(AiPrompts::CompletedAt))
                    .foreign_key(&mut owner_fk(AiPrompts::Table, AiPrompts::UserId))
                    .foreign_key(
                        ForeignKey::create()
                            .from(AiPrompts::Table, AiPrompts::ConversationId)
                            .to(Conversations::Table, Conversations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(AiPrompts::Table, AiPrompts::MessageId)
                            .to(Messages::Table, Messages::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        // No foreign key to conversations or messages: usage stays when they are deleted.
        manager
            .create_table(
                Table::create()
                    .table(UsageLogs::Table)
                    .col(pk_uuid(UsageLogs::Id))
                    .col(uuid(UsageLogs::UserId))
                    .col(uuid_null(UsageLogs::ConversationId))
                    .col(uuid_null(UsageLogs::MessageId))
                    .col(string(UsageLogs::Provider))
                    .col(string(UsageLogs::Model))
                    .col(big_integer(UsageLogs::PromptTokens).default(0))
                    .col(big_integer(UsageLogs::CompletionTokens).default(0))
                    .col(big_integer(UsageLogs::TotalTokens).default(0))
                    .col(big_integer(UsageLogs::CachedTokens).default(0))
                    .col(big_integer(UsageLogs::ReasoningTokens).default(0))
                    .col(big_integer(UsageLogs::CostMicros).default(0))
                    .col(timestamp_with_time_zone(UsageLogs::CreatedAt))
                    .foreign_key(&mut owner_fk(UsageLogs::Table, UsageLogs::UserId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_usage_logs_user_created")
                    .table(UsageLogs::Table)
                    .col(UsageLogs::UserId)
                    .col(UsageLogs::CreatedAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AiModelConfigs::Table)
                    .col(pk_uuid(AiModelConfigs::Id))
                    .col(string(AiModelConfigs::Provider))
                    .col(string(AiModelConfigs::Model))
                    .col(string(AiModelConfigs::DisplayName))
                    .col(integer(AiModelConfigs::ContextWindow))
                    .col(integer(AiModelConfigs::MaxOutputTokens))
                    .col(big_integer(AiModelConfigs::InputMicrosPerMtok))
                    .col(big_integer_null(AiModelConfigs::CachedInputMicrosPerMtok))
                    .col(big_integer(AiModelConfigs::OutputMicrosPerMtok))
                    .col(boolean(AiModelConfigs::Enabled).default(true))
                    .col(integer(AiModelConfigs::SortOrder).default(0))
                    .col(timestamp_with_time_zone(AiModelConfigs::CreatedAt))
                    .col(timestamp_with_time_zone(AiModelConfigs::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_ai_model_configs_provider_model")
                    .table(AiModelConfigs::Table)
                    .col(AiModelConfigs::Provider)
                    .col(AiModelConfigs::Model)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Attachments::Table)
                    .col(pk_uuid(Attachments::Id))
                    .col(uuid(Attachments::UserId))
                    .col(uuid(Attachments::MessageId))
                    .col(string(Attachments::FileName))
                    .col(string(Attachments::ContentType))
                    .col(big_integer(Attachments::SizeBytes))
                    .col(string(Attachments::StoragePath))
                    .col(timestamp_with_time_zone(Attachments::CreatedAt))
                    .foreign_key(&mut owner_fk(Attachments::Table, Attachments::UserId))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Attachments::Table, Attachments::MessageId)
                            .to(Messages::Table, Messages::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Attachments::Table.into_iden(),
            AiModelConfigs::Table.into_iden(),
            UsageLogs::Table.into_iden(),
            AiPrompts::Table.into_iden(),
            Messages::Table.into_iden(),
            Conversations::Table.into_iden(),
            ChatSettings::Table.into_iden(),
            Users::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}

/// A row that belongs to a user goes when the user goes.
fn owner_fk<T: IntoIden + 'static, C: IntoIden + 'static>(
    table: T,
    column: C,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, column)
        .to(Users::Table, Users::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[derive(DeriveIden)]
pub(crate) enum Users {
    Table,
    Id,
    Email,
    Name,
    PasswordHash,
    Role,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ChatSettings {
    Table,
    UserId,
    DefaultProvider,
    DefaultModel,
    Theme,
    FontSize,
    Streaming,
    Markdown,
    CodeHighlight,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Conversations {
    Table,
    Id,
    UserId,
    Title,
    Provider,
    Model,
    Temperature,
    MaxTokens,
    SystemPrompt,
    MessageCount,
    PromptTokens,
    CompletionTokens,
    TotalTokens,
    CostMicros,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Messages {
    Table,
    Id,
    ConversationId,
    UserId,
    ParentId,
    Role,
    Content,
    Status,
    IsStreaming,
    StreamChunks,
    PromptTokens,
    CompletionTokens,
    TotalTokens,
    CachedTokens,
    ReasoningTokens,
    CostMicros,
    InputMicrosPerMtok,
    CachedInputMicrosPerMtok,
    OutputMicrosPerMtok,
    Provider,
    Model,
    Error,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum AiPrompts {
    Table,
    Id,
    UserId,
    ConversationId,
    MessageId,
    ResponseMessageId,
    Provider,
    Model,
    Status,
    ContextTokens,
    Error,
    CreatedAt,
    CompletedAt,
}

#[derive(DeriveIden)]
enum UsageLogs {
    Table,
    Id,
    UserId,
    ConversationId,
    MessageId,
    Provider,
    Model,
    PromptTokens,
    CompletionTokens,
    TotalTokens,
    CachedTokens,
    ReasoningTokens,
    CostMicros,
    CreatedAt,
}

#[derive(DeriveIden)]
pub(crate) enum AiModelConfigs {
    Table,
    Id,
    Provider,
    Model,
    DisplayName,
    ContextWindow,
    MaxOutputTokens,
    InputMicrosPerMtok,
    CachedInputMicrosPerMtok,
    OutputMicrosPerMtok,
    Enabled,
    SortOrder,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Attachments {
    Table,
    Id,
    UserId,
    MessageId,
    FileName,
    ContentType,
    SizeBytes,
    StoragePath,
    CreatedAt,
}
