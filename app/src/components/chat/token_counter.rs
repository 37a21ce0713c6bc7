use leptos::prelude::*;

use crate::{components::format, wire::ConversationView};

/// The conversation's prompt, completion and total tokens, live.
#[component]
pub fn TokenCounter(conversation: RwSignal<Option<ConversationView>>) -> impl IntoView {
    let figures = move || {
        conversation.with(|c| {
            c.as_ref()
                .map(|c| (c.prompt_tokens, c.completion_tokens, c.total_tokens))
                .unwrap_or_default()
        })
    };
    view! {
        <div class="token-counter" aria-label="Tokens used in this conversation">
            <span class="stat-label">"Tokens"</span>
            <span class="stat-value" data-testid="total-tokens">{move || format::tokens(figures().2)}</span>
            <span class="stat-detail">
                {move || format!("{} in · {} out", format::tokens(figures().0), format::tokens(figures().1))}
            </span>
        </div>
    }
}
