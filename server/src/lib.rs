#![recursion_limit = "256"]

//! The Rustchat server: an axum application serving the Leptos pages, the JSON API and (soon)
//! the WebSocket feed. Layers, top to bottom (ARCHITECTURE.md):
//!
//! - [`http`]: routes and extractors (the edge: parse, authenticate, map errors);
//! - [`auth`]: the account workflows and sessions;
//! - [`db`]: the connection, migrations and sea-orm entities.
//!
//! [`startup::Application`] wires them together; `main.rs` only reads the config and runs it.

pub mod admin;
pub mod auth;
pub mod chat;
pub mod config;
pub mod db;
pub mod error;
pub mod http;
pub mod markdown;
pub mod settings;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod usage;
pub mod ws;
