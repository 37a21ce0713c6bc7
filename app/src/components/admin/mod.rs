//! The admin page's parts: its tabs, and a section per tab with the rows of its table. Plain
//! server-rendered HTML whose forms post to `/admin/…`; nothing here needs a script.

pub mod access_actions;
pub mod admin_tabs;
pub mod audit_row;
pub mod audit_section;
pub mod created_invite;
pub mod invite_row;
pub mod invites_section;
pub mod model_row;
pub mod models_section;
pub mod user_row;
pub mod users_section;
