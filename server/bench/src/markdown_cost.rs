//! What formatting a reply while it streams costs, per streamed token: the chat island renders
//! the reply so far with `app::markdown` at every delta (the same rewrites as the server's,
//! without highlighting), so a token costs one render of the text received until then. Run it
//! with `cargo run --release -p bench --bin markdown-cost`; it prints a markdown table.
//!
//! This is native code; the browser runs the same code as WASM, typically 1.5–3× slower.

use std::time::{Duration, Instant};

#[allow(dead_code)] // Shared with the main bench, which uses more of it.
#[path = "sample_text.rs"]
mod sample_text;

/// A reply of `answers` of the sample answers (paragraphs, lists, a table, code blocks).
fn reply(answers: usize) -> String {
    (0..answers)
        .map(|i| sample_text::answer(i, &sample_text::marker(i)))
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// The time to stream `text` once, rendering the whole text so far after each piece.
fn stream_once(text: &str, pieces: &[&str]) -> Duration {
    let started = Instant::now();
    let mut end = 0;
    for piece in pieces {
        end += piece.len();
        let html = app::markdown::markdown_to_html(&text[..end], &mut |_, _| None);
        std::hint::black_box(html);
    }
    started.elapsed()
}

fn main() {
    println!("| reply | tokens (pieces) | bytes | render per token, median of 15 (µs) | whole reply (ms) |");
    println!("|---|---|---|---|---|");
    for (label, answers) in [
        ("short (3 answers)", 3),
        ("typical (9 answers)", 9),
        ("long (30 answers)", 30),
    ] {
        let text = reply(answers);
        let pieces = sample_text::pieces(&text);
        let mut runs: Vec<Duration> = (0..15).map(|_| stream_once(&text, &pieces)).collect();
        runs.sort();
        let median = runs[runs.len() / 2];
        println!(
            "| {label} | {} | {} | {:.1} | {:.1} |",
            pieces.len(),
            text.len(),
            median.as_secs_f64() * 1e6 / pieces.len() as f64,
            median.as_secs_f64() * 1e3
        );
    }
}
