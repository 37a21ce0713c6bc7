//! The conversation view: the chat island and its parts.

#[cfg(feature = "hydrate")]
pub mod api;
pub mod chat_input;
pub mod chat_message;
pub mod chat_window;
pub mod cost_estimate;
#[cfg(feature = "hydrate")]
pub mod socket;
pub mod token_counter;
