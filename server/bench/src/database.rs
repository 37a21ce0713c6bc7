//! Direct access to the server's SQLite file, for what the API cannot show or would make too
//! slow: counting row writes per reply with triggers, and filling a conversation with a
//! thousand messages for the render measurement.

use std::{collections::BTreeMap, path::Path};

use crate::sample_text;
use chrono::{DateTime, Duration as ChronoDuration, Utc};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement,
};

pub struct Sqlite {
    db: DatabaseConnection,
}

/// Row writes by `table op` (e.g. `messages update`).
pub type WriteCounts = BTreeMap<String, i64>;

const OPS: [&str; 3] = ["INSERT", "UPDATE", "DELETE"];

impl Sqlite {
    pub async fn open(path: &Path) -> Result<Self, String> {
        // One connection, so BEGIN and COMMIT run on the same one as the statements between.
        let mut options = ConnectOptions::new(format!("sqlite://{}?mode=rw", path.display()));
        options
            .max_connections(1)
            .min_connections(1)
            .sqlx_logging(false);
        let db = Database::connect(options)
            .await
            .map_err(|e| e.to_string())?;
        let sqlite = Self { db };
        // The server holds the same file; wait for its locks instead of failing.
        sqlite.exec("PRAGMA busy_timeout = 30000").await?;
        Ok(sqlite)
    }

    async fn exec(&self, sql: &str) -> Result<(), String> {
        self.db
            .execute_unprepared(sql)
            .await
            .map(|_| ())
            .map_err(|e| format!("{e}: {sql}"))
    }

    async fn rows(&self, sql: &str) -> Result<Vec<sea_orm::QueryResult>, String> {
        self.db
            .query_all_raw(Statement::from_string(DbBackend::Sqlite, sql.to_owned()))
            .await
            .map_err(|e| format!("{e}: {sql}"))
    }

    async fn user_tables(&self) -> Result<Vec<String>, String> {
        let rows = self
            .rows(
                // Not the search index: a virtual table (FTS5) takes no triggers, and its
                // shadow tables are written by the index itself, like any index.
                "SELECT name FROM sqlite_master m WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
                 AND name NOT IN ('seaql_migrations', 'bench_writes') \
                 AND NOT EXISTS (SELECT 1 FROM sqlite_master v WHERE v.sql LIKE 'CREATE VIRTUAL TABLE%' \
                 AND (m.name = v.name OR substr(m.name, 1, length(v.name) + 1) = v.name || '_')) \
                 ORDER BY name",
            )
            .await?;
        rows.iter()
            .map(|r| r.try_get::<String>("", "name").map_err(|e| e.to_string()))
            .collect()
    }

    /// Adds a counter table and AFTER INSERT/UPDATE/DELETE triggers on every table of the app.
    pub async fn install_write_counters(&self) -> Result<(), String> {
        self.exec(
            "CREATE TABLE IF NOT EXISTS bench_writes (tbl TEXT NOT NULL, op TEXT NOT NULL, \
             n INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (tbl, op))",
        )
        .await?;
        for table in self.user_tables().await? {
            for op in OPS {
                let lower = op.to_lowercase();
                self.exec(&format!(
                    "INSERT OR IGNORE INTO bench_writes (tbl, op, n) VALUES ('{table}', '{lower}', 0)"
                ))
                .await?;
                self.exec(&format!(
                    "CREATE TRIGGER IF NOT EXISTS \"bench_{table}_{lower}\" AFTER {op} ON \"{table}\" \
                     BEGIN UPDATE bench_writes SET n = n + 1 WHERE tbl = '{table}' AND op = '{lower}'; END"
                ))
                .await?;
            }
        }
        Ok(())
    }

    pub async fn write_counts(&self) -> Result<WriteCounts, String> {
        let rows = self.rows("SELECT tbl, op, n FROM bench_writes").await?;
        let mut counts = WriteCounts::new();
        for row in rows {
            let table: String = row.try_get("", "tbl").map_err(|e| e.to_string())?;
            let op: String = row.try_get("", "op").map_err(|e| e.to_string())?;
            let n: i64 = row.try_get("", "n").map_err(|e| e.to_string())?;
            counts.insert(format!("{table} {op}"), n);
        }
        Ok(counts)
    }

    /// How many bytes of text the newest reply still streaming has in the database: what a
    /// crash at this moment would keep.
    pub async fn streaming_text_bytes(&self) -> Result<Option<i64>, String> {
        let rows = self
            .rows(
                "SELECT length(content) AS bytes FROM messages WHERE status = 'streaming' \
                 AND role = 'assistant' ORDER BY created_at DESC LIMIT 1",
            )
            .await?;
        rows.first()
            .map(|r| r.try_get::<i64>("", "bytes").map_err(|e| e.to_string()))
            .transpose()
    }

    pub async fn remove_write_counters(&self) -> Result<(), String> {
        for table in self.user_tables().await? {
            for op in OPS {
                self.exec(&format!(
                    "DROP TRIGGER IF EXISTS \"bench_{table}_{}\"",
                    op.to_lowercase()
                ))
                .await?;
            }
        }
        self.exec("DROP TABLE IF EXISTS bench_writes").await
    }

    /// Adds `count` messages to the conversation of the templates (real messages made through
    /// the API), alternating questions and answers, newer than the templates. Each row copies
    /// every column of its template (so it matches whatever the schema holds, including HTML
    /// the server rendered when the template finished) except id and times; questions get
    /// their own text, and answers have the template marker replaced by their own in their
    /// text and HTML. They are numbered (markers, times) from `from`: a second call goes on
    /// where the first stopped.
    pub async fn add_messages(
        &self,
        templates: &Templates,
        from: usize,
        count: usize,
    ) -> Result<(), String> {
        let columns: Vec<(String, String)> = self
            .rows("PRAGMA table_info(messages)")
            .await?
            .iter()
            .map(|r| {
                Ok((
                    r.try_get::<String>("", "name").map_err(|e| e.to_string())?,
                    r.try_get::<String>("", "type").map_err(|e| e.to_string())?,
                ))
            })
            .collect::<Result<_, String>>()?;
        let user = self.template(&templates.user).await?;
        let mut answers = Vec::new();
        for id in &templates.answers {
            answers.push(self.template(id).await?);
        }
        if answers.is_empty() {
            return Err("no answer templates".into());
        }
        let newest = std::iter::once(&user)
            .chain(answers.iter())
            .map(|t| t.created_at)
            .max()
            .unwrap_or_else(Utc::now);
        let start = newest + ChronoDuration::seconds(1);
        self.exec("BEGIN").await?;
        // One branch: each copy follows the one before it, the first follows the
        // conversation's current leaf, and the last becomes the leaf the page shows.
        let mut parent = "(SELECT c.current_leaf_id FROM conversations c \
                          WHERE c.id = messages.conversation_id)"
            .to_owned();
        for i in from..from + count {
            let template = if i % 2 == 0 {
                &user
            } else {
                &answers[sample_text::answer_kind(i) % answers.len()]
            };
            let marker = sample_text::marker(i);
            let id = uuid::Uuid::now_v7();
            let id_literal = if template.id_type == "blob" {
                format!("X'{}'", id.simple())
            } else {
                sql_text(&id.to_string())
            };
            let time = sql_text(
                &user
                    .style
                    .format(start + ChronoDuration::milliseconds(500 * i as i64)),
            );
            let values: Vec<String> = columns
                .iter()
                .map(|(column, kind)| match column.as_str() {
                    "id" => id_literal.clone(),
                    "parent_id" => parent.clone(),
                    "created_at" | "updated_at" => time.clone(),
                    "content" if i % 2 == 0 => sql_text(&sample_text::question(&marker)),
                    other if is_content(other, kind) && i % 2 == 1 => format!(
                        "replace(\"{other}\", {}, {})",
                        sql_text(sample_text::TEMPLATE_MARKER),
                        sql_text(&marker)
                    ),
                    other => format!("\"{other}\""),
                })
                .collect();
            let quoted: Vec<String> = columns.iter().map(|(c, _)| format!("\"{c}\"")).collect();
            let insert = format!(
                "INSERT INTO messages ({}) SELECT {} FROM messages WHERE hex(id) = '{}'",
                quoted.join(", "),
                values.join(", "),
                template.id_hex
            );
            if let Err(e) = self.exec(&insert).await {
                let _ = self.exec("ROLLBACK").await;
                return Err(e);
            }
            parent = id_literal;
        }
        let leaf = format!(
            "UPDATE conversations SET current_leaf_id = {parent} WHERE id = \
             (SELECT conversation_id FROM messages WHERE hex(id) = '{}')",
            user.id_hex
        );
        if let Err(e) = self.exec(&leaf).await {
            let _ = self.exec("ROLLBACK").await;
            return Err(e);
        }
        self.exec("COMMIT").await
    }

    async fn template(&self, id: &str) -> Result<TemplateRow, String> {
        let rows = self
            .rows(&format!(
                "SELECT typeof(id) AS id_type, hex(id) AS id_hex, created_at FROM messages \
                 WHERE id = {} OR hex(id) = upper(replace({}, '-', ''))",
                sql_text(id),
                sql_text(id)
            ))
            .await?;
        let row = rows
            .first()
            .ok_or_else(|| format!("message {id} is not in the database"))?;
        let created_at: String = row
            .try_get("", "created_at")
            .map_err(|e| format!("created_at is not text: {e}"))?;
        let style = TimestampStyle::of(&created_at)
            .ok_or_else(|| format!("unknown timestamp format `{created_at}`"))?;
        Ok(TemplateRow {
            id_type: row.try_get("", "id_type").map_err(|e| e.to_string())?,
            id_hex: row.try_get("", "id_hex").map_err(|e| e.to_string())?,
            created_at: style.parse(&created_at)?,
            style,
        })
    }
}

/// The real messages [`Sqlite::add_messages`] copies: a question, and one answer per kind of
/// [`sample_text::answer`], in kind order.
pub struct Templates {
    pub user: String,
    pub answers: Vec<String>,
}

struct TemplateRow {
    id_type: String,
    id_hex: String,
    created_at: DateTime<Utc>,
    style: TimestampStyle,
}

/// The columns that hold a message's text or its rendering (ids may be text too, and must not
/// be touched).
fn is_content(column: &str, sqlite_type: &str) -> bool {
    let upper = sqlite_type.to_uppercase();
    (column == "content" || column.contains("html"))
        && ["CHAR", "CLOB", "TEXT"].iter().any(|t| upper.contains(t))
}

fn sql_text(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// How the database writes times: with `T` or a space, with `Z`, an offset or nothing.
#[derive(Clone, Copy, Debug, PartialEq)]
struct TimestampStyle {
    t_separator: bool,
    suffix: Suffix,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Suffix {
    Z,
    Offset,
    None,
}

impl TimestampStyle {
    fn of(sample: &str) -> Option<Self> {
        let t_separator = sample.get(10..11)? == "T";
        let suffix = if sample.ends_with('Z') {
            Suffix::Z
        } else if sample.len() > 6
            && matches!(&sample[sample.len() - 6..sample.len() - 5], "+" | "-")
        {
            Suffix::Offset
        } else {
            Suffix::None
        };
        let style = Self {
            t_separator,
            suffix,
        };
        style.parse(sample).ok().map(|_| style)
    }

    fn pattern(&self) -> String {
        let separator = if self.t_separator { "T" } else { " " };
        let suffix = match self.suffix {
            Suffix::Z => "Z",
            Suffix::Offset => "%:z",
            Suffix::None => "",
        };
        format!("%Y-%m-%d{separator}%H:%M:%S%.f{suffix}")
    }

    fn parse(&self, text: &str) -> Result<DateTime<Utc>, String> {
        let pattern = self.pattern();
        let parsed = match self.suffix {
            Suffix::Offset => DateTime::parse_from_str(text, &pattern).map(|t| t.to_utc()),
            _ => chrono::NaiveDateTime::parse_from_str(text, &pattern).map(|t| t.and_utc()),
        };
        parsed.map_err(|e| format!("`{text}`: {e}"))
    }

    fn format(&self, time: DateTime<Utc>) -> String {
        let separator = if self.t_separator { "T" } else { " " };
        let suffix = match self.suffix {
            Suffix::Z => "Z",
            Suffix::Offset => "+00:00",
            Suffix::None => "",
        };
        format!(
            "{}{separator}{}{suffix}",
            time.format("%Y-%m-%d"),
            time.format("%H:%M:%S%.6f")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_written_back_in_the_style_they_were_found() {
        for sample in [
            "2026-11-21 09:00:00.123456+00:00",
            "2026-11-21T09:00:00.123456Z",
            "2026-11-21 09:00:00.5",
        ] {
            let style = TimestampStyle::of(sample).unwrap();
            let time = style.parse(sample).unwrap();
            let again = style.format(time);
            assert_eq!(style.parse(&again).unwrap(), time, "{sample} -> {again}");
            assert!(again.len() >= 21);
        }
        assert_eq!(TimestampStyle::of("yesterday"), None);
    }

    #[test]
    fn only_text_and_html_columns_get_their_marker_replaced() {
        assert!(is_content("content", "text") && is_content("content_html", "TEXT"));
        assert!(!is_content("conversation_id", "uuid_text"));
        assert!(!is_content("content", "blob"));
        assert_eq!(sql_text("it's"), "'it''s'");
    }
}
