//! The audit log: who did which admin or security action to whom, and when. Rows are written in
//! the same transaction as the change they describe, so the log never claims what did not
//! happen, and never misses what did.

use std::collections::HashMap;

use app::wire::{AuditEntryView, AuditPage};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use uuid::Uuid;

use crate::db::{
    entities::{audit_log, users},
    now,
};

/// The actions kept, by the name the log and the API show.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuditAction {
    UserRegistered,
    UserApproved,
    UserDisabled,
    UserEnabled,
    RoleChanged,
    BudgetChanged,
    DefaultBudgetChanged,
    ModelAdded,
    ModelChanged,
    InviteCreated,
    InviteUsed,
    InviteRevoked,
    /// Made admin with `server admin grant` on the host.
    AdminGranted,
    AdminRevoked,
    PasswordChanged,
    SessionsRevoked,
    TokenCreated,
    TokenRevoked,
}

impl AuditAction {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::UserRegistered => "user.registered",
            Self::UserApproved => "user.approved",
            Self::UserDisabled => "user.disabled",
            Self::UserEnabled => "user.enabled",
            Self::RoleChanged => "user.role_changed",
            Self::BudgetChanged => "user.budget_changed",
            Self::DefaultBudgetChanged => "settings.default_budget_changed",
            Self::ModelAdded => "model.added",
            Self::ModelChanged => "model.changed",
            Self::InviteCreated => "invite.created",
            Self::InviteUsed => "invite.used",
            Self::InviteRevoked => "invite.revoked",
            Self::AdminGranted => "admin.granted",
            Self::AdminRevoked => "admin.revoked",
            Self::PasswordChanged => "password.changed",
            Self::SessionsRevoked => "sessions.revoked",
            Self::TokenCreated => "token.created",
            Self::TokenRevoked => "token.revoked",
        }
    }
}

/// One entry to add: `actor` is `None` for the operator's command line.
pub struct AuditEntry {
    pub actor: Option<Uuid>,
    pub action: AuditAction,
    pub target: Option<String>,
    pub details: Option<serde_json::Value>,
}

impl AuditEntry {
    pub fn new(actor: Option<Uuid>, action: AuditAction) -> Self {
        Self {
            actor,
            action,
            target: None,
            details: None,
        }
    }

    pub fn target(mut self, target: impl Into<String>) -> Self {
        self.target = Some(target.into());
        self
    }

    pub fn details(mut self, details: serde_json::Value) -> Self {
        self.details = Some(details);
        self
    }

    /// Adds the entry, in the caller's transaction when given one.
    pub async fn record(self, conn: &impl ConnectionTrait) -> Result<(), DbErr> {
        audit_log::ActiveModel {
            id: Set(Uuid::now_v7()),
            actor_id: Set(self.actor),
            action: Set(self.action.as_str().to_owned()),
            target: Set(self.target),
            details: Set(self.details.map(|d| d.to_string())),
            created_at: Set(now()),
        }
        .insert(conn)
        .await?;
        Ok(())
    }
}

/// The emails of these accounts (those that still exist), for showing who did or used what.
pub async fn emails_of(
    conn: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = Uuid>,
) -> Result<HashMap<Uuid, String>, DbErr> {
    let ids: Vec<Uuid> = ids.into_iter().collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(users::Entity::find()
        .select_only()
        .columns([users::Column::Id, users::Column::Email])
        .filter(users::Column::Id.is_in(ids))
        .into_tuple::<(Uuid, String)>()
        .all(conn)
        .await?
        .into_iter()
        .collect())
}

/// The most entries one page holds.
pub const MAX_PAGE: u64 = 200;

/// A page of the log, newest first, older than `before` when given.
pub async fn page(
    conn: &impl ConnectionTrait,
    before: Option<Uuid>,
    limit: u64,
) -> Result<AuditPage, DbErr> {
    let limit = limit.clamp(1, MAX_PAGE);
    let mut query = audit_log::Entity::find()
        .order_by_desc(audit_log::Column::Id)
        .limit(limit + 1);
    if let Some(before) = before {
        query = query.filter(audit_log::Column::Id.lt(before));
    }
    let mut rows = query.all(conn).await?;
    let next_cursor = if rows.len() as u64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|r| r.id)
    } else {
        None
    };
    let emails = emails_of(conn, rows.iter().filter_map(|r| r.actor_id)).await?;
    let items = rows
        .into_iter()
        .map(|r| AuditEntryView {
            actor_email: r.actor_id.and_then(|id| emails.get(&id).cloned()),
            id: r.id,
            actor_id: r.actor_id,
            action: r.action,
            target: r.target,
            details: r.details.and_then(|d| serde_json::from_str(&d).ok()),
            created_at: r.created_at,
        })
        .collect();
    Ok(AuditPage { items, next_cursor })
}
