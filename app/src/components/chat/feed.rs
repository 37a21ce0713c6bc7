//! The island's side of the live feed: opens the socket, subscribes to the conversation with
//! the `seq` held per streaming reply, and applies each frame, decoded into the same
//! [`ServerMessage`] the server encodes.

use leptos::prelude::*;
use uuid::Uuid;

use super::{
    actions::{fetch_html, refresh_budget},
    api::announce_conversation,
    socket::{self, Session},
    state::Chat,
};
use crate::wire::{ClientMessage, ControlMessage, Event, ServerMessage, StreamDelta};

/// The error code of the frame the server sends before it closes the socket of a session that
/// has ended (revoked, logged out everywhere, or the account disabled).
const SESSION_ENDED: &str = "session_ended";

/// Runs the socket for the life of the page.
pub fn start(chat: Chat) {
    leptos::task::spawn_local(socket::run(
        chat.connection,
        chat.outbox,
        move || {
            chat.conversation
                .get_untracked()
                .map(|c| vec![subscribe(c.id, chat)])
                .unwrap_or_default()
        },
        move |frame| match serde_json::from_str::<ServerMessage>(&frame) {
            Ok(ServerMessage::Control(ControlMessage::Error { code, .. }))
                if code == SESSION_ENDED =>
            {
                Session::Ended
            }
            Ok(message) => {
                apply(chat, message);
                Session::Live
            }
            Err(_) => Session::Live,
        },
    ));
    // The page opens on its newest message, once the island holds the scroller (its node is
    // only bound after this function returns).
    Effect::new(move |_| {
        if chat.scroller.get().is_some() {
            chat.scroll_to_bottom();
        }
    });
}

/// The subscription to `conversation_id`, resuming every streaming reply held.
pub fn subscribe(conversation_id: Uuid, chat: Chat) -> ClientMessage {
    ClientMessage::Subscribe {
        conversation_id,
        after: chat.streaming_seqs(),
    }
}

pub fn resubscribe(chat: Chat) {
    if let Some(c) = chat.conversation.get_untracked() {
        chat.outbox.send(&subscribe(c.id, chat));
    }
}

fn apply(chat: Chat, message: ServerMessage) {
    // Where the view was, when it was at the bottom: it follows the frame's change unless the
    // reader scrolls up before the change is drawn.
    let follow = chat
        .near_bottom()
        .then(|| chat.scroller.get_untracked().map(|el| el.scroll_top()))
        .flatten();
    match message {
        ServerMessage::Event(event) => apply_event(chat, event),
        ServerMessage::Control(ControlMessage::Error { code, .. }) if code == "resync" => {
            resubscribe(chat)
        }
        ServerMessage::Control(_) => {}
    }
    if let Some(top) = follow {
        leptos::task::spawn_local(async move {
            gloo_timers::future::TimeoutFuture::new(0).await;
            let still_there = chat
                .scroller
                .get_untracked()
                .is_some_and(|el| el.scroll_top() >= top);
            if still_there {
                chat.scroll_to_bottom();
            }
        });
    }
}

fn apply_event(chat: Chat, event: Event) {
    let current = chat
        .conversation
        .with_untracked(|c| c.as_ref().map(|c| c.id));
    match event {
        Event::MessageCreated { data: message, .. }
        | Event::MessageUpdated { data: message, .. } => {
            if Some(message.conversation_id) != current {
                return;
            }
            // Finished messages the server rendered as plain HTML are not the island's: a
            // late event about one must not add it a second time.
            if chat.find(message.id).is_none() && rendered_in_history(message.id) {
                return;
            }
            // A message new to the page that does not follow the branch shown belongs to
            // another branch (an edit or a regeneration, here or in another tab): if the
            // conversation moves to it, `conversation.updated` brings the branch.
            if chat.find(message.id).is_none() && message.parent_id != chat.last_id() {
                return;
            }
            // A user message shows as plain text, the same as the server renders it; only a
            // finished reply needs the server's rendering.
            let finished =
                !message.status.is_streaming() && message.role == crate::wire::Role::Assistant;
            let id = message.id;
            let item = chat.upsert(message);
            if finished {
                item.update(|i| i.html = None);
                leptos::task::spawn_local(fetch_html(item, id));
                leptos::task::spawn_local(refresh_budget(chat));
            }
        }
        Event::MessageStreaming {
            message_id,
            seq,
            data,
            ..
        } => {
            let Some(item) = chat.find(message_id) else {
                return;
            };
            let have = item.with_untracked(|i| i.seq);
            if seq == have + 1 {
                item.update(|i| {
                    match data {
                        StreamDelta::Answer { delta } => i.message.content.push_str(&delta),
                        StreamDelta::Reasoning { reasoning } => i
                            .message
                            .reasoning
                            .get_or_insert_with(String::new)
                            .push_str(&reasoning),
                    }
                    i.seq = seq;
                });
            } else if seq > have + 1 {
                resubscribe(chat);
            }
        }
        Event::ConversationCreated {
            data: conversation, ..
        }
        | Event::ConversationUpdated {
            data: conversation, ..
        } => {
            if Some(conversation.id) == current {
                // Another tab (or a deletion) moved the conversation to a branch not shown.
                let held = |leaf: Uuid| {
                    chat.items
                        .with_untracked(|items| items.iter().any(|(id, _)| *id == leaf))
                };
                let moved = conversation
                    .current_leaf_id
                    .is_some_and(|leaf| !held(leaf) && Some(leaf) != chat.last_id());
                chat.conversation.set(Some(conversation.clone()));
                if moved {
                    leptos::task::spawn_local(super::branching::load_branch(chat, None));
                }
            }
            announce_conversation(&conversation);
        }
    }
}

fn rendered_in_history(id: Uuid) -> bool {
    web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| {
            d.query_selector(&format!("[data-message-id=\"{id}\"]"))
                .ok()
                .flatten()
        })
        .is_some()
}

/// Scrolls to the newest message once the frame's change is on the page.
pub fn request_scroll(chat: Chat) {
    leptos::task::spawn_local(async move {
        gloo_timers::future::TimeoutFuture::new(0).await;
        chat.scroll_to_bottom();
    });
}
