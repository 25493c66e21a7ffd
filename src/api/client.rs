//! Stage `api`, client: the only HTTP client of the program (SPEC §7, §9). Bearer auth (the
//! token is never printed: `Debug` redacts it), timeouts, retries with exponential backoff and
//! full jitter, `Retry-After` honoured client-wide on 429 and on throttling 409s, cursor
//! pagination, idempotency keys on POST, and plain `http://` refused except on loopback.
//! May touch: the network, through reqwest.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::types::{
    self, IDEMPOTENCY_KEY_HEADER, MAX_PAGE_SIZE, PROBLEM_CONTENT_TYPE, Page, Problem,
};

/// What went wrong talking to the API.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The endpoint URL does not parse or has an unsupported scheme.
    #[error("invalid endpoint `{url}`: {reason}")]
    BadEndpoint {
        /// As given.
        url: String,
        /// Why.
        reason: String,
    },
    /// Plain HTTP to a non-loopback host.
    #[error(
        "refusing plain http:// to `{host}`: the token would cross the network unencrypted; use https://, or a loopback address for a local sandbox"
    )]
    InsecureEndpoint {
        /// The host.
        host: String,
    },
    /// The server answered with a problem document.
    #[error("{method} {path} failed: {} {}: {}{}", problem.status, problem.title, problem.detail, field_errors(&problem.errors))]
    Problem {
        /// Request method.
        method: Method,
        /// Request path.
        path: String,
        /// The problem.
        problem: Box<Problem>,
    },
    /// The server answered with an error that is not a problem document.
    #[error("{method} {path} failed: HTTP {status}: {body}")]
    Status {
        /// Request method.
        method: Method,
        /// Request path.
        path: String,
        /// HTTP status.
        status: StatusCode,
        /// The start of the body.
        body: String,
    },
    /// No answer (connection refused or reset, timeout, TLS).
    #[error("{method} {path} failed: {source} (is the endpoint reachable?)")]
    Transport {
        /// Request method.
        method: Method,
        /// Request path.
        path: String,
        /// The cause.
        #[source]
        source: reqwest::Error,
    },
    /// A body that does not match the contract.
    #[error("{method} {path}: response does not match the API contract: {reason}")]
    Decode {
        /// Request method.
        method: Method,
        /// Request path.
        path: String,
        /// Why.
        reason: String,
    },
    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client: {0}")]
    Setup(String),
}

fn field_errors(errors: &[types::FieldError]) -> String {
    errors
        .iter()
        .map(|e| {
            format!(
                "\n  {}: {}",
                if e.pointer.is_empty() {
                    "/"
                } else {
                    &e.pointer
                },
                e.message
            )
        })
        .collect()
}

impl ApiError {
    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            ApiError::Problem { problem, .. } => StatusCode::from_u16(problem.status).ok(),
            ApiError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The problem's machine-readable code, when there is one.
    pub fn code(&self) -> Option<&str> {
        match self {
            ApiError::Problem { problem, .. } => Some(&problem.code),
            _ => None,
        }
    }

    /// The problem document, when there is one.
    pub fn problem(&self) -> Option<&Problem> {
        match self {
            ApiError::Problem { problem, .. } => Some(problem),
            _ => None,
        }
    }
}

/// The API token. `Debug` and `Display` never show it.
#[derive(Clone)]
pub struct Token(String);

impl Token {
    /// Wraps a token.
    pub fn new(token: impl Into<String>) -> Self {
        Token(token.into())
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

/// Retry behaviour.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
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
            attempts: 8,
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
}

/// Client-wide pause after a throttled response: every request waits for it.
#[derive(Debug, Default)]
struct Throttle {
    not_before: std::sync::Mutex<Option<Instant>>,
}

impl Throttle {
    fn until(&self) -> Option<Instant> {
        *self.not_before.lock().expect("throttle lock")
    }

    fn extend(&self, until: Instant) {
        let mut g = self.not_before.lock().expect("throttle lock");
        if g.is_none_or(|t| t < until) {
            *g = Some(until);
        }
    }

    async fn wait(&self) {
        if let Some(t) = self.until() {
            tokio::time::sleep_until(t.into()).await;
        }
    }
}

/// One request, before sending.
pub struct Request<'a> {
    method: Method,
    path: String,
    query: Vec<(&'a str, String)>,
    /// The serialized JSON body (serialized once, re-sent as is on retries).
    body: Option<bytes::Bytes>,
    if_match: Option<&'a str>,
    idempotency_key: Option<&'a str>,
}

impl<'a> Request<'a> {
    /// A request with no query, body or headers.
    pub fn new(method: Method, path: impl Into<String>) -> Self {
        Request {
            method,
            path: path.into(),
            query: Vec::new(),
            body: None,
            if_match: None,
            idempotency_key: None,
        }
    }

    /// Adds a query parameter.
    pub fn query(mut self, key: &'a str, value: impl ToString) -> Self {
        self.query.push((key, value.to_string()));
        self
    }

    /// Sets a JSON body.
    pub fn json(mut self, body: &impl Serialize) -> Self {
        self.body = Some(
            serde_json::to_vec(body)
                .expect("request bodies serialize")
                .into(),
        );
        self
    }

    /// Sets `If-Match`.
    pub fn if_match(mut self, etag: &'a str) -> Self {
        self.if_match = Some(etag);
        self
    }

    /// Sets `Idempotency-Key` (POST: makes retries safe).
    pub fn idempotency_key(mut self, key: &'a str) -> Self {
        self.idempotency_key = Some(key);
        self
    }

    /// May this request be sent again after an unknown outcome?
    fn retryable(&self) -> bool {
        self.method != Method::POST || self.idempotency_key.is_some()
    }
}

/// A client of one partner API endpoint.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: reqwest::Url,
    token: Token,
    retry: RetryPolicy,
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

    /// A client with an explicit retry policy.
    pub fn with_policy(endpoint: &str, token: Token, retry: RetryPolicy) -> Result<Self, ApiError> {
        let bad = |reason: &str| ApiError::BadEndpoint {
            url: endpoint.to_string(),
            reason: reason.to_string(),
        };
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
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(30))
            .pool_max_idle_per_host(64)
            .build()
            .map_err(|e| ApiError::Setup(e.to_string()))?;
        Ok(Client {
            http,
            base,
            token,
            retry,
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
            self.stats.requests.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(method = %req.method, path = %req.path, attempt, "request");
            let outcome = builder.send().await;
            let last = attempt >= self.retry.attempts;
            let response = match outcome {
                Err(source) => {
                    if req.retryable() && !last {
                        self.backoff(attempt, None, &req, &source.to_string()).await;
                        continue;
                    }
                    return Err(ApiError::Transport {
                        method: req.method,
                        path: req.path,
                        source,
                    });
                }
                Ok(r) => r,
            };
            let status = response.status();
            let retry_after = retry_after(response.headers());
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
                    self.stats.retries.fetch_add(1, Ordering::Relaxed);
                    tracing::info!(path = %req.path, wait_ms = wait.as_millis() as u64, "throttled");
                    continue;
                }
            } else if status.is_server_error() && req.retryable() && !last {
                self.backoff(attempt, retry_after, &req, status.as_str())
                    .await;
                continue;
            }
            return decode(req.method, req.path, response).await;
        }
    }

    async fn backoff(
        &self,
        attempt: u32,
        retry_after: Option<Duration>,
        req: &Request<'_>,
        why: &str,
    ) {
        self.stats.retries.fetch_add(1, Ordering::Relaxed);
        let ceiling = self
            .retry
            .base
            .saturating_mul(1u32 << attempt.min(16))
            .min(self.retry.max);
        // Full jitter: anywhere between zero and the ceiling.
        let jittered = ceiling.mul_f64(rand::random::<f64>());
        let wait = retry_after.map_or(jittered, |r| {
            r.min(self.retry.max_retry_after).max(jittered)
        });
        tracing::info!(method = %req.method, path = %req.path, attempt, wait_ms = wait.as_millis() as u64, why, "retrying");
        tokio::time::sleep(wait).await;
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

/// Parses `Retry-After` (delta-seconds; HTTP dates are rare for APIs and treated as 1 s).
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let v = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    Some(match v.trim().parse::<f64>() {
        Ok(secs) if secs.is_finite() && secs >= 0.0 => Duration::from_secs_f64(secs),
        _ => Duration::from_secs(1),
    })
}

async fn decode<T: DeserializeOwned>(
    method: Method,
    path: String,
    response: reqwest::Response,
) -> Result<Option<T>, ApiError> {
    let status = response.status();
    let is_problem = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(PROBLEM_CONTENT_TYPE));
    let bytes = response
        .bytes()
        .await
        .map_err(|source| ApiError::Transport {
            method: method.clone(),
            path: path.clone(),
            source,
        })?;
    if status.is_success() {
        if status == StatusCode::NO_CONTENT || bytes.is_empty() {
            return Ok(None);
        }
        return serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| ApiError::Decode {
                method,
                path,
                reason: e.to_string(),
            });
    }
    if is_problem {
        if let Ok(problem) = serde_json::from_slice::<Problem>(&bytes) {
            return Err(ApiError::Problem {
                method,
                path,
                problem: Box::new(problem),
            });
        }
    }
    let body: String = String::from_utf8_lossy(&bytes).chars().take(200).collect();
    Err(ApiError::Status {
        method,
        path,
        status,
        body,
    })
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
        let mut h = HeaderMap::new();
        assert_eq!(retry_after(&h), None);
        h.insert(reqwest::header::RETRY_AFTER, HeaderValue::from_static("3"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(3)));
        h.insert(
            reqwest::header::RETRY_AFTER,
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_after(&h), Some(Duration::from_secs(1)));
    }
}
