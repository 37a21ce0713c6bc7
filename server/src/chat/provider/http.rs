//! Opening a streaming request to a provider over HTTP, with bounded retries before the first
//! byte, and reading its Server-Sent Events with the `eventsource-stream` parser.

use std::time::Duration;

use futures::{Stream, StreamExt};
use reqwest::{RequestBuilder, Response, StatusCode};

use super::{display_name, ErrorKind, NetworkSettings, ProviderError};

/// A provider reached over plain HTTP with a key (Anthropic, Gemini).
pub struct Endpoint {
    pub client: reqwest::Client,
    pub api_key: crate::config::Secret,
    /// Without a trailing slash.
    pub base_url: String,
    pub settings: NetworkSettings,
}

impl Endpoint {
    /// `base_url` overrides `default_base` (a proxy, a test's fake upstream).
    pub fn new(
        api_key: crate::config::Secret,
        base_url: Option<String>,
        default_base: &str,
        settings: NetworkSettings,
    ) -> Self {
        let base_url = base_url.unwrap_or_else(|| default_base.to_owned());
        Self {
            client: client(&settings),
            api_key,
            base_url: base_url.trim_end_matches('/').to_owned(),
            settings,
        }
    }
}

pub fn client(settings: &NetworkSettings) -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(settings.connect_timeout)
        .build()
        .expect("a reqwest client with a rustls provider installed at start")
}

/// Sends the request built by `build`, retrying 429s, 5xx and connection failures with
/// exponential backoff (or the server's `Retry-After`, capped). Returns the response once its
/// status is a success.
pub async fn send_with_retries(
    provider: &str,
    settings: &NetworkSettings,
    build: impl Fn() -> RequestBuilder,
) -> Result<Response, ProviderError> {
    let name = display_name(provider);
    let mut attempt = 0;
    loop {
        let outcome = tokio::time::timeout(settings.first_byte_timeout, build().send()).await;
        let (error, retry_after) = match outcome {
            Err(_) => (
                ProviderError::new(
                    ErrorKind::Timeout,
                    format!(
                        "{name} did not answer within {} s.",
                        settings.first_byte_timeout.as_secs_f32()
                    ),
                ),
                None,
            ),
            Ok(Err(e)) => (connection_error(name, &e), None),
            Ok(Ok(response)) if response.status().is_success() => return Ok(response),
            Ok(Ok(response)) => {
                let retry_after = retry_after(&response);
                (status_error(name, response).await, retry_after)
            }
        };
        let retryable = matches!(
            error.kind,
            ErrorKind::RateLimited | ErrorKind::Upstream | ErrorKind::Connect | ErrorKind::Timeout
        );
        if !retryable || attempt >= settings.max_retries {
            return Err(if attempt > 0 {
                ProviderError::new(
                    error.kind,
                    format!("{} (gave up after {} attempts)", error.message, attempt + 1),
                )
            } else {
                error
            });
        }
        let backoff = settings.retry_base_delay * 2u32.saturating_pow(attempt);
        let delay = retry_after.unwrap_or(backoff).min(Duration::from_secs(20));
        tracing::warn!(provider, attempt, ?delay, error = %error.message, "retrying provider request");
        tokio::time::sleep(delay).await;
        attempt += 1;
    }
}

fn retry_after(response: &Response) -> Option<Duration> {
    response
        .headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

pub fn connection_error(name: &str, error: &reqwest::Error) -> ProviderError {
    if error.is_timeout() {
        ProviderError::new(
            ErrorKind::Timeout,
            format!("Connecting to {name} timed out."),
        )
    } else {
        ProviderError::new(
            ErrorKind::Connect,
            format!("Could not connect to {name}: {}.", root_cause(error)),
        )
    }
}

fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = error;
    while let Some(source) = cause.source() {
        cause = source;
    }
    cause.to_string()
}

/// Turns a non-success response into an error that says what the person can do about it.
pub async fn status_error(name: &str, response: Response) -> ProviderError {
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    let detail = upstream_message(&body);
    let with_detail = |sentence: String| match &detail {
        Some(detail) => format!("{sentence} {name} said: {detail}"),
        None => sentence,
    };
    match status {
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => ProviderError::new(
            ErrorKind::Auth,
            with_detail(format!(
                "{name} refused the API key ({}). Check the key in the server's configuration.",
                status.as_u16()
            )),
        ),
        StatusCode::TOO_MANY_REQUESTS => ProviderError::new(
            ErrorKind::RateLimited,
            with_detail(format!(
                "{name} is rate limiting requests (429). Try again in a minute."
            )),
        ),
        s if s.is_server_error() || s.as_u16() == 529 => ProviderError::new(
            ErrorKind::Upstream,
            with_detail(format!("{name} had a server error ({}).", s.as_u16())),
        ),
        s => ProviderError::new(
            ErrorKind::Rejected,
            with_detail(format!("{name} rejected the request ({}).", s.as_u16())),
        ),
    }
}

/// `error.message` from the JSON error bodies of OpenAI, Anthropic and Gemini alike.
pub fn upstream_message(body: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(body).ok()?;
    let message = value.pointer("/error/message")?.as_str()?.trim();
    (!message.is_empty()).then(|| message.chars().take(300).collect())
}

/// The SSE events of a response body. A body that breaks off becomes a [`ErrorKind::Cut`].
pub fn sse_events(
    name: &'static str,
    response: Response,
) -> impl Stream<Item = Result<eventsource_stream::Event, ProviderError>> + Send + 'static {
    use eventsource_stream::Eventsource;
    response.bytes_stream().eventsource().map(move |item| {
        item.map_err(|e| {
            ProviderError::new(
                ErrorKind::Cut,
                format!("The connection to {name} was lost in the middle of the reply ({e})."),
            )
        })
    })
}

/// Parses one SSE `data` payload, or says which provider sent something unreadable.
pub fn parse_json<T: serde::de::DeserializeOwned>(
    name: &str,
    data: &str,
) -> Result<T, ProviderError> {
    serde_json::from_str(data).map_err(|e| {
        ProviderError::new(
            ErrorKind::Malformed,
            format!("{name} sent a reply we could not read ({e})."),
        )
    })
}
