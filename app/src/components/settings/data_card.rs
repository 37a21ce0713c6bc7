//! "Your data": every conversation as one JSON download (`/api/export`), and an import of our
//! JSON or ChatGPT's `conversations.json`, uploaded with its progress shown, then a summary
//! with links to the conversations it brought in. Importing the same file again skips what is
//! already here.

use leptos::{html, prelude::*};
use uuid::Uuid;

use crate::wire::ImportSummary;

/// How many of the imported conversations the summary links to by title.
#[cfg(feature = "hydrate")]
const LINKED: usize = 20;

/// `3 imported, 1 skipped, 42 messages`.
pub fn summary_line(summary: &ImportSummary) -> String {
    let messages = if summary.messages == 1 {
        "message"
    } else {
        "messages"
    };
    format!(
        "{} imported, {} skipped, {} {messages}",
        summary.imported, summary.skipped, summary.messages
    )
}

// Only the browser moves it past its first state.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
#[derive(Clone, Debug, PartialEq)]
enum Import {
    Idle,
    /// Uploading: the share of the file sent, from 0 to 1.
    Sending(f64),
    /// Sent whole; the server is reading it.
    Reading,
    Done {
        summary: ImportSummary,
        /// The imported conversations' ids with their titles, as they load.
        titles: Vec<(Uuid, Option<String>)>,
    },
    Failed(String),
}

#[island]
pub fn DataCard() -> impl IntoView {
    let state = RwSignal::new(Import::Idle);
    let file = NodeRef::<html::Input>::new();
    let chosen = RwSignal::new(false);
    let busy = move || matches!(state.get(), Import::Sending(_) | Import::Reading);
    // A file picked before the island hydrated fired its `change` with nobody listening: once
    // the input is ours, a file already in it counts as chosen (else Import stayed disabled).
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        let picked = file
            .get()
            .and_then(|input| input.files())
            .is_some_and(|files| files.length() > 0);
        if picked {
            chosen.set(true);
        }
    });

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        #[cfg(feature = "hydrate")]
        {
            let picked = file
                .get_untracked()
                .and_then(|input| input.files())
                .and_then(|files| files.get(0));
            match picked {
                Some(picked) => upload(picked, state),
                None => state.set(Import::Failed(
                    "Choose a file first: a Rustchat export or ChatGPT's conversations.json."
                        .to_owned(),
                )),
            }
        }
    };

    let outcome = move || match state.get() {
        Import::Idle => None,
        Import::Sending(share) => Some(
            view! {
                <div class="import-progress" role="status">
                    <progress max="1" value=share aria-label="Import upload progress"></progress>
                    <span>{format!("Uploading… {:.0}%", share * 100.0)}</span>
                </div>
            }
            .into_any(),
        ),
        Import::Reading => Some(
            view! {
                <div class="import-progress" role="status">
                    <progress aria-label="Import progress"></progress>
                    <span>"Importing…"</span>
                </div>
            }
            .into_any(),
        ),
        Import::Failed(message) => {
            Some(view! { <p class="form-error" role="alert">{message}</p> }.into_any())
        }
        Import::Done { summary, titles } => {
            let line = summary_line(&summary);
            let none = (summary.imported == 0).then(|| {
                view! { <p class="hint">"Nothing new: every conversation in the file is already here."</p> }
            });
            let more = summary.conversation_ids.len().saturating_sub(titles.len());
            let links = titles
                .into_iter()
                .enumerate()
                .map(|(n, (id, title))| {
                    let title = title.unwrap_or_else(|| format!("Imported conversation {}", n + 1));
                    view! { <li><a href=format!("/c/{id}")>{title}</a></li> }
                })
                .collect_view();
            Some(
                view! {
                    <div class="import-summary" role="status">
                        <p class="form-status">{line}</p>
                        {none}
                        <ul class="import-links">{links}</ul>
                        {(more > 0).then(|| view! { <p class="hint">{format!("and {more} more in the sidebar.")}</p> })}
                    </div>
                }
                .into_any(),
            )
        }
    };

    view! {
        <div class="settings-card settings-form settings-data" id="data">
            <section class="settings-section" aria-labelledby="settings-export-title">
                <h2 id="settings-export-title">"Export"</h2>
                <p class="hint section-intro">
                    "Every conversation with all its branches, usage and prices, as one JSON file. "
                    "A single conversation exports from its menu (⋯) in the sidebar, as JSON or Markdown."
                </p>
                <a class="btn" href="/api/export" download="">"Export everything"</a>
            </section>
            <section class="settings-section" aria-labelledby="settings-import-title">
                <h2 id="settings-import-title">"Import"</h2>
                <p class="hint section-intro">
                    "A Rustchat export, or the conversations.json inside ChatGPT's data export. "
                    "Branches, titles and times are kept; imported messages cost nothing. "
                    "Importing the same file again skips what is already here."
                </p>
                <form class="import-form" on:submit=submit>
                    <div class="field">
                        <label for="import_file">"File to import"</label>
                        <div class="token-form-row">
                            <input
                                type="file"
                                id="import_file"
                                accept=".json,application/json"
                                node_ref=file
                                on:change=move |_| {
                                    chosen.set(true);
                                    if !busy() {
                                        state.set(Import::Idle);
                                    }
                                }
                            />
                            <button type="submit" class="btn btn-primary" disabled=move || busy() || !chosen.get()>
                                "Import"
                            </button>
                        </div>
                    </div>
                </form>
                {outcome}
            </section>
        </div>
    }
}

/// Sends the file as the body of `POST /api/import` with `XMLHttpRequest`, the one browser API
/// that reports upload progress; then loads the titles of what was imported.
#[cfg(feature = "hydrate")]
fn upload(file: web_sys::File, state: RwSignal<Import>) {
    use wasm_bindgen::{closure::Closure, JsCast};
    let failed = move |message: &str| state.set(Import::Failed(message.to_owned()));
    let Ok(request) = web_sys::XmlHttpRequest::new() else {
        return failed("This browser cannot upload files.");
    };
    if request.open("POST", "/api/import").is_err()
        || request
            .set_request_header("Content-Type", "application/json")
            .is_err()
    {
        return failed("The import could not start.");
    }
    state.set(Import::Sending(0.0));
    let on_progress =
        Closure::<dyn FnMut(web_sys::ProgressEvent)>::new(move |ev: web_sys::ProgressEvent| {
            if ev.length_computable() && ev.total() > 0.0 {
                let share = ev.loaded() / ev.total();
                state.set(if share >= 1.0 {
                    Import::Reading
                } else {
                    Import::Sending(share)
                });
            }
        });
    if let Ok(upload) = request.upload() {
        upload.set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
    }
    on_progress.forget();
    let finished = request.clone();
    let on_end = Closure::<dyn FnMut()>::new(move || {
        let status = finished.status().unwrap_or(0);
        let body = finished.response_text().ok().flatten().unwrap_or_default();
        match status {
            200 | 201 => match serde_json::from_str::<ImportSummary>(&body) {
                Ok(summary) => {
                    let titles = summary
                        .conversation_ids
                        .iter()
                        .take(LINKED)
                        .map(|id| (*id, None))
                        .collect();
                    let ids = summary.conversation_ids.clone();
                    state.set(Import::Done { summary, titles });
                    leptos::task::spawn_local(load_titles(ids, state));
                }
                Err(_) => failed("The server's answer was not understood."),
            },
            0 => failed("The server cannot be reached. Check your connection."),
            _ => {
                let body: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
                let fallback = if status == 413 {
                    "The file is larger than this server imports at once."
                } else {
                    "The import failed. Please try again."
                };
                failed(body["error"]["message"].as_str().unwrap_or(fallback));
            }
        }
    });
    request.set_onloadend(Some(on_end.as_ref().unchecked_ref()));
    on_end.forget();
    if request.send_with_opt_blob(Some(&file)).is_err() {
        failed("The import could not start.");
    }
}

/// Fills in the imported conversations' titles, one by one; a title that does not load leaves
/// its link named by its place.
#[cfg(feature = "hydrate")]
async fn load_titles(ids: Vec<Uuid>, state: RwSignal<Import>) {
    for id in ids.into_iter().take(LINKED) {
        let Ok(conversation) = crate::components::chat::api::call::<
            (),
            crate::wire::ConversationView,
        >("GET", &format!("/api/conversations/{id}"), None)
        .await
        else {
            continue;
        };
        state.update(|s| {
            if let Import::Done { titles, .. } = s {
                if let Some(entry) = titles.iter_mut().find(|(i, _)| *i == id) {
                    entry.1 = Some(conversation.title);
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_counts_what_was_imported_and_skipped() {
        let summary = ImportSummary {
            imported: 3,
            skipped: 1,
            conversation_ids: vec![],
            messages: 42,
        };
        assert_eq!(summary_line(&summary), "3 imported, 1 skipped, 42 messages");
        let one = ImportSummary {
            imported: 1,
            messages: 1,
            ..ImportSummary::default()
        };
        assert_eq!(summary_line(&one), "1 imported, 0 skipped, 1 message");
    }
}
