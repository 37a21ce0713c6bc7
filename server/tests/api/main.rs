//! The server's integration tests, one binary (so the server is linked once, not once per
//! area): each module starts the real server on port 0 with a fresh database (SQLite by
//! default, PostgreSQL when `TEST_DATABASE_URL` is set) and drives it over HTTP and WebSocket.
//! AI providers are fakes on loopback that speak each provider's exact wire format.

mod helpers;

mod auth;
mod budgets;
mod conversations;
mod multi_process;
mod pages;
mod providers;
mod sessions;
mod settings;
mod usage;
mod websocket;
