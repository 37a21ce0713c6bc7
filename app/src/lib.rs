#![recursion_limit = "256"]
//! The user interface: server-rendered pages, the few `#[island]`s that hydrate in the browser,
//! and the wire types shared by browser and server. Nothing here imports the server crate; the
//! server hands what pages need through the request (see [`session`]).

pub mod components;
#[cfg(feature = "ssr")]
pub mod csp;
pub mod layout;
pub mod markdown;
pub mod page_data;
pub mod pages;
pub mod routes;
pub mod session;
pub mod wire;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    path, ParamSegment, StaticSegment,
};
use routes::segment;

/// The HTML document around every page. The theme and font size come from the signed-in
/// user's settings, so the server sends the right colours in the first byte (no flash).
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    csp::set_for_page();
    let user = session::session_user();
    let theme = user
        .as_ref()
        .map(|u| u.theme.clone())
        .filter(|t| t == "light" || t == "dark");
    let font_size = user
        .as_ref()
        .map(|u| format!("--font-size: {}px", u.font_size.clamp(12, 24)));
    view! {
        <!DOCTYPE html>
        <html lang="en" data-theme=theme style=font_size>
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <AutoReload options=options.clone()/>
                {if has_islands() {
                    island_loader(options).into_any()
                } else {
                    // Nothing to hydrate: the WebAssembly is fetched once this page has
                    // loaded, for the page that follows, instead of competing with its paint.
                    let prefetch = format!(
                        "addEventListener('load',function(){{var l=document.createElement('link');\
                         l.rel='prefetch';l.href='/{}/{}.wasm';document.head.append(l)}})",
                        options.site_pkg_dir, options.output_name
                    );
                    view! { <script nonce=leptos::nonce::use_nonce() inner_html=prefetch></script> }.into_any()
                }}
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// Leptos's island loader without the resource hints `HydrationScripts` puts before it: a
/// `modulepreload` of the JS and a `preload` of the WASM, fetched at once beside the stylesheet.
/// The loader itself waits for the browser to be idle, so on a slow link those 400 KB only
/// competed with the page's first paint (Lighthouse, simulated mobile: the chat page's LCP
/// 3.2 s with them, 1.1 s without; the same page served as a file). The script is leptos's
/// own, taken from what `HydrationScripts` renders, so it stays in step with the version.
fn island_loader(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    {
        use leptos::tachys::view::RenderHtml;
        let rendered = view! { <HydrationScripts options islands=true/> }.to_html();
        let loader = module_script_body(&rendered).unwrap_or_else(|| {
            leptos::logging::error!("HydrationScripts rendered no module script: {rendered}");
            String::new()
        });
        view! { <script type="module" nonce=leptos::nonce::use_nonce() inner_html=loader></script> }
    }
    #[cfg(not(feature = "ssr"))]
    view! { <HydrationScripts options islands=true/> }
}

/// What is inside the `<script type="module">` of `html`.
#[cfg(feature = "ssr")]
fn module_script_body(html: &str) -> Option<String> {
    let start = html.find("<script type=\"module\"")?;
    let rest = &html[start..];
    let body = &rest[rest.find('>')? + 1..];
    Some(body[..body.find("</script>")?].to_owned())
}

/// Whether the page asked for has an island: the log-in, register and waiting pages are plain
/// HTML forms, and work without any script.
fn has_islands() -> bool {
    #[cfg(feature = "ssr")]
    {
        use routes::AppRoute;
        let path = leptos::prelude::use_context::<http::request::Parts>()
            .map(|parts| parts.uri.path().to_owned());
        !matches!(
            path.as_deref().and_then(AppRoute::parse),
            Some(AppRoute::Login | AppRoute::Register | AppRoute::Waiting)
        )
    }
    #[cfg(not(feature = "ssr"))]
    true
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/rustchat.css"/>
        <Title text="Rustchat"/>
        <Router>
            <Routes fallback=pages::not_found::NotFoundPage>
                <Route path=(StaticSegment(segment::LOGIN),) view=pages::login::LoginPage/>
                <Route path=(StaticSegment(segment::REGISTER),) view=pages::register::RegisterPage/>
                <Route path=path!("/") view=pages::chat::ChatPage/>
                <Route
                    path=(StaticSegment(segment::CONVERSATION), ParamSegment("conversation_id"))
                    view=pages::chat::ChatPage
                />
                <Route path=(StaticSegment(segment::SETTINGS),) view=pages::settings::SettingsPage/>
                <Route path=(StaticSegment(segment::USAGE),) view=pages::usage::UsagePage/>
                <Route path=(StaticSegment(segment::ADMIN),) view=pages::admin::AdminPage/>
                <Route path=(StaticSegment(segment::WAITING),) view=pages::waiting::WaitingPage/>
            </Routes>
        </Router>
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use leptos::tachys::view::RenderHtml;

    use super::*;

    #[test]
    fn the_island_loader_comes_without_resource_hints() {
        let owner = Owner::new();
        owner.with(|| {
            let options = LeptosOptions::builder().output_name("rustchat").build();
            let html = island_loader(options).into_view().to_html();
            assert!(html.starts_with("<script type=\"module\""), "{html}");
            assert!(html.contains("hydrateIslands"), "{html}");
            assert!(html.contains("\"rustchat\""), "{html}");
            assert!(!html.contains("<link"), "{html}");
        });
    }

    #[test]
    fn the_module_script_is_found_in_what_leptos_renders() {
        let html = "<link rel=\"modulepreload\" href=\"/pkg/x.js\"><script type=\"module\" nonce=\"n\">load(1);</script>";
        assert_eq!(module_script_body(html).as_deref(), Some("load(1);"));
        assert_eq!(module_script_body("<link rel=\"preload\">"), None);
    }
}
