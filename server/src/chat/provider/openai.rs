//! OpenAI chat completions, streaming with `stream_options.include_usage`. `OPENAI_BASE_URL`
//! points it at any OpenAI-compatible server (Ollama, vLLM, llama.cpp, OpenRouter).
//!
//! `async-openai` builds the request (its types) and its configuration gives the URL and the
//! headers; the request is sent and its Server-Sent Events read here, like Anthropic's and
//! Gemini's ([`super::http`]). Its client would retry 429s, 5xx and refused connections itself,
//! while retries are the orchestrator's alone (see [`super::retry`]); and its stream reads the
//! events in a task of its own and hands each one over a channel: a task to wake, on another
//! thread as often as not, for every token. Read here, a token goes from the connection to the
//! reply's task directly.
//!
//! The stream's chunks are read into our own type, since the reasoning that compatible servers
//! stream beside the text — `reasoning_content` (DeepSeek, Qwen, vLLM) or `reasoning`
//! (OpenRouter, Ollama) — is in no OpenAI type.

use async_openai::{
    config::{Config as _, OpenAIConfig},
    error::OpenAIError,
    types::chat::{
        ChatCompletionRequestAssistantMessageArgs, ChatCompletionRequestMessage,
        ChatCompletionRequestMessageContentPartImage, ChatCompletionRequestMessageContentPartText,
        ChatCompletionRequestSystemMessageArgs, ChatCompletionRequestUserMessageArgs,
        ChatCompletionRequestUserMessageContent, ChatCompletionRequestUserMessageContentPart,
        ChatCompletionStreamOptions, CompletionUsage, CreateChatCompletionRequest,
        CreateChatCompletionRequestArgs, ImageUrl,
    },
};
use futures::{future::BoxFuture, StreamExt};
use serde::Deserialize;

use super::{
    http::{parse_json, send, sse_events},
    ChatProvider, ErrorKind, NetworkSettings, ProviderError, ProviderEvent, ProviderId,
    ProviderRequest, ProviderStream, Role, Usage,
};
use crate::config::Secret;

const NAME: &str = "OpenAI";

pub struct OpenAi {
    client: reqwest::Client,
    /// The base URL, the key and the organisation: the URL and headers of every request.
    config: OpenAIConfig,
    /// A compatible server rather than OpenAI itself: it gets `max_tokens`, which older
    /// servers understand, instead of `max_completion_tokens`.
    compatible_server: bool,
    settings: NetworkSettings,
}

impl OpenAi {
    pub fn new(
        api_key: Option<Secret>,
        org_id: Option<String>,
        base_url: Option<String>,
        settings: NetworkSettings,
    ) -> Self {
        let mut config = OpenAIConfig::new().with_api_key(
            api_key
                .as_ref()
                .map(|k| k.expose().to_owned())
                .unwrap_or_else(|| "no-key".into()),
        );
        if let Some(org_id) = org_id {
            config = config.with_org_id(org_id);
        }
        if let Some(base_url) = &base_url {
            config = config.with_api_base(base_url.trim_end_matches('/'));
        }
        Self {
            client: super::http::client(&settings),
            config,
            compatible_server: base_url.is_some(),
            settings,
        }
    }

    fn build_request(
        &self,
        request: &ProviderRequest,
    ) -> Result<CreateChatCompletionRequest, OpenAIError> {
        let mut messages: Vec<ChatCompletionRequestMessage> = Vec::new();
        if let Some(system) = &request.system {
            messages.push(
                ChatCompletionRequestSystemMessageArgs::default()
                    .content(system.as_str())
                    .build()?
                    .into(),
            );
        }
        for turn in &request.turns {
            messages.push(match turn.role {
                Role::User => ChatCompletionRequestUserMessageArgs::default()
                    .content(user_content(turn))
                    .build()?
                    .into(),
                Role::Assistant => ChatCompletionRequestAssistantMessageArgs::default()
                    .content(turn.content.as_str())
                    .build()?
                    .into(),
            });
        }
        let mut args = CreateChatCompletionRequestArgs::default();
        // Bringing our own chunk type, the request must ask for a stream itself.
        args.model(request.model.as_str())
            .stream(true)
            .messages(messages)
            .stream_options(ChatCompletionStreamOptions {
                include_usage: Some(true),
                ..Default::default()
            });
        if self.compatible_server {
            args.max_tokens(request.max_tokens);
        } else {
            args.max_completion_tokens(request.max_tokens);
        }
        // Reasoning models accept only their default temperature.
        if !is_reasoning_model(&request.model) {
            args.temperature(request.temperature as f32);
        }
        args.build()
    }
}

/// A user turn: its text (documents included) alone, or with its images as `image_url` parts
/// holding data URLs.
fn user_content(turn: &super::ChatTurn) -> ChatCompletionRequestUserMessageContent {
    use base64::Engine as _;
    let text = turn.text_with_documents();
    let mut images = turn.images().peekable();
    if images.peek().is_none() {
        return ChatCompletionRequestUserMessageContent::Text(text);
    }
    let mut parts = vec![ChatCompletionRequestUserMessageContentPart::Text(
        ChatCompletionRequestMessageContentPartText {
            text,
            prompt_cache_breakpoint: None,
        },
    )];
    for (content_type, bytes) in images {
        let data = base64::engine::general_purpose::STANDARD.encode(bytes);
        parts.push(ChatCompletionRequestUserMessageContentPart::ImageUrl(
            ChatCompletionRequestMessageContentPartImage {
                image_url: ImageUrl {
                    url: format!("data:{content_type};base64,{data}"),
                    detail: None,
                },
                prompt_cache_breakpoint: None,
            },
        ));
    }
    ChatCompletionRequestUserMessageContent::Array(parts)
}

fn is_reasoning_model(model: &str) -> bool {
    ["o1", "o3", "o4", "gpt-5"]
        .iter()
        .any(|prefix| model.starts_with(prefix))
}

impl ChatProvider for OpenAi {
    fn id(&self) -> ProviderId {
        ProviderId::OpenAi
    }

    fn open(
        &self,
        request: ProviderRequest,
    ) -> BoxFuture<'_, Result<ProviderStream, ProviderError>> {
        Box::pin(async move {
            let body = self.build_request(&request).map_err(map_error)?;
            let request = self
                .client
                .post(self.config.url("/chat/completions"))
                .headers(self.config.headers())
                .json(&body);
            let response = send(ProviderId::OpenAi, &self.settings, request).await?;
            // `[DONE]` ends the stream; what follows it, if anything, is not read.
            let stream = sse_events(NAME, response)
                .take_while(|event| {
                    let done = matches!(event, Ok(event) if event.data.trim() == "[DONE]");
                    futures::future::ready(!done)
                })
                .flat_map(|event| {
                    futures::stream::iter(match event {
                        Ok(event) => match parse_json::<StreamChunk>(NAME, &event.data) {
                            Ok(chunk) => map_chunk(chunk),
                            Err(e) => vec![Err(e)],
                        },
                        Err(e) => vec![Err(e)],
                    })
                });
            Ok(stream.boxed())
        })
    }
}

/// One `chat.completion.chunk`, as much of it as we read; or the error a server may send
/// in the middle of a stream instead (`{"error": {"message": …}}`).
#[derive(Deserialize)]
struct StreamChunk {
    #[serde(default)]
    choices: Vec<StreamChoice>,
    #[serde(default)]
    usage: Option<CompletionUsage>,
    #[serde(default)]
    error: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct StreamChoice {
    #[serde(default)]
    delta: StreamChoiceDelta,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Default, Deserialize)]
struct StreamChoiceDelta {
    #[serde(default)]
    content: Option<String>,
    /// DeepSeek, Qwen and vLLM's name for the reasoning.
    #[serde(default)]
    reasoning_content: Option<String>,
    /// OpenRouter and Ollama's.
    #[serde(default)]
    reasoning: Option<String>,
}

fn map_chunk(chunk: StreamChunk) -> Vec<Result<ProviderEvent, ProviderError>> {
    if let Some(error) = chunk.error {
        // The person gets our sentence; the server's own words go to the log.
        return vec![Err(ProviderError::new(
            ErrorKind::Upstream,
            format!("{NAME} reported an error in the middle of the reply; try again."),
        )
        .with_detail(error))];
    }
    let mut events = Vec::new();
    if let Some(choice) = chunk.choices.into_iter().next() {
        let delta = choice.delta;
        let reasoning = delta.reasoning_content.or(delta.reasoning);
        if let Some(thought) = reasoning.filter(|t| !t.is_empty()) {
            events.push(Ok(ProviderEvent::Reasoning(thought)));
        }
        if let Some(text) = delta.content.filter(|t| !t.is_empty()) {
            events.push(Ok(ProviderEvent::Delta(text)));
        }
        if choice.finish_reason.is_some() {
            events.push(Ok(ProviderEvent::Finished));
        }
    }
    if let Some(usage) = chunk.usage {
        // OpenAI's prompt_tokens already include the cached ones, and completion_tokens the
        // reasoning ones: both map one to one.
        events.push(Ok(ProviderEvent::Usage(Usage {
            prompt_tokens: usage.prompt_tokens.into(),
            completion_tokens: usage.completion_tokens.into(),
            cached_tokens: usage
                .prompt_tokens_details
                .and_then(|d| d.cached_tokens)
                .unwrap_or(0)
                .into(),
            cache_write_tokens: 0,
            reasoning_tokens: usage
                .completion_tokens_details
                .and_then(|d| d.reasoning_tokens)
                .unwrap_or(0)
                .into(),
        })));
    }
    events
}

/// async-openai's builders refused the request's arguments: it was never sent.
fn map_error(error: OpenAIError) -> ProviderError {
    ProviderError::new(
        ErrorKind::Rejected,
        format!("The request to {NAME} could not be made."),
    )
    .with_detail(error)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events_of(chunk: &str) -> Vec<Result<ProviderEvent, ProviderError>> {
        map_chunk(serde_json::from_str(chunk).expect("a chunk"))
    }

    #[test]
    fn both_names_of_the_reasoning_are_read_apart_from_the_text() {
        let deepseek = r#"{"id":"c","object":"chat.completion.chunk","created":1,"model":"deepseek-reasoner",
            "choices":[{"index":0,"delta":{"content":null,"reasoning_content":"Let me see"},"finish_reason":null}]}"#;
        assert_eq!(
            events_of(deepseek),
            vec![Ok(ProviderEvent::Reasoning("Let me see".into()))]
        );
        let openrouter = r#"{"id":"c","object":"chat.completion.chunk","created":1,"model":"qwen3",
            "choices":[{"index":0,"delta":{"role":"assistant","content":"","reasoning":"Hmm"},"finish_reason":null}]}"#;
        assert_eq!(
            events_of(openrouter),
            vec![Ok(ProviderEvent::Reasoning("Hmm".into()))]
        );
        let text = r#"{"id":"c","object":"chat.completion.chunk","created":1,"model":"gpt-4o",
            "choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":"stop"}],"usage":null}"#;
        assert_eq!(
            events_of(text),
            vec![
                Ok(ProviderEvent::Delta("Hi".into())),
                Ok(ProviderEvent::Finished)
            ]
        );
    }
}
