//! `/admin`, for admins only (anyone else gets the 404 page, as the admin API answers 404):
//! every user's spending this month with their monthly budget, the budget new accounts start
//! with, and the model table. Plain HTML forms that post to `/admin/…` and come back with
//! `?saved=…` or `?error=CODE`; they work without any script.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::{
    components::format,
    layout::page_shell::PageShell,
    page_data::{page_data, AdminPageData},
    pages::not_found::NotFoundPage,
    wire::{AdminModelView, AdminUserView, Micros},
};

/// The sentence for an error code the server put in `?error=`; unknown codes show nothing.
pub fn admin_error_message(code: &str) -> Option<&'static str> {
    Some(match code {
        "invalid_amount" => "Amounts are dollars with at most six decimals, like 5 or 2.50. Nothing was saved.",
        "invalid_budget" => "A budget is between $0 and $1,000,000 a month; leave it empty for no limit. Nothing was saved.",
        "invalid_model" => "Check the model: a display name of 1 to 80 characters, a context window of 256 to 10,000,000 tokens, max output tokens at most the context window, prices up to $1,000,000 per million tokens, and a model id of letters, digits and . _ : / - @. Nothing was saved.",
        "model_exists" => "That model is already in the table.",
        "not_found" => "That user or model no longer exists.",
        "bad_request" => "The form was incomplete. Nothing was saved.",
        "server_error" => "Something went wrong on our side, so nothing was saved. Please try again.",
        _ => return None,
    })
}

fn saved_message(what: &str) -> Option<&'static str> {
    Some(match what {
        "budget" => "Budget saved. It applies from the user's next message.",
        "settings" => "Default budget saved. New accounts start with it.",
        "model" => "Model saved. New prices apply to new messages only; earlier ones keep theirs.",
        "new_model" => "Model added.",
        _ => return None,
    })
}

#[component]
pub fn AdminPage() -> impl IntoView {
    let Some(data) = page_data::<AdminPageData>() else {
        return view! { <NotFoundPage/> }.into_any();
    };
    let query = use_query_map();
    let (saved, error) = query.with_untracked(|q| {
        (
            q.get("saved").and_then(|v| saved_message(&v)),
            q.get("error").and_then(|code| admin_error_message(&code)),
        )
    });
    let default_budget = data
        .settings
        .default_monthly_budget_micros
        .map(|m| Micros(m).dollars_exact())
        .unwrap_or_default();
    view! {
        <PageShell title="Admin" main_id="admin" main_class="usage-page admin-page">
                <div class="usage-wrap">
                    {saved.map(|m| view! { <p class="form-status" role="status">{m}</p> })}
                    {error.map(|m| view! { <p class="form-error" role="alert">{m}</p> })}

                    <section class="usage-card" id="users" aria-labelledby="admin-users">
                        <h2 id="admin-users">{format!("Users · {}", data.month)}</h2>
                        <p class="muted">"Spending this month (UTC) from the usage log. A monthly budget caps what a user's messages can cost: each send reserves its worst case first, so concurrent sends cannot overdraw it. Leave it empty for no limit."</p>
                        <div class="usage-table-wrap">
                            <table class="usage-table admin-users" data-testid="admin-users">
                                <thead>
                                    <tr>
                                        <th>"User"</th>
                                        <th class="num">"Replies"</th>
                                        <th class="num">"Tokens"</th>
                                        <th class="num">"Spent"</th>
                                        <th>"Monthly budget ($)"</th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {data.users.into_iter().map(|u| view! { <UserRow user=u/> }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                        <form class="admin-inline-form" method="post" action="/admin/settings">
                            <label for="default-budget">"Budget for new accounts ($ a month)"</label>
                            <input id="default-budget" name="default_budget" inputmode="decimal" placeholder="No limit" value=default_budget/>
                            <button class="btn btn-primary" type="submit">"Save"</button>
                        </form>
                    </section>

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
                                        <th></th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {data.models.into_iter().map(|m| view! { <ModelRow model=m/> }).collect_view()}
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
                                <input type="hidden" name="enabled" value="on"/>
                                <button class="btn btn-primary" type="submit">"Add model"</button>
                            </form>
                        </details>
                    </section>
                </div>
        </PageShell>
    }
    .into_any()
}

#[component]
fn UserRow(user: AdminUserView) -> impl IntoView {
    let form_id = format!("budget-{}", user.id);
    let budget = user
        .monthly_budget_micros
        .map(|m| Micros(m).dollars_exact())
        .unwrap_or_default();
    let left = user.monthly_budget_micros.map(|cap| {
        let left = (cap - user.month.cost_micros - user.reserved_micros).max(0);
        format!("{} left", Micros(left).cost())
    });
    view! {
        <tr data-email=user.email.clone()>
            <td>
                <strong>{user.name.clone()}</strong>
                {user.role.is_admin().then(|| view! { <span class="badge">"admin"</span> })}
                <span class="muted admin-email">{user.email.clone()}</span>
            </td>
            <td class="num">{format::tokens(user.month.requests)}</td>
            <td class="num">{format::tokens(user.month.total_tokens)}</td>
            <td class="num">{Micros(user.month.cost_micros).cost()}</td>
            <td>
                <form id=form_id.clone() class="admin-row-form" method="post" action=format!("/admin/users/{}/budget", user.id)>
                    <input name="budget" inputmode="decimal" placeholder="No limit" value=budget aria-label=format!("Monthly budget of {}", user.email)/>
                    <button class="btn btn-ghost" type="submit">"Save"</button>
                </form>
                {left.map(|l| view! { <span class="muted">{l}</span> })}
            </td>
        </tr>
    }
}

#[component]
fn ModelRow(model: AdminModelView) -> impl IntoView {
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
            <td>
                <form id=form.clone() method="post" action=format!("/admin/models/{}", model.id)>
                    <button class="btn btn-ghost" type="submit">"Save"</button>
                </form>
            </td>
        </tr>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_codes_show_nothing() {
        assert!(admin_error_message("<b>x</b>").is_none());
        assert!(admin_error_message("invalid_model").is_some());
        assert!(saved_message("model").is_some());
    }
}
