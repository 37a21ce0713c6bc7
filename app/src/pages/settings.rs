//! `/settings`: the signed-in user's chat settings, presets, export and import, password, sessions
//! and API tokens. Settings, password, sessions and tokens are plain HTML forms that work without
//! any script; presets and import are islands that talk to the JSON API. The server's page guard
//! has already sent anyone not signed in to `/login`, and loaded the page's data.

use leptos::prelude::*;

use crate::{
    components::settings::{
        account_card::AccountCard, chat_settings_form::ChatSettingsForm, data_card::DataCard,
        presets_card::PresetsCard, tokens_card::TokensCard,
    },
    layout::page_shell::{PageShell, Unavailable},
    page_data::{page_data, SettingsPageData},
};

#[component]
pub fn SettingsPage() -> impl IntoView {
    let body = match page_data::<SettingsPageData>() {
        Some(data) => {
            let sessions = data.sessions.clone();
            let tokens = data.tokens.clone();
            let created = data.created_token.clone();
            let models = data.models.clone();
            view! {
                <ChatSettingsForm data/>
                <PresetsCard models/>
                <DataCard/>
                <AccountCard sessions/>
                <TokensCard tokens created/>
            }
            .into_any()
        }
        None => view! {
            <Unavailable
                heading="Settings are not available"
                text="We could not load your settings. Reload the page to try again."
            />
        }
        .into_any(),
    };
    view! {
        <PageShell title="Settings" main_id="settings" main_class="settings-page">
            {body}
        </PageShell>
    }
}
