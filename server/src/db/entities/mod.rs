//! sea-orm entities, one file per table of `migration`.

pub mod ai_model_configs;
pub mod ai_prompts;
pub mod api_tokens;
pub mod attachments;
pub mod audit_log;
pub mod budget_periods;
pub mod chat_settings;
pub mod conversations;
pub mod instance_settings;
pub mod invites;
pub mod message_attachments;
pub mod messages;
pub mod presets;
pub mod sessions;
pub mod usage_logs;
pub mod users;
