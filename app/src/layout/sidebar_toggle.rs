use leptos::prelude::*;

/// Opens and closes the off-canvas sidebar on narrow screens. The open state lives on
/// `<body data-sidebar="open">` so plain CSS can move the sidebar and dim the page.
#[island]
pub fn SidebarToggle() -> impl IntoView {
    let (open, set_open) = signal(false);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if let Some(body) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.body())
        {
            let state = if open.get() { "open" } else { "closed" };
            let _ = body.set_attribute("data-sidebar", state);
        }
    });
    view! {
        <button
            type="button"
            class="icon-btn sidebar-toggle"
            aria-controls="sidebar"
            aria-expanded=move || open.get().to_string()
            aria-label=move || if open.get() { "Close sidebar" } else { "Open sidebar" }
            on:click=move |_| set_open.update(|o| *o = !*o)
        >
            <span class="hamburger" aria-hidden="true"></span>
        </button>
    }
}
