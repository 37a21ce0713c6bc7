//! A message opened from the search (`/c/{id}?message={message_id}`): once the page is up it
//! is scrolled to the middle of the view, takes the keyboard's focus and glows for a moment.
//! The address then loses its `?message=`, so a reload shows the conversation as usual.

use uuid::Uuid;

/// The message the address asks to show, if any.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
fn requested(search: &str) -> Option<Uuid> {
    search
        .trim_start_matches('?')
        .split('&')
        .find_map(|pair| pair.strip_prefix("message="))
        .and_then(|raw| Uuid::parse_str(raw).ok())
}

#[cfg(feature = "hydrate")]
pub fn reveal_from_address() {
    use wasm_bindgen::JsCast;
    let Some(window) = web_sys::window() else {
        return;
    };
    let location = window.location();
    let Some(id) = location.search().ok().as_deref().and_then(requested) else {
        return;
    };
    if let (Ok(history), Ok(path)) = (window.history(), location.pathname()) {
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&path));
    }
    leptos::task::spawn_local(async move {
        let selector = format!("[data-message-id=\"{id}\"]");
        // The island's own messages render after the frame that hydrates it: look again for
        // a moment before giving up.
        for _ in 0..40 {
            let found = web_sys::window()
                .and_then(|w| w.document())
                .and_then(|d| d.query_selector(&selector).ok().flatten())
                .and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok());
            if let Some(article) = found {
                let place = web_sys::ScrollIntoViewOptions::new();
                place.set_block(web_sys::ScrollLogicalPosition::Center);
                article.scroll_into_view_with_scroll_into_view_options(&place);
                let focus = web_sys::FocusOptions::new();
                focus.set_prevent_scroll(true);
                let _ = article.focus_with_options(&focus);
                let _ = article.class_list().add_1("message-found");
                return;
            }
            gloo_timers::future::TimeoutFuture::new(25).await;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_is_read_from_the_query_and_anything_else_is_ignored() {
        let id = Uuid::now_v7();
        assert_eq!(requested(&format!("?message={id}")), Some(id));
        assert_eq!(requested(&format!("?a=1&message={id}")), Some(id));
        assert_eq!(requested("?message=<script>"), None);
        assert_eq!(requested(""), None);
    }
}
