//! The browser entry of the site: `scripts/build-site` (or cargo-leptos, in the development
//! loop) builds this crate to WASM. It hydrates only the `#[island]`s of the server-rendered
//! page; everything else stays plain HTML.

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    // The glob import keeps every island of `app` linked, so their hydration bindings exist.
    #[allow(unused_imports)]
    use app::*;
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
}
