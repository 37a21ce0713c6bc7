//! "New chat from preset": the ▾ beside New chat opens the user's presets (loaded the first
//! time it opens); picking one creates a conversation with the preset's model, temperature,
//! max tokens and system prompt (`POST /api/conversations {preset_id}`) and opens it.

use leptos::{html, prelude::*};

use crate::wire::PresetView;

// Only the browser moves it past its first state.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
#[derive(Clone, Debug, PartialEq)]
enum Presets {
    NotLoaded,
    Loading,
    Loaded(Vec<PresetView>),
    Failed(String),
}

#[component]
pub fn PresetMenu() -> impl IntoView {
    let open = RwSignal::new(false);
    let presets = RwSignal::new(Presets::NotLoaded);
    let creating = RwSignal::new(false);
    let button = NodeRef::<html::Button>::new();

    let toggle = move |_| {
        let opening = !open.get_untracked();
        open.set(opening);
        #[cfg(feature = "hydrate")]
        if opening
            && !matches!(
                presets.get_untracked(),
                Presets::Loaded(_) | Presets::Loading
            )
        {
            presets.set(Presets::Loading);
            leptos::task::spawn_local(async move {
                let loaded = crate::components::chat::api::call::<(), Vec<PresetView>>(
                    "GET",
                    "/api/presets",
                    None,
                )
                .await;
                presets.set(match loaded {
                    Ok(all) => Presets::Loaded(all),
                    Err(message) => Presets::Failed(message),
                });
            });
        }
    };
    let close = move || {
        open.set(false);
        if let Some(b) = button.get_untracked() {
            let _ = b.focus();
        }
    };
    let start = move |preset: PresetView| {
        creating.set(true);
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async move {
            let created = crate::components::chat::api::call::<_, crate::wire::ConversationView>(
                "POST",
                "/api/conversations",
                Some(&serde_json::json!({ "preset_id": preset.id })),
            )
            .await;
            match created {
                Ok(conversation) => {
                    if let Some(w) = web_sys::window() {
                        let _ = w.location().set_href(&format!("/c/{}", conversation.id));
                    }
                }
                Err(message) => {
                    creating.set(false);
                    presets.set(Presets::Failed(message));
                }
            }
        });
        #[cfg(not(feature = "hydrate"))]
        let _ = preset;
    };
    // The first choice takes the focus when the menu opens.
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        let _ = presets.get();
        if open.get() {
            if let Some(first) = web_sys::window()
                .and_then(|w| w.document())
                .and_then(|d| d.query_selector("#preset-menu .menu-item").ok().flatten())
                .and_then(|el| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(el).ok())
            {
                let _ = first.focus();
            }
        }
    });

    let items = move || match presets.get() {
        Presets::NotLoaded | Presets::Loading => {
            view! { <p class="menu-note" role="status">"Loading presets…"</p> }.into_any()
        }
        Presets::Failed(message) => {
            view! { <p class="menu-note form-error" role="alert">{message}</p> }.into_any()
        }
        Presets::Loaded(all) if all.is_empty() => view! {
            <p class="menu-note">"No presets yet."</p>
            <a class="menu-item" href="/settings#presets">"Create one in Settings"</a>
        }
        .into_any(),
        Presets::Loaded(all) => all
            .into_iter()
            .map(|preset| {
                let name = preset.name.clone();
                let model = preset.model.clone();
                view! {
                    <button
                        type="button"
                        class="menu-item"
                        disabled=move || creating.get()
                        on:click=move |_| start(preset.clone())
                    >
                        <span class="menu-item-name">{name}</span>
                        <span class="menu-item-provider">{model}</span>
                    </button>
                }
            })
            .collect_view()
            .into_any(),
    };

    view! {
        <button
            type="button"
            class="btn btn-icon preset-toggle"
            aria-label="New chat from preset"
            title="New chat from preset"
            aria-expanded=move || open.get().to_string()
            aria-controls=move || open.get().then_some("preset-menu")
            node_ref=button
            on:click=toggle
        >
            <svg viewBox="0 0 24 24" width="16" height="16" aria-hidden="true" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">
                <path d="m6 9 6 6 6-6"></path>
            </svg>
        </button>
        <Show when=move || open.get()>
            <div class="menu-backdrop" on:click=move |_| open.set(false)></div>
            <div
                class="preset-menu"
                id="preset-menu"
                on:keydown=move |ev| {
                    if ev.key() == "Escape" {
                        ev.prevent_default();
                        close();
                    }
                }
            >
                <p class="menu-title">"New chat from preset"</p>
                {items}
            </div>
        </Show>
    }
}
