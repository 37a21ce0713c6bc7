//! Loads what a signed-in page shows before Leptos renders it, into the request's extensions
//! (see `app::page_data`). Runs after the page guard, so the user is known.

use std::sync::Arc;

use app::{
    page_data::{AdminPageData, ChatPageData, RegisterPageData, SettingsPageData, UsagePageData},
    routes::AppRoute,
    session::SessionUser,
    wire::{CreatedApiToken, CreatedInvite, SettingsView},
};
use axum::{
    extract::{Request, State},
    http::header,
    middleware::Next,
    response::{IntoResponse, Response},
};
use uuid::Uuid;

use super::{
    error::ApiError,
    flash::{self, Flash},
    session::PageSession,
};
use crate::{chat::branches::BranchWindow, db::now, state::AppState};

/// Audit entries on one page of the admin page's log.
const AUDIT_PAGE: u64 = 50;

pub async fn load_page_data(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    // A secret shown once (a new API token or invite link) is read here and cleared from
    // the browser by this response, whichever page it lands on.
    let flash = flash::read(request.headers());
    let clear_flash = flash::present(request.headers());
    let mut response = match load(&state, request, flash).await {
        Ok(request) => next.run(request).await,
        Err(e) => e.into_response(),
    };
    if clear_flash {
        response.headers_mut().append(
            header::SET_COOKIE,
            flash::clearing_header(state.config.cookie_secure),
        );
    }
    response
}

async fn load(
    state: &AppState,
    mut request: Request,
    flash: Option<Flash>,
) -> Result<Request, ApiError> {
    let route = AppRoute::parse(request.uri().path());
    if route == Some(AppRoute::Register) {
        let data = RegisterPageData {
            registration: state.auth.registration().as_str().to_owned(),
            first_account: state.auth.is_empty().await?,
        };
        put(request.extensions_mut(), data);
        return Ok(request);
    }
    let Some(user) = request.extensions().get::<SessionUser>().cloned() else {
        return Ok(request);
    };
    let Some(settings) = request.extensions().get::<SettingsView>().cloned() else {
        return Ok(request);
    };
    let session = request.extensions().get::<PageSession>().copied();
    let before = query_id(request.uri().query(), "before=");
    let opened = query_id(request.uri().query(), "message=");
    let extensions = request.extensions_mut();
    let loaded = match route {
        Some(AppRoute::Home) => chat_page(state, user.id, settings, None, None)
            .await
            .map(|data| put(extensions, data)),
        Some(AppRoute::Conversation(id)) => chat_page(state, user.id, settings, Some(id), opened)
            .await
            .map(|data| put(extensions, data)),
        Some(AppRoute::Settings) => settings_page(state, user.id, session, settings, flash)
            .await
            .map(|data| put(extensions, data)),
        Some(AppRoute::Usage) => {
            crate::usage::report(&state.db, user.id, now(), crate::usage::DEFAULT_DAYS)
                .await
                .map(|report| put(extensions, UsagePageData { report }))
                .map_err(ApiError::from)
        }
        // Nobody else gets data; the page then answers 404, as the admin API does.
        Some(AppRoute::Admin) if user.role.is_admin() => admin_page(state, before, flash)
            .await
            .map(|data| put(extensions, data)),
        _ => Ok(()),
    };
    loaded.map(|()| request)
}

/// An id in the address: `?before=ID` of the admin page's audit tab, `?message=ID` of a
/// message opened from the search.
fn query_id(query: Option<&str>, key: &str) -> Option<Uuid> {
    query?
        .split('&')
        .filter_map(|pair| pair.strip_prefix(key))
        .find_map(|id| Uuid::parse_str(id).ok())
}

/// Page data goes in behind an `Arc` (see `app::page_data`).
fn put<T: Send + Sync + 'static>(extensions: &mut http::Extensions, data: T) {
    extensions.insert(Arc::new(data));
}

async fn admin_page(
    state: &AppState,
    before: Option<Uuid>,
    flash: Option<Flash>,
) -> Result<AdminPageData, ApiError> {
    let now = now();
    let invites = state.auth.invites().await?;
    let created_invite = match flash {
        Some(Flash::Invite { id, code }) => {
            invites.iter().find(|i| i.id == id).map(|i| CreatedInvite {
                url: invite_url(state, &code),
                id,
                code,
                email: i.email.clone(),
                role: i.role,
                expires_at: i.expires_at,
            })
        }
        _ => None,
    };
    Ok(AdminPageData {
        users: crate::admin::users(&state.db, now).await?,
        models: crate::admin::models(&state.db, &state.chat.providers).await?,
        settings: crate::admin::settings(&state.db).await?,
        month: crate::chat::budget::month_of(now),
        registration: state.auth.registration().as_str().to_owned(),
        invites,
        created_invite,
        audit: crate::audit::page(&state.db, before, AUDIT_PAGE).await?,
    })
}

/// The link an invite code is used with: absolute when `PUBLIC_URL` is set.
pub fn invite_url(state: &AppState, code: &str) -> String {
    let origin = state
        .config
        .public_url
        .as_ref()
        .map(|u| u.origin.as_str())
        .unwrap_or_default();
    format!("{origin}{}?invite={code}", AppRoute::Register.href())
}

async fn settings_page(
    state: &AppState,
    user_id: Uuid,
    session: Option<PageSession>,
    settings: SettingsView,
    flash: Option<Flash>,
) -> Result<SettingsPageData, ApiError> {
    let current = session.map(|PageSession(id)| id);
    let tokens = state.auth.api_tokens(user_id).await?;
    let created_token = match flash {
        Some(Flash::ApiToken { id, token }) => {
            tokens.iter().find(|t| t.id == id).map(|t| CreatedApiToken {
                id,
                name: t.name.clone(),
                token,
                created_at: t.created_at,
            })
        }
        _ => None,
    };
    Ok(SettingsPageData {
        settings,
        models: state.chat.model_views().await?,
        sessions: state.auth.sessions(user_id, current).await?,
        tokens,
        created_token,
    })
}

/// `id`: `None` for `/`, `Some(None)` for a `/c/…` that is not a UUID. `opened`: a message
/// the page must reach back to (opened from the search).
async fn chat_page(
    state: &AppState,
    user_id: Uuid,
    settings: SettingsView,
    id: Option<Option<Uuid>>,
    opened: Option<Uuid>,
) -> Result<ChatPageData, ApiError> {
    let conversations = state
        .chat
        .list_conversations(user_id, false, None, 200)
        .await?
        .items;
    let models = state.chat.model_views().await?;
    let mut data = ChatPageData {
        conversations,
        current: None,
        messages: Vec::new(),
        models,
        settings,
        not_found: false,
        budget: crate::chat::budget::status(&state.db, user_id, now()).await?,
    };
    let Some(id) = id else { return Ok(data) };
    // The list holds the 200 newest that are not archived: an archived or an older one is
    // read by itself.
    let listed = id.and_then(|id| data.conversations.iter().find(|c| c.id == id).cloned());
    let conversation = match (listed, id) {
        (Some(conversation), _) => Some(conversation),
        (None, Some(id)) => match state.chat.conversation(user_id, id).await {
            Ok(row) => Some(crate::chat::views::conversation_view(row)),
            Err(crate::chat::ChatError::NotFound) => None,
            Err(e) => return Err(e.into()),
        },
        (None, None) => None,
    };
    let Some(conversation) = conversation else {
        data.not_found = true;
        return Ok(data);
    };
    data.messages = state
        .chat
        .branch_items(
            user_id,
            conversation.id,
            BranchWindow {
                through: opened,
                ..BranchWindow::default()
            },
            &data.settings,
        )
        .await?;
    data.current = Some(conversation);
    Ok(data)
}
