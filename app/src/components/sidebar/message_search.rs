//! The search box at the top of the sidebar. Typing filters the conversations by title at once
//! and, a moment after the last key, asks `GET /api/search` for the messages holding every
//! word; the matches the server marks (`highlights`) are wrapped in `<mark>` here, as text
//! nodes, never as HTML. Ctrl/⌘+K focuses the box from anywhere on the page, the arrows move
//! through the messages found, Enter opens one (on its branch, scrolled into view), Escape
//! closes the search.

use leptos::{html, prelude::*};

use crate::{
    components::format,
    wire::{Role, SearchHit},
};

/// How many messages a search asks for at a time.
#[cfg(feature = "hydrate")]
const PAGE: usize = 20;

/// Splits a snippet into runs of text, each marked or not, from the byte ranges the server
/// sent. Ranges out of bounds, inside a character or overlapping an earlier one are left out:
/// whatever the server sends, the text is shown whole and once.
pub fn snippet_runs(snippet: &str, highlights: &[[u32; 2]]) -> Vec<(String, bool)> {
    let mut ranges = highlights
        .iter()
        .map(|[start, end]| (*start as usize, *end as usize))
        .filter(|&(start, end)| {
            start < end
                && end <= snippet.len()
                && snippet.is_char_boundary(start)
                && snippet.is_char_boundary(end)
        })
        .collect::<Vec<_>>();
    ranges.sort_unstable();
    let mut runs = Vec::new();
    let mut at = 0;
    for (start, end) in ranges {
        if start < at {
            continue;
        }
        if start > at {
            runs.push((snippet[at..start].to_owned(), false));
        }
        runs.push((snippet[start..end].to_owned(), true));
        at = end;
    }
    if at < snippet.len() {
        runs.push((snippet[at..].to_owned(), false));
    }
    runs
}

/// Where the search stands.
// Only the browser moves it past its first state.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
#[derive(Clone, Debug, PartialEq)]
enum Found {
    /// Nothing asked (the box is empty).
    Idle,
    /// Waiting for the first page of this query.
    Searching,
    Hits {
        hits: Vec<SearchHit>,
        next_cursor: Option<String>,
    },
    Failed(String),
}

#[component]
pub fn MessageSearch(
    /// The box's text; the island filters the conversation titles with it too.
    query: RwSignal<String>,
) -> impl IntoView {
    let found = RwSignal::new(Found::Idle);
    let active = RwSignal::new(None::<usize>);
    let opening = RwSignal::new(false);
    let input = NodeRef::<html::Input>::new();
    // Each keystroke starts a new search; an older one that answers late is dropped.
    let generation = StoredValue::new(0_u64);

    let hit_count = move || {
        found.with(|f| match f {
            Found::Hits { hits, .. } => hits.len(),
            _ => 0,
        })
    };
    let expanded = move || hit_count() > 0;

    let search = move |text: String| {
        generation.update_value(|g| *g += 1);
        active.set(None);
        if text.trim().is_empty() {
            found.set(Found::Idle);
        } else {
            // The hits of the previous words stay until the new ones come.
            if !matches!(found.get_untracked(), Found::Hits { .. }) {
                found.set(Found::Searching);
            }
            #[cfg(feature = "hydrate")]
            let mine = generation.get_value();
            #[cfg(feature = "hydrate")]
            leptos::task::spawn_local(async move {
                gloo_timers::future::TimeoutFuture::new(250).await;
                if generation.get_value() != mine {
                    return;
                }
                let page = fetch_page(&text, None).await;
                if generation.get_value() != mine {
                    return;
                }
                found.set(match page {
                    Ok((hits, next_cursor)) => Found::Hits { hits, next_cursor },
                    Err(message) => Found::Failed(message),
                });
            });
        }
    };
    let more = move |_| {
        #[cfg(feature = "hydrate")]
        {
            let Found::Hits {
                next_cursor: Some(cursor),
                ..
            } = found.get_untracked()
            else {
                return;
            };
            let mine = generation.get_value();
            let text = query.get_untracked();
            leptos::task::spawn_local(async move {
                let page = fetch_page(&text, Some(&cursor)).await;
                if generation.get_value() != mine {
                    return;
                }
                match page {
                    Ok((more, next)) => found.update(|f| {
                        if let Found::Hits { hits, next_cursor } = f {
                            hits.extend(more);
                            *next_cursor = next;
                        }
                    }),
                    Err(message) => found.set(Found::Failed(message)),
                }
            });
        }
    };
    let open = move |index: usize| {
        let hit = found.with_untracked(|f| match f {
            Found::Hits { hits, .. } => hits.get(index).cloned(),
            _ => None,
        });
        let Some(hit) = hit else {
            return;
        };
        opening.set(true);
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async move {
            if let Err(message) = open_hit(hit.conversation_id, hit.message_id).await {
                opening.set(false);
                found.set(Found::Failed(message));
            }
        });
        #[cfg(not(feature = "hydrate"))]
        let _ = hit;
    };
    let close = move || {
        query.set(String::new());
        search(String::new());
        if let Some(el) = input.get_untracked() {
            let _ = el.blur();
        }
    };
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        let count = hit_count();
        match ev.key().as_str() {
            "ArrowDown" if count > 0 => {
                ev.prevent_default();
                active.update(|a| *a = Some(a.map_or(0, |i| (i + 1) % count)));
                scroll_active_into_view(active.get_untracked());
            }
            "ArrowUp" if count > 0 => {
                ev.prevent_default();
                active.update(|a| *a = Some(a.map_or(count - 1, |i| (i + count - 1) % count)));
                scroll_active_into_view(active.get_untracked());
            }
            "Enter" if count > 0 => {
                ev.prevent_default();
                open(active.get_untracked().unwrap_or(0));
            }
            "Escape" => {
                ev.prevent_default();
                close();
            }
            _ => {}
        }
    };

    #[cfg(feature = "hydrate")]
    {
        let handle = window_event_listener(leptos::ev::keydown, move |ev| {
            if (ev.ctrl_key() || ev.meta_key()) && ev.key().eq_ignore_ascii_case("k") {
                ev.prevent_default();
                reveal_sidebar();
                if let Some(el) = input.get_untracked() {
                    let _ = el.focus();
                    el.select();
                }
            }
        });
        on_cleanup(move || handle.remove());
    }

    let results = move || {
        let searching = !query.with(|q| q.trim().is_empty());
        searching.then(|| {
            let body = match found.get() {
                Found::Idle | Found::Searching => {
                    view! { <p class="muted sidebar-empty" role="status">"Searching messages…"</p> }.into_any()
                }
                Found::Failed(message) => {
                    view! { <p class="form-error search-error" role="alert">{message}</p> }.into_any()
                }
                Found::Hits { hits, .. } if hits.is_empty() => {
                    view! { <p class="muted sidebar-empty" role="status">"No message matches every word."</p> }.into_any()
                }
                Found::Hits { hits, next_cursor } => {
                    let options = hits
                        .into_iter()
                        .enumerate()
                        .map(|(index, hit)| view! { <HitOption hit index active open/> })
                        .collect_view();
                    view! {
                        <ul class="search-hits" id="search-hits" role="listbox" aria-label="Messages found">
                            {options}
                        </ul>
                        {next_cursor.map(|_| view! {
                            <button type="button" class="btn btn-small btn-ghost search-more" on:click=more>
                                "More messages"
                            </button>
                        })}
                    }
                    .into_any()
                }
            };
            view! {
                <section class="search-results" aria-labelledby="search-results-title" aria-busy=move || opening.get().to_string()>
                    <h2 class="sidebar-heading" id="search-results-title">"Messages"</h2>
                    {body}
                </section>
            }
        })
    };

    view! {
        <label class="search">
            <span class="visually-hidden">"Search conversations and messages"</span>
            <input
                type="search"
                placeholder="Search (Ctrl+K)"
                role="combobox"
                aria-autocomplete="list"
                aria-expanded=move || expanded().to_string()
                aria-controls=move || expanded().then_some("search-hits")
                aria-activedescendant=move || active.get().filter(|_| expanded()).map(hit_id)
                aria-keyshortcuts="Control+K Meta+K"
                autocomplete="off"
                node_ref=input
                prop:value=move || query.get()
                on:input=move |ev| {
                    let text = event_target_value(&ev);
                    query.set(text.clone());
                    search(text);
                }
                on:keydown=on_keydown
            />
        </label>
        {results}
    }
}

fn hit_id(index: usize) -> String {
    format!("search-hit-{index}")
}

/// One message found: its conversation, who wrote it and when, and the snippet with the
/// matched words marked.
#[component]
fn HitOption(
    hit: SearchHit,
    index: usize,
    active: RwSignal<Option<usize>>,
    open: impl Fn(usize) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let runs = snippet_runs(&hit.snippet, &hit.highlights)
        .into_iter()
        .map(|(text, marked)| {
            if marked {
                view! { <mark>{text}</mark> }.into_any()
            } else {
                text.into_any()
            }
        })
        .collect_view();
    let author = match hit.role {
        Role::User => "You",
        Role::Assistant => "Assistant",
    };
    view! {
        <li
            class="search-hit"
            class:active=move || active.get() == Some(index)
            id=hit_id(index)
            role="option"
            aria-selected=move || (active.get() == Some(index)).to_string()
            data-message-id=hit.message_id.to_string()
            // The box keeps the focus: a click must not blur it before it opens the hit.
            on:mousedown=|ev| ev.prevent_default()
            on:click=move |_| open(index)
        >
            <span class="hit-head">
                <span class="hit-title">{hit.conversation_title.clone()}</span>
                <time class="hit-time" datetime=hit.created_at.to_rfc3339()>{format::day(hit.created_at)}</time>
            </span>
            <span class="hit-role">{author}</span>
            <span class="hit-snippet">{runs}</span>
        </li>
    }
}

/// One page of messages matching `text`.
#[cfg(feature = "hydrate")]
async fn fetch_page(
    text: &str,
    cursor: Option<&str>,
) -> Result<(Vec<SearchHit>, Option<String>), String> {
    let mut url = format!(
        "/api/search?limit={PAGE}&q={}",
        js_sys::encode_uri_component(text)
    );
    if let Some(cursor) = cursor {
        url.push_str(&format!("&cursor={}", js_sys::encode_uri_component(cursor)));
    }
    crate::components::chat::api::call::<(), crate::wire::Page<SearchHit>>("GET", &url, None)
        .await
        .map(|page| (page.items, page.next_cursor))
}

/// Shows the message's branch, then its conversation with the message in view (the chat page
/// finds it from `?message=`, see `chat::found_message`).
#[cfg(feature = "hydrate")]
async fn open_hit(conversation_id: uuid::Uuid, message_id: uuid::Uuid) -> Result<(), String> {
    crate::components::chat::api::call::<_, crate::wire::ConversationView>(
        "PUT",
        &format!("/api/conversations/{conversation_id}/current"),
        Some(&serde_json::json!({ "message_id": message_id })),
    )
    .await?;
    if let Some(w) = web_sys::window() {
        let _ = w
            .location()
            .set_href(&format!("/c/{conversation_id}?message={message_id}"));
    }
    Ok(())
}

/// Keeps the option the arrows reached in view inside the list.
fn scroll_active_into_view(index: Option<usize>) {
    #[cfg(feature = "hydrate")]
    if let Some(el) = index.and_then(|i| {
        web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.get_element_by_id(&hit_id(i)))
    }) {
        el.scroll_into_view_with_bool(false);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = index;
}

/// On a phone the sidebar is off-canvas: Ctrl+K slides it in first, through its toggle so the
/// toggle's state stays right.
#[cfg(feature = "hydrate")]
fn reveal_sidebar() {
    use wasm_bindgen::JsCast;
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let open = document
        .body()
        .and_then(|b| b.get_attribute("data-sidebar"))
        .is_some_and(|s| s == "open");
    let toggle = document
        .query_selector(".sidebar-toggle")
        .ok()
        .flatten()
        .and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok())
        // Hidden (`display: none`) on a wide screen, where the sidebar is always shown.
        .filter(|el| el.offset_parent().is_some());
    if let (false, Some(toggle)) = (open, toggle) {
        toggle.click();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marked(runs: &[(String, bool)]) -> Vec<&str> {
        runs.iter()
            .filter(|(_, m)| *m)
            .map(|(t, _)| t.as_str())
            .collect()
    }

    #[test]
    fn highlights_wrap_the_matched_words_and_keep_all_the_text() {
        let runs = snippet_runs("the quick brown fox", &[[10, 15], [4, 9]]);
        assert_eq!(marked(&runs), ["quick", "brown"]);
        let whole = runs.iter().map(|(t, _)| t.as_str()).collect::<String>();
        assert_eq!(whole, "the quick brown fox");
    }

    #[test]
    fn bad_ranges_are_ignored_and_the_text_stays_whole() {
        // Out of bounds, reversed, inside "é" (bytes 1..3), overlapping.
        let snippet = "héllo world";
        let runs = snippet_runs(snippet, &[[50, 60], [5, 3], [2, 4], [7, 12], [8, 10]]);
        assert_eq!(marked(&runs), ["world"]);
        assert_eq!(
            runs.iter().map(|(t, _)| t.as_str()).collect::<String>(),
            snippet
        );
    }

    #[test]
    fn markup_in_a_snippet_stays_text() {
        let runs = snippet_runs("<b>bold</b>", &[[3, 7]]);
        assert_eq!(
            runs,
            [
                ("<b>".to_owned(), false),
                ("bold".to_owned(), true),
                ("</b>".to_owned(), false)
            ]
        );
    }
}
