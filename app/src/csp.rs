//! The Content-Security-Policy of every page, set by the shell while it renders (server only).
//! Leptos puts a fresh random nonce on each inline script it writes (the hydration loader and
//! its resource bookkeeping); the policy allows exactly those, our own files and WebAssembly,
//! so a script that gets into a page any other way does not run.
//!
//! Styles allow inline `style` attributes: the page's font size sits on `<html>` and rendered
//! Markdown aligns table columns with them. A style attribute cannot run script.

/// The policy for a page whose inline scripts carry `nonce`. `live_reload`: `cargo leptos
/// watch`'s reload socket on another port.
pub fn page_policy(nonce: &str, live_reload: bool) -> String {
    let reload = if live_reload { " ws: wss:" } else { "" };
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'{reload}; \
         object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// Sets the policy on the response of the page being rendered.
pub fn set_for_page() {
    use leptos::prelude::use_context;

    let Some(nonce) = leptos::nonce::use_nonce() else {
        return;
    };
    let Some(response) = use_context::<leptos_axum::ResponseOptions>() else {
        return;
    };
    let live_reload = std::env::var_os("LEPTOS_WATCH").is_some();
    if let Ok(value) = http::HeaderValue::from_str(&page_policy(&nonce.to_string(), live_reload)) {
        response.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_policy_allows_only_nonced_inline_scripts_and_our_own_files() {
        let policy = page_policy("abc123", false);
        assert!(policy.contains("script-src 'self' 'nonce-abc123' 'wasm-unsafe-eval';"));
        assert!(!policy.contains("script-src 'self' 'unsafe-inline'"));
        assert!(policy.contains("frame-ancestors 'none'"));
        assert!(policy.contains("connect-src 'self';"));
        assert!(page_policy("n", true).contains("connect-src 'self' ws: wss:;"));
    }
}
