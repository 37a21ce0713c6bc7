//! "Regenerate with…": the menu of models a reply can be regenerated with, one per page,
//! opened under the reply's ▾ button. Esc or a click outside closes it.

use leptos::{html, prelude::*};

use super::state::Chat;

#[component]
pub fn RegenerateMenuPopup(chat: Chat) -> impl IntoView {
    let list = NodeRef::<html::Div>::new();
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if chat.menu.get().is_some() {
            if let Some(first) = list
                .get()
                .and_then(|el| el.query_selector("button").ok().flatten())
                .and_then(|el| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(el).ok())
            {
                let _ = first.focus();
            }
        }
    });
    let close = move || chat.menu.set(None);
    move || {
        chat.menu.get().map(|menu| {
            let models = chat.models.get_value();
            let items = models
                .into_iter()
                .map(|m| {
                    let (provider, model) = (m.provider, m.model.clone());
                    let pick = move |_| {
                        #[cfg(feature = "hydrate")]
                        leptos::task::spawn_local(super::branching::regenerate(
                            chat,
                            menu.message_id,
                            Some((provider, model.clone())),
                        ));
                        #[cfg(not(feature = "hydrate"))]
                        let _ = (&provider, &model);
                    };
                    view! {
                        <button type="button" role="menuitem" class="menu-item" on:click=pick>
                            <span class="menu-item-name">{m.display_name.clone()}</span>
                            <span class="menu-item-provider">{m.provider.display_name()}</span>
                        </button>
                    }
                })
                .collect_view();
            view! {
                <div class="menu-backdrop" on:click=move |_| close()></div>
                <div
                    class="regenerate-menu"
                    role="menu"
                    aria-label="Regenerate with"
                    node_ref=list
                    style:top=format!("{}px", menu.top)
                    style:left=format!("min({}px, calc(100vw - 17rem))", menu.left)
                    on:keydown=move |ev| {
                        if ev.key() == "Escape" {
                            ev.prevent_default();
                            ev.stop_propagation();
                            close();
                        }
                    }
                >
                    <p class="menu-title">"Regenerate with"</p>
                    {items}
                </div>
            }
        })
    }
}
