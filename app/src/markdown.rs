//! Markdown to HTML for chat messages, the part the server and the browser share: the
//! server renders finished replies with it (then highlights code and runs its allow-list
//! sanitizer as a second line of defence, `server::markdown`), and the browser renders a reply
//! as it streams with the same rewrites, so the swap to the stored rendering at the end does
//! not move the text.
//!
//! `pulldown-cmark` parses CommonMark plus GFM tables, strikethrough and task lists, and the
//! event stream is rewritten before any HTML is written:
//! - raw HTML (block or inline) becomes plain text, so it is shown escaped;
//! - links keep only `http`, `https`, `mailto` and relative/fragment URLs; any other scheme
//!   drops the `<a>` and keeps the link text. Kept links get `rel="noopener noreferrer
//!   nofollow"`, and absolute http(s) links `target="_blank"`;
//! - images never become `<img>` (no remote content is loaded by opening a chat): an image with
//!   a safe URL is rendered as an ordinary link to the image whose text is the alt text (or
//!   the URL when the alt text is empty); an image with an unsafe URL, or one inside a link, is
//!   rendered as its alt text only;
//! - fenced and indented code blocks become a `div.code-block` with a header bar (language
//!   label and a copy button whose `data-code` holds the code) around `<pre><code>`, with the
//!   code as the `highlight` callback marks it up, or escaped.

use pulldown_cmark::{CodeBlockKind, CowStr, Event, LinkType, Options, Parser, Tag, TagEnd};

/// The `rel` every link gets.
pub const LINK_REL: &str = "noopener noreferrer nofollow";
/// Longest language token kept from a fence's info string.
const MAX_LANG_CHARS: usize = 32;
/// Deepest nesting of block quotes, lists and inline emphasis that is kept as elements; deeper
/// levels are flattened into their parent. The HTML parser inside the server's sanitizer is
/// quadratic in nesting depth (50 000 `>` took seconds), and no real message nests this deep.
pub const MAX_NESTING: usize = 32;

fn parser_options() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS
}

/// What happened to an opened link or image, so its end event matches.
enum Opened {
    /// An `<a>` was written; close it.
    Anchor,
    /// An image rendered as an `<a>`; close it, and if nothing was written since `start`
    /// (empty alt text), show the URL as the link text.
    ImageAnchor { start: usize, url: String },
    /// Nothing was written; the contents render as plain inline content.
    Dropped,
}

struct CodeBlock {
    lang: Option<String>,
    code: String,
}

/// Markdown to HTML with the rewrites described in the module docs. `highlight(lang, code)`
/// marks up a code block's code, or says `None` to have it shown escaped.
pub fn markdown_to_html(
    text: &str,
    highlight: &mut dyn FnMut(&str, &str) -> Option<String>,
) -> String {
    let mut events: Vec<Event<'_>> = Vec::new();
    let mut opened: Vec<Opened> = Vec::new();
    let mut anchors_open = 0usize;
    let mut code_block: Option<CodeBlock> = None;
    let mut html_block: Option<String> = None;
    // For every other open tag: whether its start was written (so its end is, too).
    let mut tags_open: Vec<bool> = Vec::new();
    let mut depth = 0usize;

    for event in Parser::new_ext(text, parser_options()) {
        if let Some(block) = code_block.as_mut() {
            match event {
                Event::Text(t) | Event::Html(t) | Event::InlineHtml(t) | Event::Code(t) => {
                    block.code.push_str(&t)
                }
                Event::End(TagEnd::CodeBlock) => {
                    if let Some(block) = code_block.take() {
                        let html = render_code_block(block.lang.as_deref(), &block.code, highlight);
                        events.push(Event::Html(html.into()));
                    }
                }
                _ => {}
            }
            continue;
        }
        if let Some(buffer) = html_block.as_mut() {
            match event {
                Event::Html(t) | Event::InlineHtml(t) | Event::Text(t) => buffer.push_str(&t),
                Event::End(TagEnd::HtmlBlock) => {
                    let raw = html_block.take().unwrap_or_default();
                    push_raw_block_as_text(&mut events, raw);
                }
                _ => {}
            }
            continue;
        }
        match event {
            Event::Html(t) | Event::InlineHtml(t) => events.push(Event::Text(t)),
            Event::Start(Tag::HtmlBlock) => html_block = Some(String::new()),
            Event::Start(Tag::CodeBlock(kind)) => {
                let lang = match kind {
                    CodeBlockKind::Fenced(info) => language_token(&info),
                    CodeBlockKind::Indented => None,
                };
                code_block = Some(CodeBlock {
                    lang,
                    code: String::new(),
                });
            }
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                ..
            }) => {
                let url = if link_type == LinkType::Email {
                    format!("mailto:{dest_url}")
                } else {
                    dest_url.to_string()
                };
                match safe_url(&url) {
                    Some(href) if anchors_open == 0 => {
                        events.push(Event::Html(open_anchor(href).into()));
                        anchors_open += 1;
                        opened.push(Opened::Anchor);
                    }
                    _ => opened.push(Opened::Dropped),
                }
            }
            Event::Start(Tag::Image { dest_url, .. }) => match safe_url(&dest_url) {
                Some(href) if anchors_open == 0 => {
                    events.push(Event::Html(open_anchor(href).into()));
                    anchors_open += 1;
                    opened.push(Opened::ImageAnchor {
                        start: events.len(),
                        url: href.to_string(),
                    });
                }
                _ => opened.push(Opened::Dropped),
            },
            Event::End(TagEnd::Link) | Event::End(TagEnd::Image) => match opened.pop() {
                Some(Opened::Anchor) => {
                    anchors_open = anchors_open.saturating_sub(1);
                    events.push(Event::Html(CowStr::Borrowed("</a>")));
                }
                Some(Opened::ImageAnchor { start, url }) => {
                    if events.len() == start {
                        events.push(Event::Text(url.into()));
                    }
                    anchors_open = anchors_open.saturating_sub(1);
                    events.push(Event::Html(CowStr::Borrowed("</a>")));
                }
                Some(Opened::Dropped) | None => {}
            },
            Event::Start(tag) => {
                let keep = depth < MAX_NESTING || !is_flattenable(&tag);
                tags_open.push(keep);
                if keep {
                    depth += 1;
                    events.push(Event::Start(tag));
                }
            }
            Event::End(tag) => {
                if tags_open.pop().unwrap_or(true) {
                    depth = depth.saturating_sub(1);
                    events.push(Event::End(tag));
                }
            }
            other => events.push(other),
        }
    }
    // An unterminated code block cannot happen (the parser closes every block at the end of
    // input), but never lose text if it does.
    if let Some(block) = code_block.take() {
        let html = render_code_block(block.lang.as_deref(), &block.code, highlight);
        events.push(Event::Html(html.into()));
    }
    if let Some(raw) = html_block.take() {
        push_raw_block_as_text(&mut events, raw);
    }
    while let Some(open) = opened.pop() {
        if !matches!(open, Opened::Dropped) {
            events.push(Event::Html(CowStr::Borrowed("</a>")));
        }
    }

    let mut out = String::with_capacity(text.len() + text.len() / 2 + 64);
    pulldown_cmark::html::push_html(&mut out, events.into_iter());
    out
}

/// Tags that can nest without bound and whose contents still read well without them.
fn is_flattenable(tag: &Tag<'_>) -> bool {
    matches!(
        tag,
        Tag::BlockQuote(_)
            | Tag::List(_)
            | Tag::Item
            | Tag::Emphasis
            | Tag::Strong
            | Tag::Strikethrough
    )
}

/// A raw HTML block, shown as a paragraph of text that keeps its line breaks.
fn push_raw_block_as_text<'a>(events: &mut Vec<Event<'a>>, raw: String) {
    let raw = raw.trim_end_matches(['\n', '\r']);
    if raw.is_empty() {
        return;
    }
    events.push(Event::Start(Tag::Paragraph));
    for (i, line) in raw.split('\n').enumerate() {
        if i > 0 {
            events.push(Event::HardBreak);
        }
        events.push(Event::Text(line.trim_end_matches('\r').to_string().into()));
    }
    events.push(Event::End(TagEnd::Paragraph));
}

fn open_anchor(href: &str) -> String {
    let mut html = String::with_capacity(href.len() + 80);
    html.push_str("<a href=\"");
    escape_html(&mut html, href);
    html.push_str("\" rel=\"");
    html.push_str(LINK_REL);
    html.push('"');
    if is_absolute_web_url(href) {
        html.push_str(" target=\"_blank\"");
    }
    html.push('>');
    html
}

/// The URL to use in `href`, or `None` when its scheme is not allowed.
///
/// Allowed: `http:`, `https:`, `mailto:` and URLs without a scheme (relative paths, `//host`,
/// `?query`, `#fragment`). The check follows how browsers read a URL: leading and trailing
/// spaces and control characters are ignored and tabs and newlines anywhere are removed before
/// the scheme is read, and schemes are case-insensitive. Character references such as
/// `&#106;` were already decoded by the Markdown parser, so they are checked decoded.
fn safe_url(url: &str) -> Option<&str> {
    let trimmed = url.trim_matches(|c: char| c <= ' ');
    let normalized: String = trimmed
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect();
    if normalized.chars().any(|c| c.is_control()) {
        return None;
    }
    let scheme_end = normalized.find([':', '/', '?', '#']);
    match scheme_end {
        Some(i) if normalized[i..].starts_with(':') => {
            let scheme = normalized[..i].to_ascii_lowercase();
            match scheme.as_str() {
                "http" | "https" | "mailto" => Some(trimmed),
                _ => None,
            }
        }
        _ => Some(trimmed),
    }
}

fn is_absolute_web_url(href: &str) -> bool {
    let lower = href.get(..8).unwrap_or(href).to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://") || lower.starts_with("//")
}

/// The language named by a fence's info string (` ```rust,ignore ` → `rust`), lower-cased and
/// limited to characters that are safe and meaningful in a class name.
fn language_token(info: &str) -> Option<String> {
    let token: String = info
        .trim_start()
        .trim_start_matches('{')
        .trim_start_matches('.')
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '#' | '-' | '_' | '.'))
        .take(MAX_LANG_CHARS)
        .collect::<String>()
        .to_ascii_lowercase();
    (!token.is_empty()).then_some(token)
}

/// The code block markup; its code marked up by `highlight` when the fence names a language.
fn render_code_block(
    lang: Option<&str>,
    code: &str,
    highlight: &mut dyn FnMut(&str, &str) -> Option<String>,
) -> String {
    let label = lang.unwrap_or("text");
    let highlighted = lang.and_then(|lang| highlight(lang, code));
    let copy_text = code.strip_suffix('\n').unwrap_or(code);

    let mut html = String::with_capacity(code.len() * 2 + 256);
    html.push_str("<div class=\"code-block\"><div class=\"code-head\"><span class=\"code-lang\">");
    escape_html(&mut html, label);
    html.push_str(
        "</span><button type=\"button\" class=\"copy-btn\" aria-label=\"Copy code\" data-code=\"",
    );
    escape_html(&mut html, copy_text);
    // Focusable: a long line scrolls sideways, and keyboard users must be able to scroll it.
    html.push_str("\">Copy</button></div><pre tabindex=\"0\"><code class=\"language-");
    escape_html(&mut html, label);
    html.push_str("\">");
    match highlighted {
        Some(spans) => html.push_str(&spans),
        None => escape_html(&mut html, code),
    }
    html.push_str("</code></pre></div>");
    html
}

/// Escapes text for use in HTML element content and double- or single-quoted attributes.
pub fn escape_html(out: &mut String, text: &str) {
    let mut last = 0;
    for (i, byte) in text.bytes().enumerate() {
        let replacement = match byte {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&#39;",
            _ => continue,
        };
        out.push_str(&text[last..i]);
        out.push_str(replacement);
        last = i + 1;
    }
    out.push_str(&text[last..]);
}

#[cfg(test)]
mod tests {
    use super::markdown_to_html;

    fn plain(text: &str) -> String {
        markdown_to_html(text, &mut |_, _| None)
    }

    #[test]
    fn without_the_servers_sanitizer_raw_html_and_unsafe_links_still_come_out_inert() {
        let html = plain("<script>alert(1)</script>\n\nHi <img src=x onerror=alert(1)> [x](javascript:alert(1)) ![i](https://e.com/i.png)");
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
        assert!(!html.contains("javascript:"), "{html}");
        assert!(html.contains("<a href=\"https://e.com/i.png\""), "{html}");
    }

    #[test]
    fn a_code_block_gets_its_frame_and_the_highlighter_only_its_code() {
        let mut asked = Vec::new();
        let html = markdown_to_html("```rust\nfn main() {}\n```", &mut |lang, code| {
            asked.push((lang.to_owned(), code.to_owned()));
            None
        });
        assert_eq!(asked, [("rust".to_owned(), "fn main() {}\n".to_owned())]);
        assert!(html.starts_with("<div class=\"code-block\"><div class=\"code-head\"><span class=\"code-lang\">rust</span>"), "{html}");
        assert!(
            html.contains("<code class=\"language-rust\">fn main() {}\n</code>"),
            "{html}"
        );
        // An unfinished fence (a reply still streaming) renders as the block it will be.
        let growing = plain("Look:\n\n```rust\nfn ma");
        assert!(
            growing.contains("<code class=\"language-rust\">fn ma"),
            "{growing}"
        );
    }
}
