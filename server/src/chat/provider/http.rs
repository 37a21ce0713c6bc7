//! Opening a streaming request to a provider over HTTP, once, and reading its Server-Sent
//! Events with the `eventsource-stream` parser.

use std::time::Duration;

use futures::{Stream, StreamExt};
use reqwest::{RequestBuilder, Response, StatusCode};

use super::{retry::retry_after, ErrorKind, NetworkSettings, ProviderError, ProviderId};

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

/// Sends the request once and returns the response if its status is a success. A refusal
/// carries the server's `Retry-After`; retrying is the orchestrator's (see [`super::retry`]).
pub async fn send(
    provider: ProviderId,
    settings: &NetworkSettings,
    request: RequestBuilder,
) -> Result<Response, ProviderError> {
    let name = provider.in_sentence();
    match tokio::time::timeout(settings.first_byte_timeout, request.send()).await {
        Err(_) => Err(ProviderError::new(
            ErrorKind::Timeout,
            format!(
                "{name} did not answer within {} s.",
                settings.first_byte_timeout.as_secs_f32()
            ),
        )),
        Ok(Err(e)) => Err(connection_error(name, &e)),
        Ok(Ok(response)) if response.status().is_success() => Ok(response),
        Ok(Ok(response)) => Err(status_error(name, response).await),
    }
}

pub fn connection_error(name: &str, error: &reqwest::Error) -> ProviderError {
    if error.is_timeout() {
        ProviderError::new(
            ErrorKind::Timeout,
            format!("Connecting to {name} timed out."),
        )
        .with_detail(root_cause(error))
    } else {
        ProviderError::new(ErrorKind::Connect, format!("Could not connect to {name}."))
            .with_detail(root_cause(error))
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
    let retry_after = retry_after(response.headers());
    let body = response.text().await.unwrap_or_default();
    refusal(name, status, &body, retry_after)
}

/// A provider's refusal, from its status and JSON error body. The status decides the
/// [`ErrorKind`], and with it whether another attempt may succeed.
fn refusal(
    name: &str,
    status: StatusCode,
    body: &str,
    retry_after: Option<Duration>,
) -> ProviderError {
    let (kind, sentence) = match status {
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => (
            ErrorKind::Auth,
            format!(
                "{name} refused the API key ({}). Check the key in the server's configuration.",
                status.as_u16()
            ),
        ),
        // OpenAI's "no credit left" is a 429 too, but waiting does not end it.
        StatusCode::TOO_MANY_REQUESTS if is_out_of_quota(body) => (
            ErrorKind::Rejected,
            format!("{name} refused the request: the account has no quota left (429)."),
        ),
        StatusCode::TOO_MANY_REQUESTS => (
            ErrorKind::RateLimited,
            format!("{name} is rate limiting requests (429). Try again in a minute."),
        ),
        s if s.is_server_error() || s.as_u16() == 529 => (
            ErrorKind::Upstream,
            format!("{name} had a server error ({}).", s.as_u16()),
        ),
        s => (
            ErrorKind::Rejected,
            format!("{name} rejected the request ({}).", s.as_u16()),
        ),
    };
    // What the provider said stays in the log: a 401's text names the (masked) key, and a
    // compatible server's errors can name internal hosts.
    let detail = upstream_message(body).unwrap_or_else(|| body.chars().take(300).collect());
    ProviderError {
        retry_after,
        ..ProviderError::new(kind, sentence).with_detail(detail)
    }
}

fn is_out_of_quota(body: &str) -> bool {
    let Ok(value) = serde_json::from_str::<serde_json::Value>(body) else {
        return false;
    };
    ["/error/code", "/error/type"]
        .iter()
        .any(|field| value.pointer(field).and_then(|v| v.as_str()) == Some("insufficient_quota"))
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
                format!("The connection to {name} was lost in the middle of the reply."),
            )
            .with_detail(e)
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
            format!("{name} sent a reply we could not read."),
        )
        .with_detail(format!(
            "{e}: {}",
            data.chars().take(300).collect::<String>()
        ))
    })
}
