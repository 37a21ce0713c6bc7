//! The conversation sidebar's island ([`conversation_list`]) and its parts.

#[cfg(feature = "hydrate")]
mod actions;
pub mod conversation_list;
pub mod conversation_row;
pub mod message_search;
pub mod preset_menu;
pub mod state;
