//! The conversation view: the chat island ([`chat_window`]) and its parts. The island's state
//! is in [`state`]; the browser-only modules talk to the server (the JSON API in [`api`] and
//! [`actions`], the live feed in [`socket`] and [`feed`]) and to the keyboard ([`shortcuts`]).

#[cfg(feature = "hydrate")]
mod actions;
#[cfg(feature = "hydrate")]
pub mod api;
pub mod attachments;
#[cfg(feature = "hydrate")]
mod branching;
pub mod chat_input;
pub mod chat_message;
pub mod chat_window;
pub mod cost_estimate;
pub mod edit_box;
#[cfg(feature = "hydrate")]
mod feed;
mod found_message;
pub mod jump_to_latest;
pub mod message_tools;
pub mod reasoning_block;
pub mod regenerate_menu;
#[cfg(feature = "hydrate")]
mod shortcuts;
#[cfg(feature = "hydrate")]
pub mod socket;
pub mod state;
pub mod token_counter;
