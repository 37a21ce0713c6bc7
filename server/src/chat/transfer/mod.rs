//! Export and import: a conversation or a whole history out as JSON (every branch, usage,
//! prices, attachment metadata) or Markdown (the branch shown), and in from our JSON or
//! ChatGPT's `conversations.json`.
//!
//! An import file is read twice, as a stream, one conversation at a time: first to check all
//! of it (a malformed file stores nothing) and the caps, then to write each new conversation
//! in its own transaction. Each conversation has a stable source id (`rustchat:ID`,
//! `chatgpt:ID`); one already imported, or the user's own exported conversation, is skipped,
//! so importing a file twice adds nothing.

mod chatgpt;
pub mod export;
pub mod import;
mod read;

use app::wire::Role;
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// Where an imported conversation came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    Rustchat,
    ChatGpt,
}

impl Origin {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Rustchat => "rustchat",
            Self::ChatGpt => "chatgpt",
        }
    }
}

/// One conversation read from an import file, in our terms.
#[derive(Clone, Debug, PartialEq)]
pub struct Incoming {
    pub origin: Origin,
    /// Stable across exports of the same conversation: `rustchat:ID`, `chatgpt:ID`.
    pub source_id: String,
    /// Ours: the id it had where it was exported (the same account may still hold it).
    pub original_id: Option<Uuid>,
    pub title: String,
    pub provider: Option<String>,
    pub model: Option<String>,
    pub temperature: Option<f64>,
    pub max_tokens: Option<i32>,
    pub system_prompt: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub pinned: bool,
    pub archived: bool,
    /// Parents before children.
    pub messages: Vec<IncomingMessage>,
    /// The message the branch shown ends at (an index into `messages`).
    pub current: Option<usize>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct IncomingMessage {
    /// An index into the conversation's messages, always of an earlier one.
    pub parent: Option<usize>,
    pub role: Role,
    pub content: String,
    pub reasoning: Option<String>,
    pub provider: Option<String>,
    pub model: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl Incoming {
    /// The text it stores, as the storage caps count it.
    pub fn bytes(&self) -> i64 {
        self.messages
            .iter()
            .map(|m| (m.content.len() + m.reasoning.as_ref().map_or(0, String::len)) as i64)
            .sum()
    }
}

/// The most characters of an imported title; longer ones are cut.
const MAX_TITLE_CHARS: usize = 200;

fn title_of(title: Option<&str>) -> String {
    let title = title.map(str::trim).filter(|t| !t.is_empty());
    match title {
        Some(t) if t.chars().count() > MAX_TITLE_CHARS => {
            let mut cut: String = t.chars().take(MAX_TITLE_CHARS - 1).collect();
            cut.push('…');
            cut
        }
        Some(t) => t.to_owned(),
        None => "Imported chat".to_owned(),
    }
}
