//! Stage `api`, client retries: the policy, the counters, the client-wide pause after a
//! throttled response, and `Retry-After`.

use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

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

/// The longest `Retry-After` taken as given: a day. Longer values (`1e20`) are clamped to it
/// (and the client caps what it honours far lower, at [`RetryPolicy::max_retry_after`]).
const LONGEST_RETRY_AFTER: Duration = Duration::from_secs(86_400);

/// Parses `Retry-After` (delta-seconds; HTTP dates are rare for APIs and treated as 1 s).
pub(super) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let v = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    Some(match v.trim().parse::<f64>() {
        Ok(secs) if secs.is_finite() && secs >= 0.0 => Duration::try_from_secs_f64(secs)
            .map_or(LONGEST_RETRY_AFTER, |d| d.min(LONGEST_RETRY_AFTER)),
        _ => Duration::from_secs(1),
    })
}
