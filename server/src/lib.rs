#![recursion_limit = "256"]

//! The Rustchat server: an axum application serving the Leptos pages, the JSON API and the
//! WebSocket feed. Layers, top to bottom (ARCHITECTURE.md); each only calls the ones below it:
//!
//! - the edge: [`http`] (routes, extractors, the page guard, the one error type that maps
//!   every service error to a status) and [`ws`] (the live feed);
//! - the services: [`chat`] (conversations, `send_message`, providers, the event bus,
//!   accounting), [`auth`], [`settings`], [`usage`], [`admin`]; each fails with its own error
//!   enum and never sees HTTP;
//! - [`db`]: the connection, migrations and sea-orm entities.
//!
//! [`startup::Application`] wires them together; `main.rs` only reads the config and runs it.

pub mod admin;
pub mod attachments;
pub mod audit;
pub mod auth;
pub mod chat;
pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod http;
pub mod limits;
pub mod markdown;
pub mod memory;
pub mod settings;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod usage;
pub mod ws;
