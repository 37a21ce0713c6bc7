//! The schema, as sea-orm migrations that run unchanged on SQLite and PostgreSQL.
//! The server applies them at start; `cargo run -p migration -- up` applies them by hand.

pub use sea_orm_migration::prelude::*;

mod m20261121_000001_create_schema;
mod m20261121_000002_seed_model_prices;
mod m20261121_000003_budgets;
mod m20261121_000004_message_html;
mod m20261202_000005_drop_is_streaming;
mod m20261202_000006_sessions;
mod m20261202_000007_accounts;
mod m20261202_000008_conversation_bytes;
mod m20261206_000009_conversation_tree;
mod m20261206_000010_attachments;
mod m20261206_000011_reasoning;
mod m20261207_000012_find_and_move;
mod m20261207_000013_content_tokens;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261121_000001_create_schema::Migration),
            Box::new(m20261121_000002_seed_model_prices::Migration),
            Box::new(m20261121_000003_budgets::Migration),
            Box::new(m20261121_000004_message_html::Migration),
            Box::new(m20261202_000005_drop_is_streaming::Migration),
            Box::new(m20261202_000006_sessions::Migration),
            Box::new(m20261202_000007_accounts::Migration),
            Box::new(m20261202_000008_conversation_bytes::Migration),
            Box::new(m20261206_000009_conversation_tree::Migration),
            Box::new(m20261206_000010_attachments::Migration),
            Box::new(m20261206_000011_reasoning::Migration),
            Box::new(m20261207_000012_find_and_move::Migration),
            Box::new(m20261207_000013_content_tokens::Migration),
        ]
    }
}
