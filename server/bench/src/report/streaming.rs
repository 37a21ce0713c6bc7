//! Streaming at each concurrency level: time to first token directly and through the server,
//! where the server's share of it goes, throughput and CPU, and the first errors.

use std::fmt::Write as _;

use super::format::{count, ms, number, number_or_dash, summary_cells, table};
use crate::{
    load::{ReplyTiming, RunResult},
    measurements::Level,
    stats::median,
    upstream::ReplyShape,
};

/// A level's name in the tables: its concurrency, and "no pacing" for the unpaced one.
fn level_name(level: &Level) -> String {
    let streams = count(level.concurrency as u64);
    match level.paced {
        true => streams,
        false => format!("{streams}, no pacing"),
    }
}

/// Percentiles of the time to first token, direct, through the server, and the difference.
pub fn time_to_first_token(levels: &[Level], shape: &ReplyShape, unpaced: &ReplyShape) -> String {
    let rows: Vec<Vec<String>> = levels
        .iter()
        .map(|l| {
            let errors = l.direct.errors.len() + l.through_server.errors.len();
            vec![
                level_name(l),
                format!(
                    "{} / {}",
                    l.direct.replies.len(),
                    l.through_server.replies.len()
                ),
                summary_cells(Level::ttft(&l.direct)),
                summary_cells(Level::ttft(&l.through_server)),
                summary_cells(l.added_ttft()),
                errors.to_string(),
            ]
        })
        .collect();
    format!(
        "## Time to first token\n\nFrom sending the request to the first delta at the client, in ms, p50 / p95 / p99. \
         *Direct* asks the fake upstream itself for a streamed chat completion; *through the server* posts a \
         message over the JSON API and reads the deltas on the WebSocket. *Added* is the server's percentile minus \
         the direct one, both measured in the same run. Each reply: {}; at the level with no pacing, {}.\n\n{}\n",
        shape.describe(),
        unpaced.describe(),
        table(
            &["concurrency", "replies direct / server", "direct", "through the server", "added", "errors"],
            &rows
        )
    )
}

/// The server's time split in two: before the upstream request, and relaying the first token.
pub fn server_time_split(levels: &[Level]) -> String {
    let rows: Vec<Vec<String>> = levels
        .iter()
        .map(|l| {
            let split = |pick: fn(&ReplyTiming) -> Option<f64>| {
                let samples: Vec<f64> = l.through_server.replies.iter().filter_map(pick).collect();
                median(&samples).map(ms).unwrap_or_else(|| "–".into())
            };
            vec![
                level_name(l),
                split(|r| r.before_upstream_ms),
                split(|r| r.first_token_relay_ms),
            ]
        })
        .collect();
    format!(
        "Where the server's time goes (medians, ms, on the bench's one clock): from the send to the upstream \
         receiving the server's request (auth, saving the message, building the context, the provider call), and \
         from the upstream sending the first token to the client receiving it (parsing, the event bus, the socket).\n\n{}\n",
        table(&["concurrency", "send → upstream request", "upstream first token → client"], &rows)
    )
}

/// Time to the last delta, deltas per reply and per second, and the CPU both processes used.
pub fn throughput_and_cpu(levels: &[Level]) -> String {
    let rows: Vec<Vec<String>> = levels.iter().map(throughput_row).collect();
    format!(
        "## Streaming throughput and CPU\n\nDirect / through the server. Aggregate deltas per second are all deltas \
         received over the run's wall time (paced by the upstream, so they grow with concurrency until something \
         saturates). CPU is the server process's user + system time during the through-the-server run; the bench \
         process (load generator and fake upstream) shares the same cores.\n\n{}\n",
        table(
            &[
                "concurrency",
                "time to last delta p50 (ms)",
                "deltas per reply",
                "aggregate deltas/s",
                "server CPU (s)",
                "server CPU s per 1,000 tokens",
                "bench CPU (s)",
            ],
            &rows
        )
    )
}

fn throughput_row(l: &Level) -> Vec<String> {
    let last = |run: &RunResult| {
        let samples: Vec<f64> = run.replies.iter().map(|r| r.last_delta_ms).collect();
        median(&samples).map(ms).unwrap_or_else(|| "–".into())
    };
    let per_reply = |run: &RunResult| {
        if run.replies.is_empty() {
            "–".into()
        } else {
            number(run.deltas() as f64 / run.replies.len() as f64)
        }
    };
    vec![
        level_name(l),
        format!("{} / {}", last(&l.direct), last(&l.through_server)),
        format!(
            "{} / {}",
            per_reply(&l.direct),
            per_reply(&l.through_server)
        ),
        format!(
            "{} / {}",
            count(l.direct.deltas_per_second() as u64),
            count(l.through_server.deltas_per_second() as u64)
        ),
        number_or_dash(l.server_cpu_seconds),
        number_or_dash(l.cpu_per_thousand_tokens()),
        number_or_dash(l.bench_cpu_seconds),
    ]
}

/// The first five errors of all levels, if there were any.
pub fn first_errors(levels: &[Level]) -> String {
    let errors: Vec<&String> = levels
        .iter()
        .flat_map(|l| l.direct.errors.iter().chain(l.through_server.errors.iter()))
        .collect();
    if errors.is_empty() {
        return String::new();
    }
    let mut out = format!("First errors ({} in all):\n\n", errors.len());
    for error in errors.iter().take(5) {
        let _ = writeln!(out, "- `{error}`");
    }
    out.push('\n');
    out
}
