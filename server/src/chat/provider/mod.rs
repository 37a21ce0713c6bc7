//! AI providers behind one trait. A provider opens a stream of [`ProviderEvent`]s for a
//! request with one upstream request; its errors say whether another attempt may succeed and
//! how long the provider asked us to wait. Whether to retry — only before the first token, by
//! the one policy in [`retry`] — and everything after the opening (idle timeouts, cut
//! connections, stop) is the orchestrator's job (`chat::generation`).

pub mod anthropic;
pub mod demo;
pub mod gemini;
pub mod http;
pub mod openai;
pub mod retry;

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use app::wire::AttachmentKind;
pub use app::wire::{ProviderId, Role};
use bytes::Bytes;
use futures::{future::BoxFuture, stream::BoxStream};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChatTurn {
    pub role: Role,
    pub content: String,
    /// The files sent with it, in order.
    pub attachments: Vec<TurnAttachment>,
}

impl ChatTurn {
    pub fn new(role: Role, content: impl Into<String>) -> Self {
        Self {
            role,
            content: content.into(),
            attachments: Vec::new(),
        }
    }

    /// Nothing to send: no text and no file.
    pub fn is_blank(&self) -> bool {
        self.content.trim().is_empty() && self.attachments.is_empty()
    }

    /// The text of the turn with each document's text after it, in a block that names the
    /// file: how every provider receives documents.
    pub fn text_with_documents(&self) -> String {
        let mut text = self.content.clone();
        for attachment in &self.attachments {
            if let AttachmentBody::Text(body) = &attachment.body {
                if !text.is_empty() {
                    text.push_str("\n\n");
                }
                text.push_str(&document_block(&attachment.file_name, body));
            }
        }
        text
    }

    /// The images of the turn whose bytes are loaded: (content type, bytes).
    pub fn images(&self) -> impl Iterator<Item = (&str, &Bytes)> {
        self.attachments.iter().filter_map(|a| match &a.body {
            AttachmentBody::Image {
                data: Some(data), ..
            } => Some((a.content_type.as_str(), data)),
            _ => None,
        })
    }

    /// Our estimate of what its files cost in tokens.
    pub fn attachment_tokens(&self) -> i64 {
        self.attachments.iter().map(|a| a.tokens).sum()
    }
}

/// A document's text as the model receives it: delimited, with the file's name.
pub fn document_block(file_name: &str, text: &str) -> String {
    let name = file_name.replace('"', "'");
    format!("<document name=\"{name}\">\n{text}\n</document>")
}

/// A file sent with a turn.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TurnAttachment {
    pub file_name: String,
    pub kind: AttachmentKind,
    pub content_type: String,
    /// Our estimate of the input tokens it costs the conversation's provider.
    pub tokens: i64,
    pub body: AttachmentBody,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AttachmentBody {
    /// A document's text (or, when it has none, a sentence that says so).
    Text(String),
    /// An image: named by its content hash until its bytes are loaded for the request (only
    /// for the turns that made it into the context).
    Image { sha256: String, data: Option<Bytes> },
}

/// What is sent to a provider: the conversation's system prompt and the trimmed history,
/// oldest first, starting with a user turn and never with two turns of one role in a row.
#[derive(Clone, Debug)]
pub struct ProviderRequest {
    pub model: String,
    pub system: Option<String>,
    pub turns: Vec<ChatTurn>,
    pub temperature: f64,
    pub max_tokens: u32,
    /// Our tokenizer's count of the context; the demo provider reports it as its usage.
    pub context_tokens: i64,
    /// Extended thinking, when the conversation turned it on: the most tokens the model may
    /// think for (Anthropic `thinking.budget_tokens`, Gemini `thinkingBudget`).
    pub thinking_budget: Option<u32>,
    pub purpose: Purpose,
}

/// What a request is for: the demo, which has no model, answers each in its own way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// A reply in the conversation.
    Reply,
    /// A conversation's title (`chat::titles`).
    Title,
}

/// Token counts with one meaning for every provider (ARCHITECTURE.md, "Accounting"):
/// `prompt_tokens` includes cached and cache-written input, `completion_tokens` includes
/// reasoning. Each provider maps its own format onto this, explicitly.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub cached_tokens: i64,
    /// Input written to the provider's cache (Anthropic), billed at 1.25× the input price.
    pub cache_write_tokens: i64,
    pub reasoning_tokens: i64,
}

impl Usage {
    pub fn total_tokens(&self) -> i64 {
        self.prompt_tokens + self.completion_tokens
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum ProviderEvent {
    /// A piece of the reply's text.
    Delta(String),
    /// A piece of what the model thought before answering: shown apart from the reply and
    /// never sent back as context.
    Reasoning(String),
    /// Usage as reported so far; a later report replaces an earlier one.
    Usage(Usage),
    /// The provider said the reply is complete. A stream that ends without it was cut.
    Finished,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The key was refused (401/403).
    Auth,
    /// 429 after the retries.
    RateLimited,
    /// 5xx after the retries.
    Upstream,
    /// The request itself was refused (other 4xx).
    Rejected,
    Connect,
    Timeout,
    /// The stream held something that is not the provider's format.
    Malformed,
    /// The connection ended before the provider said the reply was complete.
    Cut,
}

/// A failure with a sentence a person can act on; it always names the provider. The sentence
/// is ours alone: whatever the upstream said (its error text may hold a masked key or the
/// address of an internal server) goes to `detail`, which only the server log sees.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct ProviderError {
    pub kind: ErrorKind,
    /// Shown to the person and stored on the message.
    pub message: String,
    /// The upstream's own words (its error body, the network error), for the log only.
    pub detail: Option<String>,
    /// How long the provider asked us to wait before another attempt (`Retry-After`).
    pub retry_after: Option<Duration>,
}

impl ProviderError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            detail: None,
            retry_after: None,
        }
    }

    pub fn with_detail(mut self, detail: impl std::fmt::Display) -> Self {
        self.detail = Some(detail.to_string());
        self
    }

    /// The upstream's words as the log may hold them: anything that looks like a key masked.
    pub fn logged_detail(&self) -> String {
        self.detail.as_deref().map(mask_keys).unwrap_or_default()
    }
}

/// Masks what looks like an API key or token in a provider's text: a word of 16 or more
/// characters of the kinds keys are made of that mixes letters and digits (OpenAI's masked
/// `sk-proj-ab**********yz` included) keeps its first four characters.
pub fn mask_keys(text: &str) -> String {
    let is_key_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '*' | '.');
    let mut masked = String::with_capacity(text.len());
    let mut word = String::new();
    let flush = |word: &mut String, masked: &mut String| {
        let looks_like_key = word.chars().count() >= 16
            && word.chars().any(|c| c.is_ascii_digit())
            && word.chars().any(|c| c.is_ascii_alphabetic());
        if looks_like_key {
            masked.extend(word.chars().take(4));
            masked.push_str("[masked]");
        } else {
            masked.push_str(word);
        }
        word.clear();
    };
    for c in text.chars() {
        if is_key_char(c) {
            word.push(c);
        } else {
            flush(&mut word, &mut masked);
            masked.push(c);
        }
    }
    flush(&mut word, &mut masked);
    masked
}

pub type ProviderStream = BoxStream<'static, Result<ProviderEvent, ProviderError>>;

pub trait ChatProvider: Send + Sync {
    /// Which provider this is; one registry, [`ProviderId`], names them all.
    fn id(&self) -> ProviderId;
    /// Sends the request, once, and returns the reply's stream once the provider has
    /// accepted it. Never retries: the orchestrator does, by [`retry::Attempts`].
    fn open(
        &self,
        request: ProviderRequest,
    ) -> BoxFuture<'_, Result<ProviderStream, ProviderError>>;
}

/// Timeouts and retries shared by the network providers.
#[derive(Clone, Debug)]
pub struct NetworkSettings {
    pub connect_timeout: Duration,
    /// From sending the request to the response headers.
    pub first_byte_timeout: Duration,
    /// Between two events of a stream.
    pub idle_timeout: Duration,
    /// Extra attempts after the first, for a 429, a 5xx, a refused connection or a timeout
    /// before the first token; the same for every provider.
    pub max_retries: u32,
    /// The wait before the first retry; it doubles for each next one, with jitter.
    pub retry_base_delay: Duration,
}

impl Default for NetworkSettings {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            first_byte_timeout: Duration::from_secs(120),
            idle_timeout: Duration::from_secs(120),
            max_retries: 3,
            retry_base_delay: Duration::from_millis(500),
        }
    }
}

/// The providers this server can use: those with a key, and always the offline demo.
#[derive(Clone)]
pub struct Providers {
    by_id: BTreeMap<ProviderId, Arc<dyn ChatProvider>>,
    pub network: NetworkSettings,
}

impl Providers {
    pub fn new(providers: Vec<Arc<dyn ChatProvider>>, network: NetworkSettings) -> Self {
        Self {
            by_id: providers.into_iter().map(|p| (p.id(), p)).collect(),
            network,
        }
    }

    pub fn get(&self, id: ProviderId) -> Option<Arc<dyn ChatProvider>> {
        self.by_id.get(&id).cloned()
    }

    pub fn is_configured(&self, id: ProviderId) -> bool {
        self.by_id.contains_key(&id)
    }
}

#[cfg(test)]
mod tests {
    use super::mask_keys;

    #[test]
    fn keys_are_masked_and_words_are_not() {
        let said = "Incorrect API key provided: sk-proj-AbC1**********************xY9z. \
                    You can find your API key at https://platform.openai.com/account/api-keys.";
        let masked = mask_keys(said);
        assert!(!masked.contains("AbC1"), "{masked}");
        assert!(masked.contains("sk-p[masked]"), "{masked}");
        assert!(masked.contains("Incorrect API key provided"), "{masked}");
        let key = mask_keys("key=AIzaSyD3adb33fd3adb33fd3adb33f, model gpt-4o-mini");
        assert_eq!(key, "key=AIza[masked], model gpt-4o-mini");
    }
}
