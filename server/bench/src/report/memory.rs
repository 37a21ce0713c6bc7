//! The server's resident memory at each quiet point of the run.

use super::format::{count, mb, number, table};
use crate::measurements::{IdleSockets, Memory};

pub fn section(memory: &Memory, idle: &IdleSockets, users: usize) -> String {
    let mem = |v: Option<f64>| mb(v).map(number).unwrap_or_else(|e| e);
    format!(
        "## Memory\n\nServer resident set (VmRSS; peak is VmHWM), MB.\n\n{}\n",
        table(
            &["when", "RSS (MB)"],
            &[
                vec!["idle, just started".into(), mem(memory.started)],
                vec![
                    format!("idle, after registering {users} users"),
                    mem(memory.registered),
                ],
                vec![
                    "idle, after warm-up (6 replies direct, 6 through the server)".into(),
                    mem(memory.warm)
                ],
                vec![idle_sockets(idle), mem(idle.rss_mib)],
                vec!["idle, after the whole run".into(), mem(memory.after)],
                vec!["peak over the run".into(), mem(memory.peak)],
            ]
        )
    )
}

/// How many sockets, how fast they opened, and whether they were alive.
fn idle_sockets(idle: &IdleSockets) -> String {
    format!(
        "{} idle authenticated sockets (opened in {:.1} s; {} of {} sampled answered a ping)",
        count(idle.opened as u64),
        idle.open_time.as_secs_f64(),
        idle.pings_answered,
        idle.pings_sent
    )
}
