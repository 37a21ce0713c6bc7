//! What a run measured, phase by phase, and where and how it ran: `run` fills these in and
//! `report` writes them out, so the report can be written (and tested) without a server.

use std::{path::PathBuf, time::Duration};

use crate::{
    database::WriteCounts,
    environment::Environment,
    load::{ReplyTiming, RunResult},
    plan::Plan,
    server_process::Complaints,
    site::WasmSize,
    stats::Summary,
    upstream::ReplyShape,
};

/// Everything the report is written from.
pub struct Measurements {
    pub setup: Setup,
    pub environment: Environment,
    /// From spawning the server to its first 200 on `GET /login`.
    pub cold_start: Duration,
    /// The warnings and errors of the server's log over the run.
    pub complaints: Complaints,
    pub memory: Memory,
    pub idle: IdleSockets,
    pub levels: Vec<Level>,
    pub writes: Result<Vec<Writes>, String>,
    /// One per conversation size of the plan, smallest first.
    pub render: Result<Vec<Render>, String>,
    pub wasm: Result<WasmSize, String>,
}

/// How the run was made.
pub struct Setup {
    pub plan: Plan,
    pub server_bin: PathBuf,
    /// The server's `RUST_LOG`.
    pub server_log: String,
    /// PostgreSQL, rather than a fresh SQLite file.
    pub postgres: bool,
    pub upstream_threads: usize,
    pub open_files: libc::rlim_t,
    pub duration: Duration,
}

/// The server's resident memory at the quiet points of the run, in MiB.
#[derive(Default)]
pub struct Memory {
    pub started: Option<f64>,
    pub registered: Option<f64>,
    pub warm: Option<f64>,
    pub after: Option<f64>,
    pub peak: Option<f64>,
}

/// One concurrency level: the same replies asked of the upstream directly and through the
/// server.
pub struct Level {
    pub concurrency: usize,
    /// Whether the replies came at the plan's pace; the unpaced level sends every token at once.
    pub paced: bool,
    pub direct: RunResult,
    pub through_server: RunResult,
    pub server_cpu_seconds: Option<f64>,
    pub bench_cpu_seconds: Option<f64>,
}

impl Level {
    pub fn ttft(run: &RunResult) -> Option<Summary> {
        let samples: Vec<f64> = run.replies.iter().map(|r| r.first_delta_ms).collect();
        Summary::of(&samples)
    }

    pub fn added_ttft(&self) -> Option<Summary> {
        Some(Self::ttft(&self.through_server)?.minus(&Self::ttft(&self.direct)?))
    }

    pub fn cpu_per_thousand_tokens(&self) -> Option<f64> {
        let tokens = self.through_server.deltas();
        (tokens > 0).then(|| self.server_cpu_seconds.map(|s| s * 1_000.0 / tokens as f64))?
    }
}

pub struct IdleSockets {
    pub opened: usize,
    pub wanted: usize,
    pub open_time: Duration,
    /// The server's resident memory with the sockets open, in MiB.
    pub rss_mib: Option<f64>,
    pub pings_answered: usize,
    pub pings_sent: usize,
    pub error: Option<String>,
}

/// The database writes of replies of one length, one at a time.
pub struct Writes {
    /// `short` or `long`.
    pub label: &'static str,
    pub shape: ReplyShape,
    /// Per reply: all row writes, the writes by table and operation, and its timing.
    pub per_reply: Vec<(i64, WriteCounts, ReplyTiming)>,
    /// Server CPU seconds of each reply, from the send to 0.5 s after its last event.
    pub cpu_seconds: Vec<f64>,
    /// Bytes of the reply's text in the database halfway through its stream.
    pub persisted_halfway: Vec<Option<i64>>,
}

impl Writes {
    /// The replies of `label` among `all`.
    pub fn find<'a>(all: &'a [Writes], label: &str) -> Option<&'a Writes> {
        all.iter().find(|w| w.label == label)
    }

    pub fn mean_total(&self) -> Option<f64> {
        let n = self.per_reply.len();
        (n > 0).then(|| {
            self.per_reply
                .iter()
                .map(|(t, _, _)| *t as f64)
                .sum::<f64>()
                / n as f64
        })
    }

    pub fn mean_by_table(&self) -> Vec<(String, f64)> {
        let mut sums = WriteCounts::new();
        for (_, counts, _) in &self.per_reply {
            for (key, n) in counts {
                *sums.entry(key.clone()).or_default() += n;
            }
        }
        let n = self.per_reply.len().max(1) as f64;
        sums.into_iter()
            .filter(|(_, total)| *total != 0)
            .map(|(key, total)| (key, total as f64 / n))
            .collect()
    }
}

/// A conversation's page, fetched once and then repeatedly, and the earlier pages "Load
/// earlier" reads, each once.
pub struct Render {
    pub messages_in_conversation: usize,
    pub inserted: usize,
    pub first: Duration,
    /// Each repeat's time to the whole body, in ms.
    pub repeats: Vec<f64>,
    pub html_bytes: usize,
    /// Messages on the page (its newest).
    pub messages_on_page: usize,
    /// Inserted messages found on the page.
    pub messages_found: usize,
    /// Each earlier page's time to the whole body, in ms, newest first.
    pub earlier_pages: Vec<f64>,
    /// Inserted messages found on the page and the earlier pages together.
    pub found_in_all: usize,
    pub status: u16,
}

impl Render {
    /// The entry of `renders` for a conversation of `messages`.
    pub fn of(renders: &[Render], messages: usize) -> Option<&Render> {
        renders
            .iter()
            .find(|r| r.messages_in_conversation == messages)
    }
}
