//! Database row writes per reply, short and long, and the CPU a streamed token costs.

use super::format::{count, number, number_or_dash, table};
use crate::{measurements::Writes, plan::Plan, stats::median};

pub fn section(writes: &Result<Vec<Writes>, String>, plan: &Plan) -> String {
    match writes {
        Ok(all) => format!("{}{}", writes_table(all, plan), cpu_per_token(all)),
        Err(e) => format!("## Database writes per reply\n\nNot measured: {e}\n\n"),
    }
}

fn writes_table(all: &[Writes], plan: &Plan) -> String {
    let rows: Vec<Vec<String>> = all.iter().map(row).collect();
    format!(
        "## Database writes per reply\n\nRow writes counted by AFTER INSERT/UPDATE/DELETE triggers on every \
         table (installed only for this phase), from just before the message is posted to 0.5 s after its \
         final event; conversation creation is not included. Same pace for both: {} ms per token, \
         STREAM_FLUSH_INTERVAL at its default. *Text in the DB halfway* is the length of the streaming \
         reply's `content` read from SQLite halfway through its stream: what a crash then would keep.\n\n{}\n",
        plan.short.pace.as_millis(),
        table(
            &["reply", "stream time (s)", "server CPU per reply (ms)", "text in the DB halfway (bytes)", "writes per reply", "mean", "mean by table and operation"],
            &rows
        )
    )
}

/// One length of reply: its stream time, CPU, what was saved halfway, and its writes.
fn row(w: &Writes) -> Vec<String> {
    let totals: Vec<String> = w.per_reply.iter().map(|(t, _, _)| t.to_string()).collect();
    let duration = median(
        &w.per_reply
            .iter()
            .map(|(_, _, r)| r.last_delta_ms)
            .collect::<Vec<_>>(),
    )
    .map(|d| format!("{:.1}", d / 1e3))
    .unwrap_or_else(|| "–".into());
    let breakdown: Vec<String> = w
        .mean_by_table()
        .into_iter()
        .map(|(k, n)| format!("{k} {}", number(n)))
        .collect();
    vec![
        format!("{} tokens", w.shape.tokens),
        duration,
        number_or_dash(median(&w.cpu_seconds).map(|s| s * 1e3)),
        w.persisted_halfway
            .iter()
            .map(|b| {
                b.map(|b| count(b as u64))
                    .unwrap_or_else(|| "no streaming row".into())
            })
            .collect::<Vec<_>>()
            .join(", "),
        totals.join(", "),
        number_or_dash(w.mean_total()),
        breakdown.join("; "),
    ]
}

/// From the short and long replies' CPU: the cost of one token, and of a reply besides them.
fn cpu_per_token(all: &[Writes]) -> String {
    let cpu = |label| {
        Writes::find(all, label)
            .and_then(|w| median(&w.cpu_seconds).map(|s| (s, w.shape.tokens as f64)))
    };
    let (Some((short, short_tokens)), Some((long, long_tokens))) = (cpu("short"), cpu("long"))
    else {
        return String::new();
    };
    let per_token = (long - short) / (long_tokens - short_tokens);
    format!(
        "From the same replies, one at a time: each streamed token costs the server about {} µs of CPU, and a \
         reply about {} ms besides its tokens (saving, context, accounting, the final events).\n\n",
        number(per_token * 1e6),
        number((short - short_tokens * per_token) * 1e3)
    )
}
