//! The JSON shapes shared by the server's API and the browser's islands (ARCHITECTURE.md,
//! "Public JSON API"). Ids are UUIDs, times RFC 3339, money integer micro-dollars.

mod events;
pub mod image_tokens;
mod values;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use events::{ClientMessage, ControlMessage, Event, ServerMessage, StreamDelta};
pub use values::{
    InvalidDollars, MessageStatus, Micros, ProviderId, Role, UnknownValue, UserRole, UserStatus,
};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UserView {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub role: UserRole,
    /// `pending` accounts wait for an admin's approval; `disabled` ones never get this far.
    pub status: UserStatus,
    pub created_at: DateTime<Utc>,
}

/// One signed-in device of the user (`GET /api/me/sessions`, the settings page).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SessionView {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    /// The browser or client that logged in, cut to 200 characters; `None` when it sent none.
    pub user_agent: Option<String>,
    /// The session the request itself was made with.
    pub current: bool,
}

/// A personal API token as listed (`GET /api/tokens`): never the token itself.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ApiTokenView {
    pub id: Uuid,
    pub name: String,
    /// The token's first characters (`rc_AbC1…`), to tell tokens apart.
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// A token just created (`POST /api/tokens`): the only time `token` is shown.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CreatedApiToken {
    pub id: Uuid,
    pub name: String,
    pub token: String,
    pub created_at: DateTime<Utc>,
}

/// An invite as admins see it (`/api/admin/invites`, the admin page).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct InviteView {
    pub id: Uuid,
    /// Only this address may use it, when set.
    pub email: Option<String>,
    pub role: UserRole,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
    pub used_by_email: Option<String>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// An invite just created: its code and link are shown this once (only a hash is kept).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CreatedInvite {
    pub id: Uuid,
    pub code: String,
    /// The register page with the code (absolute when `PUBLIC_URL` is set).
    pub url: String,
    pub email: Option<String>,
    pub role: UserRole,
    pub expires_at: DateTime<Utc>,
}

/// One admin or security action (`GET /api/admin/audit`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AuditEntryView {
    pub id: Uuid,
    /// Who did it; `None` for the operator's command line on the host.
    pub actor_id: Option<Uuid>,
    /// The actor's email now, for display (`None` when gone or the command line).
    pub actor_email: Option<String>,
    /// What was done, e.g. `user.approved`, `invite.created`, `token.revoked`.
    pub action: String,
    /// What it was done to, as a person reads it (an email, a model, an invite id).
    pub target: Option<String>,
    /// The particulars, e.g. `{"from": "pending", "to": "active"}`.
    pub details: Option<serde_json::Value>,
    pub created_at: DateTime<Utc>,
}

/// A page of the audit log, newest first; `next_cursor` fetches the older ones.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AuditPage {
    pub items: Vec<AuditEntryView>,
    pub next_cursor: Option<Uuid>,
}

/// The body of `PUT /api/me/password`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
}

/// The body of `POST /api/auth/register` and `POST /api/auth/login` answers.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AuthResponse {
    pub user: UserView,
    pub token: String,
}

/// A message as the API and the WebSocket feed show it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MessageView {
    pub id: Uuid,
    pub conversation_id: Uuid,
    /// The message it follows; null for a first message. Messages with one parent are
    /// siblings: the versions of an edited question, or the regenerations of a reply.
    pub parent_id: Option<Uuid>,
    /// Its place among its siblings, 1-based, by creation.
    pub sibling_index: i32,
    pub sibling_count: i32,
    /// The siblings before and after it, for `‹ n/m ›`; absent at either end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prev_sibling_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_sibling_id: Option<Uuid>,
    pub role: Role,
    pub content: String,
    /// What the model thought before answering (Claude's thinking, Gemini's thought
    /// summaries, `reasoning_content`), kept apart from `content`; `None` when it showed none.
    #[serde(default)]
    pub reasoning: Option<String>,
    pub status: MessageStatus,
    pub provider: Option<ProviderId>,
    pub model: Option<String>,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub total_tokens: i64,
    pub cached_tokens: i64,
    pub reasoning_tokens: i64,
    pub cost_micros: i64,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The files sent with the message, in the order they were attached.
    #[serde(default)]
    pub attachments: Vec<AttachmentView>,
    /// Brought in by `POST /api/import`: written elsewhere, costing nothing here.
    #[serde(default)]
    pub imported: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ConversationView {
    pub id: Uuid,
    pub title: String,
    pub provider: ProviderId,
    pub model: String,
    pub temperature: f64,
    pub max_tokens: i32,
    pub system_prompt: Option<String>,
    /// The last message of the branch being shown; null before the first message.
    pub current_leaf_id: Option<Uuid>,
    /// Every message of the tree, every branch counted.
    /// Extended thinking: the most tokens the model may think for before it answers (Claude's
    /// `thinking.budget_tokens`, Gemini's `thinkingBudget`); `None` leaves it off.
    #[serde(default)]
    pub thinking_budget_tokens: Option<i32>,
    pub message_count: i32,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub total_tokens: i64,
    pub cost_micros: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Pinned conversations come first in the list.
    #[serde(default)]
    pub pinned: bool,
    /// Archived conversations leave the list (`?archived=true` lists them).
    #[serde(default)]
    pub archived: bool,
    /// Where an imported conversation came from: `rustchat` or `chatgpt`; `None` when it
    /// was written here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub imported_from: Option<String>,
}

/// One message found by `GET /api/search`. `snippet` is plain text around the first match
/// (never HTML); `highlights` are the byte ranges `[start, end)` of the matched words in it,
/// for the page to wrap.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SearchHit {
    pub conversation_id: Uuid,
    pub conversation_title: String,
    pub message_id: Uuid,
    pub role: Role,
    pub snippet: String,
    #[serde(default)]
    pub highlights: Vec<[u32; 2]>,
    pub created_at: DateTime<Utc>,
}

/// Saved settings to start a conversation from (`/api/presets`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PresetView {
    pub id: Uuid,
    pub name: String,
    pub provider: ProviderId,
    pub model: String,
    pub temperature: f64,
    pub max_tokens: i32,
    pub system_prompt: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A new preset, or a change to one (`PATCH`: absent fields stay; an empty `system_prompt`
/// removes it). On create, `name`, `provider` and `model` are required; `temperature` is 0.7
/// and `max_tokens` the model's sensible default when absent.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PresetInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_prompt: Option<String>,
}

/// What `POST /api/import` did: conversations written, conversations already here (by their
/// source id) and so skipped, and the new conversations' ids.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ImportSummary {
    pub imported: u64,
    pub skipped: u64,
    pub conversation_ids: Vec<Uuid>,
    /// Messages written across the imported conversations.
    #[serde(default)]
    pub messages: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ModelView {
    pub provider: ProviderId,
    pub model: String,
    pub display_name: String,
    pub context_window: i32,
    pub input_micros_per_mtok: i64,
    pub cached_input_micros_per_mtok: Option<i64>,
    pub output_micros_per_mtok: i64,
    pub enabled: bool,
    /// Whether the model takes images; an image sent to one that does not answers 422
    /// `unsupported_attachment`.
    #[serde(default)]
    pub supports_images: bool,
}

/// What an uploaded file is to a model: an image goes as an image, a document (PDF, DOCX) and
/// a text or source file as their text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AttachmentKind {
    Image,
    Document,
    Text,
}

impl AttachmentKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Image => "image",
            Self::Document => "document",
            Self::Text => "text",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "image" => Some(Self::Image),
            "document" => Some(Self::Document),
            "text" => Some(Self::Text),
            _ => None,
        }
    }
}

/// An uploaded file (`POST /api/attachments`); a message lists those sent with it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AttachmentView {
    pub id: Uuid,
    /// The name it was uploaded with, made safe to show and to save.
    pub filename: String,
    /// The type sniffed from its bytes (never the name's).
    pub content_type: String,
    pub size_bytes: i64,
    /// Hex of the content's SHA-256.
    pub sha256: String,
    pub kind: AttachmentKind,
    pub created_at: DateTime<Utc>,
    /// An image's size in pixels, when its header says.
    #[serde(default)]
    pub width: Option<i32>,
    #[serde(default)]
    pub height: Option<i32>,
    /// The characters of a document's text as the model receives it.
    #[serde(default)]
    pub text_chars: Option<i64>,
}

/// A page of a list; `next_cursor` fetches the next one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// The 202 answer of a send: the stored prompt and the reply that is now streaming.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SendResponse {
    pub user_message: MessageView,
    pub assistant_message: MessageView,
}

/// The answer to `POST /api/messages/{id}/regenerate`: the new reply, streaming.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RegenerateResponse {
    pub assistant_message: MessageView,
}

/// A user's chat settings (`GET /api/settings`, the settings page).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SettingsView {
    pub default_provider: String,
    pub default_model: String,
    /// `light | dark | system`
    pub theme: String,
    pub font_size: i32,
    pub streaming: bool,
    pub markdown: bool,
    pub code_highlight: bool,
}

/// A message as the chat page shows it: the stored message, its body rendered to safe HTML
/// by the server when finished, and how many deltas the page already holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MessageItem {
    pub message: MessageView,
    pub html: Option<String>,
    pub seq: u64,
}

/// The signed-in user's budget this month (`GET /api/budget`): settled spending, what replies
/// still streaming have reserved, and the cap (`None` = no cap).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct BudgetView {
    /// `YYYY-MM`, UTC.
    pub month: String,
    pub spent_micros: i64,
    pub reserved_micros: i64,
    pub budget_micros: Option<i64>,
}

impl BudgetView {
    /// What is left to spend, never below zero; `None` without a cap.
    pub fn remaining_micros(&self) -> Option<i64> {
        self.budget_micros
            .map(|b| (b - self.spent_micros - self.reserved_micros).max(0))
    }
}

/// Sums over usage logs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UsageTotals {
    /// Replies that booked usage.
    pub requests: i64,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub cached_tokens: i64,
    pub reasoning_tokens: i64,
    pub total_tokens: i64,
    pub cost_micros: i64,
}

/// One UTC day of usage.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UsageDay {
    /// `YYYY-MM-DD`.
    pub date: String,
    #[serde(flatten)]
    pub totals: UsageTotals,
}

/// Usage of one model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UsageByModel {
    pub provider: ProviderId,
    pub model: String,
    pub display_name: String,
    #[serde(flatten)]
    pub totals: UsageTotals,
}

/// Usage of one conversation; a deleted one keeps its usage under "Deleted conversation".
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UsageByConversation {
    pub conversation_id: Option<Uuid>,
    pub title: String,
    pub deleted: bool,
    #[serde(flatten)]
    pub totals: UsageTotals,
}

/// `GET /api/usage`: the last `days` days (UTC, today included), and this calendar month.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UsageReport {
    /// First and last day covered, `YYYY-MM-DD`.
    pub from: String,
    pub to: String,
    /// Every day of the period, oldest first, zero-filled.
    pub days: Vec<UsageDay>,
    /// The period's usage per model, dearest first.
    pub models: Vec<UsageByModel>,
    /// The period's most expensive conversations, at most ten.
    pub top_conversations: Vec<UsageByConversation>,
    pub period_totals: UsageTotals,
    /// This calendar month (UTC) so far.
    pub month_totals: UsageTotals,
    pub budget: BudgetView,
}

/// A user as the admin page lists them, with this month's usage.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AdminUserView {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub role: UserRole,
    pub status: UserStatus,
    pub created_at: DateTime<Utc>,
    pub monthly_budget_micros: Option<i64>,
    /// Reserved by replies still streaming.
    pub reserved_micros: i64,
    pub month: UsageTotals,
}

/// A model as admins edit it (`/api/admin/models`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AdminModelView {
    pub id: Uuid,
    pub provider: ProviderId,
    pub model: String,
    pub display_name: String,
    pub context_window: i32,
    pub max_output_tokens: i32,
    pub input_micros_per_mtok: i64,
    pub cached_input_micros_per_mtok: Option<i64>,
    pub output_micros_per_mtok: i64,
    pub enabled: bool,
    pub sort_order: i32,
    /// Whether the server has a key for the model's provider.
    pub provider_configured: bool,
    /// Whether the model takes images.
    #[serde(default)]
    pub supports_images: bool,
}

/// Instance-wide settings (`/api/admin/settings`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct InstanceSettingsView {
    /// The monthly budget new accounts start with; `None` = no cap.
    pub default_monthly_budget_micros: Option<i64>,
}
