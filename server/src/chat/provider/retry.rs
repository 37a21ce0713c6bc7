//! The one retry policy for every provider: which failures are worth another attempt, how long
//! to wait before it, and when to give up.
//!
//! Exactly one layer retries: the orchestrator (`chat::generation`), around
//! [`ChatProvider::open`](super::ChatProvider::open) and the reading of the stream up to its
//! first token. `open` itself sends one request. The orchestrator is the layer that can tell
//! "before the first token" from "after": a provider may accept a request (200) and then fail
//! before sending any text (Anthropic's `overloaded_error` event), which only the reader of the
//! stream sees, and while it waits it keeps the heartbeat and the stop button working. Retrying
//! in `open` as well would multiply the attempts, as async-openai's own retries once did.
//!
//! The schedule is `backon`'s exponential backoff from `PROVIDER_RETRY_DELAY`, doubling, with
//! jitter (each delay is stretched by a random 0–100 %, so many servers that failed together
//! do not retry together) and capped at [`MAX_DELAY`]. A server's `Retry-After` replaces the
//! computed delay, capped alike. `PROVIDER_MAX_RETRIES` counts the attempts after the first,
//! the same for every provider.

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBackoff, ExponentialBuilder};
use chrono::{DateTime, Utc};

use super::{ErrorKind, NetworkSettings, ProviderError};

/// The longest wait before another attempt, computed or asked for: beyond it, the person
/// watching the reply is better served by the error.
pub const MAX_DELAY: Duration = Duration::from_secs(20);

/// The attempts at one reply, from the first request to the first token.
pub struct Attempts {
    backoff: ExponentialBackoff,
    made: u32,
}

impl Attempts {
    /// Before the first attempt.
    pub fn new(settings: &NetworkSettings) -> Self {
        let backoff = ExponentialBuilder::new()
            .with_min_delay(settings.retry_base_delay)
            .with_factor(2.0)
            .with_max_delay(MAX_DELAY)
            .with_max_times(settings.max_retries as usize)
            .with_jitter()
            .build();
        Self { backoff, made: 1 }
    }

    /// After an attempt failed with `error` before the first token: how long to wait before
    /// the next one, or `None` when the failure is not worth retrying or no attempt is left.
    pub fn next_delay(&mut self, error: &ProviderError) -> Option<Duration> {
        if !is_retryable(error.kind) {
            return None;
        }
        let computed = self.backoff.next()?;
        self.made += 1;
        Some(error.retry_after.unwrap_or(computed).min(MAX_DELAY))
    }

    /// The error to show once [`next_delay`](Self::next_delay) said no: the last failure,
    /// saying how many attempts were made when there was more than one.
    pub fn give_up(&self, error: ProviderError) -> ProviderError {
        if self.made == 1 {
            return error;
        }
        ProviderError {
            message: format!("{} (gave up after {} attempts)", error.message, self.made),
            ..error
        }
    }
}

/// Failures that another attempt may not meet: rate limits, server errors, a connection that
/// could not be made or an answer that did not come. A refused key or request, or a reply we
/// could not read, would fail the same way again.
fn is_retryable(kind: ErrorKind) -> bool {
    matches!(
        kind,
        ErrorKind::RateLimited | ErrorKind::Upstream | ErrorKind::Connect | ErrorKind::Timeout
    )
}

/// The wait a `Retry-After` header asks for: a number of seconds, or an HTTP date (a date
/// in the past asks for no wait).
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    // An HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`) is a valid RFC 2822 date.
    let date = DateTime::parse_from_rfc2822(value).ok()?;
    Some(
        (date.with_timezone(&Utc) - now)
            .to_std()
            .unwrap_or(Duration::ZERO),
    )
}

/// The `Retry-After` of a response, if it has a readable one.
pub fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    parse_retry_after(value, Utc::now())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(max_retries: u32, base_ms: u64) -> NetworkSettings {
        NetworkSettings {
            max_retries,
            retry_base_delay: Duration::from_millis(base_ms),
            ..NetworkSettings::default()
        }
    }

    fn failure(kind: ErrorKind) -> ProviderError {
        ProviderError::new(kind, "Gemini had a server error (503).")
    }

    #[test]
    fn delays_double_from_the_base_with_up_to_as_much_again_of_jitter() {
        let mut attempts = Attempts::new(&settings(4, 1000));
        for base in [1, 2, 4, 8] {
            let delay = attempts.next_delay(&failure(ErrorKind::Upstream)).unwrap();
            let base = Duration::from_secs(base);
            assert!(base <= delay && delay <= base * 2, "{delay:?} for {base:?}");
        }
        assert_eq!(attempts.next_delay(&failure(ErrorKind::Upstream)), None);
        assert_eq!(
            attempts.give_up(failure(ErrorKind::Upstream)).message,
            "Gemini had a server error (503). (gave up after 5 attempts)"
        );
    }

    #[test]
    fn no_delay_is_longer_than_the_cap() {
        let mut attempts = Attempts::new(&settings(3, 15_000));
        for _ in 0..3 {
            let delay = attempts.next_delay(&failure(ErrorKind::Timeout)).unwrap();
            assert!(delay <= MAX_DELAY, "{delay:?}");
        }
        let mut asked = failure(ErrorKind::RateLimited);
        asked.retry_after = Some(Duration::from_secs(3600));
        let mut attempts = Attempts::new(&settings(1, 10));
        assert_eq!(attempts.next_delay(&asked), Some(MAX_DELAY));
    }

    #[test]
    fn the_servers_retry_after_replaces_the_computed_delay() {
        let mut asked = failure(ErrorKind::RateLimited);
        asked.retry_after = Some(Duration::from_secs(2));
        let mut attempts = Attempts::new(&settings(1, 10));
        assert_eq!(attempts.next_delay(&asked), Some(Duration::from_secs(2)));
    }

    #[test]
    fn a_refused_request_is_given_up_at_once_and_says_nothing_of_attempts() {
        let mut attempts = Attempts::new(&settings(3, 10));
        let refused = ProviderError::new(ErrorKind::Auth, "Gemini refused the API key (401).");
        assert_eq!(attempts.next_delay(&refused), None);
        assert_eq!(attempts.give_up(refused.clone()), refused);
    }

    #[test]
    fn retry_after_is_read_as_seconds_or_as_an_http_date() {
        let now = DateTime::parse_from_rfc2822("Wed, 02 Dec 2026 03:00:00 GMT")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(parse_retry_after(" 7 ", now), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("Wed, 02 Dec 2026 03:00:12 GMT", now),
            Some(Duration::from_secs(12))
        );
        assert_eq!(
            parse_retry_after("Wed, 02 Dec 2026 02:59:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }
}
