//! Stage `api`, client: the only HTTP client of the program. Bearer auth (the
//! token is never printed: `Debug` redacts it), timeouts, retries with exponential backoff and
//! full jitter, `Retry-After` honoured client-wide on 429 and on throttling 409s, cursor
//! pagination, idempotency keys on POST, plain `http://` refused except on loopback, and
//! redirects followed only within the endpoint's origin. May touch: the network, through
//! reqwest.
//!
//! Every retry is announced as a warning (what, why, attempt N of M, when), so that a slow or
//! silent endpoint is visible at the default verbosity.
//!
//! Rooms: `cause` (why an attempt failed, and the sentences about it), `error` (errors and
//! response decoding), `redirect` (the redirect policy, shared with the vendors' clients),
//! `request` (token, request builder), `retry` (policy, counters, throttling); this file
//! sends.

mod cause;
mod error;
pub mod redirect;
mod request;
mod retry;

pub use cause::Cause;
pub use error::ApiError;
use error::{Context, decode};
pub use request::{Request, Token};
use retry::Throttle;
pub use retry::{
    DEFAULT_TIMEOUT, LONGEST_RETRY_AFTER, RETRY_AFTER_MS, RetryPolicy, Stats, requested_wait,
};

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;

use crate::wire::partner::{IDEMPOTENCY_KEY_HEADER, MAX_PAGE_SIZE, Page};

/// A client of one partner API endpoint.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: reqwest::Url,
    token: Token,
    retry: RetryPolicy,
    /// A loopback endpoint: a local sandbox (the embedded one included).
    local: bool,
    throttle: Arc<Throttle>,
    stats: Arc<Stats>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base.as_str())
            .field("token", &self.token)
            .field("retry", &self.retry)
            .finish()
    }
}

/// Is `host` a loopback name or address?
fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost")
        || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

impl Client {
    /// A client for `endpoint` (e.g. `https://api.example.com`, `http://127.0.0.1:7878`).
    pub fn new(endpoint: &str, token: Token) -> Result<Self, ApiError> {
        Self::with_policy(endpoint, token, RetryPolicy::default())
    }

    /// A client with an explicit retry policy (and per-request timeout).
    pub fn with_policy(endpoint: &str, token: Token, retry: RetryPolicy) -> Result<Self, ApiError> {
        let bad = |reason: &str| ApiError::BadEndpoint {
            url: endpoint.to_string(),
            reason: reason.to_string(),
        };
        if let Some(guess) = cause::missing_scheme(endpoint, is_loopback) {
            return Err(bad(&cause::missing_scheme_reason(&guess)));
        }
        let mut base = reqwest::Url::parse(endpoint).map_err(|e| bad(&e.to_string()))?;
        let host = base.host_str().ok_or_else(|| bad("no host"))?.to_string();
        match base.scheme() {
            "https" => {}
            "http" if is_loopback(&host) => {}
            "http" => return Err(ApiError::InsecureEndpoint { host }),
            other => return Err(bad(&format!("unsupported scheme `{other}`"))),
        }
        if !base.path().ends_with('/') {
            let p = format!("{}/", base.path());
            base.set_path(&p);
        }
        let mut headers = HeaderMap::new();
        let mut auth = HeaderValue::from_str(&format!("Bearer {}", token.0)).map_err(|_| {
            ApiError::Setup("the token contains characters not allowed in an HTTP header".into())
        })?;
        auth.set_sensitive(true);
        headers.insert(reqwest::header::AUTHORIZATION, auth);
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .user_agent(concat!("partnerctl/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(retry.timeout)
            .timeout(retry.timeout)
            .pool_max_idle_per_host(64)
            .redirect(redirect::same_origin_policy())
            .build()
            .map_err(|e| ApiError::Setup(e.to_string()))?;
        Ok(Client {
            http,
            base,
            token,
            retry,
            local: is_loopback(&host),
            throttle: Arc::new(Throttle::default()),
            stats: Arc::new(Stats::default()),
        })
    }

    /// The endpoint's base URL.
    pub fn base_url(&self) -> &str {
        self.base.as_str()
    }

    /// Request, retry and throttle counters.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Sends a request (retrying as the policy allows) and decodes a JSON answer. `None` for
    /// `204 No Content`.
    pub async fn send<T: DeserializeOwned>(&self, req: Request<'_>) -> Result<Option<T>, ApiError> {
        let url = self
            .base
            .join(req.path.trim_start_matches('/'))
            .map_err(|e| ApiError::BadEndpoint {
                url: req.path.clone(),
                reason: e.to_string(),
            })?;
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            self.throttle.wait().await;
            self.stats.requests.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(method = %req.method, path = %req.path, attempt, "request");
            let outcome = self.builder(&req, &url).send().await;
            let last = attempt >= self.retry.attempts;
            let response = match outcome {
                Err(e) => {
                    if let Some(refused) = redirect::refused_redirect(&e) {
                        return Err(ApiError::Redirect {
                            method: req.method,
                            path: req.path,
                            refused,
                        });
                    }
                    let cause = Cause::of_transport(&e, self.retry.timeout);
                    if req.retryable() && !last {
                        let wait = self.backoff(attempt, None);
                        self.announce(&req, &cause, attempt, wait, Some(&e));
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    return Err(ApiError::Transport {
                        method: req.method,
                        path: req.path,
                        cause,
                        attempts: attempt,
                    });
                }
                Ok(r) => r,
            };
            let status = response.status();
            let retry_after = requested_wait(response.headers(), std::time::SystemTime::now());
            let throttled = status == StatusCode::TOO_MANY_REQUESTS
                || (status == StatusCode::CONFLICT && retry_after.is_some());
            if throttled {
                self.stats.throttled.fetch_add(1, Ordering::Relaxed);
                let wait = retry_after
                    .unwrap_or(Duration::from_secs(1))
                    .min(self.retry.max_retry_after);
                self.throttle.extend(Instant::now() + wait);
                // A throttled request was not processed: always safe to send again.
                if !last {
                    // The pause is client-wide: another throttled request may have made it longer.
                    let wait = self
                        .throttle
                        .until()
                        .map_or(wait, |t| t.saturating_duration_since(Instant::now()));
                    let cause = Cause::Throttled {
                        status,
                        retry_after,
                    };
                    self.announce(&req, &cause, attempt, wait, None);
                    continue;
                }
            } else if status.is_server_error() && req.retryable() && !last {
                let wait = self.backoff(attempt, retry_after);
                self.announce(&req, &Cause::Status(status), attempt, wait, None);
                tokio::time::sleep(wait).await;
                continue;
            }
            let cx = Context {
                local: self.local,
                timeout: self.retry.timeout,
                attempts: attempt,
            };
            return decode(req.method, req.path, response, cx).await;
        }
    }

    /// The HTTP request of `req` to `url`: query, JSON body, `If-Match`, `Idempotency-Key`.
    fn builder(&self, req: &Request<'_>, url: &reqwest::Url) -> reqwest::RequestBuilder {
        let mut builder = self.http.request(req.method.clone(), url.clone());
        if !req.query.is_empty() {
            builder = builder.query(&req.query);
        }
        if let Some(body) = &req.body {
            builder = builder
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.clone());
        }
        if let Some(etag) = req.if_match {
            builder = builder.header(reqwest::header::IF_MATCH, etag);
        }
        if let Some(key) = req.idempotency_key {
            builder = builder.header(IDEMPOTENCY_KEY_HEADER, key);
        }
        builder
    }

    /// How long to wait before the next attempt: exponential backoff with full jitter, or the
    /// server's `Retry-After` when it asks for longer.
    fn backoff(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let ceiling = self
            .retry
            .base
            .saturating_mul(1u32 << attempt.min(16))
            .min(self.retry.max);
        // Full jitter: anywhere between zero and the ceiling.
        let jittered = ceiling.mul_f64(rand::random::<f64>());
        retry_after.map_or(jittered, |r| {
            r.min(self.retry.max_retry_after).max(jittered)
        })
    }

    /// Counts a retry and announces it as a warning: one line saying what, why, which attempt
    /// comes next and when (with structured fields for `--log-format json`; `error` carries
    /// the transport error's whole chain).
    fn announce(
        &self,
        req: &Request<'_>,
        cause: &Cause,
        attempt: u32,
        wait: Duration,
        error: Option<&reqwest::Error>,
    ) {
        self.stats.retries.fetch_add(1, Ordering::Relaxed);
        *self
            .stats
            .last_retry
            .lock()
            .unwrap_or_else(|p| p.into_inner()) =
            Some(format!("{} {}: {cause}", req.method, req.path));
        let next = attempt + 1;
        let line = cause::retry_line(
            &req.method,
            &req.path,
            cause,
            next,
            self.retry.attempts,
            wait,
        );
        let retry_after_s = match cause {
            Cause::Throttled { retry_after, .. } => retry_after.map(|r| r.as_secs_f64()),
            _ => None,
        };
        tracing::warn!(
            method = %req.method,
            path = %req.path,
            cause = cause.kind(),
            status = cause.status().map(|s| s.as_u16()),
            retry_after_s,
            attempt = next,
            attempts = self.retry.attempts,
            wait_s = (wait.as_secs_f64() * 1000.0).round() / 1000.0,
            error = error.map(|e| tracing::field::display(cause::chain(e))),
            "{line}"
        );
    }

    /// `GET` decoding a JSON body.
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ApiError> {
        self.send(Request::new(Method::GET, path))
            .await?
            .ok_or_else(|| ApiError::Decode {
                method: Method::GET,
                path: path.to_string(),
                reason: "empty body".into(),
            })
    }

    /// Every item of a list endpoint, following cursors with the largest page size.
    pub async fn list_all<T: DeserializeOwned>(
        &self,
        path: &str,
        filters: &[(&str, String)],
    ) -> Result<Vec<T>, ApiError> {
        let mut items = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut req = Request::new(Method::GET, path).query("page_size", MAX_PAGE_SIZE);
            for (k, v) in filters {
                req = req.query(k, v);
            }
            if let Some(t) = &token {
                req = req.query("page_token", t);
            }
            let page: Page<T> = self.send(req).await?.ok_or_else(|| ApiError::Decode {
                method: Method::GET,
                path: path.to_string(),
                reason: "empty body".into(),
            })?;
            items.extend(page.items);
            match page.next_page_token {
                Some(t) if !t.is_empty() => token = Some(t),
                _ => return Ok(items),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_only_on_loopback() {
        let t = || Token::new("secret-token");
        assert!(Client::new("http://127.0.0.1:7878", t()).is_ok());
        assert!(Client::new("http://localhost:7878", t()).is_ok());
        assert!(Client::new("http://[::1]:7878", t()).is_ok());
        assert!(Client::new("https://api.example.com", t()).is_ok());
        let e = Client::new("http://api.example.com", t()).unwrap_err();
        assert!(matches!(e, ApiError::InsecureEndpoint { .. }), "{e}");
        assert!(Client::new("ftp://x", t()).is_err());
        assert!(Client::new("not a url", t()).is_err());
    }

    #[test]
    fn token_is_never_in_debug_output() {
        let c = Client::new("http://127.0.0.1:1", Token::new("s3cr3t-value")).unwrap();
        let shown = format!("{c:?} {:?}", Token::new("s3cr3t-value"));
        assert!(!shown.contains("s3cr3t"), "{shown}");
        assert!(shown.contains("redacted"));
    }

    #[test]
    fn retry_after_parsing() {
        let now = std::time::UNIX_EPOCH + Duration::from_secs(1_445_412_000);
        let wait = |pairs: &[(&'static str, &str)]| {
            let mut h = HeaderMap::new();
            for (k, v) in pairs {
                h.insert(*k, HeaderValue::from_str(v).unwrap());
            }
            requested_wait(&h, now)
        };
        assert_eq!(wait(&[]), None);
        assert_eq!(wait(&[("retry-after", "3")]), Some(Duration::from_secs(3)));
        assert_eq!(
            wait(&[("retry-after", "0.25")]),
            Some(Duration::from_millis(250))
        );
        // An HTTP date: until then (this one is 80 s after `now`); past dates are no wait.
        let date = "Wed, 21 Oct 2015 07:21:20 GMT";
        assert_eq!(
            wait(&[("retry-after", date)]),
            Some(Duration::from_secs(80))
        );
        let past = "Wed, 21 Oct 2015 07:00:00 GMT";
        assert_eq!(wait(&[("retry-after", past)]), Some(Duration::ZERO));
        for nothing in ["soon", "NaN", "", "-5"] {
            assert_eq!(
                wait(&[("retry-after", nothing)]),
                Some(Duration::from_secs(1)),
                "{nothing}"
            );
        }
        for huge in [
            "1e20",
            "18446744073709551616",
            "1.7976931348623157e308",
            "inf",
        ] {
            assert_eq!(
                wait(&[("retry-after", huge)]),
                Some(LONGEST_RETRY_AFTER),
                "{huge}"
            );
        }
        // The milliseconds header is precise and wins.
        let both = [("retry-after", "1"), ("x-retry-after-ms", "15")];
        assert_eq!(wait(&both), Some(Duration::from_millis(15)));
        let huge_ms = [("x-retry-after-ms", "1e300")];
        assert_eq!(wait(&huge_ms), Some(LONGEST_RETRY_AFTER));
    }

    proptest::proptest! {
        /// Any header value whatever: a wait within bounds, never a panic.
        #[test]
        fn any_header_value_is_a_bounded_wait(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..40),
            ms in proptest::prelude::any::<bool>(),
        ) {
            let name = if ms { "x-retry-after-ms" } else { "retry-after" };
            if let Ok(v) = HeaderValue::from_bytes(&bytes) {
                let mut h = HeaderMap::new();
                h.insert(name, v);
                let w = requested_wait(&h, std::time::SystemTime::now());
                proptest::prop_assert!(w.is_some_and(|w| w <= LONGEST_RETRY_AFTER));
            }
        }
    }
}
