//! Reading an import file as a stream: the top level is our export of everything
//! (`{"format": "rustchat.export.v1", "conversations": [..]}`), one conversation of ours
//! (`{"format": "rustchat.conversation.v1", "conversation": .., "messages": [..]}`), ChatGPT's
//! `conversations.json` (an array of conversations with a `mapping`), or an array mixing the
//! two kinds of conversation. Only one conversation is held in memory at a time.

use std::{collections::HashMap, fmt, io::Read};

use app::wire::Role;
use chrono::{DateTime, Utc};
use serde::{
    de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor},
    Deserialize, Deserializer,
};
use serde_json::Value;
use uuid::Uuid;

use super::{chatgpt, title_of, Incoming, IncomingMessage, Origin};

pub const EXPORT_FORMAT: &str = "rustchat.export.v1";
pub const CONVERSATION_FORMAT: &str = "rustchat.conversation.v1";

/// What is done with each conversation read; an error stops the reading.
pub type Each<'a> = &'a mut dyn FnMut(Incoming) -> Result<(), String>;

/// Reads every conversation of `reader`, in order, into `each`. The error says what is wrong
/// and where (the conversation's place, or the line and column of bad JSON).
pub fn read_file(reader: impl Read, each: Each<'_>) -> Result<(), String> {
    let mut de = serde_json::Deserializer::from_reader(std::io::BufReader::new(reader));
    let mut count = 0;
    Top {
        each,
        count: &mut count,
    }
    .deserialize(&mut de)
    .and_then(|()| de.end())
    .map_err(|e| e.to_string())
}

struct Top<'a, 'b> {
    each: Each<'b>,
    count: &'a mut usize,
}

impl<'de> DeserializeSeed<'de> for Top<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Top<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an export of Rustchat or ChatGPT's conversations.json")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq
            .next_element_seed(Item {
                each: &mut *self.each,
                count: &mut *self.count,
            })?
            .is_some()
        {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut fields = serde_json::Map::new();
        let mut listed = false;
        while let Some(key) = map.next_key::<String>()? {
            if key == "conversations" {
                map.next_value_seed(List {
                    each: &mut *self.each,
                    count: &mut *self.count,
                })?;
                listed = true;
            } else {
                fields.insert(key, map.next_value::<Value>()?);
            }
        }
        if listed {
            return match fields.get("format") {
                Some(Value::String(f)) if f == EXPORT_FORMAT => Ok(()),
                Some(other) => Err(de::Error::custom(format!(
                    "the format {other} is not one this server reads ({EXPORT_FORMAT})"
                ))),
                None => Err(de::Error::custom(format!(
                    "an export of everything needs \"format\": \"{EXPORT_FORMAT}\""
                ))),
            };
        }
        *self.count += 1;
        let incoming = classify(Value::Object(fields)).map_err(de::Error::custom)?;
        (self.each)(incoming).map_err(de::Error::custom)
    }
}

/// The `conversations` array of our export of everything.
struct List<'a, 'b> {
    each: Each<'b>,
    count: &'a mut usize,
}

impl<'de> DeserializeSeed<'de> for List<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for List<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of conversations")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq
            .next_element_seed(Item {
                each: &mut *self.each,
                count: &mut *self.count,
            })?
            .is_some()
        {}
        Ok(())
    }
}

/// One conversation of an array.
struct Item<'a, 'b> {
    each: Each<'b>,
    count: &'a mut usize,
}

impl<'de> DeserializeSeed<'de> for Item<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        *self.count += 1;
        let at = *self.count;
        let value = Value::deserialize(d)?;
        let incoming =
            classify(value).map_err(|e| de::Error::custom(format!("conversation {at}: {e}")))?;
        (self.each)(incoming).map_err(|e| de::Error::custom(format!("conversation {at}: {e}")))
    }
}

/// Which kind of conversation an object is, read into our terms.
fn classify(value: Value) -> Result<Incoming, String> {
    let Value::Object(fields) = &value else {
        return Err("expected a conversation (an object)".into());
    };
    if fields.contains_key("mapping") {
        let conversation = serde_json::from_value(value).map_err(|e| e.to_string())?;
        return chatgpt::convert(conversation);
    }
    if fields.contains_key("conversation") && fields.contains_key("messages") {
        match fields.get("format") {
            None => {}
            Some(Value::String(f)) if f == CONVERSATION_FORMAT => {}
            Some(other) => {
                return Err(format!(
                    "the format {other} is not one this server reads ({CONVERSATION_FORMAT})"
                ))
            }
        }
        let export: OurExport = serde_json::from_value(value).map_err(|e| e.to_string())?;
        return ours(export);
    }
    Err("neither a conversation of Rustchat nor one of ChatGPT".into())
}

#[derive(Deserialize)]
struct OurExport {
    conversation: OurConversation,
    messages: Vec<OurMessage>,
}

#[derive(Deserialize)]
struct OurConversation {
    id: Uuid,
    title: Option<String>,
    provider: Option<String>,
    model: Option<String>,
    temperature: Option<f64>,
    max_tokens: Option<i32>,
    system_prompt: Option<String>,
    current_leaf_id: Option<Uuid>,
    created_at: DateTime<Utc>,
    updated_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pinned: bool,
    #[serde(default)]
    archived: bool,
}

#[derive(Deserialize)]
struct OurMessage {
    id: Uuid,
    parent_id: Option<Uuid>,
    role: String,
    content: String,
    reasoning: Option<String>,
    provider: Option<String>,
    model: Option<String>,
    created_at: DateTime<Utc>,
}

fn role(text: &str) -> Result<Role, String> {
    match text {
        "user" => Ok(Role::User),
        "assistant" => Ok(Role::Assistant),
        other => Err(format!(
            "a message's role is {other:?}, not user or assistant"
        )),
    }
}

/// Our own export, its tree put in order (parents first) and checked.
fn ours(export: OurExport) -> Result<Incoming, String> {
    let OurExport {
        conversation,
        messages,
    } = export;
    let ids: HashMap<Uuid, usize> = messages
        .iter()
        .enumerate()
        .map(|(i, m)| (m.id, i))
        .collect();
    if ids.len() != messages.len() {
        return Err("two messages have the same id".into());
    }
    let mut children: HashMap<Option<usize>, Vec<usize>> = HashMap::new();
    for (i, m) in messages.iter().enumerate() {
        let parent = match m.parent_id {
            None => None,
            Some(p) => Some(
                *ids.get(&p)
                    .ok_or_else(|| format!("message {} follows {p}, which is not in it", m.id))?,
            ),
        };
        children.entry(parent).or_default().push(i);
    }
    // Parents first: a walk from the first messages down.
    let mut order: Vec<(usize, Option<usize>)> = Vec::with_capacity(messages.len());
    let mut place = vec![usize::MAX; messages.len()];
    let mut queue: std::collections::VecDeque<(usize, Option<usize>)> = children
        .get(&None)
        .into_iter()
        .flatten()
        .map(|&i| (i, None))
        .collect();
    while let Some((i, parent_place)) = queue.pop_front() {
        place[i] = order.len();
        order.push((i, parent_place));
        for &child in children.get(&Some(i)).into_iter().flatten() {
            queue.push_back((child, Some(place[i])));
        }
    }
    if order.len() != messages.len() {
        return Err("its messages do not form a tree (a loop of parents)".into());
    }
    let current = conversation
        .current_leaf_id
        .and_then(|id| ids.get(&id))
        .map(|&i| place[i]);
    let mut slots: Vec<Option<OurMessage>> = messages.into_iter().map(Some).collect();
    let mut list = Vec::with_capacity(order.len());
    for (i, parent) in order {
        let m = slots[i].take().expect("each message is placed once");
        list.push(IncomingMessage {
            parent,
            role: role(&m.role)?,
            content: m.content,
            reasoning: m.reasoning.filter(|r| !r.is_empty()),
            provider: m.provider,
            model: m.model,
            created_at: m.created_at,
        });
    }
    Ok(Incoming {
        origin: Origin::Rustchat,
        source_id: format!("rustchat:{}", conversation.id),
        original_id: Some(conversation.id),
        title: title_of(conversation.title.as_deref()),
        provider: conversation.provider,
        model: conversation.model,
        temperature: conversation.temperature,
        max_tokens: conversation.max_tokens,
        system_prompt: conversation.system_prompt,
        created_at: conversation.created_at,
        updated_at: conversation.updated_at.unwrap_or(conversation.created_at),
        pinned: conversation.pinned,
        archived: conversation.archived,
        messages: list,
        current,
    })
}
