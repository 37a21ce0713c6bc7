//! What admins manage: every user's spending this month and monthly budget, the budget new
//! accounts start with, and the model table (enabled, names, limits, prices). A price change
//! reaches new messages only: each message keeps the prices it was created with.

use std::collections::HashMap;

use app::wire::{AdminModelView, AdminUserView, InstanceSettingsView, ProviderId, UsageTotals};
use chrono::{DateTime, Utc};
use sea_orm::{
    sea_query::Expr, ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait,
    FromQueryResult, QueryFilter, QueryOrder, QuerySelect, SqlErr,
};
use serde::Deserialize;
use uuid::Uuid;

use crate::{
    audit::{AuditAction, AuditEntry},
    chat::{
        budget::{month_of, month_start},
        provider::Providers,
    },
    db::{
        entities::{ai_model_configs, budget_periods, instance_settings, usage_logs, users},
        now,
    },
    domain::Invalid,
};

/// The largest budget or price we accept: a million dollars, in micro-dollars.
pub const MAX_MICROS: i64 = 1_000_000_000_000;
/// What the admin workflows can fail with.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error("not found")]
    NotFound,
    #[error("That model is already in the table.")]
    ModelExists,
    #[error("database error: {0}")]
    Database(#[from] sea_orm::DbErr),
}

pub async fn users(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
) -> Result<Vec<AdminUserView>, AdminError> {
    let sum = |column: &str| Expr::cust(format!("CAST(COALESCE(SUM({column}), 0) AS BIGINT)"));
    #[derive(FromQueryResult)]
    struct MonthRow {
        user_id: Uuid,
        requests: i64,
        prompt_tokens: i64,
        completion_tokens: i64,
        cached_tokens: i64,
        reasoning_tokens: i64,
        total_tokens: i64,
        cost_micros: i64,
    }
    let month: Vec<MonthRow> = usage_logs::Entity::find()
        .select_only()
        .column(usage_logs::Column::UserId)
        .column_as(Expr::cust("CAST(COUNT(*) AS BIGINT)"), "requests")
        .column_as(sum("prompt_tokens"), "prompt_tokens")
        .column_as(sum("completion_tokens"), "completion_tokens")
        .column_as(sum("cached_tokens"), "cached_tokens")
        .column_as(sum("reasoning_tokens"), "reasoning_tokens")
        .column_as(sum("total_tokens"), "total_tokens")
        .column_as(sum("cost_micros"), "cost_micros")
        .filter(usage_logs::Column::CreatedAt.gte(month_start(now)))
        .group_by(usage_logs::Column::UserId)
        .into_model::<MonthRow>()
        .all(db)
        .await?;
    let mut month: HashMap<Uuid, UsageTotals> = month
        .into_iter()
        .map(|r| {
            let totals = UsageTotals {
                requests: r.requests,
                prompt_tokens: r.prompt_tokens,
                completion_tokens: r.completion_tokens,
                cached_tokens: r.cached_tokens,
                reasoning_tokens: r.reasoning_tokens,
                total_tokens: r.total_tokens,
                cost_micros: r.cost_micros,
            };
            (r.user_id, totals)
        })
        .collect();
    let reserved: HashMap<Uuid, i64> = budget_periods::Entity::find()
        .filter(budget_periods::Column::Month.eq(month_of(now)))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.user_id, p.reserved_micros))
        .collect();
    Ok(users::Entity::find()
        .order_by_asc(users::Column::CreatedAt)
        .all(db)
        .await?
        .into_iter()
        .map(|u| AdminUserView {
            month: month.remove(&u.id).unwrap_or_default(),
            reserved_micros: reserved.get(&u.id).copied().unwrap_or(0),
            id: u.id,
            email: u.email,
            name: u.name,
            role: u.role,
            status: u.status,
            created_at: u.created_at,
            monthly_budget_micros: u.monthly_budget_micros,
        })
        .collect())
}

fn check_budget(budget: Option<i64>) -> Result<Option<i64>, Invalid> {
    match budget {
        Some(b) if !(0..=MAX_MICROS).contains(&b) => Err(Invalid::new(
            "invalid_budget",
            "A budget is between $0 and $1,000,000 a month (or none, for no cap).",
        )),
        other => Ok(other),
    }
}

/// Sets a user's monthly budget (`None`: no cap). It applies from the next send; replies
/// already streaming keep their reservation. `admin` is who does it, for the audit log.
pub async fn set_budget(
    db: &DatabaseConnection,
    admin: Uuid,
    user_id: Uuid,
    budget: Option<i64>,
) -> Result<(), AdminError> {
    let budget = check_budget(budget)?;
    let txn = crate::db::begin_write(db).await?;
    let user = users::Entity::find_by_id(user_id)
        .one(&txn)
        .await?
        .ok_or(AdminError::NotFound)?;
    users::Entity::update_many()
        .col_expr(users::Column::MonthlyBudgetMicros, Expr::value(budget))
        .col_expr(users::Column::UpdatedAt, Expr::value(now()))
        .filter(users::Column::Id.eq(user_id))
        .exec(&txn)
        .await?;
    AuditEntry::new(Some(admin), AuditAction::BudgetChanged)
        .target(user.email)
        .details(serde_json::json!({
            "from_micros": user.monthly_budget_micros,
            "to_micros": budget,
        }))
        .record(&txn)
        .await?;
    txn.commit().await?;
    Ok(())
}

pub async fn settings(db: &DatabaseConnection) -> Result<InstanceSettingsView, AdminError> {
    let row = instance_settings::Entity::find_by_id(1).one(db).await?;
    Ok(InstanceSettingsView {
        default_monthly_budget_micros: row.and_then(|r| r.default_monthly_budget_micros),
    })
}

/// Sets the budget new accounts start with; existing accounts keep theirs.
pub async fn save_settings(
    db: &DatabaseConnection,
    admin: Uuid,
    input: InstanceSettingsView,
) -> Result<InstanceSettingsView, AdminError> {
    let budget = check_budget(input.default_monthly_budget_micros)?;
    let before = settings(db).await?;
    let txn = crate::db::begin_write(db).await?;
    instance_settings::Entity::update_many()
        .col_expr(
            instance_settings::Column::DefaultMonthlyBudgetMicros,
            Expr::value(budget),
        )
        .col_expr(instance_settings::Column::UpdatedAt, Expr::value(now()))
        .filter(instance_settings::Column::Id.eq(1))
        .exec(&txn)
        .await?;
    if before.default_monthly_budget_micros != budget {
        AuditEntry::new(Some(admin), AuditAction::DefaultBudgetChanged)
            .details(serde_json::json!({
                "from_micros": before.default_monthly_budget_micros,
                "to_micros": budget,
            }))
            .record(&txn)
            .await?;
    }
    txn.commit().await?;
    settings(db).await
}

pub fn model_view(m: ai_model_configs::Model, providers: &Providers) -> AdminModelView {
    AdminModelView {
        provider_configured: providers.is_configured(m.provider),
        id: m.id,
        provider: m.provider,
        model: m.model,
        display_name: m.display_name,
        context_window: m.context_window,
        max_output_tokens: m.max_output_tokens,
        input_micros_per_mtok: m.input_micros_per_mtok,
        cached_input_micros_per_mtok: m.cached_input_micros_per_mtok,
        output_micros_per_mtok: m.output_micros_per_mtok,
        enabled: m.enabled,
        sort_order: m.sort_order,
        supports_images: m.supports_images,
    }
}

pub async fn models(
    db: &DatabaseConnection,
    providers: &Providers,
) -> Result<Vec<AdminModelView>, AdminError> {
    Ok(ai_model_configs::Entity::find()
        .order_by_asc(ai_model_configs::Column::Provider)
        .order_by_asc(ai_model_configs::Column::SortOrder)
        .order_by_asc(ai_model_configs::Column::DisplayName)
        .all(db)
        .await?
        .into_iter()
        .map(|m| model_view(m, providers))
        .collect())
}

/// The editable fields of a model; absent ones stay as they are. Prices are micro-dollars per
/// million tokens.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ModelChanges {
    #[schema(min_length = 1, max_length = 80)]
    pub display_name: Option<String>,
    pub enabled: Option<bool>,
    #[schema(minimum = 256, maximum = 10_000_000)]
    pub context_window: Option<i32>,
    /// At most the context window.
    #[schema(minimum = 1)]
    pub max_output_tokens: Option<i32>,
    #[schema(minimum = 0, maximum = 1_000_000_000_000_i64)]
    pub input_micros_per_mtok: Option<i64>,
    /// `Some(None)` clears it (cache reads then cost the input price).
    #[serde(default, with = "double_option")]
    #[schema(minimum = 0, maximum = 1_000_000_000_000_i64)]
    pub cached_input_micros_per_mtok: Option<Option<i64>>,
    #[schema(minimum = 0, maximum = 1_000_000_000_000_i64)]
    pub output_micros_per_mtok: Option<i64>,
    pub sort_order: Option<i32>,
    /// Whether the model takes images (an image sent to one that does not is refused).
    pub supports_images: Option<bool>,
}

/// A model to add (e.g. one served by an OpenAI-compatible local server).
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewModel {
    pub provider: String,
    pub model: String,
    #[serde(flatten)]
    pub fields: ModelChanges,
}

mod double_option {
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<i64>>, D::Error> {
        Option::<i64>::deserialize(d).map(Some)
    }
}

fn invalid(message: impl Into<String>) -> Invalid {
    Invalid::new("invalid_model", message)
}

fn apply(model: &mut ai_model_configs::Model, changes: ModelChanges) -> Result<(), Invalid> {
    if let Some(name) = changes.display_name {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 80 {
            return Err(invalid("A display name is 1 to 80 characters."));
        }
        model.display_name = name.to_owned();
    }
    if let Some(enabled) = changes.enabled {
        model.enabled = enabled;
    }
    if let Some(window) = changes.context_window {
        model.context_window = window;
    }
    if let Some(max) = changes.max_output_tokens {
        model.max_output_tokens = max;
    }
    if let Some(price) = changes.input_micros_per_mtok {
        model.input_micros_per_mtok = price;
    }
    if let Some(price) = changes.cached_input_micros_per_mtok {
        model.cached_input_micros_per_mtok = price;
    }
    if let Some(price) = changes.output_micros_per_mtok {
        model.output_micros_per_mtok = price;
    }
    if let Some(order) = changes.sort_order {
        model.sort_order = order;
    }
    if let Some(images) = changes.supports_images {
        model.supports_images = images;
    }
    if !(256..=10_000_000).contains(&model.context_window) {
        return Err(invalid(
            "The context window is between 256 and 10,000,000 tokens.",
        ));
    }
    if model.max_output_tokens < 1 || model.max_output_tokens > model.context_window {
        return Err(invalid(
            "Max output tokens is at least 1 and at most the context window.",
        ));
    }
    let prices = [
        Some(model.input_micros_per_mtok),
        model.cached_input_micros_per_mtok,
        Some(model.output_micros_per_mtok),
    ];
    if prices
        .into_iter()
        .flatten()
        .any(|p| !(0..=MAX_MICROS).contains(&p))
    {
        return Err(invalid(
            "Prices are between $0 and $1,000,000 per million tokens.",
        ));
    }
    Ok(())
}

/// What an edit changed, field by field (`{"field": [before, after]}`), for the audit log.
fn model_diff(
    before: &ai_model_configs::Model,
    after: &ai_model_configs::Model,
) -> serde_json::Value {
    let mut diff = serde_json::Map::new();
    let mut field = |name: &str, a: serde_json::Value, b: serde_json::Value| {
        if a != b {
            diff.insert(name.to_owned(), serde_json::json!([a, b]));
        }
    };
    field(
        "display_name",
        before.display_name.clone().into(),
        after.display_name.clone().into(),
    );
    field("enabled", before.enabled.into(), after.enabled.into());
    field(
        "context_window",
        before.context_window.into(),
        after.context_window.into(),
    );
    field(
        "max_output_tokens",
        before.max_output_tokens.into(),
        after.max_output_tokens.into(),
    );
    field(
        "input_micros_per_mtok",
        before.input_micros_per_mtok.into(),
        after.input_micros_per_mtok.into(),
    );
    field(
        "cached_input_micros_per_mtok",
        before.cached_input_micros_per_mtok.into(),
        after.cached_input_micros_per_mtok.into(),
    );
    field(
        "output_micros_per_mtok",
        before.output_micros_per_mtok.into(),
        after.output_micros_per_mtok.into(),
    );
    field(
        "sort_order",
        before.sort_order.into(),
        after.sort_order.into(),
    );
    field(
        "supports_images",
        before.supports_images.into(),
        after.supports_images.into(),
    );
    serde_json::Value::Object(diff)
}

pub async fn update_model(
    db: &DatabaseConnection,
    providers: &Providers,
    admin: Uuid,
    id: Uuid,
    changes: ModelChanges,
) -> Result<AdminModelView, AdminError> {
    let before = ai_model_configs::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AdminError::NotFound)?;
    let mut model = before.clone();
    apply(&mut model, changes)?;
    model.updated_at = now();
    let diff = model_diff(&before, &model);
    let txn = crate::db::begin_write(db).await?;
    // Every field written: the edited model as a whole.
    let row = ai_model_configs::ActiveModel::from(model).reset_all();
    let saved = row.update(&txn).await?;
    if diff.as_object().is_some_and(|d| !d.is_empty()) {
        AuditEntry::new(Some(admin), AuditAction::ModelChanged)
            .target(format!("{}/{}", saved.provider, saved.model))
            .details(diff)
            .record(&txn)
            .await?;
    }
    txn.commit().await?;
    tracing::info!(model_id = %id, model = %saved.model, "model configuration changed");
    Ok(model_view(saved, providers))
}

pub async fn create_model(
    db: &DatabaseConnection,
    providers: &Providers,
    admin: Uuid,
    new: NewModel,
) -> Result<AdminModelView, AdminError> {
    let provider: ProviderId = new.provider.parse().map_err(|_| {
        let ids: Vec<&str> = ProviderId::ALL.iter().map(|p| p.as_str()).collect();
        invalid(format!("The provider is one of {}.", ids.join(", ")))
    })?;
    let name = new.model.trim();
    let name_ok = !name.is_empty()
        && name.len() <= 100
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._:/-@".contains(c));
    if !name_ok {
        return Err(AdminError::from(invalid(
            "A model id is 1 to 100 letters, digits or . _ : / - @ (as the provider names it).",
        )));
    }
    let now = now();
    let mut model = ai_model_configs::Model {
        id: Uuid::now_v7(),
        provider,
        model: name.to_owned(),
        display_name: name.to_owned(),
        context_window: 8_192,
        max_output_tokens: 4_096,
        input_micros_per_mtok: 0,
        cached_input_micros_per_mtok: None,
        output_micros_per_mtok: 0,
        enabled: true,
        sort_order: 1_000,
        supports_images: false,
        created_at: now,
        updated_at: now,
    };
    apply(&mut model, new.fields)?;
    let txn = crate::db::begin_write(db).await?;
    let saved = ai_model_configs::ActiveModel::from(model)
        .reset_all()
        .insert(&txn)
        .await
        .map_err(|e| match e.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => AdminError::ModelExists,
            _ => AdminError::from(e),
        })?;
    AuditEntry::new(Some(admin), AuditAction::ModelAdded)
        .target(format!("{}/{}", saved.provider, saved.model))
        .details(serde_json::json!({
            "input_micros_per_mtok": saved.input_micros_per_mtok,
            "output_micros_per_mtok": saved.output_micros_per_mtok,
        }))
        .record(&txn)
        .await?;
    txn.commit().await?;
    Ok(model_view(saved, providers))
}
