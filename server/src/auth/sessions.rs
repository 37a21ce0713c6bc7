//! Revocable sessions: each token names a row of `sessions` (its `sid` claim), and a request
//! gets in only while that row exists, is not revoked and belongs to the token's user. Logout
//! revokes the one session, "log out everywhere" all of a user's, a password change all but
//! the one it was made from.

use app::wire::{SessionView, UserStatus};
use sea_orm::{
    sea_query::Expr, ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait,
    QueryFilter, QueryOrder, Set,
};
use uuid::Uuid;

use super::{
    service::AuthService,
    token::{TokenError, TokenSubject},
    AuthError,
};
use crate::{
    audit::{AuditAction, AuditEntry},
    db::{
        entities::{sessions, users},
        now,
    },
};

/// Longest user agent kept: enough to tell a browser and a device apart.
const USER_AGENT_CHARS: usize = 200;

/// `last_seen_at` is written only when older than this: a client making many requests costs
/// one write a minute, not one per request.
const LAST_SEEN_GRANULARITY: chrono::TimeDelta = chrono::TimeDelta::seconds(60);

/// A request's proven identity: the user, and the session or API token that proved it.
#[derive(Clone, Debug)]
pub struct SignedIn {
    pub user: users::Model,
    pub proof: Proof,
}

/// What a request presented.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Proof {
    /// A session token (log-in); the id of its row in `sessions`.
    Session(Uuid),
    /// A personal API token; the id of its row in `api_tokens`.
    ApiToken(Uuid),
}

impl SignedIn {
    /// The session the request came with, if it came with one (not with an API token).
    pub fn session_id(&self) -> Option<Uuid> {
        match self.proof {
            Proof::Session(id) => Some(id),
            Proof::ApiToken(_) => None,
        }
    }
}

impl AuthService {
    /// Records a new session of `user_id` (in the caller's transaction, if any) and returns
    /// the token that proves it.
    pub(super) async fn open_session(
        &self,
        conn: &impl ConnectionTrait,
        user_id: Uuid,
        user_agent: Option<&str>,
    ) -> Result<String, AuthError> {
        let now = now();
        let user_agent = user_agent
            .map(str::trim)
            .filter(|ua| !ua.is_empty())
            .map(|ua| ua.chars().take(USER_AGENT_CHARS).collect::<String>());
        let session = sessions::ActiveModel {
            id: Set(Uuid::now_v7()),
            user_id: Set(user_id),
            created_at: Set(now),
            last_seen_at: Set(now),
            user_agent: Set(user_agent),
            revoked_at: Set(None),
        }
        .insert(conn)
        .await?;
        Ok(self.keys.issue(TokenSubject {
            user_id,
            session_id: session.id,
        }))
    }

    /// The user and session (or API token) a token proves: an error that says why when it is
    /// forged, expired, revoked, or its user no longer exists or is disabled.
    pub async fn session_for_token(&self, token: &str) -> Result<SignedIn, AuthError> {
        if token.starts_with(super::api_tokens::PREFIX) {
            return self.signed_in_by_api_token(token).await;
        }
        let subject = self.keys.verify(token).map_err(|e| match e {
            TokenError::Expired => AuthError::SessionExpired,
            TokenError::Invalid => AuthError::InvalidToken,
        })?;
        // The session and its account in one query: every request of a signed-in person
        // makes it.
        let (session, user) = sessions::Entity::find_by_id(subject.session_id)
            .find_also_related(users::Entity)
            .one(&self.db)
            .await?
            .filter(|(s, _)| s.user_id == subject.user_id && s.revoked_at.is_none())
            .ok_or(AuthError::SessionExpired)?;
        let user = usable(user)?;
        let now = now();
        if now - session.last_seen_at > LAST_SEEN_GRANULARITY {
            // Conditional, so requests racing past the check above write once between them.
            sessions::Entity::update_many()
                .col_expr(sessions::Column::LastSeenAt, Expr::value(now))
                .filter(sessions::Column::Id.eq(session.id))
                .filter(sessions::Column::LastSeenAt.lt(now - LAST_SEEN_GRANULARITY))
                .exec(&self.db)
                .await?;
        }
        Ok(SignedIn {
            user,
            proof: Proof::Session(session.id),
        })
    }

    /// Revokes the session `token` belongs to and says whose it was. A token that proves
    /// nothing any more (expired, revoked, forged) has nothing left to revoke: that is not an
    /// error. An API token is not a session: logging out does not revoke it.
    pub async fn logout(&self, token: &str) -> Result<Option<Uuid>, AuthError> {
        let Ok(subject) = self.keys.verify(token) else {
            return Ok(None);
        };
        let revoked = revoke_where(
            &self.db,
            Condition::all()
                .add(sessions::Column::Id.eq(subject.session_id))
                .add(sessions::Column::UserId.eq(subject.user_id)),
        )
        .await?;
        Ok((revoked > 0).then_some(subject.user_id))
    }

    /// Revokes one of the user's active sessions; another user's, or one already ended, is
    /// [`AuthError::SessionNotFound`].
    pub async fn revoke_session(&self, user_id: Uuid, session_id: Uuid) -> Result<(), AuthError> {
        let txn = crate::db::begin_write(&self.db).await?;
        let revoked = revoke_where(
            &txn,
            Condition::all()
                .add(sessions::Column::Id.eq(session_id))
                .add(sessions::Column::UserId.eq(user_id)),
        )
        .await?;
        if revoked == 0 {
            return Err(AuthError::SessionNotFound);
        }
        AuditEntry::new(Some(user_id), AuditAction::SessionsRevoked)
            .details(serde_json::json!({ "scope": "one", "session_id": session_id }))
            .record(&txn)
            .await?;
        txn.commit().await?;
        Ok(())
    }

    /// "Log out everywhere": revokes every session of the user, this one included.
    pub async fn revoke_all_sessions(&self, user_id: Uuid) -> Result<(), AuthError> {
        let txn = crate::db::begin_write(&self.db).await?;
        self.revoke_other_sessions(&txn, user_id, None).await?;
        AuditEntry::new(Some(user_id), AuditAction::SessionsRevoked)
            .details(serde_json::json!({ "scope": "all" }))
            .record(&txn)
            .await?;
        txn.commit().await?;
        Ok(())
    }

    /// Revokes every session of the user but `keep` (after a password change; every one when
    /// `keep` is `None`, as when an account is disabled).
    pub(super) async fn revoke_other_sessions(
        &self,
        conn: &impl ConnectionTrait,
        user_id: Uuid,
        keep: Option<Uuid>,
    ) -> Result<(), AuthError> {
        let mut update = sessions::Entity::update_many()
            .col_expr(sessions::Column::RevokedAt, Expr::value(Some(now())))
            .filter(sessions::Column::UserId.eq(user_id))
            .filter(sessions::Column::RevokedAt.is_null());
        if let Some(keep) = keep {
            update = update.filter(sessions::Column::Id.ne(keep));
        }
        update.exec(conn).await?;
        Ok(())
    }

    /// The user's sessions that still let someone in (not revoked, token not expired),
    /// newest first; `current` is marked.
    pub async fn sessions(
        &self,
        user_id: Uuid,
        current: Option<Uuid>,
    ) -> Result<Vec<SessionView>, AuthError> {
        let lifetime = chrono::TimeDelta::from_std(self.keys.lifetime())
            .map_err(|e| AuthError::Internal(format!("token lifetime: {e}")))?;
        let sessions = sessions::Entity::find()
            .filter(sessions::Column::UserId.eq(user_id))
            .filter(sessions::Column::RevokedAt.is_null())
            .filter(sessions::Column::CreatedAt.gt(now() - lifetime))
            .order_by_desc(sessions::Column::CreatedAt)
            .all(&self.db)
            .await?;
        Ok(sessions
            .into_iter()
            .map(|s| SessionView {
                current: Some(s.id) == current,
                id: s.id,
                created_at: s.created_at,
                last_seen_at: s.last_seen_at,
                user_agent: s.user_agent,
            })
            .collect())
    }
}

/// Marks the active sessions matching `condition` revoked; returns how many.
async fn revoke_where(conn: &impl ConnectionTrait, condition: Condition) -> Result<u64, AuthError> {
    let result = sessions::Entity::update_many()
        .col_expr(sessions::Column::RevokedAt, Expr::value(Some(now())))
        .filter(condition)
        .filter(sessions::Column::RevokedAt.is_null())
        .exec(conn)
        .await?;
    Ok(result.rows_affected)
}

/// The account a valid credential names, if it may still be used: not deleted, not disabled.
/// (Disabling also revokes every session and token; this holds even for a request already
/// past that check.)
pub(super) fn usable(user: Option<users::Model>) -> Result<users::Model, AuthError> {
    let user = user.ok_or(AuthError::AccountGone)?;
    if user.status == UserStatus::Disabled {
        return Err(AuthError::AccountDisabled);
    }
    Ok(user)
}
