//! Invites: an admin makes a single-use, expiring link (optionally for one email, with the role
//! the account gets); registering with its code uses it up. Only a digest of the code is kept,
//! so the link is shown once, when it is made.

use app::wire::{CreatedInvite, InviteView, UserRole};
use sea_orm::{
    sea_query::Expr, ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use super::{
    credentials::{digest, random_secret, Email},
    service::AuthService,
    AuthError,
};
use crate::{
    audit::{self, AuditAction, AuditEntry},
    db::{
        entities::{invites, users},
        now,
    },
    domain::Invalid,
};

/// How long an invite works unless the admin says otherwise.
pub const DEFAULT_DAYS: i64 = 7;
/// The longest an invite may work.
pub const MAX_DAYS: i64 = 90;
/// Invites listed on the admin page (newest first).
const LISTED: u64 = 200;

/// What an admin asks for.
#[derive(Clone, Debug, Default)]
pub struct NewInvite {
    pub email: Option<String>,
    pub role: Option<UserRole>,
    pub days: Option<i64>,
}

impl AuthService {
    /// Makes an invite; `base_url` is the origin links start with (empty for a relative link).
    pub async fn create_invite(
        &self,
        admin_id: Uuid,
        new: NewInvite,
        base_url: &str,
    ) -> Result<CreatedInvite, AuthError> {
        let email = match new.email.as_deref().map(str::trim) {
            Some("") | None => None,
            Some(raw) => Some(Email::parse(raw)?.as_str().to_owned()),
        };
        let days = new.days.unwrap_or(DEFAULT_DAYS);
        if !(1..=MAX_DAYS).contains(&days) {
            return Err(AuthError::Invalid(Invalid::new(
                "invalid_invite_days",
                format!("An invite works for 1 to {MAX_DAYS} days."),
            )));
        }
        let role = new.role.unwrap_or(UserRole::User);
        let code = random_secret("", 20);
        let now = now();
        let txn = crate::db::begin_write(&self.db).await?;
        let invite = invites::ActiveModel {
            id: Set(Uuid::now_v7()),
            code_hash: Set(digest(&code)),
            email: Set(email.clone()),
            role: Set(role),
            created_by: Set(Some(admin_id)),
            created_at: Set(now),
            expires_at: Set(now + chrono::TimeDelta::days(days)),
            used_at: Set(None),
            used_by: Set(None),
            revoked_at: Set(None),
        }
        .insert(&txn)
        .await?;
        AuditEntry::new(Some(admin_id), AuditAction::InviteCreated)
            .target(invite.id.to_string())
            .details(serde_json::json!({
                "email": email,
                "role": role,
                "expires_at": invite.expires_at,
            }))
            .record(&txn)
            .await?;
        txn.commit().await?;
        Ok(CreatedInvite {
            url: format!("{base_url}/register?invite={code}"),
            id: invite.id,
            code,
            email: invite.email,
            role: invite.role,
            expires_at: invite.expires_at,
        })
    }

    /// The newest invites, used and revoked ones included (the page says which).
    pub async fn invites(&self) -> Result<Vec<InviteView>, AuthError> {
        let rows = invites::Entity::find()
            .order_by_desc(invites::Column::CreatedAt)
            .limit(LISTED)
            .all(&self.db)
            .await?;
        let emails = audit::emails_of(&self.db, rows.iter().filter_map(|i| i.used_by)).await?;
        Ok(rows
            .into_iter()
            .map(|i| InviteView {
                used_by_email: i.used_by.and_then(|id| emails.get(&id).cloned()),
                id: i.id,
                email: i.email,
                role: i.role,
                created_at: i.created_at,
                expires_at: i.expires_at,
                used_at: i.used_at,
                revoked_at: i.revoked_at,
            })
            .collect())
    }

    /// Revokes an invite not used yet; a used, revoked or unknown one is `NotFound`.
    pub async fn revoke_invite(&self, admin_id: Uuid, invite_id: Uuid) -> Result<(), AuthError> {
        let txn = crate::db::begin_write(&self.db).await?;
        let revoked = invites::Entity::update_many()
            .col_expr(invites::Column::RevokedAt, Expr::value(Some(now())))
            .filter(invites::Column::Id.eq(invite_id))
            .filter(invites::Column::UsedAt.is_null())
            .filter(invites::Column::RevokedAt.is_null())
            .exec(&txn)
            .await?;
        if revoked.rows_affected == 0 {
            return Err(AuthError::NotFound);
        }
        AuditEntry::new(Some(admin_id), AuditAction::InviteRevoked)
            .target(invite_id.to_string())
            .record(&txn)
            .await?;
        txn.commit().await?;
        Ok(())
    }

    /// Uses up the invite `code` for `email` inside the registration's transaction, or says
    /// it is not valid. Conditional on being unused, so two registrations racing for one
    /// invite cannot both get it.
    pub(super) async fn claim_invite(
        &self,
        conn: &impl ConnectionTrait,
        code: &str,
        email: &Email,
    ) -> Result<invites::Model, AuthError> {
        let now = now();
        let invite = invites::Entity::find()
            .filter(invites::Column::CodeHash.eq(digest(code.trim())))
            .one(conn)
            .await?
            .filter(|i| {
                i.used_at.is_none()
                    && i.revoked_at.is_none()
                    && i.expires_at > now
                    && i.email.as_deref().is_none_or(|e| e == email.as_str())
            })
            .ok_or(AuthError::InvalidInvite)?;
        let claimed = invites::Entity::update_many()
            .col_expr(invites::Column::UsedAt, Expr::value(Some(now)))
            .filter(invites::Column::Id.eq(invite.id))
            .filter(invites::Column::UsedAt.is_null())
            .exec(conn)
            .await?;
        if claimed.rows_affected == 0 {
            return Err(AuthError::InvalidInvite);
        }
        Ok(invite)
    }

    /// Records who used the invite, once their account exists.
    pub(super) async fn mark_invite_used_by(
        &self,
        conn: &impl ConnectionTrait,
        invite: &invites::Model,
        user: &users::Model,
    ) -> Result<(), AuthError> {
        invites::Entity::update_many()
            .col_expr(invites::Column::UsedBy, Expr::value(Some(user.id)))
            .filter(invites::Column::Id.eq(invite.id))
            .exec(conn)
            .await?;
        AuditEntry::new(Some(user.id), AuditAction::InviteUsed)
            .target(invite.id.to_string())
            .details(serde_json::json!({ "email": user.email, "role": invite.role }))
            .record(conn)
            .await?;
        Ok(())
    }
}
