use leptos::prelude::*;

use crate::wire::ModelView;

pub fn provider_label(id: &str) -> &'static str {
    match id {
        "openai" => "OpenAI",
        "anthropic" => "Anthropic",
        "google" => "Google Gemini",
        "demo" => "Offline demo",
        _ => "Other",
    }
}

/// The configured providers (those with models offered here).
#[component]
pub fn ProviderSelector(
    models: StoredValue<Vec<ModelView>>,
    provider: Signal<String>,
    on_change: Callback<String>,
) -> impl IntoView {
    let providers = move || {
        let mut ids: Vec<String> =
            models.with_value(|m| m.iter().map(|m| m.provider.clone()).collect());
        ids.dedup();
        ids
    };
    view! {
        <label class="select-label">
            <span class="visually-hidden">"Provider"</span>
            <select aria-label="Provider" on:change=move |ev| on_change.run(event_target_value(&ev))>
                {move || {
                    providers()
                        .into_iter()
                        .map(|id| {
                            let selected = id == provider.get();
                            view! { <option value=id.clone() selected=selected>{provider_label(&id)}</option> }
                        })
                        .collect_view()
                }}
            </select>
        </label>
    }
}
