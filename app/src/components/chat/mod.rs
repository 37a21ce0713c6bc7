//! The conversation view: the chat island ([`chat_window`]) and its parts. The island's state
//! is in [`state`]; the browser-only modules talk to the server (the JSON API in [`api`] and
//! [`actions`], the live feed in [`socket`] and [`feed`]) and to the keyboard ([`shortcuts`]).

#[cfg(feature = "hydrate")]
mod actions;
#[cfg(feature = "hydrate")]
pub mod api;
pub mod attachments;
pub mod chat_input;
pub mod chat_message;
pub mod chat_window;
pub mod cost_estimate;
#[cfg(feature = "hydrate")]
mod feed;
#[cfg(feature = "hydrate")]
mod shortcuts;
#[cfg(feature = "hydrate")]
pub mod socket;
pub mod state;
pub mod token_counter;
