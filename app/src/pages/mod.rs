//! One file per page of the site.

pub mod admin;
pub mod auth_card;
pub mod chat;
pub mod login;
pub mod not_found;
pub mod register;
pub mod settings;
pub mod usage;
pub mod waiting;
