//! The HTTP edge: every route of the server, in one place. Handlers parse, authenticate
//! ([`session`]: extractors, the cookie, the page guard), call a service, and map its errors
//! to status codes ([`error`]); the work happens in the services.

mod api_account;
mod api_admin;
mod api_attachments;
mod api_auth;
mod api_chat;
mod api_find;
mod api_json;
mod api_presets;
mod api_query;
mod api_settings;
mod api_usage;
mod auth_forms;
pub mod cross_site;
pub mod error;
mod flash;
pub mod host_check;
pub mod limits;
mod openapi;
pub mod page_data;
mod request_log;
pub mod session;
pub mod static_files;

use axum::{
    extract::DefaultBodyLimit,
    middleware,
    routing::{delete, get, patch, post, put},
    Router,
};
use leptos_axum::{generate_route_list, LeptosRoutes};

use crate::state::AppState;
use error::ApiError;
use session::page_session;

pub fn router(state: AppState) -> Router {
    let api_attempts = middleware::from_fn_with_state(state.clone(), limits::api_auth_attempts);
    let form_attempts = middleware::from_fn_with_state(state.clone(), limits::form_auth_attempts);
    let api = Router::new()
        .route(
            "/auth/register",
            post(api_auth::register).route_layer(api_attempts.clone()),
        )
        .route(
            "/auth/login",
            post(api_auth::login).route_layer(api_attempts),
        )
        .route("/auth/logout", post(api_auth::logout))
        .route("/auth/logout-all", post(api_account::logout_all))
        .route("/me", get(api_auth::me))
        .route("/me/password", put(api_account::change_password))
        .route("/me/sessions", get(api_account::list_sessions))
        .route("/me/sessions/{id}", delete(api_account::revoke_session))
        .route(
            "/tokens",
            get(api_account::list_tokens).post(api_account::create_token),
        )
        .route("/tokens/{id}", delete(api_account::revoke_token))
        .route("/models", get(api_chat::models))
        .route(
            "/conversations",
            get(api_chat::list_conversations).post(api_chat::create_conversation),
        )
        .route(
            "/conversations/{id}",
            get(api_chat::get_conversation)
                .patch(api_chat::update_conversation)
                .delete(api_chat::delete_conversation),
        )
        .route(
            "/conversations/{id}/messages",
            get(api_chat::list_messages).post(api_chat::send_message),
        )
        .route("/conversations/{id}/current", put(api_chat::switch_branch))
        .route(
            "/conversations/{id}/export",
            get(api_find::export_conversation),
        )
        .route("/export", get(api_find::export_all))
        .route(
            "/import",
            // The file's own limit (`MAX_IMPORT_BYTES`) applies as it streams.
            post(api_find::import).route_layer(DefaultBodyLimit::disable()),
        )
        .route("/search", get(api_find::search))
        .route("/presets", get(api_presets::list).post(api_presets::create))
        .route(
            "/presets/{id}",
            get(api_presets::get)
                .patch(api_presets::update)
                .delete(api_presets::delete),
        )
        .route("/conversations/{id}/branch", get(api_chat::branch_items))
        .route("/messages/{id}", delete(api_chat::delete_message))
        .route(
            "/messages/{id}/regenerate",
            post(api_chat::regenerate_message),
        )
        .route(
            "/attachments",
            // The upload's own limits apply as it streams (`MAX_UPLOAD_BYTES`, the quota),
            // in place of the JSON body limit.
            post(api_attachments::upload).route_layer(DefaultBodyLimit::disable()),
        )
        .route("/attachments/{id}", get(api_attachments::get_attachment))
        .route("/attachments/{id}/content", get(api_attachments::content))
        .route("/messages/{id}/stop", post(api_chat::stop_message))
        .route("/messages/{id}/html", get(api_chat::message_html))
        .route(
            "/settings",
            get(api_settings::get_settings).put(api_settings::put_settings),
        )
        .route("/budget", get(api_usage::budget))
        .route("/usage", get(api_usage::usage_json))
        .route("/usage.csv", get(api_usage::usage_csv))
        .route("/admin/users", get(api_admin::list_users))
        .route("/admin/users/{id}", patch(api_admin::patch_user))
        .route("/admin/users/{id}/budget", put(api_admin::put_budget))
        .route(
            "/admin/invites",
            get(api_admin::list_invites).post(api_admin::create_invite),
        )
        .route("/admin/invites/{id}", delete(api_admin::revoke_invite))
        .route("/admin/audit", get(api_admin::audit))
        .route(
            "/admin/settings",
            get(api_admin::get_settings).put(api_admin::put_settings),
        )
        .route(
            "/admin/models",
            get(api_admin::list_models).post(api_admin::create_model),
        )
        .route("/admin/models/{id}", patch(api_admin::update_model))
        .route("/openapi.json", get(openapi::document))
        .fallback(|| async { ApiError::NotFound })
        .layer(static_files::dynamic());

    let forms = Router::new()
        .route(
            "/auth/register",
            post(auth_forms::register).route_layer(form_attempts.clone()),
        )
        .route(
            "/auth/login",
            post(auth_forms::login).route_layer(form_attempts),
        )
        .route("/auth/logout", post(auth_forms::logout))
        .route("/settings/save", post(api_settings::save_form))
        .route(
            "/settings/password",
            post(api_account::change_password_form),
        )
        .route(
            "/settings/sessions/revoke-all",
            post(api_account::logout_all_form),
        )
        .route(
            "/settings/sessions/{id}/revoke",
            post(api_account::revoke_session_form),
        )
        .route("/settings/tokens", post(api_account::create_token_form))
        .route(
            "/settings/tokens/{id}/revoke",
            post(api_account::revoke_token_form),
        )
        .route("/admin/users/{id}/access", post(api_admin::access_form))
        .route("/admin/users/{id}/budget", post(api_admin::budget_form))
        .route("/admin/invites", post(api_admin::invite_form))
        .route(
            "/admin/invites/{id}/revoke",
            post(api_admin::revoke_invite_form),
        )
        .route("/admin/settings", post(api_admin::settings_form))
        .route("/admin/models", post(api_admin::new_model_form))
        .route("/admin/models/{id}", post(api_admin::model_form))
        .route_layer(middleware::from_fn(api_json::refuse_nul_in_form))
        .layer(static_files::dynamic());

    let leptos_options = state.leptos_options.clone();
    let pages = Router::<AppState>::new()
        .leptos_routes(&state, generate_route_list(app::App), {
            let options = leptos_options.clone();
            move || app::shell(options.clone())
        })
        // Layers run outside-in: the guard resolves the user, then the page's data is loaded.
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            page_data::load_page_data,
        ))
        .route_layer(middleware::from_fn_with_state(state.clone(), page_session))
        .layer(static_files::dynamic());

    let [nosniff, referrer_policy, frame_options, csp] = cross_site::security_headers();
    let hosts = host_check::AllowedHosts::new(state.config.public_url.as_ref());
    let hsts = host_check::hsts(state.config.public_url.as_ref());
    Router::new()
        .route("/ws", get(crate::ws::upgrade))
        .nest("/api", api)
        .merge(forms)
        .merge(pages)
        .merge(static_files::router(&state))
        .layer(middleware::from_fn(cross_site::refuse_cross_site))
        .layer(nosniff)
        .layer(referrer_policy)
        .layer(frame_options)
        .layer(csp)
        .layer(hsts)
        .layer(middleware::from_fn_with_state(
            hosts,
            host_check::refuse_unknown_host,
        ))
        .layer(request_log::layer())
        .with_state(state)
}
