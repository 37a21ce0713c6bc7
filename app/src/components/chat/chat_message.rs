use leptos::prelude::*;

use super::{
    attachments::MessageAttachments, edit_box::EditBox, message_tools::MessageTools,
    reasoning_block::ReasoningBlock, state::Chat,
};
use crate::{
    components::format,
    wire::{MessageItem, MessageStatus, Micros, ProviderId, Role},
};

/// One message. A finished message shows the HTML the server rendered (the same after a
/// reload as when it streamed in); a streaming one shows its text as it grows. In the island
/// (`chat` given), a question being edited shows its editor instead.
#[component]
pub fn ChatMessage(
    item: RwSignal<MessageItem>,
    #[prop(optional)] hide_streaming_text: bool,
    /// Render a reply's Markdown as it streams (the user's Markdown setting).
    #[prop(optional)]
    live_markdown: bool,
    #[prop(optional)] chat: Option<Chat>,
) -> impl IntoView {
    let role = item.with_untracked(|i| i.message.role);
    let id = item.with_untracked(|i| i.message.id);
    let editing = move || chat.is_some_and(|chat| chat.editing.get() == Some(id));
    // Nothing while a reply streams (no clone per delta); a finished message's tools follow
    // its changes (a sibling added, its rendering arrived).
    let tools = move || {
        let message =
            item.with(|i| (!i.message.status.is_streaming()).then(|| i.message.clone()))?;
        (!editing()).then(|| view! { <MessageTools message/> })
    };
    let status = move || item.with(|i| i.message.status);
    let is_assistant = role == Role::Assistant;
    let body = move || {
        item.with(|i| match (&i.html, i.message.status) {
            (Some(html), _) => {
                view! { <div class="message-body" inner_html=html.clone()></div> }.into_any()
            }
            (None, MessageStatus::Streaming)
                if i.message.content.is_empty() || hide_streaming_text =>
            {
                view! {
                    <div class="message-body">
                        <p class="typing" aria-label="Generating">
                            <span></span><span></span><span></span>
                        </p>
                    </div>
                }
                .into_any()
            }
            // A reply as it streams (and until its stored rendering arrives): the same Markdown
            // rewrites as the server's, without highlighting, so its lists and code blocks
            // take their final shape as they grow and the swap at the end moves nothing.
            (None, _) if live_markdown && is_assistant => {
                let html = crate::markdown::markdown_to_html(&i.message.content, &mut |_, _| None);
                view! { <div class="message-body" inner_html=html></div> }.into_any()
            }
            (None, _) => view! {
                <div class="message-body"><p class="plain">{i.message.content.clone()}</p></div>
            }
            .into_any(),
        })
    };
    let badge = move || {
        item.with(|i| match i.message.status {
            MessageStatus::Streaming => Some(view! { <span class="badge badge-live">"Generating…"</span> }.into_any()),
            MessageStatus::Stopped => Some(view! { <span class="badge">"Stopped"</span> }.into_any()),
            MessageStatus::Interrupted => Some(
                view! { <span class="badge badge-warn" title="The server restarted while this reply was generated.">"Interrupted"</span> }
                    .into_any(),
            ),
            MessageStatus::Error => Some(
                view! { <span class="badge badge-error">"Error"</span> }.into_any(),
            ),
            MessageStatus::Complete => None,
        })
    };
    let error = move || {
        item.with(|i| {
            i.message
                .error
                .clone()
                .filter(|_| {
                    matches!(
                        i.message.status,
                        MessageStatus::Error | MessageStatus::Interrupted
                    )
                })
                .map(|e| view! { <p class="message-error" role="alert">{e}</p> })
        })
    };
    let meta = move || {
        item.with(|i| {
            let m = &i.message;
            (is_assistant && !m.status.is_streaming()).then(|| {
                let model = m.model.clone().unwrap_or_default();
                // The main demo by its name; another model (the brief demo too) by its id.
                let model = match m.provider {
                    Some(ProviderId::Demo) if model == "demo-offline" => {
                        ProviderId::Demo.display_name().to_owned()
                    }
                    _ => model,
                };
                view! {
                    <div class="message-meta">
                        // The Markdown source; the chat island's one click listener copies it
                        // (`shortcuts::copy_code`), for replies of the history too.
                        <button type="button" class="copy-btn copy-reply" aria-label="Copy reply" data-code=m.content.clone()>
                            "Copy"
                        </button>
                        <span class="meta-model">{model}</span>
                        <span title=format!("{} prompt + {} completion tokens", format::tokens(m.prompt_tokens), format::tokens(m.completion_tokens))>
                            {format!("{} tokens", format::tokens(m.total_tokens))}
                        </span>
                        <span class="meta-cost">{Micros(m.cost_micros).cost()}</span>
                    </div>
                }
            })
        })
    };
    // Shown on hover and focus: when it was written, and by which model.
    let when = item.with_untracked(|i| {
        let m = &i.message;
        let model = m.model.clone().filter(|_| is_assistant);
        view! {
            <span class="message-when">
                {model.map(|model| view! { <span class="when-model">{model}</span> })}
                <time datetime=m.created_at.to_rfc3339()>{format::when(m.created_at)}</time>
            </span>
        }
    });
    view! {
        <article
            class=move || format!("message message-{} status-{}", role, status())
            data-message-id=item.with_untracked(|i| i.message.id.to_string())
            // Focusable, so a keyboard reveals its time as hovering does.
            tabindex="0"
        >
            <div class="message-avatar" aria-hidden="true">{if is_assistant { "AI" } else { "You" }}</div>
            <div class="message-main">
                <div class="message-head">
                    <span class="message-author">{if is_assistant { "Assistant" } else { "You" }}</span>
                    {badge}
                    {when}
                </div>
                <ReasoningBlock item/>
                {move || item.with(|i| view! { <MessageAttachments attachments=i.message.attachments.clone()/> })}
                {move || {
                    match (editing(), chat) {
                        (true, Some(chat)) => view! { <EditBox item chat/> }.into_any(),
                        _ => body().into_any(),
                    }
                }}
                {error}
                {meta}
                {tools}
            </div>
        </article>
    }
}

/// Finished messages that can no longer change, rendered once on the server with the same
/// markup as [`ChatMessage`]. Passed into the chat island as children, so they are neither in
/// its props nor hydrated.
#[component]
pub fn MessageHistory(messages: Vec<MessageItem>, hide_streaming_text: bool) -> impl IntoView {
    messages
        .into_iter()
        .map(|item| view! { <ChatMessage item=RwSignal::new(item) hide_streaming_text/> })
        .collect_view()
}
