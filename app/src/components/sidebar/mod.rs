//! The sidebar's list of conversations.

pub mod conversation_list;
