//! Personal API tokens, for scripts: `rc_` and 64 hex digits, shown once when created, stored
//! as a SHA-256 digest, sent as `Authorization: Bearer`. A token speaks for its user like a
//! session does, until it is revoked or the account is disabled.

use app::wire::{ApiTokenView, CreatedApiToken};
use sea_orm::{
    sea_query::Expr, ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, Set,
};
use uuid::Uuid;

use super::{
    credentials::{digest, random_secret},
    service::AuthService,
    sessions::{usable, Proof, SignedIn},
    AuthError,
};
use crate::{
    audit::{AuditAction, AuditEntry},
    db::{
        entities::{api_tokens, users},
        now,
    },
    domain::Invalid,
};

/// Every API token starts with this, so a bearer header says which kind it is.
pub const PREFIX: &str = "rc_";
/// Characters of a token shown in the list (the prefix and a few random ones).
const SHOWN: usize = 10;
/// Tokens one account may hold at once.
pub const MAX_TOKENS_PER_USER: u64 = 50;
/// `last_used_at` is written only when older than this.
const LAST_USED_GRANULARITY: chrono::TimeDelta = chrono::TimeDelta::seconds(60);

fn view(token: api_tokens::Model) -> ApiTokenView {
    ApiTokenView {
        id: token.id,
        name: token.name,
        prefix: format!("{}…", token.token_prefix),
        created_at: token.created_at,
        last_used_at: token.last_used_at,
    }
}

fn token_name(raw: &str) -> Result<String, Invalid> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > 80 || name.chars().any(char::is_control) {
        return Err(Invalid::new(
            "invalid_token_name",
            "Give the token a name of 1 to 80 characters, e.g. what script uses it.",
        ));
    }
    Ok(name.to_owned())
}

impl AuthService {
    /// Makes a token for the user; the answer is the only time its text is seen.
    pub async fn create_api_token(
        &self,
        user_id: Uuid,
        name: &str,
    ) -> Result<CreatedApiToken, AuthError> {
        let name = token_name(name)?;
        let token = random_secret(PREFIX, 32);
        let txn = crate::db::begin_write(&self.db).await?;
        let held = api_tokens::Entity::find()
            .filter(api_tokens::Column::UserId.eq(user_id))
            .filter(api_tokens::Column::RevokedAt.is_null())
            .count(&txn)
            .await?;
        if held >= MAX_TOKENS_PER_USER {
            return Err(AuthError::invalid(
                "too_many_tokens",
                format!("An account holds at most {MAX_TOKENS_PER_USER} tokens: revoke one first."),
            ));
        }
        let row = api_tokens::ActiveModel {
            id: Set(Uuid::now_v7()),
            user_id: Set(user_id),
            name: Set(name),
            token_hash: Set(digest(&token)),
            token_prefix: Set(token.chars().take(SHOWN).collect()),
            created_at: Set(now()),
            last_used_at: Set(None),
            revoked_at: Set(None),
        }
        .insert(&txn)
        .await?;
        AuditEntry::new(Some(user_id), AuditAction::TokenCreated)
            .target(row.name.clone())
            .details(serde_json::json!({ "token_id": row.id }))
            .record(&txn)
            .await?;
        txn.commit().await?;
        Ok(CreatedApiToken {
            id: row.id,
            name: row.name,
            token,
            created_at: row.created_at,
        })
    }

    /// The user's tokens that still work, newest first.
    pub async fn api_tokens(&self, user_id: Uuid) -> Result<Vec<ApiTokenView>, AuthError> {
        Ok(api_tokens::Entity::find()
            .filter(api_tokens::Column::UserId.eq(user_id))
            .filter(api_tokens::Column::RevokedAt.is_null())
            .order_by_desc(api_tokens::Column::CreatedAt)
            .all(&self.db)
            .await?
            .into_iter()
            .map(view)
            .collect())
    }

    /// Revokes one of the user's tokens; another user's, or one already revoked, is
    /// [`AuthError::NotFound`].
    pub async fn revoke_api_token(&self, user_id: Uuid, token_id: Uuid) -> Result<(), AuthError> {
        let txn = crate::db::begin_write(&self.db).await?;
        let token = api_tokens::Entity::find_by_id(token_id)
            .filter(api_tokens::Column::UserId.eq(user_id))
            .filter(api_tokens::Column::RevokedAt.is_null())
            .one(&txn)
            .await?
            .ok_or(AuthError::NotFound)?;
        api_tokens::Entity::update_many()
            .col_expr(api_tokens::Column::RevokedAt, Expr::value(Some(now())))
            .filter(api_tokens::Column::Id.eq(token.id))
            .exec(&txn)
            .await?;
        AuditEntry::new(Some(user_id), AuditAction::TokenRevoked)
            .target(token.name)
            .details(serde_json::json!({ "token_id": token.id }))
            .record(&txn)
            .await?;
        txn.commit().await?;
        Ok(())
    }

    /// Revokes every token of the user (when the account is disabled).
    pub(super) async fn revoke_all_api_tokens(
        &self,
        conn: &impl ConnectionTrait,
        user_id: Uuid,
    ) -> Result<(), AuthError> {
        api_tokens::Entity::update_many()
            .col_expr(api_tokens::Column::RevokedAt, Expr::value(Some(now())))
            .filter(api_tokens::Column::UserId.eq(user_id))
            .filter(api_tokens::Column::RevokedAt.is_null())
            .exec(conn)
            .await?;
        Ok(())
    }

    /// Who an API token speaks for, if it still works.
    pub(super) async fn signed_in_by_api_token(&self, token: &str) -> Result<SignedIn, AuthError> {
        let (row, user) = api_tokens::Entity::find()
            .filter(api_tokens::Column::TokenHash.eq(digest(token)))
            .find_also_related(users::Entity)
            .one(&self.db)
            .await?
            .ok_or(AuthError::InvalidToken)?;
        if row.revoked_at.is_some() {
            return Err(AuthError::SessionExpired);
        }
        let user = usable(user)?;
        let now = now();
        if row
            .last_used_at
            .is_none_or(|at| now - at > LAST_USED_GRANULARITY)
        {
            api_tokens::Entity::update_many()
                .col_expr(api_tokens::Column::LastUsedAt, Expr::value(Some(now)))
                .filter(api_tokens::Column::Id.eq(row.id))
                .exec(&self.db)
                .await?;
        }
        Ok(SignedIn {
            user,
            proof: Proof::ApiToken(row.id),
        })
    }
}
