//! What a browser gets: the conversation page's render time and the WASM bundle's size.

use super::format::{count, ms, table};
use crate::{measurements::Render, site::WasmSize, stats::median};

pub fn render(render: &Result<Vec<Render>, String>) -> String {
    let renders = match render {
        Ok(r) if !r.is_empty() => r,
        Ok(_) => {
            return "## Page render\n\nNot measured: no conversation sizes in the plan.\n\n".into()
        }
        Err(e) => return format!("## Page render\n\nNot measured: {e}\n\n"),
    };
    let rows: Vec<Vec<String>> = renders
        .iter()
        .map(|r| {
            vec![
                count(r.messages_in_conversation as u64),
                r.status.to_string(),
                ms(r.first.as_secs_f64() * 1e3),
                median(&r.repeats).map(ms).unwrap_or_else(|| "–".into()),
                r.repeats.len().to_string(),
                format!("{} bytes", count(r.html_bytes as u64)),
                count(r.messages_on_page as u64),
                count(r.earlier_pages.len() as u64),
                median(&r.earlier_pages)
                    .map(ms)
                    .unwrap_or_else(|| "–".into()),
                format!(
                    "{} / {} of {}",
                    count(r.messages_found as u64),
                    count(r.found_in_all as u64),
                    count(r.inserted as u64)
                ),
            ]
        })
        .collect();
    format!(
        "## Page render\n\n`GET /c/{{id}}` with the session cookie, conversations of {} messages on one branch \
         (markdown with lists, tables, inline code and fenced code blocks, inserted into SQLite), timed to the \
         whole body. The page shows the newest messages; \"Load earlier\" reads the ones above them a page at a \
         time (`GET /api/conversations/{{id}}/branch?before={{first shown}}`), each walked once to the first message.\n\n{}\n",
        renders
            .iter()
            .map(|r| count(r.messages_in_conversation as u64))
            .collect::<Vec<_>>()
            .join(", "),
        table(
            &[
                "messages",
                "status",
                "first request (ms)",
                "median of repeats (ms)",
                "repeats",
                "HTML",
                "messages on the page",
                "earlier pages",
                "earlier page, median (ms)",
                "inserted messages found: page / all pages",
            ],
            &rows
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
