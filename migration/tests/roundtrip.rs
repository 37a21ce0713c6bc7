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

#[tokio::test]
async fn conversations_from_before_the_tree_become_one_branch_each() {
    use sea_orm_migration::sea_query::{Alias, Expr, Query};
    let db = Database::connect("sqlite::memory:").await.unwrap();
    // The schema as the previous release left it.
    Migrator::up(&db, Some(8)).await.unwrap();
    let backend = db.get_database_backend();
    let at = chrono::Utc::now();
    let (user, conversation) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
    let insert = |table: &str, columns: &[&str], values: Vec<sea_orm_migration::sea_orm::Value>| {
        let mut query = Query::insert();
        query
            .into_table(Alias::new(table))
            .columns(columns.iter().map(|c| Alias::new(*c)))
            .values_panic(values.into_iter().map(Expr::val));
        backend.build(&query)
    };
    let statements = [
        insert(
            "users",
            &[
                "id",
                "email",
                "name",
                "password_hash",
                "created_at",
                "updated_at",
            ],
            vec![
                user.into(),
                "a@example.com".into(),
                "A".into(),
                "x".into(),
                at.into(),
                at.into(),
            ],
        ),
        insert(
            "conversations",
            &[
                "id",
                "user_id",
                "title",
                "provider",
                "model",
                "temperature",
                "max_tokens",
                "created_at",
                "updated_at",
            ],
            vec![
                conversation.into(),
                user.into(),
                "Old".into(),
                "demo".into(),
                "demo-offline".into(),
                0.7.into(),
                100.into(),
                at.into(),
                at.into(),
            ],
        ),
    ];
    for statement in statements {
        db.execute_raw(statement).await.unwrap();
    }
    // Three messages, the middle one without its parent (as a hand-made import might be).
    let ids: Vec<uuid::Uuid> = (0..3).map(|_| uuid::Uuid::now_v7()).collect();
    for (i, id) in ids.iter().enumerate() {
        let parent: Option<uuid::Uuid> = (i == 2).then(|| ids[1]);
        db.execute_raw(insert(
            "messages",
            &[
                "id",
                "conversation_id",
                "user_id",
                "parent_id",
                "role",
                "content",
                "status",
                "created_at",
                "updated_at",
            ],
            vec![
                (*id).into(),
                conversation.into(),
                user.into(),
                parent.into(),
                if i % 2 == 0 { "user" } else { "assistant" }.into(),
                format!("m{i}").into(),
                "complete".into(),
                at.into(),
                at.into(),
            ],
        ))
        .await
        .unwrap();
    }

    Migrator::up(&db, None).await.unwrap();
    let parents: Vec<Option<uuid::Uuid>> = {
        let mut query = Query::select();
        query
            .column(Alias::new("parent_id"))
            .from(Alias::new("messages"))
            .order_by(Alias::new("id"), sea_orm_migration::sea_query::Order::Asc);
        db.query_all_raw(backend.build(&query))
            .await
            .unwrap()
            .iter()
            .map(|row| row.try_get_by_index(0).unwrap())
            .collect()
    };
    assert_eq!(parents, [None, Some(ids[0]), Some(ids[1])]);
    let mut query = Query::select();
    query
        .column(Alias::new("current_leaf_id"))
        .from(Alias::new("conversations"));
    let leaf: Option<uuid::Uuid> = db
        .query_one_raw(backend.build(&query))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index(0)
        .unwrap();
    assert_eq!(leaf, Some(ids[2]));
}
