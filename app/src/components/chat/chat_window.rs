//! The chat island: the conversation's header (title, provider and model, tokens and cost,
//! connection), its messages with the reply streaming in, and the input. Everything else on the
//! page is plain server-rendered HTML.

use leptos::{html, prelude::*};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    chat_input::ChatInput,
    chat_message::ChatMessage,
    cost_estimate::{BudgetMeter, CostEstimate},
    token_counter::TokenCounter,
};
use crate::{
    components::models::{model_selector::ModelSelector, provider_selector::ProviderSelector},
    wire::{BudgetView, ConversationView, MessageItem, ModelView, SettingsView},
};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChatWindowData {
    pub conversation: Option<ConversationView>,
    /// The messages that can still change (from the first one streaming on); the finished
    /// ones before them come as the island's children.
    pub messages: Vec<MessageItem>,
    /// Whether there are finished messages in the children.
    pub has_history: bool,
    pub models: Vec<ModelView>,
    pub settings: SettingsView,
    pub budget: BudgetView,
}

type Items = RwSignal<Vec<(Uuid, RwSignal<MessageItem>)>>;

/// Everything the island's handlers share; all `Copy`.
#[derive(Clone, Copy)]
struct Chat {
    conversation: RwSignal<Option<ConversationView>>,
    items: Items,
    provider: RwSignal<String>,
    model: RwSignal<String>,
    models: StoredValue<Vec<ModelView>>,
    text: RwSignal<String>,
    notice: RwSignal<Option<String>>,
    sending: RwSignal<bool>,
    /// This month's spending; refreshed after each send and each finished reply.
    budget: RwSignal<BudgetView>,
    scroller: NodeRef<html::Div>,
    #[cfg(feature = "hydrate")]
    outbox: super::socket::Outbox,
}

#[cfg(feature = "hydrate")]
impl Chat {
    fn find(&self, id: Uuid) -> Option<RwSignal<MessageItem>> {
        self.items
            .with_untracked(|items| items.iter().find(|(i, _)| *i == id).map(|(_, s)| *s))
    }

    /// Adds a message or updates the one with its id.
    fn upsert(&self, message: crate::wire::MessageView) -> RwSignal<MessageItem> {
        match self.find(message.id) {
            Some(item) => {
                item.update(|i| {
                    let keep_text = message.status == "streaming"
                        && i.message.content.len() > message.content.len();
                    let content = if keep_text {
                        i.message.content.clone()
                    } else {
                        message.content.clone()
                    };
                    i.message = crate::wire::MessageView { content, ..message };
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

    fn streaming_seqs(&self) -> std::collections::HashMap<Uuid, u64> {
        self.items.with_untracked(|items| {
            items
                .iter()
                .filter_map(|(id, item)| {
                    item.with_untracked(|i| {
                        (i.message.status == "streaming").then_some((*id, i.seq))
                    })
                })
                .collect()
        })
    }

    fn near_bottom(&self) -> bool {
        self.scroller
            .get_untracked()
            .map(|el| el.scroll_height() - el.scroll_top() - el.client_height() < 160)
            .unwrap_or(false)
    }

    fn scroll_to_bottom(&self) {
        if let Some(el) = self.scroller.get_untracked() {
            el.set_scroll_top(el.scroll_height());
        }
    }
}

#[island]
pub fn ChatWindow(data: ChatWindowData, children: Children) -> impl IntoView {
    let has_history = data.has_history;
    let settings = data.settings.clone();
    let models = StoredValue::new(data.models.clone());
    let (provider, model) = initial_model(&data);
    let chat = Chat {
        conversation: RwSignal::new(data.conversation.clone()),
        items: RwSignal::new(
            data.messages
                .into_iter()
                .map(|item| (item.message.id, RwSignal::new(item)))
                .collect(),
        ),
        provider: RwSignal::new(provider),
        model: RwSignal::new(model),
        models,
        text: RwSignal::new(String::new()),
        notice: RwSignal::new(None),
        sending: RwSignal::new(false),
        budget: RwSignal::new(data.budget.clone()),
        scroller: NodeRef::new(),
        #[cfg(feature = "hydrate")]
        outbox: super::socket::Outbox(StoredValue::new_local(None)),
    };
    let connection = RwSignal::new(ConnectionState::Connecting);
    let textarea = NodeRef::<html::Textarea>::new();

    #[cfg(feature = "hydrate")]
    browser::start(chat, connection, textarea);

    let streaming = Signal::derive(move || {
        chat.items.with(|items| {
            items
                .iter()
                .any(|(_, i)| i.with(|i| i.message.status == "streaming"))
        })
    });
    let blocked = Signal::derive(move || {
        if chat.models.with_value(|m| m.is_empty()) {
            Some("No model is available on this server.".to_owned())
        } else if chat.sending.get() {
            Some("Sending…".to_owned())
        } else {
            None
        }
    });
    let on_send = Callback::new(move |content: String| {
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(browser::send(chat, content));
        #[cfg(not(feature = "hydrate"))]
        let _ = content;
    });
    let on_stop = Callback::new(move |_: ()| {
        #[cfg(feature = "hydrate")]
        browser::stop_all(chat);
    });
    let on_provider = Callback::new(move |provider: String| {
        let first = chat
            .models
            .with_value(|all| {
                all.iter()
                    .find(|m| m.provider == provider)
                    .map(|m| m.model.clone())
            })
            .unwrap_or_default();
        chat.provider.set(provider);
        chat.model.set(first);
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(browser::save_model(chat));
    });
    let on_model = Callback::new(move |model: String| {
        chat.model.set(model);
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(browser::save_model(chat));
    });
    let hide_streaming_text = !settings.streaming;
    let title = move || {
        chat.conversation
            .with(|c| c.as_ref().map(|c| c.title.clone()))
            .unwrap_or_else(|| "New chat".into())
    };

    view! {
        <section class="chat-window" aria-label="Chat">
            <header class="chat-header">
                <h1 class="chat-title" data-testid="chat-title">{title}</h1>
                <div class="chat-controls">
                    <ProviderSelector models=chat.models provider=chat.provider.into() on_change=on_provider/>
                    <ModelSelector models=chat.models provider=chat.provider.into() model=chat.model.into() on_change=on_model/>
                </div>
                <div class="chat-stats">
                    <TokenCounter conversation=chat.conversation/>
                    <CostEstimate conversation=chat.conversation/>
                    <BudgetMeter budget=chat.budget/>
                    <span
                        class=move || format!("connection connection-{}", connection.get().css())
                        title=move || connection.get().label()
                        aria-label=move || connection.get().label()
                        role="status"
                    ></span>
                </div>
            </header>
            <div class="messages" node_ref=chat.scroller aria-live="polite" aria-relevant="additions text" on:click=copy_code>
                {move || {
                    (!has_history && chat.items.with(|items| items.is_empty())).then(|| view! {
                        <div class="chat-empty">
                            <div class="brand-mark brand-mark-large" aria-hidden="true"></div>
                            <h2>"How can I help today?"</h2>
                            <p class="muted">"Pick a model above and write below. Replies stream in as they are written."</p>
                        </div>
                    })
                }}
                <div class="message-list">
                    {children()}
                    <For
                        each=move || chat.items.get()
                        key=|(id, _)| *id
                        children=move |(_, item)| view! { <ChatMessage item hide_streaming_text/> }
                    />
                </div>
            </div>
            {move || chat.notice.get().map(|n| view! { <p class="notice" role="alert">{n}</p> })}
            <div class="composer">
                <ChatInput text=chat.text streaming blocked on_send on_stop textarea/>
            </div>
        </section>
    }
}

/// The conversation's model, else the user's default if it is offered, else the first one.
fn initial_model(data: &ChatWindowData) -> (String, String) {
    if let Some(c) = &data.conversation {
        return (c.provider.clone(), c.model.clone());
    }
    let default = data
        .models
        .iter()
        .find(|m| {
            m.provider == data.settings.default_provider && m.model == data.settings.default_model
        })
        .or_else(|| data.models.first());
    default
        .map(|m| (m.provider.clone(), m.model.clone()))
        .unwrap_or_default()
}

/// Set from the socket in the browser; on the server a page always starts `Connecting`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
enum ConnectionState {
    Connecting,
    Live,
    Offline,
}

impl ConnectionState {
    fn css(self) -> &'static str {
        match self {
            Self::Connecting => "connecting",
            Self::Live => "live",
            Self::Offline => "offline",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::Connecting => "Connecting to the live feed…",
            Self::Live => "Live",
            Self::Offline => "Offline — reconnecting",
        }
    }
}

/// Copy buttons of code blocks (server-rendered HTML, so one delegated listener).
fn copy_code(ev: leptos::ev::MouseEvent) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let Some(button) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .and_then(|el| el.closest(".copy-btn").ok().flatten())
        else {
            return;
        };
        let code = button.get_attribute("data-code").unwrap_or_default();
        if let Some(window) = web_sys::window() {
            let _ = window.navigator().clipboard().write_text(&code);
        }
        let _ = button.class_list().add_1("is-copied");
        button.set_text_content(Some("Copied"));
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = ev;
}

#[cfg(feature = "hydrate")]
mod browser {
    use super::*;
    use crate::{
        components::chat::{
            api::{announce_conversation, call},
            socket::{self, subscribe_frame, Connection},
        },
        wire::{MessageView, SendResponse},
    };

    pub fn start(
        chat: Chat,
        connection: RwSignal<ConnectionState>,
        textarea: NodeRef<html::Textarea>,
    ) {
        let feed_state = RwSignal::new(Connection::Connecting);
        Effect::new(move |_| {
            connection.set(match feed_state.get() {
                Connection::Connecting => ConnectionState::Connecting,
                Connection::Live => ConnectionState::Live,
                Connection::Offline => ConnectionState::Offline,
            })
        });
        // Finished messages the server has not rendered yet (none on a fresh page).
        leptos::task::spawn_local(socket::run(
            feed_state,
            chat.outbox,
            move || {
                chat.conversation
                    .get_untracked()
                    .map(|c| vec![subscribe_frame(c.id, chat.streaming_seqs())])
                    .unwrap_or_default()
            },
            move |frame| handle_frame(chat, &frame),
        ));
        chat.scroll_to_bottom();
        let handle = window_event_listener(leptos::ev::keydown, move |ev| {
            let typing = ev
                .target()
                .and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(t).ok())
                .map(|el| matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT"))
                .unwrap_or(false);
            match ev.key().as_str() {
                "Escape" => stop_all(chat),
                "/" if !typing => {
                    ev.prevent_default();
                    if let Some(el) = textarea.get_untracked() {
                        let _ = el.focus();
                    }
                }
                "o" | "O" if ev.shift_key() && (ev.ctrl_key() || ev.meta_key()) => {
                    ev.prevent_default();
                    if let Some(w) = web_sys::window() {
                        let _ = w.location().set_href("/");
                    }
                }
                _ => {}
            }
        });
        on_cleanup(move || handle.remove());
    }

    fn handle_frame(chat: Chat, frame: &str) {
        let Ok(event) = serde_json::from_str::<serde_json::Value>(frame) else {
            return;
        };
        let follow = chat.near_bottom();
        let current = chat
            .conversation
            .with_untracked(|c| c.as_ref().map(|c| c.id));
        match event["type"].as_str().unwrap_or_default() {
            "message.created" | "message.updated" => {
                let Ok(message) = serde_json::from_value::<MessageView>(event["data"].clone())
                else {
                    return;
                };
                if Some(message.conversation_id) != current {
                    return;
                }
                // Finished messages the server rendered as plain HTML are not the island's:
                // a late event about one must not add it a second time.
                if chat.find(message.id).is_none() && rendered_in_history(message.id) {
                    return;
                }
                // A user message shows as plain text, the same as the server renders it;
                // only a finished reply needs the server's rendering.
                let finished = message.status != "streaming" && message.role == "assistant";
                let id = message.id;
                let item = chat.upsert(message);
                if finished {
                    item.update(|i| i.html = None);
                    leptos::task::spawn_local(fetch_html(item, id));
                    leptos::task::spawn_local(refresh_budget(chat));
                }
            }
            "message.streaming" => {
                let (Some(id), Some(seq)) = (
                    event["message_id"]
                        .as_str()
                        .and_then(|s| Uuid::parse_str(s).ok()),
                    event["seq"].as_u64(),
                ) else {
                    return;
                };
                let Some(item) = chat.find(id) else { return };
                let have = item.with_untracked(|i| i.seq);
                if seq == have + 1 {
                    let delta = event["data"]["delta"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned();
                    item.update(|i| {
                        i.message.content.push_str(&delta);
                        i.seq = seq;
                    });
                } else if seq > have + 1 {
                    resubscribe(chat);
                }
            }
            "conversation.created" | "conversation.updated" => {
                let Ok(conversation) =
                    serde_json::from_value::<ConversationView>(event["data"].clone())
                else {
                    return;
                };
                if Some(conversation.id) == current {
                    chat.conversation.set(Some(conversation.clone()));
                }
                announce_conversation(&conversation);
            }
            "error" if event["code"] == "resync" => resubscribe(chat),
            _ => {}
        }
        if follow {
            request_scroll(chat);
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

    fn request_scroll(chat: Chat) {
        leptos::task::spawn_local(async move {
            gloo_timers::future::TimeoutFuture::new(0).await;
            chat.scroll_to_bottom();
        });
    }

    fn resubscribe(chat: Chat) {
        if let Some(c) = chat.conversation.get_untracked() {
            chat.outbox
                .send(subscribe_frame(c.id, chat.streaming_seqs()));
        }
    }

    async fn fetch_html(item: RwSignal<MessageItem>, id: Uuid) {
        #[derive(serde::Deserialize)]
        struct Rendered {
            html: String,
        }
        if let Ok(rendered) =
            call::<(), Rendered>("GET", &format!("/api/messages/{id}/html"), None).await
        {
            item.update(|i| i.html = Some(rendered.html));
        }
    }

    async fn refresh_budget(chat: Chat) {
        if let Ok(budget) = call::<(), BudgetView>("GET", "/api/budget", None).await {
            chat.budget.set(budget);
        }
    }

    pub async fn send(chat: Chat, content: String) {
        chat.sending.set(true);
        chat.notice.set(None);
        let result = async {
            let conversation = match chat.conversation.get_untracked() {
                Some(c) => c,
                None => {
                    let body = serde_json::json!({"provider": chat.provider.get_untracked(), "model": chat.model.get_untracked()});
                    let created: ConversationView = call("POST", "/api/conversations", Some(&body)).await?;
                    chat.conversation.set(Some(created.clone()));
                    announce_conversation(&created);
                    if let Some(history) = web_sys::window().and_then(|w| w.history().ok()) {
                        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&format!("/c/{}", created.id)));
                    }
                    chat.outbox.send(subscribe_frame(created.id, Default::default()));
                    created
                }
            };
            let body = serde_json::json!({ "content": content });
            let sent: SendResponse =
                call("POST", &format!("/api/conversations/{}/messages", conversation.id), Some(&body)).await?;
            let user = chat.upsert(sent.user_message);
            user.update(|i| i.html = None);
            chat.upsert(sent.assistant_message);
            Ok::<(), String>(())
        }
        .await;
        chat.sending.set(false);
        match result {
            Ok(()) => {
                chat.text.set(String::new());
                request_scroll(chat);
                refresh_budget(chat).await;
            }
            Err(message) => chat.notice.set(Some(message)),
        }
    }

    pub fn stop_all(chat: Chat) {
        for (id, item) in chat.items.get_untracked() {
            if item.with_untracked(|i| {
                i.message.status == "streaming" && i.message.role == "assistant"
            }) {
                leptos::task::spawn_local(async move {
                    if let Ok(stopped) =
                        call::<(), MessageView>("POST", &format!("/api/messages/{id}/stop"), None)
                            .await
                    {
                        chat.upsert(stopped);
                        fetch_html(item, id).await;
                    }
                });
            }
        }
    }

    pub async fn save_model(chat: Chat) {
        let Some(conversation) = chat.conversation.get_untracked() else {
            return;
        };
        let body = serde_json::json!({"provider": chat.provider.get_untracked(), "model": chat.model.get_untracked()});
        match call::<_, ConversationView>(
            "PATCH",
            &format!("/api/conversations/{}", conversation.id),
            Some(&body),
        )
        .await
        {
            Ok(updated) => {
                chat.conversation.set(Some(updated.clone()));
                announce_conversation(&updated);
            }
            Err(message) => chat.notice.set(Some(message)),
        }
    }
}
