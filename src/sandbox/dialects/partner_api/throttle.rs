//! `--write-limit` with `--throttle-status`: a token bucket of writes per partner (the
//! partner API's throttle; the Nexudus dialect paces by its own windows).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use axum::http::StatusCode;

use crate::sandbox::error::RequestError;

struct Bucket {
    tokens: f64,
    last: Instant,
}

/// `--write-limit`: a token bucket per partner.
pub(super) struct Throttle {
    /// Writes per minute per partner (`None`: unlimited).
    pub(super) limit: Option<u32>,
    status: StatusCode,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl Throttle {
    /// A limit of 0 means none; throttled writes get `status`.
    pub(super) fn new(limit: Option<u32>, status: StatusCode) -> Self {
        Throttle {
            limit: limit.filter(|n| *n > 0),
            status,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes a token of `partner_id`'s bucket: capacity one second of the rate (at least 1),
    /// refilled continuously at `limit / 60` per second. Without one: the throttle error, with
    /// `Retry-After`.
    pub(super) fn check(&self, partner_id: &str) -> Result<(), RequestError> {
        let Some(limit) = self.limit else {
            return Ok(());
        };
        let rate = f64::from(limit) / 60.0;
        let cap = rate.ceil().max(1.0);
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let b = buckets.entry(partner_id.to_string()).or_insert(Bucket {
            tokens: cap,
            last: now,
        });
        b.tokens = (b.tokens + now.duration_since(b.last).as_secs_f64() * rate).min(cap);
        b.last = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            return Ok(());
        }
        let wait = ((1.0 - b.tokens) / rate).ceil().max(1.0) as u64;
        let mut e = RequestError::new(
            self.status,
            "throttled",
            format!("write limit of {limit} per minute exceeded; retry after {wait} s"),
        );
        e.retry_after = Some(wait);
        Err(e)
    }
}
