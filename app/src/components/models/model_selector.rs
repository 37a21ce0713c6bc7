use leptos::prelude::*;

use crate::wire::{Micros, ModelView, ProviderId};

use crate::components::format;

/// The models of the chosen provider, with context window and prices.
#[component]
pub fn ModelSelector(
    models: StoredValue<Vec<ModelView>>,
    provider: Signal<ProviderId>,
    model: Signal<String>,
    on_change: Callback<String>,
) -> impl IntoView {
    let options = move || {
        let provider = provider.get();
        models.with_value(|all| {
            all.iter()
                .filter(|m| m.provider == provider)
                .cloned()
                .collect::<Vec<_>>()
        })
    };
    view! {
        <label class="select-label">
            <span class="visually-hidden">"Model"</span>
            <select aria-label="Model" on:change=move |ev| on_change.run(event_target_value(&ev))>
                {move || {
                    options()
                        .into_iter()
                        .map(|m| {
                            let selected = m.model == model.get();
                            let label = format!(
                                "{} · {} · {} in / {} out per 1M",
                                m.display_name,
                                format::context_window(m.context_window),
                                Micros(m.input_micros_per_mtok).price(),
                                Micros(m.output_micros_per_mtok).price(),
                            );
                            view! { <option value=m.model.clone() selected=selected>{label}</option> }
                        })
                        .collect_view()
                }}
            </select>
        </label>
    }
}
