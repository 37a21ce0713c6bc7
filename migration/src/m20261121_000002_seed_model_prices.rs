//! The model table as first shipped: public list prices (USD per million tokens, written here
//! in micro-dollars) of current OpenAI, Anthropic and Google models, and the offline demo at zero
//! cost. Admins edit prices later; a message keeps the prices it was created with.

use sea_orm_migration::prelude::*;

use crate::m20261121_000001_create_schema::AiModelConfigs;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// provider, model id, display name, context window, max output tokens,
/// input, cached input (None: no cache price), output — prices in micro-dollars per 1M tokens.
type Seed = (
    &'static str,
    &'static str,
    &'static str,
    i32,
    i32,
    i64,
    Option<i64>,
    i64,
);

const USD: i64 = 1_000_000;

const SEEDS: &[Seed] = &[
    (
        "demo",
        "demo-offline",
        "Offline demo (no network, free)",
        128_000,
        4_096,
        0,
        Some(0),
        0,
    ),
    (
        "openai",
        "gpt-5",
        "GPT-5",
        400_000,
        128_000,
        1_250_000,
        Some(125_000),
        10 * USD,
    ),
    (
        "openai",
        "gpt-5-mini",
        "GPT-5 mini",
        400_000,
        128_000,
        250_000,
        Some(25_000),
        2 * USD,
    ),
    (
        "openai",
        "gpt-5-nano",
        "GPT-5 nano",
        400_000,
        128_000,
        50_000,
        Some(5_000),
        400_000,
    ),
    (
        "openai",
        "gpt-4.1",
        "GPT-4.1",
        1_047_576,
        32_768,
        2 * USD,
        Some(500_000),
        8 * USD,
    ),
    (
        "openai",
        "gpt-4.1-mini",
        "GPT-4.1 mini",
        1_047_576,
        32_768,
        400_000,
        Some(100_000),
        1_600_000,
    ),
    (
        "openai",
        "gpt-4o",
        "GPT-4o",
        128_000,
        16_384,
        2_500_000,
        Some(1_250_000),
        10 * USD,
    ),
    (
        "openai",
        "gpt-4o-mini",
        "GPT-4o mini",
        128_000,
        16_384,
        150_000,
        Some(75_000),
        600_000,
    ),
    (
        "openai",
        "o4-mini",
        "o4-mini",
        200_000,
        100_000,
        1_100_000,
        Some(275_000),
        4_400_000,
    ),
    (
        "anthropic",
        "claude-opus-4-1",
        "Claude Opus 4.1",
        200_000,
        32_000,
        15 * USD,
        Some(1_500_000),
        75 * USD,
    ),
    (
        "anthropic",
        "claude-sonnet-4-5",
        "Claude Sonnet 4.5",
        200_000,
        64_000,
        3 * USD,
        Some(300_000),
        15 * USD,
    ),
    (
        "anthropic",
        "claude-haiku-4-5",
        "Claude Haiku 4.5",
        200_000,
        64_000,
        USD,
        Some(100_000),
        5 * USD,
    ),
    (
        "google",
        "gemini-2.5-pro",
        "Gemini 2.5 Pro",
        1_048_576,
        65_536,
        1_250_000,
        Some(125_000),
        10 * USD,
    ),
    (
        "google",
        "gemini-2.5-flash",
        "Gemini 2.5 Flash",
        1_048_576,
        65_536,
        300_000,
        Some(30_000),
        2_500_000,
    ),
    (
        "google",
        "gemini-2.5-flash-lite",
        "Gemini 2.5 Flash-Lite",
        1_048_576,
        65_536,
        100_000,
        Some(10_000),
        400_000,
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let now = chrono::Utc::now();
        let mut insert = Query::insert();
        insert.into_table(AiModelConfigs::Table).columns([
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
        ]);
        for (order, (provider, model, name, window, max_out, input, cached, output)) in
            SEEDS.iter().enumerate()
        {
            insert.values_panic([
                uuid::Uuid::now_v7().into(),
                (*provider).into(),
                (*model).into(),
                (*name).into(),
                (*window).into(),
                (*max_out).into(),
                (*input).into(),
                (*cached).into(),
                (*output).into(),
                true.into(),
                (order as i32).into(),
                now.into(),
                now.into(),
            ]);
        }
        manager.exec_stmt(insert).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut delete = Query::delete();
        delete.from_table(AiModelConfigs::Table);
        manager.exec_stmt(delete).await
    }
}
