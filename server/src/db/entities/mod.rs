//! sea-orm entities, one file per table of `migration`.

pub mod ai_model_configs;
pub mod ai_prompts;
pub mod attachments;
pub mod budget_periods;
pub mod chat_settings;
pub mod conversations;
pub mod instance_settings;
pub mod messages;
pub mod sessions;
pub mod usage_logs;
pub mod users;
