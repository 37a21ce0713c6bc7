use leptos::prelude::*;

use crate::wire::{BudgetView, ConversationView, Micros};

/// What the conversation has cost so far, exactly, from the stored messages.
#[component]
pub fn CostEstimate(conversation: RwSignal<Option<ConversationView>>) -> impl IntoView {
    let micros = move || conversation.with(|c| c.as_ref().map_or(0, |c| c.cost_micros));
    view! {
        <div class="cost-estimate" aria-label="Cost of this conversation">
            <span class="stat-label">"Cost"</span>
            <span class="stat-value" data-testid="total-cost">{move || Micros(micros()).cost()}</span>
        </div>
    }
}

/// This month's spending and, with a monthly budget, what is left of it (replies still
/// streaming hold their worst case until they finish).
#[component]
pub fn BudgetMeter(budget: RwSignal<BudgetView>) -> impl IntoView {
    let spent = move || budget.with(|b| Micros(b.spent_micros).cost());
    let left = move || {
        budget.with(|b| {
            b.budget_micros.map(|cap| {
                let remaining = b.remaining_micros().unwrap_or(0);
                let low = remaining * 10 < cap;
                view! {
                    <span class=if low { "budget-left budget-low" } else { "budget-left" } data-testid="budget-left">
                        {format!("{} left of {}", Micros(remaining).cost(), Micros(cap).cost())}
                    </span>
                }
            })
        })
    };
    view! {
        <a class="budget-meter" href="/usage" title="Your usage this month">
            <span class="stat-label">"This month"</span>
            <span class="stat-value" data-testid="month-spend">{spent}</span>
            {left}
        </a>
    }
}
