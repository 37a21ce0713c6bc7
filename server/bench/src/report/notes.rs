//! The closing notes: what the server's log complained about, and how the run was made.

use std::fmt::Write as _;

use super::format::count;
use crate::{load, measurements::Setup, server_process::Complaints};

/// How many warnings and errors, and the first few lines, indented as code.
pub fn server_log(complaints: &Complaints) -> String {
    let mut out = format!(
        "## Server log\n\n{} warnings and {} errors in the server's log over the run.\n\n",
        complaints.warnings, complaints.errors
    );
    for line in &complaints.first {
        let _ = writeln!(out, "    {line}");
    }
    if !complaints.first.is_empty() {
        out.push('\n');
    }
    out
}

/// The server, the fake upstream, the load generator and the levels.
pub fn how_it_was_run(setup: &Setup) -> String {
    let plan = &setup.plan;
    format!(
        "## How it was run\n\n\
         - Server: `{}` (release), started once on {}, `RUST_LOG={}`, \
         other settings at their defaults; OpenAI provider (`{}`) pointed at the fake upstream via `OPENAI_BASE_URL`.\n\
         - Fake upstream: OpenAI chat-completions SSE on loopback, its own tokio runtime with {} worker thread(s), \
         TCP_NODELAY; it records when each request arrived and its first token left.\n\
         - Load generator: the bench's main tokio runtime; {} users registered through the API; one WebSocket per \
         concurrent stream (users shared round-robin); every reply in a fresh conversation; bounded by count and \
         {} s per run. Open-file limit raised to {} for the bench and the server.\n\
         - Levels (concurrency × replies): {}; then {} × {} with no pacing.\n\n",
        setup.server_bin.display(),
        match setup.postgres {
            true => "an empty PostgreSQL database (`--database-url`)",
            false => "a fresh SQLite file in a temp folder",
        },
        setup.server_log,
        load::MODEL,
        setup.upstream_threads,
        plan.users,
        plan.time_per_run.as_secs(),
        count(setup.open_files),
        plan.levels
            .iter()
            .map(|(c, n)| format!("{} × {}", count(*c as u64), count(*n as u64)))
            .collect::<Vec<_>>()
            .join(", "),
        count(plan.unpaced.0 as u64),
        count(plan.unpaced.1 as u64),
    )
}
