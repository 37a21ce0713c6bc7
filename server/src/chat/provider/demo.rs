//! The offline demo: no key, no network, zero cost. It streams a deterministic markdown reply
//! (a paragraph, a list, a fenced code block) word by word at a configurable pace, and reports
//! usage counted with the real tokenizer, so everything downstream behaves as with a real model.
//! Asked to "think", it first streams a short reasoning, as reasoning models do.

use std::time::Duration;

use futures::{future::BoxFuture, StreamExt};

use super::{
    ChatProvider, ProviderError, ProviderEvent, ProviderId, ProviderRequest, ProviderStream,
    Purpose, Role, Usage,
};
use crate::chat::tokenizer;

pub struct Demo {
    /// Pause before each word; zero in tests that only care about the result.
    pub word_delay: Duration,
}

impl ChatProvider for Demo {
    fn id(&self) -> ProviderId {
        ProviderId::Demo
    }

    fn open(
        &self,
        request: ProviderRequest,
    ) -> BoxFuture<'_, Result<ProviderStream, ProviderError>> {
        let delay = self.word_delay;
        Box::pin(async move {
            let last = request.turns.iter().rev().find(|t| t.role == Role::User);
            let prompt = last.map(|t| t.content.clone()).unwrap_or_default();
            let (reply, reasoning) = match request.purpose {
                Purpose::Reply if request.model == BRIEF_MODEL => {
                    (brief_reply_to(&prompt), String::new())
                }
                Purpose::Reply => (
                    reply_to(&prompt),
                    reasoning_for(&prompt).unwrap_or_default(),
                ),
                Purpose::Title => (title_for(&prompt), String::new()),
            };
            let reply = match last
                .filter(|_| request.purpose == Purpose::Reply)
                .and_then(acknowledge_attachments)
            {
                Some(received) => format!("{received}\n\n{reply}"),
                None => reply,
            };
            let reasoning_tokens = tokenizer::count(&reasoning);
            let usage = Usage {
                prompt_tokens: request.context_tokens,
                completion_tokens: tokenizer::count(&reply) + reasoning_tokens,
                reasoning_tokens,
                ..Usage::default()
            };
            let thoughts = split_keeping_spaces(&reasoning)
                .into_iter()
                .map(ProviderEvent::Reasoning);
            let words = split_keeping_spaces(&reply)
                .into_iter()
                .map(ProviderEvent::Delta);
            let deltas =
                futures::stream::iter(thoughts.chain(words)).then(move |piece| async move {
                    if !delay.is_zero() {
                        tokio::time::sleep(delay).await;
                    }
                    Ok(piece)
                });
            let tail = futures::stream::iter([
                Ok(ProviderEvent::Finished),
                Ok(ProviderEvent::Usage(usage)),
            ]);
            Ok(deltas.chain(tail).boxed())
        })
    }
}

/// The reply, a pure function of the prompt.
/// The second offline model: a short reply, so regenerating with another model shows a
/// different answer beside the first.
pub const BRIEF_MODEL: &str = "demo-brief";

/// The prompt as a reply quotes it: one line, at most 60 characters.
fn topic_of(prompt: &str) -> String {
    let topic: String = prompt.split_whitespace().collect::<Vec<_>>().join(" ");
    if topic.chars().count() > 60 {
        format!("{}…", topic.chars().take(60).collect::<String>())
    } else if topic.is_empty() {
        "your message".to_owned()
    } else {
        topic
    }
}

pub fn brief_reply_to(prompt: &str) -> String {
    format!(
        "The **brief offline demo** on \"{}\": same question, shorter answer. Replies to one \
question sit side by side; use ‹ › under a reply to compare them.",
        topic_of(prompt)
    )
}

pub fn reply_to(prompt: &str) -> String {
    let topic = topic_of(prompt);
    let words = prompt.split_whitespace().count();
    format!(
        "This is the **offline demo** answering \"{topic}\". It runs on this server with no network \
and no API key, so it costs nothing, but it streams, counts tokens and records usage exactly like \
a real model.\n\n\
Here is what you can try:\n\n\
- **Watch it stream:** each word arrives over the WebSocket as it is generated.\n\
- **Reload mid-reply:** the reply resumes where it was, with nothing lost or repeated.\n\
- **Press Stop:** the partial reply is kept, marked as stopped.\n\
- **Check the cost:** the token counter adds up every message, at $0.00 here.\n\n\
A small example, since every demo needs code:\n\n\
```rust\n\
fn count_words(text: &str) -> usize {{\n    text.split_whitespace().count()\n}}\n\n\
fn main() {{\n    // Your message had {words} words.\n    println!(\"{{}}\", count_words(\"hello offline demo\"));\n}}\n\
```\n\n\
To talk to a real model, set `OPENAI_API_KEY`, `ANTHROPIC_API_KEY` or `GEMINI_API_KEY` (or \
`OPENAI_BASE_URL` for a local server such as Ollama) and pick it in the model menu."
    )
}

/// A sentence that names each file of the turn and its kind, as a real model would show it
/// read them: an image's size in bytes, a document's length in words.
fn acknowledge_attachments(turn: &super::ChatTurn) -> Option<String> {
    if turn.attachments.is_empty() {
        return None;
    }
    let files: Vec<String> = turn
        .attachments
        .iter()
        .map(|a| match &a.body {
            super::AttachmentBody::Image { data, .. } => format!(
                "**{}** (image, {} bytes)",
                a.file_name,
                data.as_ref().map_or(0, |d| d.len())
            ),
            super::AttachmentBody::Text(text) => format!(
                "**{}** ({}, {} words)",
                a.file_name,
                a.kind.as_str(),
                text.split_whitespace().count()
            ),
        })
        .collect();
    Some(format!("I received {}.", files.join(", ")))
}

/// A title for the exchange in `prompt` (the question, a rule, the answer): the question's
/// first words, capitalised, as a title model would shorten it.
pub fn title_for(prompt: &str) -> String {
    let question = prompt.split("\n\n---\n\n").next().unwrap_or_default();
    let words: Vec<String> = question
        .split_whitespace()
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()))
        .filter(|w| !w.is_empty())
        .take(5)
        .map(|w| {
            let mut chars = w.chars();
            chars
                .next()
                .map(|first| first.to_uppercase().chain(chars).collect())
                .unwrap_or_default()
        })
        .collect();
    if words.is_empty() {
        "Demo Conversation".to_owned()
    } else {
        words.join(" ")
    }
}

/// A short reasoning when the prompt asks the demo to think, else none.
pub fn reasoning_for(prompt: &str) -> Option<String> {
    prompt.to_lowercase().contains("think").then(|| {
        let words = prompt.split_whitespace().count();
        format!(
            "The message asks me to think, so I reason first. It has {words} words. \
A helpful answer shows what the demo can do: a list of things to try and a short code \
example. I keep this reasoning apart from the answer, so it is shown but never sent back."
        )
    })
}

/// Words with the whitespace before them, so concatenating the pieces gives back the text.
fn split_keeping_spaces(text: &str) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut current = String::new();
    let mut in_word = false;
    for c in text.chars() {
        let is_space = c.is_whitespace();
        if !is_space && !in_word && current.chars().any(|c| !c.is_whitespace()) {
            pieces.push(std::mem::take(&mut current));
        }
        in_word = !is_space;
        current.push(c);
    }
    if !current.is_empty() {
        pieces.push(current);
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pieces_concatenate_to_the_reply() {
        let reply = reply_to("How do I  sort a list?\nIn Rust.");
        let pieces = split_keeping_spaces(&reply);
        assert!(pieces.len() > 50);
        assert_eq!(pieces.concat(), reply);
    }

    #[test]
    fn a_title_is_the_questions_first_words_capitalised() {
        assert_eq!(
            title_for("how do I sort a list, quickly?\n\n---\n\nUse sort()."),
            "How Do I Sort A"
        );
        assert_eq!(title_for("?!"), "Demo Conversation");
    }

    #[test]
    fn only_a_prompt_that_asks_to_think_gets_a_reasoning() {
        assert!(reasoning_for("Think about lists").is_some());
        assert!(reasoning_for("hello").is_none());
    }

    #[test]
    fn the_reply_is_deterministic_and_has_a_list_and_code() {
        let a = reply_to("hello");
        assert_eq!(a, reply_to("hello"));
        assert!(a.contains("\n- **"));
        assert!(a.contains("```rust\n"));
    }
}
