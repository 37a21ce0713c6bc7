//! "Presets": saved model settings to start a chat from (the sidebar's ▾ beside New chat).
//! The list, and one form that creates a preset or edits the one chosen, through
//! `/api/presets`; what the server refuses (422) is said above the form, in its words.

use leptos::prelude::*;
use uuid::Uuid;

use crate::wire::{ModelView, PresetInput, PresetView, ProviderId};

/// The temperature a new preset starts with (the server's default too).
const DEFAULT_TEMPERATURE: &str = "0.7";

// Only the browser moves it past its first state.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
#[derive(Clone, Debug, PartialEq)]
enum Loaded {
    Loading,
    Ready(Vec<PresetView>),
    Failed(String),
}

/// The form's fields as typed.
#[derive(Clone, Copy)]
struct Fields {
    name: RwSignal<String>,
    /// `provider/model`.
    model: RwSignal<String>,
    temperature: RwSignal<String>,
    max_tokens: RwSignal<String>,
    system_prompt: RwSignal<String>,
}

impl Fields {
    fn fill(&self, preset: Option<&PresetView>, first_model: &str) {
        match preset {
            Some(p) => {
                self.name.set(p.name.clone());
                self.model.set(format!("{}/{}", p.provider, p.model));
                self.temperature.set(p.temperature.to_string());
                self.max_tokens.set(p.max_tokens.to_string());
                self.system_prompt
                    .set(p.system_prompt.clone().unwrap_or_default());
            }
            None => {
                self.name.set(String::new());
                self.model.set(first_model.to_owned());
                self.temperature.set(DEFAULT_TEMPERATURE.to_owned());
                self.max_tokens.set(String::new());
                self.system_prompt.set(String::new());
            }
        }
    }

    fn input(&self, editing: bool) -> Result<PresetInput, String> {
        preset_input(
            Typed {
                name: self.name.get_untracked(),
                model: self.model.get_untracked(),
                temperature: self.temperature.get_untracked(),
                max_tokens: self.max_tokens.get_untracked(),
                system_prompt: self.system_prompt.get_untracked(),
            },
            editing,
        )
    }
}

/// The form's text, as typed.
struct Typed {
    name: String,
    /// `provider/model`.
    model: String,
    temperature: String,
    max_tokens: String,
    system_prompt: String,
}

/// What to send. A new preset leaves out what is blank (the server's defaults apply); a change
/// sends the system prompt even when empty, which removes it. Numbers that do not parse are
/// refused here; every other rule is the server's to say.
fn preset_input(typed: Typed, editing: bool) -> Result<PresetInput, String> {
    // Only the first `/` separates the provider: model ids may hold one.
    let (provider, model) = typed
        .model
        .split_once('/')
        .map(|(p, m)| (p.to_owned(), m.to_owned()))
        .ok_or("Choose a model for the preset.")?;
    let temperature = match typed.temperature.trim() {
        "" => None,
        t => Some(
            t.parse::<f64>()
                .map_err(|_| "Write the temperature as a number, like 0.7.")?,
        ),
    };
    let max_tokens = match typed.max_tokens.trim() {
        "" => None,
        t => Some(
            t.parse::<i32>()
                .map_err(|_| "Write the max tokens as a whole number, like 1024.")?,
        ),
    };
    let system_prompt = typed.system_prompt;
    let system_prompt = (editing || !system_prompt.trim().is_empty()).then_some(system_prompt);
    Ok(PresetInput {
        name: Some(typed.name),
        provider: Some(provider),
        model: Some(model),
        temperature,
        max_tokens,
        system_prompt,
    })
}

/// `Offline demo · demo-offline · temperature 0.7 · 1,024 max tokens`.
fn summary(preset: &PresetView, models: &[ModelView]) -> String {
    let model = models
        .iter()
        .find(|m| m.provider == preset.provider && m.model == preset.model)
        .map_or(preset.model.as_str(), |m| m.display_name.as_str());
    format!(
        "{} · {} · temperature {} · {} max tokens",
        preset.provider.display_name(),
        model,
        preset.temperature,
        crate::components::format::tokens(i64::from(preset.max_tokens)),
    )
}

#[island]
pub fn PresetsCard(models: Vec<ModelView>) -> impl IntoView {
    let models = StoredValue::new(models);
    let first_model = models.with_value(|all| {
        all.first()
            .map(|m| format!("{}/{}", m.provider, m.model))
            .unwrap_or_default()
    });
    let loaded = RwSignal::new(Loaded::Loading);
    let editing = RwSignal::new(None::<Uuid>);
    let error = RwSignal::new(None::<String>);
    let status = RwSignal::new(None::<String>);
    let saving = RwSignal::new(false);
    let fields = Fields {
        name: RwSignal::new(String::new()),
        model: RwSignal::new(first_model.clone()),
        temperature: RwSignal::new(DEFAULT_TEMPERATURE.to_owned()),
        max_tokens: RwSignal::new(String::new()),
        system_prompt: RwSignal::new(String::new()),
    };
    let first_model = StoredValue::new(first_model);

    #[cfg(feature = "hydrate")]
    leptos::task::spawn_local(async move {
        let all =
            crate::components::chat::api::call::<(), Vec<PresetView>>("GET", "/api/presets", None)
                .await;
        loaded.set(match all {
            Ok(all) => Loaded::Ready(all),
            Err(message) => Loaded::Failed(message),
        });
    });

    let start_edit = move |preset: PresetView| {
        error.set(None);
        status.set(None);
        editing.set(Some(preset.id));
        first_model.with_value(|first| fields.fill(Some(&preset), first));
        #[cfg(feature = "hydrate")]
        if let Some(el) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.get_element_by_id("preset_name"))
            .and_then(|el| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(el).ok())
        {
            let _ = el.focus();
        }
    };
    let cancel = move |_| {
        error.set(None);
        editing.set(None);
        first_model.with_value(|first| fields.fill(None, first));
    };
    let delete = move |preset: PresetView| {
        #[cfg(feature = "hydrate")]
        {
            let sure = web_sys::window()
                .and_then(|w| {
                    w.confirm_with_message(&format!(
                        "Delete the preset “{}”? Chats started from it keep their settings.",
                        preset.name
                    ))
                    .ok()
                })
                .unwrap_or(false);
            if !sure {
                return;
            }
            leptos::task::spawn_local(async move {
                let deleted = crate::components::chat::api::call::<(), ()>(
                    "DELETE",
                    &format!("/api/presets/{}", preset.id),
                    None,
                )
                .await;
                match deleted {
                    Ok(()) => {
                        loaded.update(|l| {
                            if let Loaded::Ready(all) = l {
                                all.retain(|p| p.id != preset.id);
                            }
                        });
                        if editing.get_untracked() == Some(preset.id) {
                            editing.set(None);
                            first_model.with_value(|first| fields.fill(None, first));
                        }
                        status.set(Some(format!("Preset “{}” deleted.", preset.name)));
                    }
                    Err(message) => error.set(Some(message)),
                }
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = preset;
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        error.set(None);
        status.set(None);
        let id = editing.get_untracked();
        let input = match fields.input(id.is_some()) {
            Ok(input) => input,
            Err(message) => {
                error.set(Some(message));
                return;
            }
        };
        saving.set(true);
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async move {
            let saved = match id {
                Some(id) => {
                    crate::components::chat::api::call::<_, PresetView>(
                        "PATCH",
                        &format!("/api/presets/{id}"),
                        Some(&input),
                    )
                    .await
                }
                None => {
                    crate::components::chat::api::call::<_, PresetView>(
                        "POST",
                        "/api/presets",
                        Some(&input),
                    )
                    .await
                }
            };
            saving.set(false);
            match saved {
                Ok(preset) => {
                    status.set(Some(if id.is_some() {
                        format!("Preset “{}” saved.", preset.name)
                    } else {
                        format!("Preset “{}” created.", preset.name)
                    }));
                    loaded.update(|l| {
                        if let Loaded::Ready(all) = l {
                            all.retain(|p| p.id != preset.id);
                            all.push(preset);
                            all.sort_by_key(|p| p.name.to_lowercase());
                        }
                    });
                    editing.set(None);
                    first_model.with_value(|first| fields.fill(None, first));
                }
                Err(message) => error.set(Some(message)),
            }
        });
        #[cfg(not(feature = "hydrate"))]
        let _ = input;
    };

    let list = move || {
        match loaded.get() {
        Loaded::Loading => {
            // No live region: the page's one status is what its forms say after a save.
            view! { <p class="hint">"Loading your presets…"</p> }.into_any()
        }
        Loaded::Failed(message) => {
            view! { <p class="form-error" role="alert">{message}</p> }.into_any()
        }
        Loaded::Ready(all) if all.is_empty() => view! {
            <p class="hint preset-empty">"No presets yet. Make one below: it appears under the ▾ beside New chat."</p>
        }
        .into_any(),
        Loaded::Ready(all) => {
            let rows = all
                .into_iter()
                .map(|preset| {
                    let line = models.with_value(|m| summary(&preset, m));
                    let prompt = preset.system_prompt.clone().filter(|p| !p.trim().is_empty());
                    let (for_edit, for_delete) = (preset.clone(), preset.clone());
                    let name = preset.name.clone();
                    view! {
                        <li class="session-row preset-row" class:current=move || editing.get() == Some(preset.id)>
                            <div class="session-text">
                                <p class="session-agent">{preset.name.clone()}</p>
                                <p class="hint">{line}</p>
                                {prompt.map(|p| view! { <p class="hint preset-prompt">{p}</p> })}
                            </div>
                            <div class="preset-actions">
                                <button type="button" class="btn btn-small" aria-label=format!("Edit {name}") on:click=move |_| start_edit(for_edit.clone())>
                                    "Edit"
                                </button>
                                <button type="button" class="btn btn-small btn-danger" aria-label=format!("Delete {name}") on:click=move |_| delete(for_delete.clone())>
                                    "Delete"
                                </button>
                            </div>
                        </li>
                    }
                })
                .collect_view();
            view! { <ul class="session-list preset-list">{rows}</ul> }.into_any()
        }
    }
    };
    let model_options = move || {
        let chosen = fields.model.get();
        let mut groups: Vec<(ProviderId, Vec<ModelView>)> = Vec::new();
        models.with_value(|all| {
            for m in all {
                match groups.iter_mut().find(|(p, _)| *p == m.provider) {
                    Some((_, members)) => members.push(m.clone()),
                    None => groups.push((m.provider, vec![m.clone()])),
                }
            }
        });
        let listed = groups.iter().any(|(_, ms)| {
            ms.iter()
                .any(|m| format!("{}/{}", m.provider, m.model) == chosen)
        });
        // A preset's model that is no longer offered stays chosen, so saving a rename does not
        // change it.
        let unlisted = (!listed && !chosen.is_empty()).then(|| {
            let label = format!(
                "{} (not available now)",
                chosen.split_once('/').map_or(chosen.as_str(), |(_, m)| m)
            );
            view! {
                <optgroup label="Current model">
                    <option value=chosen.clone() selected=true>{label}</option>
                </optgroup>
            }
        });
        let groups = groups
            .into_iter()
            .map(|(provider, members)| {
                let options = members
                    .into_iter()
                    .map(|m| {
                        let value = format!("{}/{}", m.provider, m.model);
                        let selected = value == chosen;
                        view! { <option value=value selected=selected>{m.display_name}</option> }
                    })
                    .collect_view();
                view! { <optgroup label=provider.display_name()>{options}</optgroup> }
            })
            .collect_view();
        view! { {unlisted} {groups} }
    };

    view! {
        <div class="settings-card settings-form settings-presets" id="presets">
            <section class="settings-section" aria-labelledby="settings-presets-title">
                <h2 id="settings-presets-title">"Presets"</h2>
                <p class="hint section-intro">
                    "A model with its temperature, reply length and system prompt, saved under a name. "
                    "Start a chat from one with the ▾ beside New chat."
                </p>
                {list}
                <form class="preset-form" novalidate=true on:submit=submit aria-labelledby="preset-form-title">
                    <h3 id="preset-form-title">{move || if editing.get().is_some() { "Edit preset" } else { "New preset" }}</h3>
                    {move || status.get().map(|s| view! { <p class="form-status" role="status">{s}</p> })}
                    {move || error.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
                    <div class="field">
                        <label for="preset_name">"Name"</label>
                        <input type="text" id="preset_name" maxlength="100" autocomplete="off" placeholder="e.g. Careful reviewer"
                            prop:value=move || fields.name.get()
                            on:input=move |ev| fields.name.set(event_target_value(&ev))/>
                    </div>
                    <div class="field">
                        <label for="preset_model">"Model"</label>
                        <select id="preset_model" on:change=move |ev| fields.model.set(event_target_value(&ev))>
                            {model_options}
                        </select>
                    </div>
                    <div class="preset-numbers">
                        <div class="field">
                            <label for="preset_temperature">"Temperature"</label>
                            <input type="number" id="preset_temperature" step="0.1" min="0" max="2" inputmode="decimal"
                                aria-describedby="preset_temperature-hint"
                                prop:value=move || fields.temperature.get()
                                on:input=move |ev| fields.temperature.set(event_target_value(&ev))/>
                            <p class="hint" id="preset_temperature-hint">"0 is focused, 2 is free."</p>
                        </div>
                        <div class="field">
                            <label for="preset_max_tokens">"Max tokens"</label>
                            <input type="number" id="preset_max_tokens" step="1" min="1" inputmode="numeric" placeholder="Model default"
                                aria-describedby="preset_max_tokens-hint"
                                prop:value=move || fields.max_tokens.get()
                                on:input=move |ev| fields.max_tokens.set(event_target_value(&ev))/>
                            <p class="hint" id="preset_max_tokens-hint">"The longest reply, in tokens."</p>
                        </div>
                    </div>
                    <div class="field">
                        <label for="preset_system_prompt">"System prompt"</label>
                        <textarea id="preset_system_prompt" rows="3" placeholder="Optional: how the assistant should behave"
                            prop:value=move || fields.system_prompt.get()
                            on:input=move |ev| fields.system_prompt.set(event_target_value(&ev))></textarea>
                    </div>
                    <div class="section-actions">
                        {move || editing.get().is_some().then(|| view! {
                            <button type="button" class="btn" on:click=cancel>"Cancel"</button>
                        })}
                        <button type="submit" class="btn btn-primary" disabled=move || saving.get()>
                            {move || if editing.get().is_some() { "Save preset" } else { "Create preset" }}
                        </button>
                    </div>
                </form>
            </section>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;

    fn fields(model: &str, temperature: &str, max_tokens: &str, prompt: &str) -> Typed {
        Typed {
            name: "Reviewer".into(),
            model: model.into(),
            temperature: temperature.into(),
            max_tokens: max_tokens.into(),
            system_prompt: prompt.into(),
        }
    }

    #[test]
    fn a_new_preset_leaves_blank_fields_to_the_server() {
        let input = preset_input(fields("demo/demo-offline", "0.2", "", "  "), false).unwrap();
        assert_eq!(input.provider.as_deref(), Some("demo"));
        assert_eq!(input.model.as_deref(), Some("demo-offline"));
        assert_eq!(input.temperature, Some(0.2));
        assert_eq!(input.max_tokens, None);
        assert_eq!(input.system_prompt, None);
    }

    #[test]
    fn a_change_sends_an_emptied_system_prompt_to_remove_it() {
        let input = preset_input(fields("openai/org/model-1", "", "512", ""), true).unwrap();
        assert_eq!(input.model.as_deref(), Some("org/model-1"));
        assert_eq!(input.max_tokens, Some(512));
        assert_eq!(input.system_prompt.as_deref(), Some(""));
    }

    #[test]
    fn numbers_that_do_not_parse_are_refused_with_a_sentence() {
        assert!(preset_input(fields("demo/x", "warm", "", ""), false).is_err());
        assert!(preset_input(fields("demo/x", "0.7", "1.5", ""), false).is_err());
        assert!(preset_input(fields("", "0.7", "", ""), false).is_err());
    }

    #[test]
    fn the_summary_names_the_provider_and_the_model() {
        let preset = PresetView {
            id: Uuid::now_v7(),
            name: "Quick".into(),
            provider: ProviderId::Demo,
            model: "demo-offline".into(),
            temperature: 0.7,
            max_tokens: 1024,
            system_prompt: None,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        };
        assert_eq!(
            summary(&preset, &[]),
            "Offline demo · demo-offline · temperature 0.7 · 1,024 max tokens"
        );
    }
}
