//! ChatGPT's `conversations.json`: each conversation is a `mapping` of nodes (`id`, `parent`,
//! `children`, `message`) with `current_node` the end of the branch shown. Messages carry
//! `author.role`, `create_time` (seconds, fractional) and `content` (`parts` for text).
//! We keep the user's and the assistant's text messages with their times and branches; a
//! node without a message, a system or tool message, or one with no text (an image, a code
//! run) is left out, and its children follow the nearest message kept above it.

use std::collections::{HashMap, VecDeque};

use app::wire::Role;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

use super::{title_of, Incoming, IncomingMessage, Origin};

#[derive(Deserialize)]
pub struct Conversation {
    title: Option<String>,
    create_time: Option<f64>,
    update_time: Option<f64>,
    mapping: HashMap<String, Node>,
    current_node: Option<String>,
    conversation_id: Option<String>,
    id: Option<String>,
    #[serde(default)]
    is_archived: Option<bool>,
}

#[derive(Deserialize)]
struct Node {
    message: Option<Message>,
    parent: Option<String>,
    #[serde(default)]
    children: Vec<String>,
}

#[derive(Deserialize)]
struct Message {
    author: Author,
    create_time: Option<f64>,
    content: Option<Content>,
    #[serde(default)]
    metadata: Option<Value>,
}

#[derive(Deserialize)]
struct Author {
    role: String,
}

#[derive(Deserialize)]
struct Content {
    #[serde(default)]
    parts: Vec<Value>,
    /// Some content types (`code`, `tether_quote`) carry `text` instead of parts.
    #[serde(default)]
    text: Option<String>,
    content_type: Option<String>,
}

fn time(seconds: Option<f64>) -> Option<DateTime<Utc>> {
    let s = seconds.filter(|s| s.is_finite() && *s >= 0.0)?;
    DateTime::from_timestamp_micros((s * 1e6) as i64)
}

/// The text of a message the user would have seen, or `None` for one to leave out.
fn kept(message: &Message) -> Option<(Role, String)> {
    let role = match message.author.role.as_str() {
        "user" => Role::User,
        "assistant" => Role::Assistant,
        _ => return None,
    };
    let hidden = message
        .metadata
        .as_ref()
        .and_then(|m| m.get("is_visually_hidden_from_conversation"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if hidden {
        return None;
    }
    let content = message.content.as_ref()?;
    match content.content_type.as_deref() {
        None | Some("text") | Some("multimodal_text") => {}
        _ => return None,
    }
    let mut text: Vec<&str> = content.parts.iter().filter_map(Value::as_str).collect();
    if text.is_empty() {
        text.extend(content.text.as_deref());
    }
    let text = text.join("\n\n");
    (!text.trim().is_empty()).then_some((role, text))
}

pub fn convert(conversation: Conversation) -> Result<Incoming, String> {
    let Conversation {
        title,
        create_time,
        update_time,
        mapping,
        current_node,
        conversation_id,
        id,
        is_archived,
    } = conversation;
    let source = conversation_id
        .or(id)
        .filter(|s| !s.is_empty())
        .ok_or("a ChatGPT conversation without an id (conversation_id or id)")?;
    let created_at = time(create_time).unwrap_or_else(Utc::now);
    // The tree is what `parent` says; `children` only orders siblings (ChatGPT lists them
    // in order of creation), times after that.
    let mut children: HashMap<Option<&str>, Vec<&str>> = HashMap::new();
    for (node_id, node) in &mapping {
        let parent = node.parent.as_deref().filter(|p| mapping.contains_key(*p));
        children.entry(parent).or_default().push(node_id.as_str());
    }
    let node_time = |id: &str| {
        mapping[id]
            .message
            .as_ref()
            .and_then(|m| m.create_time)
            .unwrap_or(f64::MAX)
    };
    for (parent, list) in children.iter_mut() {
        let listed = parent.map(|p| &mapping[p].children);
        let rank = |id: &str| {
            listed
                .and_then(|l| l.iter().position(|c| c == id))
                .unwrap_or(usize::MAX)
        };
        list.sort_by(|a, b| {
            rank(a)
                .cmp(&rank(b))
                .then(node_time(a).total_cmp(&node_time(b)))
                .then(a.cmp(b))
        });
    }
    let mut queue: VecDeque<(&str, Option<usize>, DateTime<Utc>)> = children
        .get(&None)
        .into_iter()
        .flatten()
        .map(|id| (*id, None, created_at))
        .collect();
    let mut messages: Vec<IncomingMessage> = Vec::new();
    // For each node visited, the message it is or follows (for `current_node`).
    let mut placed: HashMap<&str, Option<usize>> = HashMap::new();
    while let Some((node_id, above, above_time)) = queue.pop_front() {
        let node = &mapping[node_id];
        let (here, here_time) = match node.message.as_ref().and_then(|m| {
            kept(m).map(|(role, text)| {
                // Never before the message it follows: times order a branch.
                let at = time(m.create_time).unwrap_or(above_time).max(above_time);
                (role, text, at)
            })
        }) {
            Some((role, content, at)) => {
                messages.push(IncomingMessage {
                    parent: above,
                    role,
                    content,
                    reasoning: None,
                    provider: None,
                    model: None,
                    created_at: at,
                });
                (Some(messages.len() - 1), at)
            }
            None => (above, above_time),
        };
        placed.insert(node_id, here);
        for child in children.get(&Some(node_id)).into_iter().flatten() {
            queue.push_back((child, here, here_time));
        }
    }
    if placed.len() != mapping.len() {
        return Err("its mapping has a loop of parents".into());
    }
    let current = current_node
        .as_deref()
        .and_then(|node| placed.get(node).copied().flatten());
    let updated_at = time(update_time)
        .into_iter()
        .chain(messages.iter().map(|m| m.created_at))
        .max()
        .unwrap_or(created_at);
    Ok(Incoming {
        origin: Origin::ChatGpt,
        source_id: format!("chatgpt:{source}"),
        original_id: None,
        title: title_of(title.as_deref()),
        provider: None,
        model: None,
        temperature: None,
        max_tokens: None,
        system_prompt: None,
        created_at,
        updated_at,
        pinned: false,
        archived: is_archived.unwrap_or(false),
        messages,
        current,
    })
}
