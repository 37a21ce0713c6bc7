//! OpenAI chat completions through `async-openai`, streaming with
//! `stream_options.include_usage`. `OPENAI_BASE_URL` points it at any OpenAI-compatible server
//! (Ollama, vLLM, llama.cpp, OpenRouter). async-openai's client would retry 429s, 5xx and
//! refused connections itself; it gets a [`Transport`] without that layer instead, so that
//! retries are the orchestrator's alone (see [`super::retry`]) and count alike for every
//! provider.
//!
//! The stream's chunks are read into our own type (async-openai's "bring your own types"),
//! since the reasoning that compatible servers stream beside the text — `reasoning_content`
//! (DeepSeek, Qwen, vLLM) or `reasoning` (OpenRouter, Ollama) — is in no OpenAI type.

use std::task::{Context, Poll};

use async_openai::{
    config::OpenAIConfig,
    error::OpenAIError,
    middleware::HttpRequestFactory,
    types::chat::{
        ChatCompletionRequestAssistantMessageArgs, ChatCompletionRequestMessage,
        ChatCompletionRequestMessageContentPartImage, ChatCompletionRequestMessageContentPartText,
        ChatCompletionRequestSystemMessageArgs, ChatCompletionRequestUserMessageArgs,
        ChatCompletionRequestUserMessageContent, ChatCompletionRequestUserMessageContentPart,
        ChatCompletionStreamOptions, CompletionUsage, CreateChatCompletionRequest,
        CreateChatCompletionRequestArgs, ImageUrl,
    },
    Client,
};
use futures::{future::BoxFuture, StreamExt};
use serde::Deserialize;

use super::{
    http::{connection_error, status_error},
    ChatProvider, ErrorKind, NetworkSettings, ProviderError, ProviderEvent, ProviderId,
    ProviderRequest, ProviderStream, Role, Usage,
};
use crate::config::Secret;

const NAME: &str = "OpenAI";

pub struct OpenAi {
    client: Client<OpenAIConfig>,
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
        let http_client = super::http::client(&settings);
        let client = Client::build(http_client.clone(), config).with_http_service(Transport {
            client: http_client,
        });
        Self {
            client,
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
            let stream = tokio::time::timeout(
                self.settings.first_byte_timeout,
                self.client
                    .chat()
                    .create_stream_byot::<_, StreamChunk>(body),
            )
            .await
            .map_err(|_| {
                ProviderError::new(
                    ErrorKind::Timeout,
                    format!(
                        "{NAME} did not answer within {} s.",
                        self.settings.first_byte_timeout.as_secs_f32()
                    ),
                )
            })?
            .map_err(map_error)?;
            Ok(stream
                .flat_map(|item| {
                    futures::stream::iter(match item {
                        Ok(chunk) => map_chunk(chunk),
                        Err(e) => vec![Err(map_error(e))],
                    })
                })
                .boxed())
        })
    }
}

/// One `chat.completion.chunk`, as much of it as we read.
#[derive(Deserialize)]
struct StreamChunk {
    #[serde(default)]
    choices: Vec<StreamChoice>,
    #[serde(default)]
    usage: Option<CompletionUsage>,
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

/// async-openai's HTTP transport without its retry layer, and which reads refusals itself:
/// async-openai's error reader drops the headers, and `Retry-After` with them.
#[derive(Clone)]
struct Transport {
    client: reqwest::Client,
}

impl tower::Service<HttpRequestFactory> for Transport {
    type Response = reqwest::Response;
    type Error = OpenAIError;
    type Future = BoxFuture<'static, Result<reqwest::Response, OpenAIError>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), OpenAIError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: HttpRequestFactory) -> Self::Future {
        let client = self.client.clone();
        Box::pin(async move {
            let response = client.execute(request.build().await?).await?;
            if response.status().is_success() {
                return Ok(response);
            }
            let refusal = status_error(NAME, response).await;
            Err(OpenAIError::Boxed(Box::new(refusal)))
        })
    }
}

fn map_error(error: OpenAIError) -> ProviderError {
    match error {
        OpenAIError::Boxed(error) => match error.downcast::<ProviderError>() {
            Ok(refusal) => *refusal,
            Err(other) => {
                ProviderError::new(ErrorKind::Rejected, format!("{NAME} refused the request."))
                    .with_detail(other)
            }
        },
        OpenAIError::Reqwest(e) => connection_error(NAME, &e),
        OpenAIError::StreamError(e) => ProviderError::new(
            ErrorKind::Cut,
            format!("The connection to {NAME} was lost in the middle of the reply."),
        )
        .with_detail(e),
        OpenAIError::JSONDeserialize(e, _) => ProviderError::new(
            ErrorKind::Malformed,
            format!("{NAME} sent a reply we could not read."),
        )
        .with_detail(e),
        other => ProviderError::new(ErrorKind::Rejected, format!("{NAME} refused the request."))
            .with_detail(other),
    }
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
