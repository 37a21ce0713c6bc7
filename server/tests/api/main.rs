//! The server's integration tests, all in one binary so the server is linked once, not once
//! per area. Each module pins one area's behaviour through the real server; `helpers` starts
//! it and fakes what lies outside the machine.

mod helpers;

mod accounts;
mod attachments;
mod auth;
mod bounded;
mod branches;
mod budgets;
mod conversations;
mod cross_site;
mod deleting;
mod find_and_move;
mod hygiene;
mod limits;
mod multi_process;
mod openapi;
mod pages;
mod providers;
mod reasoning;
mod sessions;
mod settings;
mod titles;
mod usage;
mod websocket;
