//! The report, byte for byte, for fixed measurements: one run where everything was measured,
//! one where nothing optional was, and one in between. The snapshots were written by the
//! report as it was before it was split into sections.

use std::time::Duration;

use chrono::TimeZone as _;
use clap::Parser as _;

use super::markdown;
use crate::{
    database::WriteCounts,
    environment::Environment,
    load::{ReplyTiming, RunResult},
    measurements::{IdleSockets, Level, Measurements, Memory, Render, Setup, Writes},
    plan::Plan,
    server_process::Complaints,
    site::WasmSize,
    upstream::ReplyShape,
    Args,
};

fn timing(first: f64, last: f64, deltas: usize, relay: Option<(f64, f64)>) -> ReplyTiming {
    ReplyTiming {
        first_delta_ms: first,
        last_delta_ms: last,
        deltas,
        before_upstream_ms: relay.map(|(before, _)| before),
        first_token_relay_ms: relay.map(|(_, relay)| relay),
    }
}

fn level(concurrency: usize, scale: f64, errors: &[&str]) -> Level {
    let direct = RunResult {
        replies: (0..20)
            .map(|i| timing(20.0 + f64::from(i) * 0.1 * scale, 320.5, 30, None))
            .collect(),
        errors: errors.iter().take(1).map(|e| e.to_string()).collect(),
        wall: Duration::from_millis(1_500),
    };
    let through_server = RunResult {
        replies: (0..20)
            .map(|i| {
                let relay = (i % 4 != 0).then_some((0.8 * scale, 0.25 + f64::from(i) * 0.01));
                timing(21.2 + f64::from(i) * 0.2 * scale, 331.75, 31, relay)
            })
            .collect(),
        errors: errors.iter().skip(1).map(|e| e.to_string()).collect(),
        wall: Duration::from_millis(1_650),
    };
    Level {
        concurrency,
        paced: true,
        direct,
        through_server,
        server_cpu_seconds: Some(0.42 * scale),
        bench_cpu_seconds: Some(1.3 * scale),
    }
}

fn level_without_replies(concurrency: usize) -> Level {
    Level {
        concurrency,
        paced: true,
        direct: RunResult::default(),
        through_server: RunResult::default(),
        server_cpu_seconds: None,
        bench_cpu_seconds: None,
    }
}

fn setup(args: &[&str]) -> Setup {
    Setup {
        plan: Plan::new(&Args::parse_from(args)),
        server_bin: "/cache/target/release/server".into(),
        server_log: "info".into(),
        postgres: false,
        upstream_threads: 1,
        open_files: 1_048_576,
        duration: Duration::from_millis(97_400),
    }
}

fn environment() -> Environment {
    Environment {
        finished: chrono::Utc
            .with_ymd_and_hms(2026, 12, 1, 9, 30, 0)
            .single()
            .expect("a valid date"),
        command: vec!["target/release/bench".into(), "--quick".into()],
        commit: "0123456789ab (with uncommitted changes)".into(),
        machine: vec![
            ("CPU".into(), "AMD EPYC 7B13".into()),
            ("cores available".into(), "2".into()),
            ("memory".into(), "7.8 GiB".into()),
            ("kernel".into(), "Linux 6.8.0".into()),
        ],
        load: ("0.52 0.61 0.70".into(), "1.93 1.02 0.81".into()),
    }
}

fn writes(label: &'static str, tokens: usize, cpu: &[f64]) -> Writes {
    let shape = ReplyShape {
        tokens,
        first_token: Duration::from_millis(20),
        pace: Duration::from_millis(10),
        markdown: None,
    };
    let per_reply = (0..cpu.len())
        .map(|i| {
            let counts: WriteCounts = [
                ("messages insert".to_owned(), 2),
                (
                    "messages update".to_owned(),
                    3 + i as i64 + tokens as i64 / 100,
                ),
                ("usage_log insert".to_owned(), 1),
                ("conversations delete".to_owned(), 0),
            ]
            .into_iter()
            .collect();
            let total = counts.values().sum();
            (
                total,
                counts,
                timing(20.0, tokens as f64 * 10.2, tokens, None),
            )
        })
        .collect();
    Writes {
        label,
        shape,
        per_reply,
        cpu_seconds: cpu.to_vec(),
        persisted_halfway: (0..cpu.len())
            .map(|i| (i != 1).then_some(tokens as i64 * 3 + i as i64))
            .collect(),
    }
}

fn render(repeats: Vec<f64>) -> Vec<Render> {
    [100, 1_000, 10_000]
        .into_iter()
        .map(|messages| Render {
            messages_in_conversation: messages,
            inserted: messages - 6,
            first: Duration::from_micros(8_250),
            repeats: repeats.clone(),
            html_bytes: 145_678,
            messages_on_page: 50,
            messages_found: 50,
            earlier_pages: repeats
                .iter()
                .map(|ms| ms / 2.0)
                .take(messages / 50 - 1)
                .collect(),
            found_in_all: messages - 7,
            status: 200,
        })
        .collect()
}

fn wasm(debug_build: bool) -> WasmSize {
    WasmSize {
        path: "/work/target/site/pkg/rustchat.wasm".into(),
        raw: 1_234_567,
        gzip: 287_654,
        debug_build,
    }
}

/// A full run where every figure was measured, errors and log complaints included.
fn everything_measured() -> Measurements {
    let errors = [
        "direct: connection reset",
        "reply timed out after 120 s",
        "HTTP 502 from /api/conversations",
        "socket closed",
        "socket closed",
        "socket closed",
        "socket closed",
    ];
    Measurements {
        setup: setup(&["bench", "--full"]),
        environment: environment(),
        cold_start: Duration::from_micros(123_456),
        complaints: Complaints {
            warnings: 1,
            errors: 1,
            first: vec![
                "2026-12-01T09:29:01Z  WARN server::chat: flushing streamed text error=busy".into(),
                "2026-12-01T09:29:02Z ERROR server::http: internal error".into(),
            ],
        },
        memory: Memory {
            started: Some(11.5),
            registered: Some(12.25),
            warm: Some(14.0),
            after: Some(25.125),
            peak: Some(61.75),
        },
        idle: IdleSockets {
            opened: 10_000,
            wanted: 10_000,
            open_time: Duration::from_millis(4_321),
            rss_mib: Some(118.5),
            pings_answered: 20,
            pings_sent: 20,
            error: None,
        },
        levels: vec![
            level(1, 1.0, &[]),
            level(10, 1.5, &errors[..2]),
            level(100, 2.0, &errors[2..]),
            level(1_000, 4.0, &[]),
        ],
        writes: Ok(vec![
            writes("short", 50, &[0.012, 0.0105, 0.011]),
            writes("long", 1_000, &[0.09, 0.0875, 0.095]),
        ]),
        render: Ok(render(vec![9.5, 8.25, 10.75, 8.5])),
        wasm: Ok(wasm(false)),
    }
}

/// A quick run where nothing optional was measured.
fn nothing_measured() -> Measurements {
    Measurements {
        setup: setup(&["bench"]),
        environment: environment(),
        cold_start: Duration::from_millis(95),
        complaints: Complaints::default(),
        memory: Memory::default(),
        idle: IdleSockets {
            opened: 0,
            wanted: 10_000,
            open_time: Duration::ZERO,
            rss_mib: None,
            pings_answered: 0,
            pings_sent: 0,
            error: Some("Too many open files (os error 24)".into()),
        },
        levels: vec![level_without_replies(1), level_without_replies(10)],
        writes: Err("database is locked".into()),
        render: Err("no answer to copy".into()),
        wasm: Err("`/work/target/site/pkg/rustchat.wasm` is not built".into()),
    }
}

/// A quick run with few sockets, a development WASM build, only short replies counted and no
/// render repeats: the branches between all and nothing.
fn partly_measured() -> Measurements {
    Measurements {
        setup: setup(&["bench", "--idle-sockets", "500"]),
        environment: environment(),
        cold_start: Duration::from_millis(1_234),
        complaints: Complaints::default(),
        memory: Memory {
            started: Some(9.0),
            registered: None,
            warm: Some(10.5),
            after: None,
            peak: Some(12.0),
        },
        idle: IdleSockets {
            opened: 500,
            wanted: 500,
            open_time: Duration::from_millis(250),
            rss_mib: None,
            pings_answered: 19,
            pings_sent: 20,
            error: None,
        },
        levels: vec![level(100, 1.0, &["only one error"])],
        writes: Ok(vec![writes("short", 50, &[0.01])]),
        render: Ok(render(Vec::new())),
        wasm: Ok(wasm(true)),
    }
}

/// Compares `report` with its snapshot; `UPDATE_SNAPSHOTS=1` rewrites the snapshot instead
/// (then read the diff before committing it).
fn snapshot(report: &str, name: &str, expected: &str) {
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        let path = format!(
            "{}/src/report/snapshots/{name}.md",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::write(path, report).unwrap();
        return;
    }
    assert_eq!(report, expected);
}

#[test]
fn a_run_with_every_figure_measured_reads_as_its_snapshot() {
    snapshot(
        &markdown(&everything_measured()),
        "everything_measured",
        include_str!("snapshots/everything_measured.md"),
    );
}

#[test]
fn a_run_with_no_optional_figure_says_why_each_is_missing() {
    snapshot(
        &markdown(&nothing_measured()),
        "nothing_measured",
        include_str!("snapshots/nothing_measured.md"),
    );
}

#[test]
fn a_partial_run_reports_what_it_has() {
    snapshot(
        &markdown(&partly_measured()),
        "partly_measured",
        include_str!("snapshots/partly_measured.md"),
    );
}
