//! Data the server loads for a page before rendering it, handed over in the request's
//! extensions (like [`crate::session::SessionUser`]): pages read it synchronously, with no
//! loading states in server-rendered HTML.

use serde::{Deserialize, Serialize};

use crate::wire::{
    AdminModelView, AdminUserView, ApiTokenView, AuditPage, BudgetView, ConversationView,
    CreatedApiToken, CreatedInvite, InstanceSettingsView, InviteView, MessageItem, ModelView,
    SessionView, SettingsView, UsageReport,
};

/// `/` and `/c/{id}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChatPageData {
    pub conversations: Vec<ConversationView>,
    pub current: Option<ConversationView>,
    pub messages: Vec<MessageItem>,
    pub models: Vec<ModelView>,
    pub settings: SettingsView,
    /// The address had a conversation id that is not the user's (or does not exist).
    pub not_found: bool,
    /// This month's spending against the budget, shown beside the conversation's cost.
    pub budget: BudgetView,
}

/// `/usage`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UsagePageData {
    pub report: UsageReport,
}

/// `/admin`, for admins only.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AdminPageData {
    pub users: Vec<AdminUserView>,
    pub models: Vec<AdminModelView>,
    pub settings: InstanceSettingsView,
    /// `YYYY-MM`, the month the users' usage covers.
    pub month: String,
    /// The server's `REGISTRATION` mode: `open`, `approval`, `invite` or `closed`.
    pub registration: String,
    /// The newest invites, used and revoked ones included.
    pub invites: Vec<InviteView>,
    /// The invite the admin just made, shown this once (its code is not kept).
    pub created_invite: Option<CreatedInvite>,
    /// A page of the audit log: the newest, or those before `?before=ID`.
    pub audit: AuditPage,
}

/// `/register`, for visitors.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RegisterPageData {
    /// The server's `REGISTRATION` mode: `open`, `approval`, `invite` or `closed`.
    pub registration: String,
    /// The instance has no account yet: whoever registers now is its admin, in every mode.
    pub first_account: bool,
}

/// `/settings`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SettingsPageData {
    pub settings: SettingsView,
    pub models: Vec<ModelView>,
    /// The user's active sessions, newest first; the one the page was requested with is
    /// marked `current`.
    pub sessions: Vec<SessionView>,
    /// The user's personal API tokens that still work, newest first.
    pub tokens: Vec<ApiTokenView>,
    /// The token the user just made, shown this once (only its digest is kept).
    pub created_token: Option<CreatedApiToken>,
}

/// The page data of type `T` the server put in this request, when rendering on the server.
/// The server stores it as `Arc<T>`: the request's parts are cloned whenever a component asks
/// for them, and a conversation's data (up to 1,000 messages with their HTML) must not be
/// copied each time.
pub fn page_data<T: Clone + Send + Sync + 'static>() -> Option<T> {
    #[cfg(feature = "ssr")]
    {
        leptos::prelude::use_context::<http::request::Parts>().and_then(|parts| {
            parts
                .extensions
                .get::<std::sync::Arc<T>>()
                .map(|d| T::clone(d))
        })
    }
    #[cfg(not(feature = "ssr"))]
    {
        None
    }
}
