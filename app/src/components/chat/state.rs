//! What the chat island holds: the conversation, its messages (each its own signal, so a
//! delta re-renders one message), the chosen model, the composer's text and notices, and the
//! feed's connection state. Everything is `Copy`, so every handler takes the whole [`Chat`].

use leptos::{html, prelude::*};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::wire::{
    BudgetView, ConversationView, MessageItem, MessageView, ModelView, ProviderId, SettingsView,
};

/// The island's props, from the server's page data.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChatWindowData {
    pub conversation: Option<ConversationView>,
    /// The messages that can still change (from the first one streaming on); the finished
    /// ones before them come as the island's children.
    pub messages: Vec<MessageItem>,
    /// Whether there are finished messages in the children.
    pub has_history: bool,
    /// The last of them: the message a new one on the branch shown follows.
    pub history_last: Option<Uuid>,
    /// The first of them: "Load earlier" reads the messages above it.
    pub history_first: Option<Uuid>,
    /// Whether the branch has messages above the first one on the page.
    pub earlier: bool,
    pub models: Vec<ModelView>,
    pub settings: SettingsView,
    pub budget: BudgetView,
}

pub type Items = RwSignal<Vec<(Uuid, RwSignal<MessageItem>)>>;

/// The live feed's state, as the connection dot shows it. On the server a page always starts
/// `Connecting`; the socket in the browser moves it on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Connection {
    Connecting,
    Live,
    Offline,
}

impl Connection {
    pub fn css(self) -> &'static str {
        match self {
            Self::Connecting => "connecting",
            Self::Live => "live",
            Self::Offline => "offline",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Connecting => "Connecting to the live feed…",
            Self::Live => "Live",
            Self::Offline => "Offline — reconnecting",
        }
    }
}

/// Everything the island's handlers share; all `Copy`.
#[derive(Clone, Copy)]
pub struct Chat {
    pub conversation: RwSignal<Option<ConversationView>>,
    pub items: Items,
    pub provider: RwSignal<ProviderId>,
    pub model: RwSignal<String>,
    pub models: StoredValue<Vec<ModelView>>,
    pub text: RwSignal<String>,
    pub notice: RwSignal<Option<String>>,
    pub sending: RwSignal<bool>,
    /// This month's spending; refreshed after each send and each finished reply.
    pub budget: RwSignal<BudgetView>,
    pub connection: RwSignal<Connection>,
    pub scroller: NodeRef<html::Div>,
    /// Whether the server-rendered history (the island's children) is shown. Moving to another
    /// branch hides it: the island then shows the whole branch itself.
    pub history_shown: RwSignal<bool>,
    history_last: StoredValue<Option<Uuid>>,
    history_first: StoredValue<Option<Uuid>>,
    /// Messages "Load earlier" brought in, above everything else shown.
    pub earlier: Items,
    /// Whether the branch has messages above the first one shown.
    pub more_earlier: RwSignal<bool>,
    pub loading_earlier: RwSignal<bool>,
    /// The question being edited, if any.
    pub editing: RwSignal<Option<Uuid>>,
    /// The open "regenerate with…" menu.
    pub menu: RwSignal<Option<RegenerateMenu>>,
    /// The reader scrolled up from the newest message: the stream no longer scrolls the view,
    /// and a "Jump to latest" button brings it back.
    pub away_from_latest: RwSignal<bool>,
    #[cfg(feature = "hydrate")]
    pub outbox: super::socket::Outbox,
}

impl Chat {
    pub fn new(data: &ChatWindowData) -> Self {
        let (provider, model) = initial_model(data);
        Chat {
            conversation: RwSignal::new(data.conversation.clone()),
            items: RwSignal::new(
                data.messages
                    .iter()
                    .map(|item| (item.message.id, RwSignal::new(item.clone())))
                    .collect(),
            ),
            provider: RwSignal::new(provider),
            model: RwSignal::new(model),
            models: StoredValue::new(data.models.clone()),
            text: RwSignal::new(String::new()),
            notice: RwSignal::new(None),
            sending: RwSignal::new(false),
            budget: RwSignal::new(data.budget.clone()),
            connection: RwSignal::new(Connection::Connecting),
            scroller: NodeRef::new(),
            history_shown: RwSignal::new(data.has_history),
            history_last: StoredValue::new(data.history_last),
            history_first: StoredValue::new(data.history_first),
            earlier: RwSignal::new(Vec::new()),
            more_earlier: RwSignal::new(data.earlier),
            loading_earlier: RwSignal::new(false),
            editing: RwSignal::new(None),
            menu: RwSignal::new(None),
            away_from_latest: RwSignal::new(false),
            #[cfg(feature = "hydrate")]
            outbox: super::socket::Outbox(StoredValue::new_local(None)),
        }
    }

    /// Whether any reply is streaming (the composer then offers Stop).
    pub fn is_streaming(&self) -> bool {
        self.items.with(|items| {
            items
                .iter()
                .any(|(_, i)| i.with(|i| i.message.status.is_streaming()))
        })
    }

    /// The chosen model's input price, micro-dollars per million tokens.
    pub fn input_price(&self) -> i64 {
        let (provider, model) = (self.provider.get(), self.model.get());
        self.models.with_value(|all| {
            all.iter()
                .find(|m| m.provider == provider && m.model == model)
                .map_or(0, |m| m.input_micros_per_mtok)
        })
    }

    /// The first model of `provider`, to switch to when the provider changes.
    pub fn first_model_of(&self, provider: ProviderId) -> String {
        self.models
            .with_value(|all| {
                all.iter()
                    .find(|m| m.provider == provider)
                    .map(|m| m.model.clone())
            })
            .unwrap_or_default()
    }

    /// The last message of the branch shown: the one a new message follows.
    pub fn last_id(&self) -> Option<Uuid> {
        self.items
            .with_untracked(|items| items.last().map(|(id, _)| *id))
            .or_else(|| {
                self.history_shown
                    .get_untracked()
                    .then(|| self.history_last.get_value())
                    .flatten()
            })
            .or_else(|| {
                self.earlier
                    .with_untracked(|earlier| earlier.last().map(|(id, _)| *id))
            })
    }

    /// The first message shown: the one "Load earlier" reads above.
    pub fn first_id(&self) -> Option<Uuid> {
        self.earlier
            .with_untracked(|earlier| earlier.first().map(|(id, _)| *id))
            .or_else(|| {
                self.history_shown
                    .get_untracked()
                    .then(|| self.history_first.get_value())
                    .flatten()
            })
            .or_else(|| {
                self.items
                    .with_untracked(|items| items.first().map(|(id, _)| *id))
            })
    }

    /// Replaces what the island shows with `items` (the newest page of a branch), hiding the
    /// history and what was loaded above it.
    pub fn show_branch(&self, items: Vec<MessageItem>) {
        self.history_shown.set(false);
        self.history_last.set_value(None);
        self.history_first.set_value(None);
        self.earlier.set(Vec::new());
        self.more_earlier.set(has_parent(&items));
        self.items.set(signals(items));
    }

    /// Puts `items` (the messages just above the first one shown) above everything shown.
    pub fn prepend(&self, items: Vec<MessageItem>) {
        self.more_earlier.set(has_parent(&items));
        let mut above = signals(items);
        self.earlier.update(|earlier| {
            above.append(earlier);
            *earlier = above;
        });
    }

    /// Drops `id` and every message after it from the branch shown.
    pub fn truncate_at(&self, id: Uuid) {
        let above = self
            .earlier
            .with_untracked(|earlier| earlier.iter().position(|(i, _)| *i == id));
        match above {
            // Everything after one of the earlier messages goes, the history with it.
            Some(at) => {
                self.earlier.update(|earlier| earlier.truncate(at));
                self.history_shown.set(false);
                self.history_last.set_value(None);
                self.history_first.set_value(None);
                self.items.set(Vec::new());
            }
            None => self.items.update(|items| {
                if let Some(at) = items.iter().position(|(i, _)| *i == id) {
                    items.truncate(at);
                }
            }),
        }
    }

    /// Whether `id` is one of the messages "Load earlier" brought in (the island's own).
    pub fn is_earlier(&self, id: Uuid) -> bool {
        self.earlier
            .with_untracked(|earlier| earlier.iter().any(|(i, _)| *i == id))
    }

    pub fn find(&self, id: Uuid) -> Option<RwSignal<MessageItem>> {
        let find = |items: &Vec<(Uuid, RwSignal<MessageItem>)>| {
            items.iter().find(|(i, _)| *i == id).map(|(_, s)| *s)
        };
        self.items
            .with_untracked(find)
            .or_else(|| self.earlier.with_untracked(find))
    }

    /// Adds a message or updates the one with its id. A streaming reply keeps the longer
    /// text (and reasoning) it already has: events about it may be older than the deltas shown.
    pub fn upsert(&self, message: MessageView) -> RwSignal<MessageItem> {
        match self.find(message.id) {
            Some(item) => {
                item.update(|i| {
                    let keep_text = message.status.is_streaming()
                        && i.message.content.len() > message.content.len();
                    let content = if keep_text {
                        i.message.content.clone()
                    } else {
                        message.content.clone()
                    };
                    let reasoning = if message.status.is_streaming()
                        && i.message.reasoning.as_ref().map_or(0, String::len)
                            > message.reasoning.as_ref().map_or(0, String::len)
                    {
                        i.message.reasoning.clone()
                    } else {
                        message.reasoning.clone()
                    };
                    i.message = MessageView {
                        content,
                        reasoning,
                        ..message
                    };
                });
                item
            }
            None => {
                let item = RwSignal::new(MessageItem {
                    message: message.clone(),
                    html: None,
                    seq: 0,
                });
                self.items.update(|items| items.push((message.id, item)));
                item
            }
        }
    }

    /// The last `seq` held per streaming reply: the `after` of a (re)subscription.
    pub fn streaming_seqs(&self) -> std::collections::HashMap<Uuid, u64> {
        self.items.with_untracked(|items| {
            items
                .iter()
                .filter_map(|(id, item)| {
                    item.with_untracked(|i| i.message.status.is_streaming().then_some((*id, i.seq)))
                })
                .collect()
        })
    }

    pub fn near_bottom(&self) -> bool {
        self.scroller
            .get_untracked()
            .map(|el| el.scroll_height() - el.scroll_top() - el.client_height() < 160)
            .unwrap_or(false)
    }

    pub fn scroll_to_bottom(&self) {
        if let Some(el) = self.scroller.get_untracked() {
            el.set_scroll_top(el.scroll_height());
        }
    }
}

/// A page of messages, each its own signal.
fn signals(items: Vec<MessageItem>) -> Vec<(Uuid, RwSignal<MessageItem>)> {
    items
        .into_iter()
        .map(|item| (item.message.id, RwSignal::new(item)))
        .collect()
}

/// Whether a page of a branch (oldest first) has messages above it.
pub fn has_parent(items: &[MessageItem]) -> bool {
    items
        .first()
        .is_some_and(|item| item.message.parent_id.is_some())
}

/// Where the "regenerate with…" menu opens: for which reply, below which point.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RegenerateMenu {
    pub message_id: Uuid,
    pub top: f64,
    pub left: f64,
}

/// The conversation's model, else the user's default if it is offered, else the first one.
fn initial_model(data: &ChatWindowData) -> (ProviderId, String) {
    if let Some(c) = &data.conversation {
        return (c.provider, c.model.clone());
    }
    let default = data
        .models
        .iter()
        .find(|m| {
            m.provider.as_str() == data.settings.default_provider
                && m.model == data.settings.default_model
        })
        .or_else(|| data.models.first());
    default
        .map(|m| (m.provider, m.model.clone()))
        .unwrap_or((ProviderId::Demo, String::new()))
}
