//! The migrations apply, roll back completely and apply again, and the seed prices are there.

use migration::{Migrator, MigratorTrait};
use sea_orm_migration::sea_orm::{ConnectionTrait, Database, Statement};

#[tokio::test]
async fn migrations_go_up_down_and_up_again_with_the_seeded_models() {
    let db = Database::connect("sqlite::memory:").await.unwrap();
    Migrator::up(&db, None).await.unwrap();
    let count = |db: &sea_orm_migration::sea_orm::DatabaseConnection, sql: &'static str| {
        let db = db.clone();
        async move {
            let row = db
                .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
                .await
                .unwrap()
                .unwrap();
            row.try_get_by_index::<i64>(0).unwrap()
        }
    };
    let seeded = count(&db, "SELECT COUNT(*) FROM ai_model_configs").await;
    assert!(seeded >= 10, "seeded {seeded} models");
    let demo = count(
        &db,
        "SELECT input_micros_per_mtok + output_micros_per_mtok FROM ai_model_configs WHERE provider = 'demo'",
    )
    .await;
    assert_eq!(demo, 0, "the offline demo is free");

    Migrator::down(&db, None).await.unwrap();
    let tables = count(
        &db,
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name IN ('users', 'messages', 'usage_logs')",
    )
    .await;
    assert_eq!(tables, 0);
    Migrator::up(&db, None).await.unwrap();
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM ai_model_configs").await,
        seeded
    );
}
