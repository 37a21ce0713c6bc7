use leptos::prelude::*;

use crate::wire::{ModelView, ProviderId};

/// The configured providers (those with models offered here).
#[component]
pub fn ProviderSelector(
    models: StoredValue<Vec<ModelView>>,
    provider: Signal<ProviderId>,
    on_change: Callback<ProviderId>,
) -> impl IntoView {
    let providers = move || {
        let mut ids: Vec<ProviderId> =
            models.with_value(|m| m.iter().map(|m| m.provider).collect());
        ids.dedup();
        ids
    };
    view! {
        <label class="select-label">
            <span class="visually-hidden">"Provider"</span>
            <select
                aria-label="Provider"
                on:change=move |ev| {
                    if let Ok(id) = event_target_value(&ev).parse() {
                        on_change.run(id);
                    }
                }
            >
                {move || {
                    providers()
                        .into_iter()
                        .map(|id| {
                            let selected = id == provider.get();
                            view! { <option value=id.as_str() selected=selected>{id.display_name()}</option> }
                        })
                        .collect_view()
                }}
            </select>
        </label>
    }
}
