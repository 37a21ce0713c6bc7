//! The UI's building blocks, a folder per area.

pub mod chat;
pub mod format;
pub mod models;
pub mod settings;
pub mod sidebar;
pub mod usage;
