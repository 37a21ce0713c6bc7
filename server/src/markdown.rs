//! Markdown to safe HTML for chat messages.
//!
//! Pipeline for `markdown: true`:
//!
//! 1. `pulldown-cmark` parses CommonMark plus GFM tables, strikethrough and task lists.
//! 2. The event stream is rewritten before any HTML is written (`app::markdown`, shared with
//!    the browser, which renders a streaming reply the same way):
//!    - raw HTML (block or inline) becomes plain text, so it is shown escaped;
//!    - links keep only `http`, `https`, `mailto` and relative/fragment URLs; any other scheme
//!      drops the `<a>` and keeps the link text. Kept links get
//!      `rel="noopener noreferrer nofollow"`, and absolute http(s) links `target="_blank"`;
//!    - images never become `<img>` (no remote content is loaded by opening a chat): an image
//!      with a safe URL is rendered as an ordinary link to the image whose text is the alt text
//!      (or the URL when the alt text is empty); an image with an unsafe URL, or one inside a
//!      link, is rendered as its alt text only;
//!    - fenced and indented code blocks become a `div.code-block` with a header bar (language
//!      label and a copy button whose `data-code` holds the code) around `<pre><code>`,
//!      optionally highlighted here by `syntect` with `hl-`-prefixed CSS classes.
//! 3. The HTML goes through an `ammonia` allow-list that keeps exactly what step 2 emits, as a
//!    second line of defence.
//!
//! With `markdown: false` the text is only escaped and wrapped in `<p class="plain">`; the
//! stylesheet (`style/markdown.css`) keeps its line breaks with `white-space: pre-wrap`.
//!
//! Cost controls: the syntax set and the sanitizer are built once per process, on first use;
//! block quotes, lists and emphasis deeper than `MAX_NESTING` are flattened (the HTML parser
//! in `ammonia` is quadratic in depth); at most `HIGHLIGHT_BUDGET_BYTES` of code per message
//! is highlighted; and rendered Markdown is kept in a small bounded cache, since pages render
//! the same stored messages on every load.

use std::collections::{HashMap, HashSet};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{LazyLock, Mutex, MutexGuard, PoisonError};

#[cfg(test)]
use app::markdown::MAX_NESTING;
use app::markdown::{escape_html, markdown_to_html, LINK_REL};
use syntect::html::{ClassStyle, ClassedHTMLGenerator};
use syntect::parsing::SyntaxSet;
use syntect::util::LinesWithEndings;

/// How a message body is turned into HTML.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RenderOptions {
    pub markdown: bool,
    pub highlight: bool,
}

/// Safe HTML for a message body. Never returns markup that can run script.
pub fn render_message(text: &str, options: RenderOptions) -> String {
    if !options.markdown {
        let mut out = String::with_capacity(text.len() + 32);
        out.push_str("<p class=\"plain\">");
        escape_html(&mut out, text);
        out.push_str("</p>");
        return out;
    }
    if let Some(html) = cache().get(text, options.highlight) {
        return html;
    }
    let html = render_markdown(text, options.highlight);
    cache().put(text, options.highlight, &html);
    html
}

/// Markdown to sanitized HTML, without the cache: the shared rewrites (`app::markdown`), code
/// highlighted within [`HIGHLIGHT_BUDGET_BYTES`], then the allow-list.
fn render_markdown(text: &str, highlight: bool) -> String {
    let mut budget = if highlight { HIGHLIGHT_BUDGET_BYTES } else { 0 };
    let html = markdown_to_html(text, &mut |lang, code| {
        if code.len() > budget {
            return None;
        }
        let spans = highlight_code(lang, code)?;
        budget -= code.len();
        Some(spans)
    });
    SANITIZER.clean(&html).to_string()
}

/// How much code one message may have highlighted, in bytes; later code blocks that do not
/// fit are shown plain. `syntect` with the pure-Rust regex engine costs roughly 50-150 µs per
/// line of code, so this bounds the first render of a message to tens of milliseconds.
const HIGHLIGHT_BUDGET_BYTES: usize = 16 * 1024;
/// A block with a line longer than this is shown plain (minified code, base64 blobs, ...):
/// the backtracking regex engine gets slow on long lines.
const MAX_HIGHLIGHT_LINE_BYTES: usize = 1024;

/// Rendered messages are cached: a message's text never changes once stored, pages render the
/// same messages on every load, and highlighting is the expensive part. Two generations of at
/// most this many bytes (text plus HTML) each; when the current one fills up it replaces the
/// previous one, so recently used entries survive and memory stays bounded.
const CACHE_GENERATION_BYTES: usize = 4 * 1024 * 1024;
/// Larger messages are rendered every time rather than cached.
const CACHE_MAX_ENTRY_BYTES: usize = 256 * 1024;

static CACHE: LazyLock<Mutex<RenderCache>> = LazyLock::new(Default::default);

fn cache() -> MutexGuard<'static, RenderCache> {
    // The cache holds no invariant a panic could break; keep using it.
    CACHE.lock().unwrap_or_else(PoisonError::into_inner)
}

#[derive(Default)]
struct RenderCache {
    current: HashMap<String, Rendered>,
    previous: HashMap<String, Rendered>,
    current_bytes: usize,
}

/// The HTML of one text, without and with highlighting.
#[derive(Default)]
struct Rendered {
    plain: Option<String>,
    highlighted: Option<String>,
}

impl Rendered {
    fn slot(&mut self, highlight: bool) -> &mut Option<String> {
        if highlight {
            &mut self.highlighted
        } else {
            &mut self.plain
        }
    }
}

impl RenderCache {
    fn get(&mut self, text: &str, highlight: bool) -> Option<String> {
        if let Some(html) = self
            .current
            .get_mut(text)
            .and_then(|r| r.slot(highlight).clone())
        {
            return Some(html);
        }
        let html = self
            .previous
            .get_mut(text)
            .and_then(|r| r.slot(highlight).clone())?;
        self.put(text, highlight, &html);
        Some(html)
    }

    fn put(&mut self, text: &str, highlight: bool, html: &str) {
        let size = text.len() + html.len();
        if size > CACHE_MAX_ENTRY_BYTES {
            return;
        }
        if self.current_bytes + size > CACHE_GENERATION_BYTES {
            self.previous = std::mem::take(&mut self.current);
            self.current_bytes = 0;
        }
        self.current_bytes += size;
        *self
            .current
            .entry(text.to_owned())
            .or_default()
            .slot(highlight) = Some(html.to_owned());
    }
}

static SYNTAXES: LazyLock<SyntaxSet> = LazyLock::new(SyntaxSet::load_defaults_newlines);

/// Second line of defence: keeps exactly the markup [`markdown_to_html`] emits.
static SANITIZER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let tags: HashSet<&'static str> = [
        "p",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "ul",
        "ol",
        "li",
        "blockquote",
        "pre",
        "code",
        "em",
        "strong",
        "del",
        "a",
        "hr",
        "br",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
        "input",
        "span",
        "div",
        "button",
    ]
    .into_iter()
    .collect();

    let set = |items: &[&'static str]| items.iter().copied().collect::<HashSet<_>>();
    let tag_attributes: HashMap<&'static str, HashSet<&'static str>> = HashMap::from([
        ("a", set(&["href"])),
        ("ol", set(&["start"])),
        ("input", set(&["checked", "disabled"])),
        ("span", set(&["class"])),
        ("div", set(&["class"])),
        ("code", set(&["class"])),
        ("button", set(&["class", "aria-label", "data-code"])),
    ]);

    // Attributes allowed only with one of these exact values.
    let align = set(&[
        "text-align: left",
        "text-align: center",
        "text-align: right",
    ]);
    let tag_attribute_values: HashMap<&'static str, HashMap<&'static str, HashSet<&'static str>>> =
        HashMap::from([
            (
                "a",
                HashMap::from([("rel", set(&[LINK_REL])), ("target", set(&["_blank"]))]),
            ),
            ("input", HashMap::from([("type", set(&["checkbox"]))])),
            ("button", HashMap::from([("type", set(&["button"]))])),
            ("pre", HashMap::from([("tabindex", set(&["0"]))])),
            ("th", HashMap::from([("style", align.clone())])),
            ("td", HashMap::from([("style", align)])),
        ]);

    let mut builder = ammonia::Builder::empty();
    builder
        .tags(tags)
        .clean_content_tags(set(&["script", "style"]))
        .generic_attributes(HashSet::new())
        .tag_attributes(tag_attributes)
        .tag_attribute_values(tag_attribute_values)
        .url_schemes(set(&["http", "https", "mailto"]))
        .url_relative(ammonia::UrlRelative::PassThrough)
        // The renderer sets `rel` itself (allowed above with exactly one value).
        .link_rel(None)
        .strip_comments(true);
    builder
});

/// Common names people put on fences that the default syntax set knows under another token.
fn syntax_token(lang: &str) -> &str {
    match lang {
        "shell" | "console" | "shellscript" | "zsh" | "sh" => "bash",
        "ts" | "typescript" | "tsx" | "jsx" | "mjs" | "cjs" | "node" => "js",
        "c++" | "hpp" | "cxx" => "cpp",
        "c#" | "csharp" => "cs",
        "golang" => "go",
        "py3" | "python3" => "py",
        "objc" | "objective-c" => "m",
        "yml" => "yaml",
        "rs" => "rust",
        "jsonc" | "json5" => "json",
        "dockerfile" | "docker" => "bash",
        other => other,
    }
}

/// `code` as HTML with `hl-` classed spans, or `None` when the language is unknown or a line
/// is too long to highlight quickly.
fn highlight_code(lang: &str, code: &str) -> Option<String> {
    if code
        .split('\n')
        .any(|line| line.len() > MAX_HIGHLIGHT_LINE_BYTES)
    {
        return None;
    }
    let syntaxes = &*SYNTAXES;
    let syntax = syntaxes.find_syntax_by_token(syntax_token(lang))?;
    if syntax.name == "Plain Text" {
        return None;
    }
    // syntect has had panics on unusual grammar/input combinations; a message must still
    // render, so fall back to plain code instead.
    catch_unwind(AssertUnwindSafe(|| {
        let mut generator = ClassedHTMLGenerator::new_with_class_style(
            syntax,
            syntaxes,
            ClassStyle::SpacedPrefixed { prefix: "hl-" },
        );
        for line in LinesWithEndings::from(code) {
            generator
                .parse_html_for_line_which_includes_newline(line)
                .ok()?;
        }
        Some(generator.finalize())
    }))
    .ok()
    .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MD: RenderOptions = RenderOptions {
        markdown: true,
        highlight: false,
    };
    const MD_HL: RenderOptions = RenderOptions {
        markdown: true,
        highlight: true,
    };
    const PLAIN: RenderOptions = RenderOptions {
        markdown: false,
        highlight: false,
    };

    fn md(text: &str) -> String {
        render_message(text, MD)
    }

    /// Every `href` value in `html` (as serialized, entities not decoded).
    /// Text nodes never contain a raw `<`, so every `<a ` starts a real element.
    fn hrefs(html: &str) -> Vec<String> {
        html.split("<a ")
            .skip(1)
            .filter_map(|rest| {
                let tag = rest.split('>').next().unwrap_or("");
                let value = tag.split("href=\"").nth(1)?;
                Some(value.split('"').next().unwrap_or("").to_string())
            })
            .collect()
    }

    fn assert_no_dangerous_href(html: &str) {
        for href in hrefs(html) {
            let lower = href.to_ascii_lowercase();
            for scheme in ["javascript", "data", "vbscript"] {
                assert!(
                    !lower.contains(&format!("{scheme}:")),
                    "dangerous href {href:?} in {html}"
                );
            }
        }
    }

    fn decode_attr(value: &str) -> String {
        value
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&amp;", "&")
    }

    #[test]
    fn raw_script_tag_is_shown_as_text() {
        let html = md("hello <script>alert(1)</script> world");
        assert!(!html.contains("<script"), "{html}");
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{html}"
        );

        let block = md("<script>\nalert(1)\n</script>\n\nafter");
        assert!(!block.contains("<script"), "{block}");
        assert!(block.contains("&lt;script&gt;"), "{block}");
        assert!(block.contains("alert(1)"), "{block}");
        assert!(block.contains("<p>after</p>"), "{block}");
    }

    #[test]
    fn raw_img_onerror_is_shown_as_text() {
        let html = md(r#"look <img src=x onerror="alert(1)"> here"#);
        assert!(!html.contains("<img"), "{html}");
        assert!(html.contains("&lt;img src=x onerror="), "{html}");

        let block = md("<div onclick=\"alert(1)\">\n<img src=x onerror=alert(1)>\n</div>");
        assert!(!block.contains("<img"), "{block}");
        assert!(!block.contains("<div onclick"), "{block}");
        assert!(
            block.contains("&lt;img src=x onerror=alert(1)&gt;"),
            "{block}"
        );
    }

    #[test]
    fn javascript_link_is_dropped() {
        let html = md("[x](javascript:alert(1))");
        assert_no_dangerous_href(&html);
        assert!(!html.contains("<a"), "{html}");
        assert!(html.contains('x'), "link text is kept: {html}");
    }

    #[test]
    fn mixed_case_javascript_link_is_dropped() {
        let html = md("[x](JaVaScRiPt:alert(1))");
        assert_no_dangerous_href(&html);
        assert!(!html.contains("<a"), "{html}");
    }

    #[test]
    fn javascript_link_with_leading_space_is_dropped() {
        let html = md("[x]( javascript:alert(1))");
        assert_no_dangerous_href(&html);
        assert!(!html.contains("<a"), "{html}");
        let html = md("[x](<\tjava\tscript:alert(1)>)");
        assert_no_dangerous_href(&html);
        assert!(!html.contains("<a"), "{html}");
    }

    #[test]
    fn entity_encoded_javascript_link_is_dropped() {
        for input in [
            "[x](&#106;avascript:alert(1))",
            "[x](&#x6A;avascript:alert(1))",
            "[x](javascript&colon;alert(1))",
            "[x](java&#09;script:alert(1))",
        ] {
            let html = md(input);
            assert_no_dangerous_href(&html);
            assert!(!html.contains("<a"), "{input} → {html}");
        }
    }

    #[test]
    fn data_and_vbscript_links_are_dropped() {
        for input in [
            "[x](data:text/html,<script>alert(1)</script>)",
            "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
            "[x](vbscript:msgbox(1))",
            "[x](VBScript:msgbox(1))",
            "<javascript:alert(1)>",
            "[x][r]\n\n[r]: javascript:alert(1)",
            "![img](javascript:alert(1))",
            "![img](data:image/svg+xml,<svg onload=alert(1)>)",
        ] {
            let html = md(input);
            assert_no_dangerous_href(&html);
            assert!(!html.contains("<a"), "{input} → {html}");
            assert!(!html.contains("<img"), "{input} → {html}");
        }
    }

    #[test]
    fn http_link_gets_rel_and_target() {
        let html = md("see [docs](https://example.com/a?b=1&c=2)");
        assert!(
            html.contains("href=\"https://example.com/a?b=1&amp;c=2\""),
            "{html}"
        );
        assert!(
            html.contains("rel=\"noopener noreferrer nofollow\""),
            "{html}"
        );
        assert!(html.contains("target=\"_blank\""), "{html}");
        assert!(html.contains(">docs</a>"), "{html}");

        let auto = md("<http://example.com>");
        assert!(auto.contains("href=\"http://example.com\""), "{auto}");
        assert!(
            auto.contains("rel=\"noopener noreferrer nofollow\""),
            "{auto}"
        );
        assert!(auto.contains("target=\"_blank\""), "{auto}");
    }

    #[test]
    fn relative_fragment_and_mailto_links_get_rel_but_no_target() {
        for (input, href) in [
            ("[a](/c/123)", "/c/123"),
            ("[a](#section)", "#section"),
            ("[a](mailto:me@example.com)", "mailto:me@example.com"),
            ("<me@example.com>", "mailto:me@example.com"),
        ] {
            let html = md(input);
            assert_eq!(hrefs(&html), vec![href.to_string()], "{input} → {html}");
            assert!(
                html.contains("rel=\"noopener noreferrer nofollow\""),
                "{html}"
            );
            assert!(!html.contains("target="), "{input} → {html}");
        }
    }

    #[test]
    fn image_renders_as_link_not_img() {
        let html = md("![a cat](https://example.com/cat.png)");
        assert!(!html.contains("<img"), "{html}");
        assert!(
            html.contains("href=\"https://example.com/cat.png\""),
            "{html}"
        );
        assert!(html.contains(">a cat</a>"), "{html}");
        assert!(
            html.contains("rel=\"noopener noreferrer nofollow\""),
            "{html}"
        );

        let no_alt = md("![](https://example.com/cat.png)");
        assert!(
            no_alt.contains(">https://example.com/cat.png</a>"),
            "{no_alt}"
        );

        let in_link = md("[![logo](https://example.com/l.png)](https://example.com)");
        assert_eq!(in_link.matches("<a ").count(), 1, "{in_link}");
        assert!(
            in_link.contains("href=\"https://example.com\""),
            "{in_link}"
        );
    }

    #[test]
    fn code_block_has_language_label_and_copy_button() {
        let code = "fn main() {\n    println!(\"<hi> & 'bye'\");\n}";
        let html = md(&format!("```rust\n{code}\n```"));
        assert!(html.starts_with("<div class=\"code-block\"><div class=\"code-head\"><span class=\"code-lang\">rust</span><button"), "{html}");
        assert!(html.contains("type=\"button\""), "{html}");
        assert!(html.contains("class=\"copy-btn\""), "{html}");
        assert!(html.contains("aria-label=\"Copy code\""), "{html}");
        assert!(
            html.contains(">Copy</button></div><pre tabindex=\"0\"><code class=\"language-rust\">"),
            "{html}"
        );
        assert!(html.ends_with("</code></pre></div>"), "{html}");

        let data = html
            .split("data-code=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("data-code attribute");
        assert_eq!(decode_attr(data), code);
        assert!(
            html.contains("&lt;hi&gt; &amp;"),
            "code body is escaped: {html}"
        );
    }

    #[test]
    fn code_block_without_language_is_labelled_text() {
        let html = md("```\nplain\n```");
        assert!(
            html.contains("<span class=\"code-lang\">text</span>"),
            "{html}"
        );
        assert!(
            html.contains("<code class=\"language-text\">plain\n</code>"),
            "{html}"
        );

        let indented = md("para\n\n    indented code\n");
        assert!(
            indented.contains("<span class=\"code-lang\">text</span>"),
            "{indented}"
        );
    }

    #[test]
    fn fence_info_is_reduced_to_a_safe_language_token() {
        let html = md("```Rust,ignore\nfn a() {}\n```");
        assert!(
            html.contains("<span class=\"code-lang\">rust</span>"),
            "{html}"
        );
        let html = md("```\"><script>alert(1)</script>\nx\n```");
        assert!(!html.contains("<script"), "{html}");
        assert!(
            html.contains("<span class=\"code-lang\">text</span>"),
            "{html}"
        );
    }

    #[test]
    fn highlighting_on_emits_hl_spans() {
        let html = render_message("```rust\nfn main() { let x = 1; }\n```", MD_HL);
        assert!(html.contains("<span class=\"hl-"), "{html}");
        assert!(html.contains("hl-keyword"), "{html}");
        assert!(html.contains("<code class=\"language-rust\">"), "{html}");

        let aliased = render_message("```ts\nconst a = 'x';\n```", MD_HL);
        assert!(aliased.contains("hl-string"), "{aliased}");
        assert!(
            aliased.contains("<span class=\"code-lang\">ts</span>"),
            "{aliased}"
        );
    }

    #[test]
    fn highlighting_off_emits_no_hl_spans() {
        let html = render_message("```rust\nfn main() { let x = 1; }\n```", MD);
        assert!(!html.contains("hl-"), "{html}");
        assert!(html.contains("fn main() { let x = 1; }"), "{html}");
    }

    #[test]
    fn unknown_language_is_plain_escaped_code() {
        let html = render_message("```nosuchlang\nif a < b { }\n```", MD_HL);
        assert!(!html.contains("hl-"), "{html}");
        assert!(
            html.contains("<span class=\"code-lang\">nosuchlang</span>"),
            "{html}"
        );
        assert!(html.contains("if a &lt; b { }"), "{html}");
    }

    #[test]
    fn markdown_off_escapes_everything() {
        let html = render_message("**x** <b>y</b> & \"z\"\nline 2", PLAIN);
        assert_eq!(
            html,
            "<p class=\"plain\">**x** &lt;b&gt;y&lt;/b&gt; &amp; &quot;z&quot;\nline 2</p>"
        );
        assert!(!html.contains("<strong>"));
        let html = render_message("**x**", PLAIN);
        assert!(!html.contains("<strong>"), "{html}");
    }

    #[test]
    fn inline_formatting_renders() {
        let html = md("**bold** *em* ~~gone~~ `co<de>`");
        assert!(html.contains("<strong>bold</strong>"), "{html}");
        assert!(html.contains("<em>em</em>"), "{html}");
        assert!(html.contains("<del>gone</del>"), "{html}");
        assert!(html.contains("<code>co&lt;de&gt;</code>"), "{html}");
    }

    #[test]
    fn tables_render_with_alignment() {
        let html = md("| a | b |\n|:--|--:|\n| 1 | 2 |\n");
        assert!(html.contains("<table>"), "{html}");
        assert!(html.contains("<thead>"), "{html}");
        assert!(
            html.contains("<th style=\"text-align: left\">a</th>"),
            "{html}"
        );
        assert!(
            html.contains("<td style=\"text-align: right\">2</td>"),
            "{html}"
        );
    }

    #[test]
    fn task_lists_render_as_disabled_checkboxes() {
        let html = md("- [x] done\n- [ ] todo\n");
        assert!(html.contains("<ul>"), "{html}");
        assert_eq!(html.matches("<input").count(), 2, "{html}");
        assert_eq!(html.matches("type=\"checkbox\"").count(), 2, "{html}");
        assert_eq!(html.matches("disabled").count(), 2, "{html}");
        assert_eq!(html.matches("checked").count(), 1, "{html}");
    }

    #[test]
    fn lists_quotes_headings_and_rules_render() {
        let html = md("# Title\n\n> quoted\n\n3. three\n4. four\n\n---\n\nline  \nbreak");
        assert!(html.contains("<h1>Title</h1>"), "{html}");
        assert!(html.contains("<blockquote>"), "{html}");
        assert!(html.contains("<ol start=\"3\">"), "{html}");
        assert!(html.contains("<hr>"), "{html}");
        assert!(html.contains("<br>"), "{html}");
    }

    #[test]
    fn odd_inputs_never_panic() {
        let long_line = "x".repeat(200_000);
        let long_code = format!("```rust\n{}\n```", "let a = \"".repeat(20_000));
        let inputs: Vec<String> = vec![
            String::new(),
            "\0".into(),
            "a\0b\0```\0\n\0".into(),
            "```".into(),
            "```rust\nfn main() {".into(),
            "~~~\n```\n".into(),
            "````\n```\n".into(),
            ">".repeat(50_000),
            "> ".repeat(20_000) + "x",
            "- ".repeat(10_000) + "x",
            "*".repeat(50_000),
            "[".repeat(20_000) + &"]".repeat(20_000),
            "[](".repeat(10_000),
            "![".repeat(10_000),
            "<".repeat(10_000),
            "|".repeat(10_000) + "\n" + &"|-".repeat(5_000),
            "| a |\n|---|\n".to_string() + &"| x |\n".repeat(5_000),
            "&#0;&#xFFFFFF;&#55296;&bogus;&".into(),
            "\u{feff}\u{202e}\u{0}\u{7f}\r\r\n\t".into(),
            "```\u{0}\nx\n```".into(),
            "[x](<>)".into(),
            "[x]()".into(),
            "[x](:)".into(),
            "[x](http:)".into(),
            "<a href=\"javascript:alert(1)\">x</a>".into(),
            "```\"'<>&\n\"'<>&\n```".into(),
            long_line.clone(),
            format!("`{long_line}`"),
            long_code,
            "- [x] \n- [ ]".into(),
            "\n\n\n\n".into(),
        ];
        for input in &inputs {
            for options in [MD, MD_HL, PLAIN] {
                let html = render_message(input, options);
                assert!(!html.contains("<script"), "{html}");
                assert_no_dangerous_href(&html);
            }
        }
    }

    #[test]
    fn highlighting_stops_when_the_message_budget_is_spent() {
        let line = "let x = 1;\n";
        let big = line.repeat(HIGHLIGHT_BUDGET_BYTES / line.len() + 1);
        let text = format!("```rust\n{line}```\n\n```rust\n{big}```\n\n```rust\n{line}```");
        let html = render_message(&text, MD_HL);
        let blocks: Vec<&str> = html.split("<div class=\"code-block\">").skip(1).collect();
        assert_eq!(blocks.len(), 3);
        assert!(blocks[0].contains("hl-"), "small block is highlighted");
        assert!(!blocks[1].contains("hl-"), "oversized block is plain");
        assert!(blocks[2].contains("hl-"), "later small block still fits");
    }

    #[test]
    fn cached_render_matches_fresh_render() {
        let text = "# cache\n\n```rust\nfn cached() {}\n```\n\n[a](https://example.com)";
        for options in [MD, MD_HL] {
            let first = render_message(text, options);
            let second = render_message(text, options);
            assert_eq!(first, second);
            assert_eq!(first, render_markdown(text, options.highlight));
        }
        assert_ne!(render_message(text, MD), render_message(text, MD_HL));
    }

    #[test]
    fn deep_nesting_is_flattened() {
        let html = md(&">".repeat(50_000));
        assert_eq!(
            html.matches("<blockquote>").count(),
            MAX_NESTING,
            "{}",
            html.len()
        );
        let html = md(&("- ".repeat(10_000) + "x"));
        assert!(html.matches("<ul>").count() <= MAX_NESTING);
        assert!(html.contains('x'));
        let html = md(&("> ".repeat(20) + "**deep** [link](https://example.com)"));
        assert_eq!(html.matches("<blockquote>").count(), 20, "{html}");
        assert!(html.contains("<strong>deep</strong>"), "{html}");
        assert!(
            html.contains("rel=\"noopener noreferrer nofollow\""),
            "{html}"
        );
        let html = md(&("> ".repeat(100) + "**deep** [link](https://example.com)"));
        assert!(html.contains("deep"), "{html}");
        assert!(
            html.contains("rel=\"noopener noreferrer nofollow\""),
            "{html}"
        );
    }

    /// Release-mode timing check: `cargo test --release -p server --lib markdown -- --ignored`.
    #[test]
    #[ignore]
    fn typical_reply_renders_fast() {
        let reply = "Here is how you can **read a file** in Rust, with error handling:\n\n\
            1. Open the file with `File::open`.\n\
            2. Wrap it in a `BufReader`.\n\
            3. Iterate over `lines()`.\n\n\
            ```rust\nuse std::fs::File;\nuse std::io::{self, BufRead, BufReader};\n\n\
            fn main() -> io::Result<()> {\n    let file = File::open(\"notes.txt\")?;\n    \
            for (n, line) in BufReader::new(file).lines().enumerate() {\n        \
            println!(\"{:>4}: {}\", n + 1, line?);\n    }\n    Ok(())\n}\n```\n\n\
            | Method | Buffered | Notes |\n|---|---|---|\n| `read_to_string` | no | whole file |\n\
            | `lines()` | yes | line by line |\n\n\
            > Tip: see [the docs](https://doc.rust-lang.org/std/io/trait.BufRead.html).\n\n\
            - [x] open\n- [ ] parse\n\nThat's it. Let me know if you want an async version \
            with *tokio* instead; it looks almost the same but uses `tokio::fs`.\n";
        let reply = reply.repeat(2);
        assert!(reply.len() > 1500, "{}", reply.len());
        // Warm up the lazily built syntax set and sanitizer.
        render_markdown(&reply, true);
        let runs = 100;
        let time = |f: &dyn Fn() -> String| {
            let start = std::time::Instant::now();
            for _ in 0..runs {
                std::hint::black_box(f());
            }
            start.elapsed() / runs
        };
        let plain = time(&|| render_markdown(std::hint::black_box(&reply), false));
        let highlighted = time(&|| render_markdown(std::hint::black_box(&reply), true));
        let cached = time(&|| render_message(std::hint::black_box(&reply), MD_HL));
        println!(
            "{} bytes: markdown {plain:?}, markdown + highlight {highlighted:?}, cached {cached:?}",
            reply.len()
        );
        assert!(plain < std::time::Duration::from_millis(1), "{plain:?}");
        assert!(cached < std::time::Duration::from_micros(100), "{cached:?}");
    }
}
