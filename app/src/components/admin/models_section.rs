//! The models tab: every model with its prices and limits, editable in place, and the form
//! that adds one.

use leptos::prelude::*;

use super::model_row::ModelRow;
use crate::wire::AdminModelView;

#[component]
pub fn ModelsSection(models: Vec<AdminModelView>) -> impl IntoView {
    view! {
        <section class="usage-card" id="models" aria-labelledby="admin-models">
            <h2 id="admin-models">"Models"</h2>
            <p class="muted">"Prices are dollars per million tokens. Changing them applies to new messages only: every message keeps the prices it was sent with. A model whose provider has no API key on this server is not offered to users."</p>
            <div class="usage-table-wrap">
                <table class="usage-table admin-models" data-testid="admin-models">
                    <thead>
                        <tr>
                            <th>"On"</th>
                            <th>"Model"</th>
                            <th>"Display name"</th>
                            <th class="num">"Context"</th>
                            <th class="num">"Max output"</th>
                            <th class="num">"Input"</th>
                            <th class="num">"Cached input"</th>
                            <th class="num">"Output"</th>
                            <th>"Images"</th>
                            <th></th>
                        </tr>
                    </thead>
                    <tbody>
                        {models.into_iter().map(|m| view! { <ModelRow model=m/> }).collect_view()}
                    </tbody>
                </table>
            </div>
            <details class="admin-add-model">
                <summary>"Add a model"</summary>
                <form class="admin-grid-form" method="post" action="/admin/models">
                    <label>"Provider"
                        <select name="provider">
                            <option value="openai">"OpenAI or compatible"</option>
                            <option value="anthropic">"Anthropic"</option>
                            <option value="google">"Google Gemini"</option>
                        </select>
                    </label>
                    <label>"Model id" <input name="model" required placeholder="llama3.1:8b"/></label>
                    <label>"Display name" <input name="display_name" placeholder="Llama 3.1 8B"/></label>
                    <label>"Context window" <input name="context_window" inputmode="numeric" value="8192"/></label>
                    <label>"Max output tokens" <input name="max_output_tokens" inputmode="numeric" value="4096"/></label>
                    <label>"Input $/M" <input name="input_price" inputmode="decimal" value="0"/></label>
                    <label>"Cached input $/M" <input name="cached_input_price" inputmode="decimal" placeholder="same as input"/></label>
                    <label>"Output $/M" <input name="output_price" inputmode="decimal" value="0"/></label>
                    <label class="admin-check"><input type="checkbox" name="supports_images"/>" Takes images"</label>
                    <input type="hidden" name="enabled" value="on"/>
                    <button class="btn btn-primary" type="submit">"Add model"</button>
                </form>
            </details>
        </section>
    }
}
