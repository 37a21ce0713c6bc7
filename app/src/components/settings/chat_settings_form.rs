//! The settings form: default model, theme, font size, and the reply toggles. A plain HTML form
//! posting to `/settings/save`; the server answers with a redirect back to `/settings` with
//! `?saved=1` or `?error=CODE`, which this form turns into a sentence. Rendered on the server
//! only: no island, nothing to hydrate.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::{
    page_data::SettingsPageData,
    wire::{ModelView, ProviderId},
};

/// The font sizes the page offers, in pixels.
pub const FONT_SIZE_CHOICES: [i32; 6] = [14, 15, 16, 17, 18, 20];

/// The themes and their labels.
const THEMES: [(&str, &str); 3] = [("light", "Light"), ("dark", "Dark"), ("system", "System")];

/// The human sentence for an error code the server put in `?error=`. Only known codes are
/// shown: nothing from the address bar is echoed into the page.
pub fn settings_error_message(code: &str) -> Option<&'static str> {
    Some(match code {
        "invalid_theme" => "Choose light, dark or system for the theme.",
        "invalid_font_size" => "Choose a font size between 12 and 24 pixels.",
        "model_unavailable" => {
            "That model cannot be used on this server right now. Pick another one."
        }
        "server_error" => {
            "Something went wrong on our side, so nothing was saved. Please try again."
        }
        _ => return None,
    })
}

/// The models grouped by provider, in the order the server listed them.
fn group_by_provider(models: &[ModelView]) -> Vec<(ProviderId, Vec<&ModelView>)> {
    let mut groups: Vec<(ProviderId, Vec<&ModelView>)> = Vec::new();
    for model in models {
        match groups
            .iter_mut()
            .find(|(provider, _)| *provider == model.provider)
        {
            Some((_, members)) => members.push(model),
            None => groups.push((model.provider, vec![model])),
        }
    }
    groups
}

#[component]
pub fn ChatSettingsForm(data: SettingsPageData) -> impl IntoView {
    let query = use_query_map();
    let (saved, error) = query.with_untracked(|q| {
        (
            q.get("saved").is_some_and(|v| v == "1"),
            q.get("error")
                .and_then(|code| settings_error_message(&code)),
        )
    });
    let settings = data.settings;

    let current_model = format!("{}/{}", settings.default_provider, settings.default_model);
    let current_listed = data.models.iter().any(|m| {
        m.provider.as_str() == settings.default_provider && m.model == settings.default_model
    });
    let model_groups = group_by_provider(&data.models)
        .into_iter()
        .map(|(provider, models)| {
            let options = models
                .into_iter()
                .map(|m| {
                    let value = format!("{}/{}", m.provider, m.model);
                    let selected = value == current_model;
                    view! {
                        <option value=value selected=selected>
                            {m.display_name.clone()}
                        </option>
                    }
                })
                .collect_view();
            view! { <optgroup label=provider.display_name()>{options}</optgroup> }
        })
        .collect_view();
    // A default that is no longer offered (its provider lost its key, say) stays selected, so
    // saving the other settings does not silently change it.
    let unlisted_model = (!current_listed).then(|| {
        let label = format!("{} (not available now)", settings.default_model);
        view! {
            <optgroup label="Current default">
                <option value=current_model.clone() selected=true>{label}</option>
            </optgroup>
        }
    });

    let theme_options = THEMES
        .iter()
        .map(|(value, label)| {
            let id = format!("theme-{value}");
            let checked = settings.theme == *value;
            view! {
                <div class="segment">
                    <input type="radio" id=id.clone() name="theme" value=*value checked=checked/>
                    <label for=id>{*label}</label>
                </div>
            }
        })
        .collect_view();

    let mut font_sizes = FONT_SIZE_CHOICES.to_vec();
    if !font_sizes.contains(&settings.font_size) {
        font_sizes.push(settings.font_size);
        font_sizes.sort_unstable();
    }
    let font_size_options = font_sizes
        .into_iter()
        .map(|size| {
            let label = if size == 16 {
                format!("{size} px (default)")
            } else {
                format!("{size} px")
            };
            view! {
                <option value=size.to_string() selected=size == settings.font_size>
                    {label}
                </option>
            }
        })
        .collect_view();

    let toggles = [
        (
            "streaming",
            "Stream replies",
            "Show a reply word by word while the model writes it.",
            settings.streaming,
        ),
        (
            "markdown",
            "Format replies",
            "Render Markdown: headings, lists, tables and links.",
            settings.markdown,
        ),
        (
            "code_highlight",
            "Highlight code",
            "Colour the syntax of code blocks in replies.",
            settings.code_highlight,
        ),
    ]
    .into_iter()
    .map(|(name, label, hint, checked)| {
        let hint_id = format!("{name}-hint");
        view! {
            <div class="toggle-row">
                <div class="toggle-text">
                    <label for=name>{label}</label>
                    <p class="hint" id=hint_id.clone()>{hint}</p>
                </div>
                <input
                    type="checkbox"
                    class="switch"
                    role="switch"
                    id=name
                    name=name
                    checked=checked
                    aria-describedby=hint_id
                />
            </div>
        }
    })
    .collect_view();

    view! {
        <form method="post" action="/settings/save" class="settings-card settings-form">
            {saved.then(|| view! { <p class="form-status" role="status">"Settings saved."</p> })}
            {error.map(|message| view! { <p class="form-error" role="alert">{message}</p> })}

            <section class="settings-section" aria-labelledby="settings-model-title">
                <h2 id="settings-model-title">"Model"</h2>
                <div class="field">
                    <label for="default_model">"Default model"</label>
                    <select id="default_model" name="default_model" aria-describedby="default_model-hint">
                        {model_groups}
                        {unlisted_model}
                    </select>
                    <p class="hint" id="default_model-hint">
                        "New chats start with this model. You can switch models in any chat."
                    </p>
                </div>
            </section>

            <section class="settings-section" aria-labelledby="settings-appearance-title">
                <h2 id="settings-appearance-title">"Appearance"</h2>
                <fieldset class="field field-group">
                    <legend>"Theme"</legend>
                    <div class="segmented">{theme_options}</div>
                    <p class="hint">"System follows your device's light or dark mode."</p>
                </fieldset>
                <div class="field">
                    <label for="font_size">"Font size"</label>
                    <select id="font_size" name="font_size" class="select-narrow">
                        {font_size_options}
                    </select>
                </div>
            </section>

            <fieldset class="settings-section toggle-group">
                <legend>
                    <h2>"Replies"</h2>
                </legend>
                {toggles}
            </fieldset>

            <div class="settings-actions">
                <button type="submit" class="btn btn-primary">"Save settings"</button>
            </div>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_error_codes_show_nothing() {
        assert!(settings_error_message("<script>alert(1)</script>").is_none());
        assert!(settings_error_message("invalid_theme").is_some());
        assert!(settings_error_message("model_unavailable").is_some());
    }

    fn model(provider: &str, model: &str) -> ModelView {
        ModelView {
            provider: provider.parse().unwrap(),
            model: model.into(),
            display_name: model.into(),
            context_window: 1,
            input_micros_per_mtok: 0,
            cached_input_micros_per_mtok: None,
            output_micros_per_mtok: 0,
            enabled: true,
            supports_images: false,
        }
    }

    #[test]
    fn models_group_by_provider_in_list_order() {
        let models = [
            model("demo", "demo-offline"),
            model("openai", "gpt-5"),
            model("anthropic", "claude"),
            model("openai", "gpt-5-mini"),
        ];
        let groups = group_by_provider(&models);
        let names: Vec<_> = groups
            .iter()
            .map(|(p, ms)| (p.as_str(), ms.len()))
            .collect();
        assert_eq!(names, [("demo", 1), ("openai", 2), ("anthropic", 1)]);
    }
}
