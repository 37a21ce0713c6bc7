//! The targets table: the figures the project promises, each with its target and whether it
//! holds.

use std::time::Duration;

use super::{
    figure::{figures_table, Figure, Target},
    format::{count, mb, number},
};
use crate::{
    measurements::{IdleSockets, Level, Measurements, Memory, Render, Writes},
    plan::Plan,
    site::WasmSize,
    stats::{median, Summary},
};

/// The concurrency the added-latency targets are set for.
const STREAMS: usize = 100;

pub fn section(measured: &Measurements) -> String {
    format!(
        "## Targets\n\nThe targets are for a 2-core machine; sizes in MB and KB are 10^6 and 10^3 bytes.\n\n{}\n",
        figures_table(&figures(measured))
    )
}

/// Every figure, in the order of the table.
fn figures(measured: &Measurements) -> Vec<Figure> {
    let mut figures = added_ttft(&measured.levels);
    figures.extend(memory(&measured.memory, &measured.idle));
    figures.extend([
        render(&measured.render, 1_000),
        render(&measured.render, 10_000),
        writes_difference(&measured.writes, &measured.setup.plan),
        wasm(&measured.wasm),
        cold_start(measured.cold_start),
    ]);
    figures
}

/// What the server adds to the time to first token at 100 streams, p50 and p99.
fn added_ttft(levels: &[Level]) -> Vec<Figure> {
    let added = |pick: fn(&Summary) -> f64| -> Result<f64, String> {
        levels
            .iter()
            .find(|l| l.concurrency == STREAMS && l.paced)
            .and_then(Level::added_ttft)
            .map(|s| pick(&s))
            .ok_or_else(|| format!("no replies at concurrency {STREAMS}"))
    };
    vec![
        Figure::new(
            "added TTFT p50, 100 streams",
            added(|s| s.p50),
            "ms",
            Target::AtMost(1.0),
        ),
        Figure::new(
            "added TTFT p99, 100 streams",
            added(|s| s.p99),
            "ms",
            Target::AtMost(5.0),
        ),
    ]
}

/// Resident memory idle, after warm-up, and with the idle sockets open.
fn memory(memory: &Memory, idle: &IdleSockets) -> Vec<Figure> {
    vec![
        Figure::new(
            "server RSS idle (just started)",
            mb(memory.started),
            "MB",
            Target::AtMost(30.0),
        ),
        Figure::new(
            "server RSS idle (after warm-up: users, a few replies)",
            mb(memory.warm),
            "MB",
            Target::AtMost(30.0),
        ),
        idle_sockets(idle),
    ]
}

/// The target is set for ten thousand sockets; fewer are reported without one.
fn idle_sockets(idle: &IdleSockets) -> Figure {
    Figure::new(
        format!(
            "server RSS with {} idle authenticated sockets",
            count(idle.wanted as u64)
        ),
        if idle.opened == idle.wanted {
            mb(idle.rss_mib)
        } else {
            Err(format!(
                "only {} of {} sockets opened{}",
                idle.opened,
                idle.wanted,
                idle.error
                    .as_deref()
                    .map(|e| format!(" ({e})"))
                    .unwrap_or_default()
            ))
        },
        "MB",
        if idle.wanted >= 10_000 {
            Target::AtMost(200.0)
        } else {
            Target::None
        },
    )
}

fn render(render: &Result<Vec<Render>, String>, messages: usize) -> Figure {
    Figure::new(
        format!(
            "render of a {}-message conversation page (median)",
            count(messages as u64)
        ),
        render
            .as_ref()
            .map_err(Clone::clone)
            .and_then(|all| Render::of(all, messages).ok_or_else(|| "not in the plan".into()))
            .and_then(|r| median(&r.repeats).ok_or_else(|| "no repeats".into())),
        "ms",
        Target::AtMost(50.0),
    )
}

/// Database writes must not grow with the length of a reply.
fn writes_difference(writes: &Result<Vec<Writes>, String>, plan: &Plan) -> Figure {
    let difference = writes.as_ref().map_err(Clone::clone).and_then(|all| {
        let mean = |label| Writes::find(all, label).and_then(Writes::mean_total);
        match (mean("short"), mean("long")) {
            (Some(short), Some(long)) => Ok(long - short),
            _ => Err("no replies".into()),
        }
    });
    Figure::new(
        format!(
            "extra DB row writes of a {}-token reply over a {}-token one",
            plan.long.tokens, plan.short.tokens
        ),
        difference,
        "",
        Target::Equals(0.0),
    )
}

/// Only the release bundle counts: a development one says how to build the release one.
fn wasm(wasm: &Result<WasmSize, String>) -> Figure {
    Figure::new(
        "release WASM, gzip -9",
        match wasm {
            Ok(w) if w.debug_build => Err(format!(
                "only a development build is in the site folder ({} KB gzip); build the release one with \
                 `scripts/build-site --release`",
                number(w.gzip as f64 / 1e3)
            )),
            Ok(w) => Ok(w.gzip as f64 / 1e3),
            Err(e) => Err(e.clone()),
        },
        "KB",
        Target::AtMost(300.0),
    )
}

fn cold_start(cold_start: Duration) -> Figure {
    Figure::new(
        "cold start to the first 200 (GET /login)",
        Ok(cold_start.as_secs_f64() * 1e3),
        "ms",
        Target::None,
    )
}
