//! Who may do what: admins approve waiting accounts, disable and re-enable them and change
//! roles; the operator grants and revokes admin from the host's command line. The instance
//! never loses its last active admin, and a disabled account's sessions and API tokens stop
//! working in the same transaction.

use app::wire::{UserRole, UserStatus};
use sea_orm::{sea_query::Expr, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use super::{
    credentials::Email,
    service::{take_accounts_turn, AuthService},
    AuthError,
};
use crate::{
    audit::{AuditAction, AuditEntry},
    db::{entities::users, now},
    domain::Invalid,
};

/// What an admin changes about an account; absent fields stay as they are.
#[derive(Clone, Copy, Debug, Default)]
pub struct AccessChange {
    pub role: Option<UserRole>,
    pub status: Option<UserStatus>,
}

/// The account after a change, and whether the change just shut it out (the caller then stops
/// what it still has running: streaming replies, open sockets).
#[derive(Debug)]
pub struct AccessChanged {
    pub user: users::Model,
    pub shut_out: bool,
}

fn is_active_admin(role: UserRole, status: UserStatus) -> bool {
    role.is_admin() && status == UserStatus::Active
}

impl AuthService {
    /// Applies `change` to the account `user_id`; `actor` is the admin (`None`: the command
    /// line). Refuses to leave the instance without an active admin.
    pub async fn change_access(
        &self,
        actor: Option<Uuid>,
        user_id: Uuid,
        change: AccessChange,
    ) -> Result<AccessChanged, AuthError> {
        let txn = crate::db::begin_write(&self.db).await?;
        // Changes take turns with each other and with registrations, so the count of admins
        // below cannot go stale before the commit (two admins demoting each other at once).
        take_accounts_turn(&txn).await?;
        let user = users::Entity::find_by_id(user_id)
            .one(&txn)
            .await?
            .ok_or(AuthError::NotFound)?;
        let role = change.role.unwrap_or(user.role);
        let status = change.status.unwrap_or(user.status);
        if status == UserStatus::Pending && user.status != UserStatus::Pending {
            return Err(AuthError::Invalid(Invalid::new(
                "invalid_status",
                "An account cannot go back to waiting for approval; disable it instead.",
            )));
        }
        if is_active_admin(user.role, user.status) && !is_active_admin(role, status) {
            let active_admins = users::Entity::find()
                .filter(users::Column::Role.eq(UserRole::Admin))
                .filter(users::Column::Status.eq(UserStatus::Active))
                .count(&txn)
                .await?;
            if active_admins <= 1 {
                return Err(AuthError::LastAdmin);
            }
        }
        if role == user.role && status == user.status {
            txn.commit().await?;
            return Ok(AccessChanged {
                user,
                shut_out: false,
            });
        }
        users::Entity::update_many()
            .col_expr(users::Column::Role, Expr::value(role))
            .col_expr(users::Column::Status, Expr::value(status))
            .col_expr(users::Column::UpdatedAt, Expr::value(now()))
            .filter(users::Column::Id.eq(user.id))
            .exec(&txn)
            .await?;
        let shut_out = status == UserStatus::Disabled && user.status != UserStatus::Disabled;
        if shut_out {
            self.revoke_other_sessions(&txn, user.id, None).await?;
            self.revoke_all_api_tokens(&txn, user.id).await?;
        }
        if status != user.status {
            let action = match (user.status, status) {
                (_, UserStatus::Disabled) => AuditAction::UserDisabled,
                (UserStatus::Pending, _) => AuditAction::UserApproved,
                _ => AuditAction::UserEnabled,
            };
            AuditEntry::new(actor, action)
                .target(user.email.clone())
                .details(serde_json::json!({ "from": user.status, "to": status }))
                .record(&txn)
                .await?;
        }
        if role != user.role {
            let action = match (actor, role) {
                (None, UserRole::Admin) => AuditAction::AdminGranted,
                (None, _) => AuditAction::AdminRevoked,
                (Some(_), _) => AuditAction::RoleChanged,
            };
            AuditEntry::new(actor, action)
                .target(user.email.clone())
                .details(serde_json::json!({ "from": user.role, "to": role }))
                .record(&txn)
                .await?;
        }
        let user = users::Entity::find_by_id(user.id)
            .one(&txn)
            .await?
            .ok_or(AuthError::NotFound)?;
        txn.commit().await?;
        tracing::info!(user_id = %user.id, actor = ?actor, role = %role, status = %status, "account access changed");
        Ok(AccessChanged { user, shut_out })
    }

    /// `server admin grant EMAIL`: makes the account an active admin (approving it if it
    /// waited).
    pub async fn grant_admin(&self, email: &str) -> Result<users::Model, AuthError> {
        let user = self.user_by_email(email).await?;
        let status = match user.status {
            UserStatus::Pending => Some(UserStatus::Active),
            _ => None,
        };
        let change = AccessChange {
            role: Some(UserRole::Admin),
            status,
        };
        Ok(self.change_access(None, user.id, change).await?.user)
    }

    /// `server admin revoke EMAIL`: makes the account a user again (not the last admin).
    pub async fn revoke_admin(&self, email: &str) -> Result<users::Model, AuthError> {
        let user = self.user_by_email(email).await?;
        let change = AccessChange {
            role: Some(UserRole::User),
            status: None,
        };
        Ok(self.change_access(None, user.id, change).await?.user)
    }

    /// `server admin list`: every admin, oldest first.
    pub async fn admins(&self) -> Result<Vec<users::Model>, AuthError> {
        Ok(users::Entity::find()
            .filter(users::Column::Role.eq(UserRole::Admin))
            .order_by_asc(users::Column::CreatedAt)
            .all(&self.db)
            .await?)
    }

    async fn user_by_email(&self, email: &str) -> Result<users::Model, AuthError> {
        self.find_by_email(&Email::parse(email)?)
            .await?
            .ok_or(AuthError::NotFound)
    }
}
