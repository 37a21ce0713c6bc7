//! What a browser gets: the conversation page's render time and the WASM bundle's size.

use super::format::{count, ms, table};
use crate::{measurements::Render, site::WasmSize, stats::median};

pub fn render(render: &Result<Render, String>) -> String {
    let r = match render {
        Ok(r) => r,
        Err(e) => return format!("## Page render\n\nNot measured: {e}\n\n"),
    };
    format!(
        "## Page render\n\n`GET /c/{{id}}` with the session cookie, a conversation of {} messages (markdown with \
         lists, tables, inline code and fenced code blocks, inserted into SQLite), timed to the whole body.\n\n{}\n",
        count(r.messages_in_conversation as u64),
        table(
            &["status", "first request (ms)", "median of repeats (ms)", "repeats", "HTML", "inserted messages found in the HTML"],
            &[vec![
                r.status.to_string(),
                ms(r.first.as_secs_f64() * 1e3),
                median(&r.repeats).map(ms).unwrap_or_else(|| "–".into()),
                r.repeats.len().to_string(),
                format!("{} bytes", count(r.html_bytes as u64)),
                format!("{} of {}", count(r.messages_found as u64), count(r.inserted as u64)),
            ]]
        )
    )
}

pub fn wasm(wasm: &Result<WasmSize, String>) -> String {
    let w = match wasm {
        Ok(w) => w,
        Err(e) => return format!("## WASM bundle\n\nNot measured: {e}.\n\n"),
    };
    format!(
        "## WASM bundle\n\n`{}`{}: {} bytes raw, {} bytes gzip -9.\n\n",
        w.path.display(),
        if w.debug_build {
            " (a development build: it carries debug names or DWARF, which the release build strips)"
        } else {
            " (release: no debug names or DWARF)"
        },
        count(w.raw),
        count(w.gzip)
    )
}
