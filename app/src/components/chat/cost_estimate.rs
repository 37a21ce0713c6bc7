use leptos::prelude::*;

use crate::{components::format, wire::ConversationView};

/// What the conversation has cost so far, exactly, from the stored messages.
#[component]
pub fn CostEstimate(conversation: RwSignal<Option<ConversationView>>) -> impl IntoView {
    let micros = move || conversation.with(|c| c.as_ref().map_or(0, |c| c.cost_micros));
    view! {
        <div class="cost-estimate" aria-label="Cost of this conversation">
            <span class="stat-label">"Cost"</span>
            <span class="stat-value" data-testid="total-cost">{move || format::cost(micros())}</span>
        </div>
    }
}
