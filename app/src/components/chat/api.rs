//! The browser's calls to the JSON API (same origin, the session cookie authenticates).

use serde::{de::DeserializeOwned, Serialize};

/// The API's error sentence, or a generic one when the network failed.
pub async fn call<B: Serialize, T: DeserializeOwned>(
    method: &str,
    url: &str,
    body: Option<&B>,
) -> Result<T, String> {
    use gloo_net::http::Request;
    let builder = match method {
        "POST" => Request::post(url),
        "PATCH" => Request::patch(url),
        "PUT" => Request::put(url),
        "DELETE" => Request::delete(url),
        _ => Request::get(url),
    };
    let response = match body {
        Some(body) => builder.json(body).map_err(|e| e.to_string())?.send().await,
        None => builder.send().await,
    }
    .map_err(|_| "The server cannot be reached. Check your connection.".to_owned())?;
    if response.status() == 204 {
        return serde_json::from_str("null").map_err(|e| e.to_string());
    }
    if !response.ok() {
        let body: serde_json::Value = response.json().await.unwrap_or_default();
        return Err(body["error"]["message"]
            .as_str()
            .unwrap_or("Something went wrong. Please try again.")
            .to_owned());
    }
    response.json().await.map_err(|e| e.to_string())
}

/// Tells the other islands of the page (the conversation list) about a conversation.
pub fn announce_conversation(conversation: &crate::wire::ConversationView) {
    let Ok(detail) = serde_json::to_string(conversation) else {
        return;
    };
    let init = web_sys::CustomEventInit::new();
    init.set_detail(&wasm_bindgen::JsValue::from_str(&detail));
    if let (Some(window), Ok(event)) = (
        web_sys::window(),
        web_sys::CustomEvent::new_with_event_init_dict(CONVERSATION_EVENT, &init),
    ) {
        let _ = window.dispatch_event(&event);
    }
}

pub const CONVERSATION_EVENT: &str = "rustchat:conversation";
