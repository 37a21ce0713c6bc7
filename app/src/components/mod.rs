//! The UI's building blocks, a folder per area.

pub mod admin;
pub mod chat;
pub mod copy_button;
pub mod format;
pub mod models;
pub mod settings;
pub mod sidebar;
pub mod usage;
