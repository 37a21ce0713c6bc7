//! The chat island: the conversation's header (title, provider and model, tokens and cost,
//! connection), its messages with the reply streaming in, and the input. Everything else on the
//! page is plain server-rendered HTML. Its state is in [`super::state`]; in the browser, the
//! live feed in [`super::feed`], the API calls in [`super::actions`] and the keyboard in
//! [`super::shortcuts`].

use leptos::{html, prelude::*};

pub use super::state::ChatWindowData;
use super::{
    attachments::PendingFiles,
    chat_input::ChatInput,
    chat_message::ChatMessage,
    cost_estimate::{BudgetMeter, CostEstimate},
    jump_to_latest::JumpToLatest,
    regenerate_menu::RegenerateMenuPopup,
    state::Chat,
    token_counter::TokenCounter,
};
use crate::{
    components::models::{model_selector::ModelSelector, provider_selector::ProviderSelector},
    wire::ProviderId,
};

#[island]
pub fn ChatWindow(data: ChatWindowData, children: Children) -> impl IntoView {
    let hide_streaming_text = !data.settings.streaming;
    let live_markdown = data.settings.markdown;
    let chat = Chat::new(&data);
    let connection = chat.connection;
    let textarea = NodeRef::<html::Textarea>::new();

    #[cfg(feature = "hydrate")]
    {
        super::feed::start(chat);
        super::shortcuts::install(chat, textarea);
        super::found_message::reveal_from_address();
    }

    let files = PendingFiles::new(
        chat.provider.into(),
        Signal::derive(move || chat.input_price()),
    );
    let streaming = Signal::derive(move || chat.is_streaming());
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
        leptos::task::spawn_local(super::actions::send(chat, content, files));
        #[cfg(not(feature = "hydrate"))]
        let _ = content;
    });
    let on_stop = Callback::new(move |_: ()| {
        #[cfg(feature = "hydrate")]
        super::actions::stop_all(chat);
    });
    let on_provider = Callback::new(move |provider: ProviderId| {
        let first = chat.first_model_of(provider);
        chat.provider.set(provider);
        chat.model.set(first);
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(super::actions::save_model(chat));
    });
    let on_model = Callback::new(move |model: String| {
        chat.model.set(model);
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(super::actions::save_model(chat));
    });
    let title = move || {
        chat.conversation
            .with(|c| c.as_ref().map(|c| c.title.clone()))
            .unwrap_or_else(|| "New chat".into())
    };

    view! {
        <section
            class=move || if files.dragging.get() { "chat-window dragging" } else { "chat-window" }
            aria-label="Chat"
            on:dragover=move |ev| drag_over(ev, files)
            on:dragleave=move |_| files.dragging.set(false)
            on:drop=move |ev| drop_files(ev, files)
        >
            <header class="chat-header">
                <h1 class="chat-title" data-testid="chat-title">{title}</h1>
                {move || imported_from(chat).map(|from| view! {
                    <span class="badge badge-imported" title=format!("Imported from {from}: its messages were written elsewhere and cost nothing here.")>
                        "Imported"
                    </span>
                })}
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
            <div class="messages" node_ref=chat.scroller aria-live="polite" aria-relevant="additions text"
                on:click=move |ev| on_messages_click(chat, ev)
                on:scroll=move |_| on_scroll(chat)>
                {move || {
                    let empty = !chat.history_shown.get()
                        && chat.items.with(|items| items.is_empty())
                        && chat.earlier.with(|earlier| earlier.is_empty());
                    empty.then(|| view! {
                        <div class="chat-empty">
                            <div class="brand-mark brand-mark-large" aria-hidden="true"></div>
                            <h2>"How can I help today?"</h2>
                            <p class="muted">"Pick a model above and write below. Replies stream in as they are written."</p>
                        </div>
                    })
                }}
                <div class="message-list">
                    <Show when=move || chat.more_earlier.get()>
                        <div class="load-earlier">
                            <button
                                type="button"
                                class="btn btn-small"
                                aria-busy=move || chat.loading_earlier.get().to_string()
                                on:click=move |_| load_earlier(chat)
                            >
                                {move || if chat.loading_earlier.get() { "Loading earlier messages…" } else { "Load earlier messages" }}
                            </button>
                        </div>
                    </Show>
                    <For
                        each=move || chat.earlier.get()
                        key=|(id, item)| (*id, *item)
                        children=move |(_, item)| view! { <ChatMessage item hide_streaming_text live_markdown chat/> }
                    />
                    <div class="message-history" hidden=move || !chat.history_shown.get()>
                        {children()}
                    </div>
                    <For
                        each=move || chat.items.get()
                        // The signal too: a branch shown again brings new signals for ids
                        // already on the page, and their rows must follow the new ones.
                        key=|(id, item)| (*id, *item)
                        children=move |(_, item)| view! { <ChatMessage item hide_streaming_text live_markdown chat/> }
                    />
                </div>
                <JumpToLatest chat/>
            </div>
            <RegenerateMenuPopup chat/>
            {move || chat.notice.get().map(|n| view! { <p class="notice" role="alert">{n}</p> })}
            <div class="composer">
                <ChatInput text=chat.text streaming blocked on_send on_stop textarea files/>
            </div>
            // Runs as the page is parsed, before its first paint and long before the WASM: the
            // page opens on its newest message, not its oldest.
            <script nonce=leptos::nonce::use_nonce() inner_html=OPEN_AT_NEWEST></script>
        </section>
    }
}

/// Scrolls the messages to the newest. CSS's `scroll-initial-target` did this without a script,
/// but Chromium held the page's first paint for a second while it placed it (Lighthouse: first
/// paint at 1.2 s against 0.2 s without it, the same page served as a file).
const OPEN_AT_NEWEST: &str = "(function(){var m=document.currentScript.parentNode\
    .querySelector('.messages');if(m)m.scrollTop=m.scrollHeight})()";

/// Where the conversation was imported from, named for people (`None` when written here).
fn imported_from(chat: Chat) -> Option<&'static str> {
    chat.conversation.with(|c| {
        c.as_ref()
            .and_then(|c| c.imported_from.as_deref())
            .map(|source| match source {
                "chatgpt" => "ChatGPT",
                "rustchat" => "Rustchat",
                _ => "another app",
            })
    })
}

/// Scrolling up from the newest message stops the stream from moving the view; near the top,
/// the messages above the first one shown load.
fn on_scroll(chat: Chat) {
    chat.away_from_latest.set(!chat.near_bottom());
    let near_top = chat
        .scroller
        .get_untracked()
        .is_some_and(|el| el.scroll_top() < 240);
    if near_top && chat.more_earlier.get_untracked() {
        load_earlier(chat);
    }
}

fn load_earlier(chat: Chat) {
    #[cfg(feature = "hydrate")]
    leptos::task::spawn_local(super::branching::load_earlier(chat));
    #[cfg(not(feature = "hydrate"))]
    let _ = chat;
}

/// Files dragged over the chat can be dropped on it.
fn drag_over(ev: leptos::ev::DragEvent, files: PendingFiles) {
    ev.prevent_default();
    files.dragging.set(true);
}

fn drop_files(ev: leptos::ev::DragEvent, files: PendingFiles) {
    ev.prevent_default();
    files.dragging.set(false);
    #[cfg(feature = "hydrate")]
    files.add_all(ev.data_transfer().and_then(|d| d.files()), false);
}

/// The one listener of the messages (their HTML may be the server's, never hydrated): code
/// copy buttons and the message tools.
fn on_messages_click(chat: Chat, ev: leptos::ev::MouseEvent) {
    #[cfg(feature = "hydrate")]
    {
        super::shortcuts::copy_code(ev.clone());
        super::branching::on_click(chat, ev);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (chat, ev);
}
