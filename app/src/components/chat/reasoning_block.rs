//! What a reply thought before answering, as a collapsible "Thinking…" block: open while the
//! reasoning streams, closed once the answer starts (a reader may open it again), with its
//! token count — the provider's once the reply is finished, an estimate while it streams.

use leptos::prelude::*;

use crate::{components::format, wire::MessageItem};

#[component]
pub fn ReasoningBlock(item: RwSignal<MessageItem>) -> impl IntoView {
    // Memos, so the block is built once and opened or closed only when these change, not on
    // every piece: a reader's own click between pieces stays.
    let has_reasoning = Memo::new(move |_| {
        item.with(|i| {
            i.message
                .reasoning
                .as_deref()
                .is_some_and(|r| !r.is_empty())
        })
    });
    let thinking = Memo::new(move |_| {
        item.with(|i| i.message.status.is_streaming() && i.message.content.is_empty())
    });
    let tokens = move || {
        item.with(|i| {
            let m = &i.message;
            let count = if m.reasoning_tokens > 0 {
                m.reasoning_tokens
            } else {
                format::estimate_tokens(m.reasoning.as_deref().unwrap_or_default())
            };
            format!("{} tokens", format::tokens(count))
        })
    };
    let text = move || item.with(|i| i.message.reasoning.clone().unwrap_or_default());
    view! {
        <Show when=move || has_reasoning.get()>
            <details class="reasoning" prop:open=move || thinking.get()>
                <summary>
                    <span class="reasoning-label">
                        {move || if thinking.get() { "Thinking…" } else { "Thought" }}
                    </span>
                    <span class="reasoning-tokens">{tokens}</span>
                </summary>
                <div class="reasoning-body">{text}</div>
            </details>
        </Show>
    }
}
