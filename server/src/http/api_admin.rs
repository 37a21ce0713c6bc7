//! Admin routes. JSON under `/api/admin/…` for scripts, and `POST /admin/…` for the admin
//! page's plain HTML forms (amounts typed in dollars; the answer is a redirect back to
//! `/admin` with `?saved=…` or `?error=CODE`). Anyone but an admin gets 404 from all of them.

use app::wire::{
    AdminModelView, AdminUserView, AuditPage, CreatedInvite, InstanceSettingsView, InviteView,
    Micros, Page, UserRole, UserStatus,
};
use axum::{
    extract::{rejection::FormRejection, Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    Form, Json,
};
use axum_extra::extract::CookieJar;
use serde::Deserialize;
use uuid::Uuid;

use super::{
    api_json::ApiJson,
    api_query::ApiQuery,
    flash::{self, Flash},
    openapi,
    page_data::invite_url,
};
use crate::{
    admin::{self, ModelChanges, NewModel},
    auth::{
        access::AccessChange,
        invites::{NewInvite, DEFAULT_DAYS},
    },
    db::now,
    http::error::ApiError,
    http::session::AdminUser,
    state::AppState,
};

#[utoipa::path(
    get,
    path = "/api/admin/users",
    tag = "admin",
    responses(
        (status = 200, description = "Every account with this month's usage.", body = Vec<AdminUserView>),
        (status = 404, response = openapi::NotFound),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn list_users(
    State(state): State<AppState>,
    _: AdminUser,
) -> Result<Json<Vec<AdminUserView>>, ApiError> {
    Ok(Json(admin::users(&state.db, now()).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BudgetInput {
    /// Micro-dollars a month; `null` for no cap.
    monthly_budget_micros: Option<i64>,
}

#[utoipa::path(
    put,
    path = "/api/admin/users/{id}/budget",
    tag = "admin",
    params(("id" = Uuid, Path, description = "A user id.")),
    request_body = BudgetInput,
    responses(
        (status = 200, description = "The user with the new budget.", body = AdminUserView),
        (status = 400, response = openapi::BadRequest),
        (status = 403, response = openapi::Forbidden),
        (status = 404, response = openapi::NotFound),
        (status = 413, response = openapi::PayloadTooLarge),
        (status = 422, response = openapi::Unprocessable),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn put_budget(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(raw): Path<String>,
    ApiJson(input): ApiJson<BudgetInput>,
) -> Result<Json<AdminUserView>, ApiError> {
    let id = Uuid::parse_str(&raw).map_err(|_| ApiError::NotFound)?;
    admin::set_budget(&state.db, admin.id, id, input.monthly_budget_micros).await?;
    tracing::info!(admin = %admin.id, user_id = %id, budget = ?input.monthly_budget_micros, "budget changed");
    admin_user(&state, id).await.map(Json)
}

async fn admin_user(state: &AppState, id: Uuid) -> Result<AdminUserView, ApiError> {
    admin::users(&state.db, now())
        .await?
        .into_iter()
        .find(|u| u.id == id)
        .ok_or(ApiError::NotFound)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccessBody {
    role: Option<UserRole>,
    status: Option<UserStatus>,
}

/// `PATCH /api/admin/users/{id}` `{role?, status?}`: approve, disable, re-enable, change the
/// role. Disabling ends the user's sessions and tokens at once and stops their replies.
#[utoipa::path(
    patch,
    path = "/api/admin/users/{id}",
    tag = "admin",
    params(("id" = Uuid, Path, description = "A user id.")),
    request_body = AccessBody,
    responses(
        (status = 200, description = "The user as changed.", body = AdminUserView),
        (status = 400, response = openapi::BadRequest),
        (status = 403, response = openapi::Forbidden),
        (status = 404, response = openapi::NotFound),
        (status = 409, response = openapi::Conflict),
        (status = 413, response = openapi::PayloadTooLarge),
        (status = 422, response = openapi::Unprocessable),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn patch_user(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(raw): Path<String>,
    ApiJson(body): ApiJson<AccessBody>,
) -> Result<Json<AdminUserView>, ApiError> {
    let id = Uuid::parse_str(&raw).map_err(|_| ApiError::NotFound)?;
    let change = AccessChange {
        role: body.role,
        status: body.status,
    };
    change_access(&state, admin.id, id, change).await?;
    admin_user(&state, id).await.map(Json)
}

/// Applies an access change and, when it shuts the user out, stops what they still have
/// running on every process: streaming replies and open sockets.
async fn change_access(
    state: &AppState,
    admin: Uuid,
    user_id: Uuid,
    change: AccessChange,
) -> Result<(), ApiError> {
    let changed = state
        .auth
        .change_access(Some(admin), user_id, change)
        .await?;
    if changed.shut_out {
        state.chat.bus.shut_out(user_id);
    }
    Ok(())
}

#[utoipa::path(
    get,
    path = "/api/admin/settings",
    tag = "admin",
    responses(
        (status = 200, description = "The instance settings.", body = InstanceSettingsView),
        (status = 404, response = openapi::NotFound),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn get_settings(
    State(state): State<AppState>,
    _: AdminUser,
) -> Result<Json<InstanceSettingsView>, ApiError> {
    Ok(Json(admin::settings(&state.db).await?))
}

#[utoipa::path(
    put,
    path = "/api/admin/settings",
    tag = "admin",
    request_body = InstanceSettingsView,
    responses(
        (status = 200, description = "The instance settings as saved.", body = InstanceSettingsView),
        (status = 400, response = openapi::BadRequest),
        (status = 403, response = openapi::Forbidden),
        (status = 404, response = openapi::NotFound),
        (status = 413, response = openapi::PayloadTooLarge),
        (status = 422, response = openapi::Unprocessable),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn put_settings(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    ApiJson(input): ApiJson<InstanceSettingsView>,
) -> Result<Json<InstanceSettingsView>, ApiError> {
    Ok(Json(
        admin::save_settings(&state.db, admin.id, input).await?,
    ))
}

#[utoipa::path(
    get,
    path = "/api/admin/models",
    tag = "admin",
    responses(
        (status = 200, description = "Every model, enabled or not.", body = Vec<AdminModelView>),
        (status = 404, response = openapi::NotFound),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn list_models(
    State(state): State<AppState>,
    _: AdminUser,
) -> Result<Json<Vec<AdminModelView>>, ApiError> {
    Ok(Json(admin::models(&state.db, &state.chat.providers).await?))
}

#[utoipa::path(
    post,
    path = "/api/admin/models",
    tag = "admin",
    request_body = NewModel,
    responses(
        (status = 201, description = "The model as added.", body = AdminModelView),
        (status = 400, response = openapi::BadRequest),
        (status = 403, response = openapi::Forbidden),
        (status = 404, response = openapi::NotFound),
        (status = 409, response = openapi::Conflict),
        (status = 413, response = openapi::PayloadTooLarge),
        (status = 422, response = openapi::Unprocessable),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn create_model(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    ApiJson(input): ApiJson<NewModel>,
) -> Result<(StatusCode, Json<AdminModelView>), ApiError> {
    let created = admin::create_model(&state.db, &state.chat.providers, admin.id, input).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

#[utoipa::path(
    patch,
    path = "/api/admin/models/{id}",
    tag = "admin",
    params(("id" = Uuid, Path, description = "A model id.")),
    request_body = ModelChanges,
    responses(
        (status = 200, description = "The model as changed.", body = AdminModelView),
        (status = 400, response = openapi::BadRequest),
        (status = 403, response = openapi::Forbidden),
        (status = 404, response = openapi::NotFound),
        (status = 413, response = openapi::PayloadTooLarge),
        (status = 422, response = openapi::Unprocessable),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn update_model(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(raw): Path<String>,
    ApiJson(changes): ApiJson<ModelChanges>,
) -> Result<Json<AdminModelView>, ApiError> {
    let id = Uuid::parse_str(&raw).map_err(|_| ApiError::NotFound)?;
    Ok(Json(
        admin::update_model(&state.db, &state.chat.providers, admin.id, id, changes).await?,
    ))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InviteBody {
    email: Option<String>,
    role: Option<UserRole>,
    /// How many days it works (1 to 90, default 7).
    expires_in_days: Option<i64>,
}

/// `POST /api/admin/invites` `{email?, role?, expires_in_days?}` → 201 `{code, url, …}`.
#[utoipa::path(
    post,
    path = "/api/admin/invites",
    tag = "admin",
    request_body = InviteBody,
    responses(
        (status = 201, description = "The invite; its code and link are shown this once.", body = CreatedInvite),
        (status = 400, response = openapi::BadRequest),
        (status = 403, response = openapi::Forbidden),
        (status = 404, response = openapi::NotFound),
        (status = 413, response = openapi::PayloadTooLarge),
        (status = 422, response = openapi::Unprocessable),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn create_invite(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    ApiJson(body): ApiJson<InviteBody>,
) -> Result<(StatusCode, Json<CreatedInvite>), ApiError> {
    let new = NewInvite {
        email: body.email,
        role: body.role,
        days: body.expires_in_days,
    };
    let mut created = state.auth.create_invite(admin.id, new, "").await?;
    created.url = invite_url(&state, &created.code);
    Ok((StatusCode::CREATED, Json(created)))
}

#[utoipa::path(
    get,
    path = "/api/admin/invites",
    tag = "admin",
    responses(
        (status = 200, description = "Every invite, newest first, in one page.", body = Page<InviteView>),
        (status = 404, response = openapi::NotFound),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn list_invites(
    State(state): State<AppState>,
    _: AdminUser,
) -> Result<Json<Page<InviteView>>, ApiError> {
    Ok(Json(Page {
        items: state.auth.invites().await?,
        next_cursor: None,
    }))
}

#[utoipa::path(
    delete,
    path = "/api/admin/invites/{id}",
    tag = "admin",
    params(("id" = Uuid, Path, description = "An invite id.")),
    responses(
        (status = 204, description = "The invite no longer works."),
        (status = 403, response = openapi::Forbidden),
        (status = 404, response = openapi::NotFound),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn revoke_invite(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(raw): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = Uuid::parse_str(&raw).map_err(|_| ApiError::NotFound)?;
    state.auth.revoke_invite(admin.id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// The `next_cursor` of the previous page.
    cursor: Option<Uuid>,
    limit: Option<u64>,
}

/// `GET /api/admin/audit?cursor=&limit=`: the audit log, newest first.
#[utoipa::path(
    get,
    path = "/api/admin/audit",
    tag = "admin",
    params(AuditQuery),
    responses(
        (status = 200, description = "A page of the audit log, newest first.", body = AuditPage),
        (status = 400, response = openapi::BadRequest),
        (status = 404, response = openapi::NotFound),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn audit(
    State(state): State<AppState>,
    _: AdminUser,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> Result<Json<AuditPage>, ApiError> {
    let limit = query.limit.unwrap_or(50);
    Ok(Json(
        crate::audit::page(&state.db, query.cursor, limit).await?,
    ))
}

/// Dollars as typed into a form (`5`, `5.25`, `$0.000001`) to micro-dollars; empty is `None`.
pub fn parse_dollars(raw: &str) -> Result<Option<i64>, ApiError> {
    if raw.trim().is_empty() {
        return Ok(None);
    }
    Micros::parse_dollars(raw)
        .map(|m| Some(m.get()))
        .map_err(|e| ApiError::validation("invalid_amount", e.to_string()))
}

fn parse_count(raw: Option<&str>, what: &str) -> Result<Option<i32>, ApiError> {
    match raw.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v.replace([',', '_'], "").parse().map(Some).map_err(|_| {
            ApiError::validation("invalid_model", format!("{what} must be a whole number."))
        }),
    }
}

/// Back to the admin page, at the tab and section the form was in.
fn back(result: Result<&str, ApiError>, section: &str) -> Response {
    match result {
        Ok(saved) => {
            Redirect::to(&format!("/admin?tab={section}&saved={saved}#{section}")).into_response()
        }
        Err(error) => {
            let code = match error {
                ApiError::Database(_) | ApiError::Internal(_) => {
                    tracing::error!(%error, "admin form failed");
                    "server_error"
                }
                other => other.code(),
            };
            Redirect::to(&format!("/admin?tab={section}&error={code}#{section}")).into_response()
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct BudgetForm {
    budget: String,
}

pub async fn budget_form(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(id): Path<Uuid>,
    form: Result<Form<BudgetForm>, FormRejection>,
) -> Response {
    let result = async {
        let Form(form) = form.map_err(|e| ApiError::BadRequest(e.body_text()))?;
        let budget = parse_dollars(&form.budget)?;
        admin::set_budget(&state.db, admin.id, id, budget).await?;
        tracing::info!(admin = %admin.id, user_id = %id, budget = ?budget, "budget changed");
        Ok("budget")
    }
    .await;
    back(result, "users")
}

#[derive(Debug, Deserialize)]
pub struct SettingsForm {
    default_budget: String,
}

pub async fn settings_form(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    form: Result<Form<SettingsForm>, FormRejection>,
) -> Response {
    let result = async {
        let Form(form) = form.map_err(|e| ApiError::BadRequest(e.body_text()))?;
        let input = InstanceSettingsView {
            default_monthly_budget_micros: parse_dollars(&form.default_budget)?,
        };
        admin::save_settings(&state.db, admin.id, input).await?;
        Ok("settings")
    }
    .await;
    back(result, "users")
}

/// The model form: prices in dollars per million tokens; an unchecked `enabled` box is absent.
#[derive(Debug, Default, Deserialize)]
pub struct ModelForm {
    provider: Option<String>,
    model: Option<String>,
    display_name: Option<String>,
    enabled: Option<String>,
    context_window: Option<String>,
    max_output_tokens: Option<String>,
    input_price: Option<String>,
    cached_input_price: Option<String>,
    output_price: Option<String>,
    supports_images: Option<String>,
}

impl ModelForm {
    fn changes(&self) -> Result<ModelChanges, ApiError> {
        let price = |raw: &Option<String>| -> Result<Option<i64>, ApiError> {
            raw.as_deref().map_or(Ok(None), parse_dollars)
        };
        Ok(ModelChanges {
            display_name: self.display_name.clone().filter(|v| !v.trim().is_empty()),
            enabled: Some(self.enabled.is_some()),
            context_window: parse_count(self.context_window.as_deref(), "The context window")?,
            max_output_tokens: parse_count(self.max_output_tokens.as_deref(), "Max output tokens")?,
            input_micros_per_mtok: price(&self.input_price)?,
            // The field is always on the form: empty means "no separate cached price".
            cached_input_micros_per_mtok: self
                .cached_input_price
                .as_deref()
                .map(parse_dollars)
                .transpose()?,
            output_micros_per_mtok: price(&self.output_price)?,
            sort_order: None,
            supports_images: Some(self.supports_images.is_some()),
        })
    }
}

pub async fn model_form(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(id): Path<Uuid>,
    form: Result<Form<ModelForm>, FormRejection>,
) -> Response {
    let result = async {
        let Form(form) = form.map_err(|e| ApiError::BadRequest(e.body_text()))?;
        let changes = form.changes()?;
        admin::update_model(&state.db, &state.chat.providers, admin.id, id, changes).await?;
        Ok("model")
    }
    .await;
    back(result, "models")
}

pub async fn new_model_form(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    form: Result<Form<ModelForm>, FormRejection>,
) -> Response {
    let result = async {
        let Form(form) = form.map_err(|e| ApiError::BadRequest(e.body_text()))?;
        let new = NewModel {
            provider: form.provider.clone().unwrap_or_default(),
            model: form.model.clone().unwrap_or_default(),
            fields: form.changes()?,
        };
        admin::create_model(&state.db, &state.chat.providers, admin.id, new).await?;
        Ok("new_model")
    }
    .await;
    back(result, "models")
}

#[derive(Debug, Deserialize)]
pub struct AccessForm {
    action: String,
}

/// The users tab's buttons: approve, disable, enable, make admin, make user.
pub async fn access_form(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(id): Path<Uuid>,
    form: Result<Form<AccessForm>, FormRejection>,
) -> Response {
    let result = async {
        let Form(form) = form.map_err(|e| ApiError::BadRequest(e.body_text()))?;
        let change = match form.action.as_str() {
            "approve" | "enable" => AccessChange {
                status: Some(UserStatus::Active),
                ..Default::default()
            },
            "disable" => AccessChange {
                status: Some(UserStatus::Disabled),
                ..Default::default()
            },
            "make_admin" => AccessChange {
                role: Some(UserRole::Admin),
                ..Default::default()
            },
            "make_user" => AccessChange {
                role: Some(UserRole::User),
                ..Default::default()
            },
            _ => return Err(ApiError::BadRequest("Unknown action.".into())),
        };
        change_access(&state, admin.id, id, change).await?;
        Ok("access")
    }
    .await;
    back(result, "users")
}

#[derive(Debug, Deserialize)]
pub struct InviteForm {
    email: Option<String>,
    role: Option<String>,
    days: Option<String>,
}

/// Makes an invite and shows its link once on the invites tab (through the flash cookie).
pub async fn invite_form(
    State(state): State<AppState>,
    jar: CookieJar,
    AdminUser(admin): AdminUser,
    form: Result<Form<InviteForm>, FormRejection>,
) -> Response {
    let result = async {
        let Form(form) = form.map_err(|e| ApiError::BadRequest(e.body_text()))?;
        let role =
            match form.role.as_deref().map(str::trim) {
                None | Some("") => None,
                Some(raw) => Some(raw.parse::<UserRole>().map_err(|_| {
                    ApiError::validation("invalid_role", "The role is user or admin.")
                })?),
            };
        let days = match form.days.as_deref().map(str::trim) {
            None | Some("") => DEFAULT_DAYS,
            Some(raw) => raw.parse().map_err(|_| {
                ApiError::validation("invalid_invite_days", "Days must be a whole number.")
            })?,
        };
        let new = NewInvite {
            email: form.email,
            role,
            days: Some(days),
        };
        Ok(state.auth.create_invite(admin.id, new, "").await?)
    }
    .await;
    match result {
        Ok(created) => {
            let flash = Flash::Invite {
                id: created.id,
                code: created.code,
            };
            let jar = flash::set(jar, &flash, state.config.cookie_secure);
            (jar, back(Ok("invite_created"), "invites")).into_response()
        }
        Err(error) => back(Err(error), "invites"),
    }
}

pub async fn revoke_invite_form(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(id): Path<Uuid>,
) -> Response {
    let result = state
        .auth
        .revoke_invite(admin.id, id)
        .await
        .map(|()| "invite_revoked")
        .map_err(ApiError::from);
    back(result, "invites")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dollars_parse_exactly() {
        assert_eq!(parse_dollars("5").unwrap(), Some(5_000_000));
        assert_eq!(parse_dollars(" $2.50 ").unwrap(), Some(2_500_000));
        assert_eq!(parse_dollars("0.000001").unwrap(), Some(1));
        assert_eq!(parse_dollars(".5").unwrap(), Some(500_000));
        assert_eq!(parse_dollars("1,000").unwrap(), Some(1_000_000_000));
        assert_eq!(parse_dollars("").unwrap(), None);
        for bad in ["-1", "1.0000001", "abc", "1e3", ".", "99999999"] {
            assert!(parse_dollars(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_unchecked_box_disables_and_an_empty_cached_price_clears() {
        let form = ModelForm {
            display_name: Some("Local Llama".into()),
            context_window: Some("32,768".into()),
            input_price: Some("0.15".into()),
            cached_input_price: Some("".into()),
            ..Default::default()
        };
        let changes = form.changes().unwrap();
        assert_eq!(changes.enabled, Some(false));
        assert_eq!(changes.context_window, Some(32_768));
        assert_eq!(changes.input_micros_per_mtok, Some(150_000));
        assert_eq!(changes.cached_input_micros_per_mtok, Some(None));
        assert_eq!(changes.output_micros_per_mtok, None);
    }
}
