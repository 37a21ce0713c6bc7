//! Anthropic's Messages API in its native SSE format: `message_start` (input usage, cache
//! reads and writes), `content_block_delta` (`text_delta`, and `thinking_delta` when extended
//! thinking is on), `message_delta` (output usage so far), `message_stop`, `ping` and `error`.

use base64::Engine as _;
use futures::{future::BoxFuture, StreamExt};
use serde::Deserialize;
use serde_json::json;

use super::{
    http::{parse_json, send, sse_events, Endpoint},
    ChatProvider, ErrorKind, NetworkSettings, ProviderError, ProviderEvent, ProviderId,
    ProviderRequest, ProviderStream, Role, Usage,
};
use crate::config::Secret;

const NAME: &str = "Anthropic";
const API_VERSION: &str = "2023-06-01";

pub struct Anthropic {
    endpoint: Endpoint,
}

impl Anthropic {
    pub fn new(api_key: Secret, base_url: Option<String>, settings: NetworkSettings) -> Self {
        Self {
            endpoint: Endpoint::new(api_key, base_url, "https://api.anthropic.com", settings),
        }
    }
}

pub fn request_body(request: &ProviderRequest) -> serde_json::Value {
    let messages: Vec<_> = request
        .turns
        .iter()
        .map(|turn| {
            let role = match turn.role {
                Role::User => "user",
                Role::Assistant => "assistant",
            };
            let text = turn.text_with_documents();
            let mut images = turn.images().peekable();
            if images.peek().is_none() {
                return json!({ "role": role, "content": text });
            }
            // Images first, as Anthropic's guide recommends, then the text.
            let mut content: Vec<_> = images
                .map(|(media_type, bytes)| {
                    json!({
                        "type": "image",
                        "source": {
                            "type": "base64",
                            "media_type": media_type,
                            "data": base64::engine::general_purpose::STANDARD.encode(bytes),
                        },
                    })
                })
                .collect();
            if !text.trim().is_empty() {
                content.push(json!({ "type": "text", "text": text }));
            }
            json!({ "role": role, "content": content })
        })
        .collect();
    let mut body = json!({
        "model": request.model,
        "max_tokens": request.max_tokens,
        "messages": messages,
        "stream": true,
    });
    match request.thinking_budget {
        // The budget is part of `max_tokens` (the conversation's settings keep it below), and
        // thinking refuses any temperature but its own.
        Some(budget) => body["thinking"] = json!({ "type": "enabled", "budget_tokens": budget }),
        None => body["temperature"] = json!(request.temperature.min(1.0)),
    }
    if let Some(system) = &request.system {
        body["system"] = json!(system);
    }
    body
}

impl ChatProvider for Anthropic {
    fn id(&self) -> ProviderId {
        ProviderId::Anthropic
    }

    fn open(
        &self,
        request: ProviderRequest,
    ) -> BoxFuture<'_, Result<ProviderStream, ProviderError>> {
        Box::pin(async move {
            let body = request_body(&request);
            let url = format!("{}/v1/messages", self.endpoint.base_url);
            let upstream = self
                .endpoint
                .client
                .post(&url)
                .header("x-api-key", self.endpoint.api_key.expose())
                .header("anthropic-version", API_VERSION)
                .json(&body);
            let response = send(self.id(), &self.endpoint.settings, upstream).await?;
            let mut usage = Usage::default();
            let stream = sse_events(NAME, response).flat_map(move |event| {
                let events = match event {
                    Ok(event) => map_event(&event.event, &event.data, &mut usage),
                    Err(e) => vec![Err(e)],
                };
                futures::stream::iter(events)
            });
            Ok(stream.boxed())
        })
    }
}

#[derive(Deserialize, Default)]
struct WireUsage {
    #[serde(default)]
    input_tokens: Option<i64>,
    #[serde(default)]
    output_tokens: Option<i64>,
    #[serde(default)]
    cache_creation_input_tokens: Option<i64>,
    #[serde(default)]
    cache_read_input_tokens: Option<i64>,
}

impl WireUsage {
    /// Anthropic's `input_tokens` excludes cache reads and writes; ours includes them.
    fn merge_into(&self, usage: &mut Usage) {
        let cached = self.cache_read_input_tokens;
        let written = self.cache_creation_input_tokens;
        if let Some(input) = self.input_tokens {
            usage.prompt_tokens = input + cached.unwrap_or(0) + written.unwrap_or(0);
        }
        if let Some(cached) = cached {
            usage.cached_tokens = cached;
        }
        if let Some(written) = written {
            usage.cache_write_tokens = written;
        }
        if let Some(output) = self.output_tokens {
            // `message_delta` reports the cumulative output count.
            usage.completion_tokens = output;
        }
    }
}

/// One SSE event to the events it means. `usage` accumulates across the stream.
fn map_event(
    kind: &str,
    data: &str,
    usage: &mut Usage,
) -> Vec<Result<ProviderEvent, ProviderError>> {
    #[derive(Deserialize)]
    struct MessageStart {
        message: StartMessage,
    }
    #[derive(Deserialize)]
    struct StartMessage {
        #[serde(default)]
        usage: WireUsage,
    }
    #[derive(Deserialize)]
    struct BlockDelta {
        delta: Delta,
    }
    #[derive(Deserialize)]
    struct Delta {
        #[serde(rename = "type")]
        kind: String,
        #[serde(default)]
        text: String,
        #[serde(default)]
        thinking: String,
    }
    #[derive(Deserialize)]
    struct MessageDelta {
        #[serde(default)]
        usage: WireUsage,
    }
    #[derive(Deserialize)]
    struct ErrorEvent {
        error: ErrorBody,
    }
    #[derive(Deserialize)]
    struct ErrorBody {
        #[serde(rename = "type")]
        kind: String,
        message: String,
    }

    match kind {
        "message_start" => match parse_json::<MessageStart>(NAME, data) {
            Ok(start) => {
                start.message.usage.merge_into(usage);
                vec![Ok(ProviderEvent::Usage(*usage))]
            }
            Err(e) => vec![Err(e)],
        },
        "content_block_delta" => match parse_json::<BlockDelta>(NAME, data) {
            Ok(block) if block.delta.kind == "text_delta" && !block.delta.text.is_empty() => {
                vec![Ok(ProviderEvent::Delta(block.delta.text))]
            }
            Ok(block)
                if block.delta.kind == "thinking_delta" && !block.delta.thinking.is_empty() =>
            {
                vec![Ok(ProviderEvent::Reasoning(block.delta.thinking))]
            }
            // A thinking block's `signature_delta` and tool input are not shown.
            Ok(_) => vec![],
            Err(e) => vec![Err(e)],
        },
        "message_delta" => match parse_json::<MessageDelta>(NAME, data) {
            Ok(delta) => {
                delta.usage.merge_into(usage);
                vec![Ok(ProviderEvent::Usage(*usage))]
            }
            Err(e) => vec![Err(e)],
        },
        "message_stop" => vec![Ok(ProviderEvent::Finished)],
        "error" => {
            let error = match parse_json::<ErrorEvent>(NAME, data) {
                Ok(event) => {
                    let kind = match event.error.kind.as_str() {
                        "overloaded_error" | "api_error" => ErrorKind::Upstream,
                        "rate_limit_error" => ErrorKind::RateLimited,
                        "authentication_error" | "permission_error" => ErrorKind::Auth,
                        _ => ErrorKind::Rejected,
                    };
                    let sentence = match kind {
                        ErrorKind::Upstream => {
                            format!("{NAME} is overloaded or had a server error; try again later.")
                        }
                        ErrorKind::RateLimited => {
                            format!("{NAME} is rate limiting requests. Try again in a minute.")
                        }
                        ErrorKind::Auth => format!(
                            "{NAME} refused the API key. Check the key in the server's configuration."
                        ),
                        _ => format!("{NAME} stopped the reply with an error."),
                    };
                    ProviderError::new(kind, sentence)
                        .with_detail(format!("{}: {}", event.error.kind, event.error.message))
                }
                Err(e) => e,
            };
            vec![Err(error)]
        }
        // `ping`, `content_block_start`, `content_block_stop` and future event types.
        _ => vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompt_tokens_include_cache_reads_and_writes_exactly_once() {
        let mut usage = Usage::default();
        map_event(
            "message_start",
            r#"{"type":"message_start","message":{"id":"m","usage":{"input_tokens":10,"cache_creation_input_tokens":200,"cache_read_input_tokens":1000,"output_tokens":1}}}"#,
            &mut usage,
        );
        map_event(
            "message_delta",
            r#"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":42}}"#,
            &mut usage,
        );
        assert_eq!(
            usage,
            Usage {
                prompt_tokens: 1210,
                completion_tokens: 42,
                cached_tokens: 1000,
                cache_write_tokens: 200,
                reasoning_tokens: 0
            }
        );
    }

    #[test]
    fn thinking_deltas_are_reasoning_and_signatures_are_dropped() {
        let mut usage = Usage::default();
        let events = map_event(
            "content_block_delta",
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"hmm"}}"#,
            &mut usage,
        );
        assert_eq!(events, vec![Ok(ProviderEvent::Reasoning("hmm".into()))]);
        let events = map_event(
            "content_block_delta",
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"EqQB"}}"#,
            &mut usage,
        );
        assert!(events.is_empty());
    }
}
