//! A row of the models table: its inputs belong to the row's form (by `form=`), so a table row
//! can be one form without nesting forms in the table.

use leptos::prelude::*;

use crate::wire::{AdminModelView, Micros};

#[component]
pub fn ModelRow(model: AdminModelView) -> impl IntoView {
    let form = format!("model-{}", model.id);
    let label = |what: &str| format!("{what} of {}", model.display_name);
    view! {
        <tr data-model=model.model.clone() class=(!model.provider_configured).then_some("admin-unconfigured")>
            <td><input type="checkbox" name="enabled" form=form.clone() checked=model.enabled aria-label=label("Enabled")/></td>
            <td>
                <code>{model.model.clone()}</code>
                <span class="muted usage-provider">{model.provider.as_str()}{(!model.provider_configured).then_some(" · no key")}</span>
            </td>
            <td><input name="display_name" form=form.clone() value=model.display_name.clone() aria-label=label("Display name")/></td>
            <td class="num"><input name="context_window" form=form.clone() inputmode="numeric" value=model.context_window.to_string() aria-label=label("Context window")/></td>
            <td class="num"><input name="max_output_tokens" form=form.clone() inputmode="numeric" value=model.max_output_tokens.to_string() aria-label=label("Max output tokens")/></td>
            <td class="num"><input name="input_price" form=form.clone() inputmode="decimal" value=Micros(model.input_micros_per_mtok).dollars_exact() aria-label=label("Input price")/></td>
            <td class="num"><input name="cached_input_price" form=form.clone() inputmode="decimal" placeholder="—" value=model.cached_input_micros_per_mtok.map(|m| Micros(m).dollars_exact()).unwrap_or_default() aria-label=label("Cached input price")/></td>
            <td class="num"><input name="output_price" form=form.clone() inputmode="decimal" value=Micros(model.output_micros_per_mtok).dollars_exact() aria-label=label("Output price")/></td>
            <td><input type="checkbox" name="supports_images" form=form.clone() checked=model.supports_images aria-label=label("Takes images")/></td>
            <td>
                <form id=form.clone() method="post" action=format!("/admin/models/{}", model.id)>
                    <button class="btn btn-ghost" type="submit">"Save"</button>
                </form>
            </td>
        </tr>
    }
}
