//! Stage `api`, client retries: the policy, the counters, the client-wide pause after a
//! throttled response, and `Retry-After`.

use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant, SystemTime};

use reqwest::header::HeaderMap;

/// The default per-request timeout: generous for a page of 1000 objects from a slow API, short
/// enough that a silent endpoint is announced (as a retry) within half a minute.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The default number of attempts of one request (first try included).
pub const DEFAULT_ATTEMPTS: u32 = 8;

/// Retry behaviour, and how long one attempt may take.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Longest wait for one attempt: connecting, sending, and the whole response.
    pub timeout: Duration,
    /// Attempts in all (first try included).
    pub attempts: u32,
    /// First backoff; doubles each retry (full jitter).
    pub base: Duration,
    /// Backoff ceiling.
    pub max: Duration,
    /// Longest `Retry-After` honoured (longer values are capped).
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            timeout: DEFAULT_TIMEOUT,
            attempts: DEFAULT_ATTEMPTS,
            base: Duration::from_millis(100),
            max: Duration::from_secs(10),
            max_retry_after: Duration::from_secs(120),
        }
    }
}

/// Counters of one client, for summaries and tests.
#[derive(Debug, Default)]
pub struct Stats {
    /// HTTP requests sent (retries included).
    pub requests: AtomicU64,
    /// Retries after errors or throttling.
    pub retries: AtomicU64,
    /// Throttled responses (429, or 409 with Retry-After).
    pub throttled: AtomicU64,
    /// What the last retry was for (`GET /v1/partner: no response within 30 s`).
    pub(super) last_retry: std::sync::Mutex<Option<String>>,
}

impl Stats {
    /// What the last retry was for, if there was one.
    pub fn last_retry(&self) -> Option<String> {
        self.last_retry
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

/// Client-wide pause after a throttled response: every request waits for it.
#[derive(Debug, Default)]
pub(super) struct Throttle {
    not_before: std::sync::Mutex<Option<Instant>>,
}

impl Throttle {
    pub(super) fn until(&self) -> Option<Instant> {
        *self.not_before.lock().expect("throttle lock")
    }

    pub(super) fn extend(&self, until: Instant) {
        let mut g = self.not_before.lock().expect("throttle lock");
        if g.is_none_or(|t| t < until) {
            *g = Some(until);
        }
    }

    pub(super) async fn wait(&self) {
        if let Some(t) = self.until() {
            tokio::time::sleep_until(t.into()).await;
        }
    }
}

/// The longest wait a throttled answer is taken to ask for: a day, the longest window any API
/// here counts in. Longer values (`1e20`, a date years ahead) are clamped to it; each client
/// caps what it honours lower (the partner API's [`RetryPolicy::max_retry_after`], the Nexudus
/// client's patience).
pub const LONGEST_RETRY_AFTER: Duration = Duration::from_secs(86_400);

/// The wait a throttled answer asks for, from its headers: `X-Retry-After-Ms` (milliseconds,
/// precise) if it gives one, else `Retry-After` as seconds (fractions accepted) or as an HTTP
/// date (`now` until then). Total: any header value gives a wait between zero and
/// [`LONGEST_RETRY_AFTER`], never a panic; a value that says nothing usable (`soon`, `NaN`,
/// `-5`) gives one second. `None` when the answer has neither header.
pub fn requested_wait(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let text = |name: &str| {
        headers
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).trim().to_string())
    };
    let ms = text(RETRY_AFTER_MS);
    let secs = text(reqwest::header::RETRY_AFTER.as_str());
    if ms.is_none() && secs.is_none() {
        return None;
    }
    let from_ms = ms.as_deref().and_then(number).map(|n| n / 1000.0);
    let wait = from_ms
        .or_else(|| secs.as_deref().and_then(number))
        .map(clamped)
        .or_else(|| {
            let date = httpdate::parse_http_date(secs.as_deref()?).ok()?;
            Some(
                date.duration_since(now)
                    .unwrap_or_default()
                    .min(LONGEST_RETRY_AFTER),
            )
        });
    Some(wait.unwrap_or(Duration::from_secs(1)))
}

/// The header with the exact wait in milliseconds that some servers (the sandbox's Nexudus
/// dialect) send beside `Retry-After`'s whole seconds.
pub const RETRY_AFTER_MS: &str = "x-retry-after-ms";

/// A number of seconds (or milliseconds) as written, not negative: not a date, not NaN.
fn number(text: &str) -> Option<f64> {
    text.parse::<f64>().ok().filter(|n| *n >= 0.0)
}

/// `secs` (not negative) seconds, at most [`LONGEST_RETRY_AFTER`].
fn clamped(secs: f64) -> Duration {
    Duration::try_from_secs_f64(secs).map_or(LONGEST_RETRY_AFTER, |d| d.min(LONGEST_RETRY_AFTER))
}
