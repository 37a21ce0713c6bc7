//! Realistic chat text for the render measurement: questions, and answers with paragraphs,
//! lists, a table, inline code and fenced code blocks. Every text carries a marker, so the
//! rendered page can be checked for all of its messages.

pub const MARKER_PREFIX: &str = "bench-message-";
/// The marker of the template replies, replaced by each copy's own.
pub const TEMPLATE_MARKER: &str = "bench-message-template";

/// The answer kinds: [`answer`] takes one of these.
pub const ANSWER_KINDS: [usize; 3] = [0, 1, 2];

pub fn marker(index: usize) -> String {
    format!("{MARKER_PREFIX}{index}")
}

/// The numbers of the markers in `text` that end where a marker ends in a page or in JSON
/// (so `-1` is not found inside `-10`).
pub fn markers_in(text: &str) -> std::collections::HashSet<usize> {
    text.match_indices(MARKER_PREFIX)
        .filter_map(|(at, _)| {
            let rest = &text[at + MARKER_PREFIX.len()..];
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            let ends = matches!(rest.as_bytes().get(digits), Some(b'<' | b')' | b'`'));
            ends.then(|| rest[..digits].parse().ok()).flatten()
        })
        .collect()
}

pub fn question(marker: &str) -> String {
    format!(
        "How do I stream a reply over a WebSocket without losing tokens when the tab \
         reconnects? Asking for `{marker}`."
    )
}

/// The answer kind of the message at `index` of a conversation (odd indexes are answers).
pub fn answer_kind(index: usize) -> usize {
    (index / 2) % ANSWER_KINDS.len()
}

pub fn answer(kind: usize, marker: &str) -> String {
    match kind % ANSWER_KINDS.len() {
        0 => format!(
            "Keep a **sequence number** per message and replay what the client lacks ({marker}).\n\n\
             1. The client sends the last `seq` it holds.\n\
             2. The server replays the missing deltas from its buffer.\n\
             3. Then it continues live, with no gap and no duplicate.\n\n\
             ```rust\nasync fn resume(feed: &Feed, after: u64) -> Result<(), Error> {{\n    \
             for delta in feed.replay(after).await? {{\n        send(delta).await?;\n    }}\n    \
             feed.follow().await\n}}\n```\n\nThat keeps the *ordering* guarantee simple."
        ),
        1 => format!(
            "Here is a Python client ({marker}):\n\n\
             ```python\nimport json, websockets\n\nasync def follow(url, conversation):\n    \
             async with websockets.connect(url) as ws:\n        \
             await ws.send(json.dumps({{\"type\": \"subscribe\", \"conversation_id\": conversation}}))\n        \
             async for frame in ws:\n            print(json.loads(frame))\n```\n\n\
             | field | meaning |\n|---|---|\n| `seq` | position of the delta |\n| `delta` | the text |\n"
        ),
        _ => format!(
            "Short answer: yes ({marker}). A reply runs in its own task, so closing the tab does \
             not stop it; the deltas are kept in a *replay buffer* until the message completes, \
             and the final text is written to the database in one transaction. See \
             [the protocol](https://example.com/protocol) for details.\n\n> Tip: measure before \
             you tune."
        ),
    }
}

/// Splits text into token-sized pieces (each a run of whitespace and the word after it), the
/// way an upstream streams it; the pieces join back into the text exactly.
pub fn pieces(text: &str) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut in_word = false;
    for (i, c) in text.char_indices() {
        if c.is_whitespace() && in_word {
            pieces.push(&text[start..i]);
            start = i;
            in_word = false;
        } else if !c.is_whitespace() {
            in_word = true;
        }
    }
    if start < text.len() {
        pieces.push(&text[start..]);
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_join_back_into_the_text() {
        for kind in ANSWER_KINDS {
            let text = answer(kind, TEMPLATE_MARKER);
            let pieces = pieces(&text);
            assert!(pieces.len() > 20);
            assert_eq!(pieces.concat(), text);
        }
        assert_eq!(pieces(" a  b\n"), vec![" a", "  b", "\n"]);
        assert!(pieces("").is_empty());
    }

    #[test]
    fn answers_hold_code_blocks_and_their_marker() {
        let answers: Vec<String> = ANSWER_KINDS.iter().map(|k| answer(*k, "m-1")).collect();
        assert!(answers[0].contains("```rust"));
        assert!(answers[1].contains("```python") && answers[1].contains("| field |"));
        assert!(answers.iter().all(|a| a.contains("m-1")));
        assert_eq!(answer_kind(1), 0);
        assert_eq!(answer_kind(3), 1);
        assert_eq!(answer_kind(5), 2);
        assert_eq!(answer_kind(7), 0);
    }
}
