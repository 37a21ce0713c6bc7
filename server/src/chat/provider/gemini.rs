//! Google Gemini's `streamGenerateContent?alt=sse`: each event is a whole
//! `GenerateContentResponse` with candidate text parts (thought summaries marked
//! `thought: true`) and `usageMetadata`.

use base64::Engine as _;
use futures::{future::BoxFuture, StreamExt};
use serde::Deserialize;
use serde_json::json;

use super::{
    http::{parse_json, send, sse_events, Endpoint},
    ChatProvider, NetworkSettings, ProviderError, ProviderEvent, ProviderId, ProviderRequest,
    ProviderStream, Role, Usage,
};
use crate::config::Secret;

const NAME: &str = "Gemini";

pub struct Gemini {
    endpoint: Endpoint,
}

impl Gemini {
    pub fn new(api_key: Secret, base_url: Option<String>, settings: NetworkSettings) -> Self {
        Self {
            endpoint: Endpoint::new(
                api_key,
                base_url,
                "https://generativelanguage.googleapis.com",
                settings,
            ),
        }
    }
}

pub fn request_body(request: &ProviderRequest) -> serde_json::Value {
    let contents: Vec<_> = request
        .turns
        .iter()
        .map(|turn| {
            let role = match turn.role {
                Role::User => "user",
                Role::Assistant => "model",
            };
            let mut parts = vec![json!({ "text": turn.text_with_documents() })];
            parts.extend(turn.images().map(|(mime_type, bytes)| {
                json!({
                    "inline_data": {
                        "mime_type": mime_type,
                        "data": base64::engine::general_purpose::STANDARD.encode(bytes),
                    },
                })
            }));
            json!({ "role": role, "parts": parts })
        })
        .collect();
    let mut body = json!({
        "contents": contents,
        "generationConfig": {
            "temperature": request.temperature,
            "maxOutputTokens": request.max_tokens,
        },
    });
    // Thought summaries come only when asked for; the models that think by default (2.5 and
    // later) get asked always, any model when the conversation set a thinking budget.
    match request.thinking_budget {
        Some(budget) => {
            body["generationConfig"]["thinkingConfig"] =
                json!({ "includeThoughts": true, "thinkingBudget": budget })
        }
        None if thinks_by_default(&request.model) => {
            body["generationConfig"]["thinkingConfig"] = json!({ "includeThoughts": true })
        }
        None => {}
    }
    if let Some(system) = &request.system {
        body["systemInstruction"] = json!({ "parts": [{ "text": system }] });
    }
    body
}

/// Gemini 2.5 and later think before answering unless told not to; older models refuse a
/// `thinkingConfig`.
fn thinks_by_default(model: &str) -> bool {
    ["gemini-2.5", "gemini-3"]
        .iter()
        .any(|prefix| model.starts_with(prefix))
}

impl ChatProvider for Gemini {
    fn id(&self) -> ProviderId {
        ProviderId::Google
    }

    fn open(
        &self,
        request: ProviderRequest,
    ) -> BoxFuture<'_, Result<ProviderStream, ProviderError>> {
        Box::pin(async move {
            let body = request_body(&request);
            let url = format!(
                "{}/v1beta/models/{}:streamGenerateContent?alt=sse",
                self.endpoint.base_url, request.model
            );
            let upstream = self
                .endpoint
                .client
                .post(&url)
                .header("x-goog-api-key", self.endpoint.api_key.expose())
                .json(&body);
            let response = send(self.id(), &self.endpoint.settings, upstream).await?;
            let stream = sse_events(NAME, response).flat_map(|event| {
                let events = match event {
                    Ok(event) => map_chunk(&event.data),
                    Err(e) => vec![Err(e)],
                };
                futures::stream::iter(events)
            });
            Ok(stream.boxed())
        })
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Chunk {
    #[serde(default)]
    candidates: Vec<Candidate>,
    usage_metadata: Option<UsageMetadata>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Candidate {
    content: Option<Content>,
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct Content {
    #[serde(default)]
    parts: Vec<Part>,
}

#[derive(Deserialize)]
struct Part {
    text: Option<String>,
    /// A thought summary: reasoning, not part of the reply.
    #[serde(default)]
    thought: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UsageMetadata {
    #[serde(default)]
    prompt_token_count: i64,
    #[serde(default)]
    candidates_token_count: i64,
    #[serde(default)]
    cached_content_token_count: i64,
    #[serde(default)]
    thoughts_token_count: i64,
}

impl UsageMetadata {
    /// `promptTokenCount` already includes the cached tokens; `candidatesTokenCount` does
    /// not include the thoughts, which are billed as output.
    fn to_usage(&self) -> Usage {
        Usage {
            prompt_tokens: self.prompt_token_count,
            completion_tokens: self.candidates_token_count + self.thoughts_token_count,
            cached_tokens: self.cached_content_token_count,
            cache_write_tokens: 0,
            reasoning_tokens: self.thoughts_token_count,
        }
    }
}

fn map_chunk(data: &str) -> Vec<Result<ProviderEvent, ProviderError>> {
    let chunk = match parse_json::<Chunk>(NAME, data) {
        Ok(chunk) => chunk,
        Err(e) => return vec![Err(e)],
    };
    let mut events = Vec::new();
    let mut finished = false;
    for candidate in chunk.candidates.into_iter().take(1) {
        for part in candidate.content.map(|c| c.parts).unwrap_or_default() {
            match part.text {
                Some(text) if text.is_empty() => {}
                Some(text) if part.thought => events.push(Ok(ProviderEvent::Reasoning(text))),
                Some(text) => events.push(Ok(ProviderEvent::Delta(text))),
                None => {}
            }
        }
        finished = candidate.finish_reason.is_some();
    }
    if let Some(usage) = chunk.usage_metadata {
        events.push(Ok(ProviderEvent::Usage(usage.to_usage())));
    }
    if finished {
        events.push(Ok(ProviderEvent::Finished));
    }
    events
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thought_parts_are_reasoning_and_the_rest_is_the_reply() {
        let events = map_chunk(
            r#"{"candidates":[{"content":{"role":"model","parts":[{"text":"Weighing it up","thought":true},{"text":"Yes"}]}}]}"#,
        );
        assert_eq!(
            events,
            vec![
                Ok(ProviderEvent::Reasoning("Weighing it up".into())),
                Ok(ProviderEvent::Delta("Yes".into())),
            ]
        );
    }

    #[test]
    fn thoughts_count_as_completion_and_cached_tokens_stay_inside_the_prompt() {
        let events = map_chunk(
            r#"{"candidates":[{"content":{"role":"model","parts":[{"text":"Hi"}]},"finishReason":"STOP"}],
               "usageMetadata":{"promptTokenCount":1000,"cachedContentTokenCount":600,"candidatesTokenCount":20,"thoughtsTokenCount":80,"totalTokenCount":1100}}"#,
        );
        assert_eq!(
            events,
            vec![
                Ok(ProviderEvent::Delta("Hi".into())),
                Ok(ProviderEvent::Usage(Usage {
                    prompt_tokens: 1000,
                    completion_tokens: 100,
                    cached_tokens: 600,
                    cache_write_tokens: 0,
                    reasoning_tokens: 80
                })),
                Ok(ProviderEvent::Finished),
            ]
        );
    }
}
