//! The register and log-in workflows.

use app::wire::{UserRole, UserStatus};
use sea_orm::{
    sea_query::Expr, ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, PaginatorTrait, QueryFilter, Set, SqlErr,
};
use uuid::Uuid;

use super::{
    credentials::{display_name, Email, NewPassword},
    password,
    token::TokenKeys,
};
use super::{sessions::SignedIn, AuthError};
use crate::{
    audit::{AuditAction, AuditEntry},
    config::RegistrationMode,
    db::entities::{chat_settings, instance_settings, users},
};

pub struct RegisterInput {
    pub email: String,
    pub password: String,
    pub name: Option<String>,
    /// An invite code (`/register?invite=…`): lets the account in whatever the mode.
    pub invite: Option<String>,
    /// The client's `User-Agent`, shown in the user's list of sessions.
    pub user_agent: Option<String>,
}

#[derive(Clone)]
pub struct AuthService {
    pub(super) db: DatabaseConnection,
    pub(super) keys: TokenKeys,
    registration: RegistrationMode,
}

/// Takes the registration turn inside `txn`: a no-op write on the one settings row.
/// PostgreSQL holds its row lock until the commit, and SQLite has one writer at a time anyway,
/// so whatever the transaction counts next (accounts, admins) cannot change under it.
pub(super) async fn take_accounts_turn(txn: &impl ConnectionTrait) -> Result<(), AuthError> {
    instance_settings::Entity::update_many()
        .col_expr(
            instance_settings::Column::Id,
            Expr::col(instance_settings::Column::Id),
        )
        .filter(instance_settings::Column::Id.eq(1))
        .exec(txn)
        .await?;
    Ok(())
}

impl AuthService {
    pub fn new(db: DatabaseConnection, keys: TokenKeys, registration: RegistrationMode) -> Self {
        Self {
            db,
            keys,
            registration,
        }
    }

    pub fn keys(&self) -> &TokenKeys {
        &self.keys
    }

    pub fn registration(&self) -> RegistrationMode {
        self.registration
    }

    /// Whether the instance has no account yet (the next one registered is its admin).
    pub async fn is_empty(&self) -> Result<bool, AuthError> {
        Ok(users::Entity::find().count(&self.db).await? == 0)
    }

    /// Refuses, before any password is hashed, a registration the mode does not allow.
    async fn check_mode(&self, invite: Option<&str>) -> Result<(), AuthError> {
        if invite.is_some() {
            return Ok(());
        }
        match self.registration {
            RegistrationMode::Open | RegistrationMode::Approval => Ok(()),
            _ if self.is_empty().await? => Ok(()),
            RegistrationMode::Invite => Err(AuthError::InviteRequired),
            RegistrationMode::Closed => Err(AuthError::RegistrationClosed),
        }
    }

    /// Creates the account, its default chat settings and its first session in one
    /// transaction, and returns the user with the session's token. The first account of an
    /// empty instance is an active admin; after that the registration mode (or an invite)
    /// decides whether an account may be made and whether it waits for approval.
    pub async fn register(
        &self,
        input: RegisterInput,
    ) -> Result<(users::Model, String), AuthError> {
        let email = Email::parse(&input.email)?;
        let name = display_name(input.name.as_deref(), &email)?;
        let new_password = NewPassword::parse(input.password, &email)?;
        let invite_code = input
            .invite
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty());
        self.check_mode(invite_code).await?;
        if self.find_by_email(&email).await?.is_some() {
            return Err(AuthError::EmailTaken);
        }
        let password_hash = password::hash(new_password.into_inner()).await?;
        let now = chrono::Utc::now();
        let default_budget = instance_settings::Entity::find_by_id(1)
            .one(&self.db)
            .await?
            .and_then(|s| s.default_monthly_budget_micros);
        // Writes come before reads in this transaction: SQLite cannot upgrade a reader to a
        // writer under contention, but a writer waits its turn.
        let txn = crate::db::begin_write(&self.db).await?;
        // Registrations take turns, so the count below sees every account committed before
        // this one: two at once on an empty instance cannot both become the admin.
        take_accounts_turn(&txn).await?;
        let first = users::Entity::find().count(&txn).await? == 0;
        let invite = match invite_code {
            Some(code) if !first => Some(self.claim_invite(&txn, code, &email).await?),
            _ => None,
        };
        let (role, status) = match (&invite, self.registration) {
            _ if first => (UserRole::Admin, UserStatus::Active),
            (Some(invite), _) => (invite.role, UserStatus::Active),
            (None, RegistrationMode::Open) => (UserRole::User, UserStatus::Active),
            (None, RegistrationMode::Approval) => (UserRole::User, UserStatus::Pending),
            (None, RegistrationMode::Invite) => return Err(AuthError::InviteRequired),
            (None, RegistrationMode::Closed) => return Err(AuthError::RegistrationClosed),
        };
        let user = users::ActiveModel {
            id: Set(Uuid::now_v7()),
            email: Set(email.as_str().to_owned()),
            name: Set(name),
            password_hash: Set(password_hash),
            role: Set(role),
            status: Set(status),
            monthly_budget_micros: Set(default_budget),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&txn)
        .await
        .map_err(|e| match e.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => AuthError::EmailTaken,
            _ => AuthError::from(e),
        })?;
        let defaults = crate::settings::defaults();
        chat_settings::ActiveModel {
            user_id: Set(user.id),
            default_provider: Set(defaults.default_provider),
            default_model: Set(defaults.default_model),
            theme: Set(defaults.theme),
            font_size: Set(defaults.font_size),
            streaming: Set(defaults.streaming),
            markdown: Set(defaults.markdown),
            code_highlight: Set(defaults.code_highlight),
            updated_at: Set(now),
        }
        .insert(&txn)
        .await?;
        if let Some(invite) = &invite {
            self.mark_invite_used_by(&txn, invite, &user).await?;
        }
        AuditEntry::new(Some(user.id), AuditAction::UserRegistered)
            .target(user.email.clone())
            .details(serde_json::json!({ "role": role, "status": status, "first": first }))
            .record(&txn)
            .await?;
        let token = self
            .open_session(&txn, user.id, input.user_agent.as_deref())
            .await?;
        txn.commit().await?;
        tracing::info!(user_id = %user.id, role = %user.role, status = %user.status, "account created");
        Ok((user, token))
    }

    /// Checks the password and opens a session; `user_agent` is shown in the session list.
    pub async fn login(
        &self,
        email: &str,
        password: String,
        user_agent: Option<&str>,
    ) -> Result<(users::Model, String), AuthError> {
        if password.len() > NewPassword::MAX_BYTES {
            return Err(AuthError::InvalidCredentials);
        }
        let user = match Email::parse(email) {
            Ok(email) => self.find_by_email(&email).await?,
            Err(_) => None,
        };
        let stored = user
            .as_ref()
            .map(|u| u.password_hash.clone())
            .unwrap_or_else(|| password::DUMMY_HASH.to_owned());
        let matches = password::verify(password, stored).await?;
        match user {
            Some(user) if matches && user.status == UserStatus::Disabled => {
                Err(AuthError::AccountDisabled)
            }
            Some(user) if matches => {
                let token = self.open_session(&self.db, user.id, user_agent).await?;
                Ok((user, token))
            }
            _ => Err(AuthError::InvalidCredentials),
        }
    }

    pub async fn user(&self, id: Uuid) -> Result<Option<users::Model>, AuthError> {
        Ok(users::Entity::find_by_id(id).one(&self.db).await?)
    }

    /// Replaces the password of the signed-in user after checking the current one, and revokes
    /// every other session: whoever knew the old password is signed out, this device is not.
    pub async fn change_password(
        &self,
        signed_in: &SignedIn,
        current_password: String,
        new_password: String,
    ) -> Result<(), AuthError> {
        let user = &signed_in.user;
        if current_password.len() > NewPassword::MAX_BYTES
            || !password::verify(current_password, user.password_hash.clone()).await?
        {
            return Err(AuthError::InvalidCredentials);
        }
        let email = Email::parse(&user.email)?;
        let new_password = NewPassword::parse(new_password, &email)?;
        let password_hash = password::hash(new_password.into_inner()).await?;
        let txn = crate::db::begin_write(&self.db).await?;
        users::Entity::update_many()
            .col_expr(users::Column::PasswordHash, Expr::value(password_hash))
            .col_expr(users::Column::UpdatedAt, Expr::value(crate::db::now()))
            .filter(users::Column::Id.eq(user.id))
            .exec(&txn)
            .await?;
        self.revoke_other_sessions(&txn, user.id, signed_in.session_id())
            .await?;
        AuditEntry::new(Some(user.id), AuditAction::PasswordChanged)
            .target(user.email.clone())
            .record(&txn)
            .await?;
        txn.commit().await?;
        tracing::info!(user_id = %user.id, "password changed, other sessions revoked");
        Ok(())
    }

    pub(super) async fn find_by_email(
        &self,
        email: &Email,
    ) -> Result<Option<users::Model>, AuthError> {
        Ok(users::Entity::find()
            .filter(users::Column::Email.eq(email.as_str()))
            .one(&self.db)
            .await?)
    }
}
