//! "Personal API tokens": the form that makes one (by name), the token just made (shown once),
//! and the tokens that still work, each with a revoke form. Plain HTML forms posting to
//! `/settings/tokens…`, which come back with `?saved=` / `?error=` and `#tokens`.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::created_token::CreatedToken;
use crate::{
    components::format::when,
    wire::{ApiTokenView, CreatedApiToken},
};

/// What the token forms' `?saved=` values say.
fn saved_message(what: &str) -> Option<&'static str> {
    Some(match what {
        "token_created" => "Token created.",
        "token_revoked" => "Token revoked. Scripts that use it are refused from now on.",
        _ => return None,
    })
}

/// The sentence for a token form's error code (`not_found` is the account card's to say).
pub fn token_error_message(code: &str) -> Option<&'static str> {
    Some(match code {
        "invalid_token_name" => "Give the token a name of 1 to 100 characters, like \"backup script\". No token was made.",
        "too_many_tokens" => "You have as many tokens as an account may hold. Revoke one you no longer use first.",
        _ => return None,
    })
}

#[component]
pub fn TokensCard(tokens: Vec<ApiTokenView>, created: Option<CreatedApiToken>) -> impl IntoView {
    let query = use_query_map();
    let (saved, error) = query.with_untracked(|q| {
        (
            q.get("saved").and_then(|what| saved_message(&what)),
            q.get("error").and_then(|code| token_error_message(&code)),
        )
    });
    let list = if tokens.is_empty() {
        view! { <p class="hint token-empty">"No tokens yet."</p> }.into_any()
    } else {
        let rows = tokens
            .into_iter()
            .map(|token| {
                let used = token
                    .last_used_at
                    .map(|at| format!("last used {}", when(at)))
                    .unwrap_or_else(|| "never used".to_owned());
                let dates = format!("Created {} · {used}", when(token.created_at));
                view! {
                    <li class="session-row" data-token=token.id.to_string()>
                        <div class="session-text">
                            <p class="session-agent">
                                {token.name.clone()}
                                " " <code class="token-prefix">{token.prefix.clone()}</code>
                            </p>
                            <p class="hint">{dates}</p>
                        </div>
                        <form method="post" action=format!("/settings/tokens/{}/revoke", token.id) class="session-revoke">
                            <button type="submit" class="btn btn-small btn-danger" title=format!("Revoke {}", token.name)>"Revoke"</button>
                        </form>
                    </li>
                }
            })
            .collect_view();
        view! { <ul class="session-list token-list">{rows}</ul> }.into_any()
    };
    view! {
        <div class="settings-card settings-form settings-tokens" id="tokens">
            {saved.map(|message| view! { <p class="form-status" role="status">{message}</p> })}
            {error.map(|message| view! { <p class="form-error" role="alert">{message}</p> })}
            <section class="settings-section" aria-labelledby="settings-tokens-title">
                <h2 id="settings-tokens-title">"Personal API tokens"</h2>
                <p class="hint section-intro">
                    "For scripts and other programs that use the API as you. Send the token in a header: "
                    <code>"Authorization: Bearer rc_…"</code>
                    ". A token can do what you can, so keep it secret and revoke the ones you no longer use."
                </p>
                {created.map(|token| view! { <CreatedToken token/> })}
                <form method="post" action="/settings/tokens" class="token-form">
                    <div class="field">
                        <label for="token_name">"Token name"</label>
                        <div class="token-form-row">
                            <input type="text" id="token_name" name="name" maxlength="100" required=true placeholder="e.g. backup script" autocomplete="off"/>
                            <button type="submit" class="btn btn-primary">"Create token"</button>
                        </div>
                    </div>
                </form>
                {list}
            </section>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_known_codes_become_sentences() {
        assert!(token_error_message("<i>x</i>").is_none());
        assert!(token_error_message("too_many_tokens").is_some());
        assert!(token_error_message("invalid_token_name").is_some());
        assert!(saved_message("token_created").is_some());
        assert!(saved_message("session_revoked").is_none());
    }
}
