//! Full-text search over the user's own messages, every branch, in the database's own index
//! (migration 12: FTS5 on SQLite, a `tsvector` with GIN on PostgreSQL), so it is right the
//! moment a message is written, edited or deleted, with no reindexing step.
//!
//! A query is cut into words the way both indexes cut text (runs of letters and digits,
//! folded to lower case); every word must match, the last one also as the start of a word
//! (so results follow typing). Hits come newest first, by pages. The snippet is plain text
//! cut around the first match, with the byte ranges of the matched words for the page to
//! mark: the server never sends search results as HTML.

use app::wire::{Page, Role, SearchHit};
use chrono::{DateTime, Utc};
use sea_orm::{DbBackend, FromQueryResult, Statement, Value};
use uuid::Uuid;

use super::{ChatError, ChatService};

/// The most characters of a query, and of words in it.
const MAX_QUERY_CHARS: usize = 200;
const MAX_QUERY_WORDS: usize = 12;
/// About how many characters a snippet holds, and how many come before the first match.
const SNIPPET_CHARS: usize = 160;
const SNIPPET_LEAD_CHARS: usize = 50;

/// The words of a search: lower-cased runs of letters and digits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Query {
    words: Vec<String>,
}

impl Query {
    pub fn parse(q: &str) -> Result<Self, ChatError> {
        if q.chars().count() > MAX_QUERY_CHARS {
            return Err(ChatError::invalid(
                "invalid_query",
                format!("A search can be at most {MAX_QUERY_CHARS} characters."),
            ));
        }
        let words: Vec<String> = words_of(q)
            .map(|(_, word)| word.to_lowercase())
            .take(MAX_QUERY_WORDS)
            .collect();
        if words.is_empty() {
            return Err(ChatError::invalid(
                "invalid_query",
                "Type at least one word (letters or digits) to search for.",
            ));
        }
        Ok(Self { words })
    }

    /// FTS5: each word a quoted string (they hold only letters and digits), the last also a
    /// prefix; side by side they must all match.
    fn fts5(&self) -> String {
        let last = self.words.len() - 1;
        self.words
            .iter()
            .enumerate()
            .map(|(i, w)| {
                if i == last {
                    format!("\"{w}\"*")
                } else {
                    format!("\"{w}\"")
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// PostgreSQL `to_tsquery('simple', ..)`: the words joined by `&`, the last a prefix.
    fn tsquery(&self) -> String {
        let last = self.words.len() - 1;
        self.words
            .iter()
            .enumerate()
            .map(|(i, w)| {
                if i == last {
                    format!("{w}:*")
                } else {
                    w.clone()
                }
            })
            .collect::<Vec<_>>()
            .join(" & ")
    }

    /// Whether a word of a text (already lower-cased) matches one of the query's.
    fn matches(&self, word: &str) -> bool {
        let last = self.words.len() - 1;
        self.words
            .iter()
            .enumerate()
            .any(|(i, w)| word == w || (i == last && word.starts_with(w.as_str())))
    }
}

/// The words of a text with their byte offsets: runs of letters and digits.
fn words_of(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut rest = text.char_indices().peekable();
    std::iter::from_fn(move || {
        while let Some(&(_, c)) = rest.peek() {
            if c.is_alphanumeric() {
                break;
            }
            rest.next();
        }
        let (start, _) = *rest.peek()?;
        let mut end = start;
        while let Some(&(i, c)) = rest.peek() {
            if !c.is_alphanumeric() {
                break;
            }
            end = i + c.len_utf8();
            rest.next();
        }
        Some((start, &text[start..end]))
    })
}

/// Plain text around the first match, whitespace folded to single spaces, `…` where cut,
/// and the byte ranges of every matching word in it.
pub fn snippet(content: &str, query: &Query) -> (String, Vec<[u32; 2]>) {
    let text: String = content.split_whitespace().collect::<Vec<_>>().join(" ");
    let first = words_of(&text)
        .find(|(_, w)| query.matches(&w.to_lowercase()))
        .map_or(0, |(at, _)| at);
    // Back up about SNIPPET_LEAD_CHARS characters, to the start of a word.
    let mut start = text[..first]
        .char_indices()
        .rev()
        .nth(SNIPPET_LEAD_CHARS.saturating_sub(1))
        .map_or(0, |(i, _)| i);
    if start > 0 {
        start = text[start..]
            .find(' ')
            .map_or(first, |space| (start + space + 1).min(first));
    }
    let mut end = text[start..]
        .char_indices()
        .nth(SNIPPET_CHARS)
        .map_or(text.len(), |(i, _)| start + i);
    if end < text.len() {
        end = text[..end].rfind(' ').filter(|&s| s > first).unwrap_or(end);
    }
    let mut out = String::with_capacity(end - start + 8);
    if start > 0 {
        out.push_str("… ");
    }
    out.push_str(&text[start..end]);
    if end < text.len() {
        out.push_str(" …");
    }
    let highlights = words_of(&out)
        .filter(|(_, w)| query.matches(&w.to_lowercase()))
        .map(|(at, w)| [at as u32, (at + w.len()) as u32])
        .collect();
    (out, highlights)
}

#[derive(FromQueryResult)]
struct HitRow {
    id: Uuid,
    conversation_id: Uuid,
    title: String,
    role: Role,
    content: String,
    created_at: DateTime<Utc>,
}

fn parse_cursor(cursor: &str) -> Result<(DateTime<Utc>, Uuid), ChatError> {
    let (micros, id) = cursor.split_once('_').ok_or(ChatError::BadCursor)?;
    let at = micros
        .parse::<i64>()
        .ok()
        .and_then(DateTime::from_timestamp_micros)
        .ok_or(ChatError::BadCursor)?;
    Ok((at, Uuid::parse_str(id).map_err(|_| ChatError::BadCursor)?))
}

impl ChatService {
    /// The user's messages matching every word of `q`, newest first, `limit` (1 to 50) a page.
    pub async fn search(
        &self,
        user_id: Uuid,
        q: &str,
        cursor: Option<&str>,
        limit: u64,
    ) -> Result<Page<SearchHit>, ChatError> {
        let query = Query::parse(q)?;
        let limit = limit.clamp(1, 50);
        let after = cursor.map(parse_cursor).transpose()?;
        let backend = self.db.get_database_backend();
        let postgres = backend == DbBackend::Postgres;
        let p = |n: usize| {
            if postgres {
                format!("${n}")
            } else {
                format!("?{n}")
            }
        };
        let (matching, from) = if postgres {
            ("m.search_vector @@ to_tsquery('simple', $1)", "messages m")
        } else {
            (
                "messages_fts MATCH ?1",
                "messages_fts JOIN messages m ON m.rowid = messages_fts.rowid",
            )
        };
        let text = if postgres {
            query.tsquery()
        } else {
            query.fts5()
        };
        let mut values: Vec<Value> = vec![text.into(), user_id.into()];
        let mut sql = format!(
            "SELECT m.id, m.conversation_id, c.title, m.role, m.content, m.created_at \
             FROM {from} JOIN conversations c ON c.id = m.conversation_id \
             WHERE {matching} AND m.user_id = {}",
            p(2)
        );
        if let Some((at, id)) = after {
            sql.push_str(&format!(
                " AND (m.created_at < {a} OR (m.created_at = {a} AND m.id < {i}))",
                a = p(3),
                i = p(4)
            ));
            values.push(at.into());
            values.push(id.into());
        }
        sql.push_str(&format!(
            " ORDER BY m.created_at DESC, m.id DESC LIMIT {}",
            p(values.len() + 1)
        ));
        values.push(((limit + 1) as i64).into());
        let mut rows =
            HitRow::find_by_statement(Statement::from_sql_and_values(backend, sql, values))
                .all(&self.db)
                .await?;
        let next_cursor = if rows.len() as u64 > limit {
            rows.truncate(limit as usize);
            rows.last()
                .map(|r| format!("{}_{}", r.created_at.timestamp_micros(), r.id))
        } else {
            None
        };
        let items = rows
            .into_iter()
            .map(|row| {
                let (snippet, highlights) = snippet(&row.content, &query);
                SearchHit {
                    conversation_id: row.conversation_id,
                    conversation_title: row.title,
                    message_id: row.id,
                    role: row.role,
                    snippet,
                    highlights,
                    created_at: row.created_at,
                }
            })
            .collect();
        Ok(Page { items, next_cursor })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marked(snippet: &str, highlights: &[[u32; 2]]) -> Vec<String> {
        highlights
            .iter()
            .map(|[a, b]| snippet[*a as usize..*b as usize].to_owned())
            .collect()
    }

    #[test]
    fn a_query_keeps_letters_and_digits_and_ends_with_a_prefix() {
        let q = Query::parse("  Rust's  \"borrow\" checker; v2 ").unwrap();
        assert_eq!(q.words, ["rust", "s", "borrow", "checker", "v2"]);
        assert_eq!(q.fts5(), r#""rust" "s" "borrow" "checker" "v2"*"#);
        assert_eq!(q.tsquery(), "rust & s & borrow & checker & v2:*");
        assert!(matches!(Query::parse(" -- "), Err(ChatError::Invalid(_))));
        assert!(matches!(
            Query::parse(&"a".repeat(201)),
            Err(ChatError::Invalid(_))
        ));
    }

    #[test]
    fn the_snippet_is_cut_around_the_first_match_and_marks_every_matching_word() {
        let q = Query::parse("ownership borr").unwrap();
        let before = "Some words that come first. ".repeat(10);
        let content = format!("{before}The Ownership\n\nrules and borrowing in   Rust. {before}");
        let (text, highlights) = snippet(&content, &q);
        assert!(text.starts_with("… "), "{text}");
        assert!(text.ends_with(" …"), "{text}");
        assert!(text.contains("The Ownership rules and borrowing in Rust."));
        assert_eq!(marked(&text, &highlights), ["Ownership", "borrowing"]);
        assert!(text.chars().count() <= SNIPPET_CHARS + 4);
    }

    #[test]
    fn a_short_text_is_whole_and_unicode_offsets_are_bytes() {
        let q = Query::parse("café").unwrap();
        let (text, highlights) = snippet("Un café, s'il vous plaît", &q);
        assert_eq!(text, "Un café, s'il vous plaît");
        assert_eq!(marked(&text, &highlights), ["café"]);
        // No visible match (another spelling matched in the index): the text's start.
        let (text, highlights) = snippet("Un cafe noir", &q);
        assert_eq!(text, "Un cafe noir");
        assert!(highlights.is_empty());
    }
}
