//! Stage `api`, client: the only HTTP client of the partner API. Bearer auth (the token is a
//! [`Secret`]: never printed, its header marked sensitive), a per-attempt timeout, retries
//! through the engine every client of the program shares ([`crate::api::retry`]: exponential
//! backoff with full jitter, `Retry-After` honoured client-wide on 429 and on throttling 409s,
//! each retry announced), cursor pagination, idempotency keys on POST, plain `http://` refused
//! except on loopback, and redirects followed only within the endpoint's origin. May touch:
//! the network, through reqwest.
//!
//! Rooms: `advice` (what to do once a request gave up, the hints), `error` (errors and answer
//! decoding), `redirect` (the redirect policy, shared with the vendors' clients and the
//! engine), `request` (the request builder); this file sends.

mod advice;
mod error;
pub mod redirect;
mod request;

pub use advice::{
    gave_up, missing_scheme, missing_scheme_reason, read_deadline_message, unauthorized_hint,
};
pub use error::ApiError;
use error::decode;
pub use request::Request;

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use reqwest::Method;
use reqwest::header::HeaderMap;
use serde::de::DeserializeOwned;

use super::retry::{self, Call, Dialect, Engine, Policy, Stats};
use super::secret::Secret;
use crate::wire::partner::{IDEMPOTENCY_KEY_HEADER, MAX_PAGE_SIZE, Page};

/// A client of one partner API endpoint.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: reqwest::Url,
    token: Secret,
    /// A loopback endpoint: a local sandbox (the embedded one included).
    local: bool,
    engine: Arc<Engine>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base.as_str())
            .field("token", &self.token)
            .field("policy", self.engine.policy())
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
    pub fn new(endpoint: &str, token: Secret) -> Result<Self, ApiError> {
        Self::with_policy(endpoint, token, Policy::default())
    }

    /// A client with an explicit retry policy (and per-attempt timeout).
    pub fn with_policy(endpoint: &str, token: Secret, policy: Policy) -> Result<Self, ApiError> {
        Self::with_engine(endpoint, token, Engine::new(policy, Dialect::default()))
    }

    /// A client sending through `engine`.
    fn with_engine(endpoint: &str, token: Secret, engine: Engine) -> Result<Self, ApiError> {
        let bad = |reason: &str| ApiError::BadEndpoint {
            url: endpoint.to_string(),
            reason: reason.to_string(),
        };
        if let Some(guess) = missing_scheme(endpoint, is_loopback) {
            return Err(bad(&missing_scheme_reason(&guess)));
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
        let auth = token.bearer().ok_or_else(|| {
            ApiError::Setup("the token contains characters not allowed in an HTTP header".into())
        })?;
        let mut headers = HeaderMap::new();
        headers.insert(reqwest::header::AUTHORIZATION, auth);
        let timeout = engine.policy().timeout;
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .user_agent(concat!("partnerctl/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(timeout)
            .timeout(timeout)
            .pool_max_idle_per_host(64)
            .redirect(redirect::same_origin_policy())
            .build()
            .map_err(|e| ApiError::Setup(e.to_string()))?;
        Ok(Client {
            http,
            base,
            token,
            local: is_loopback(&host),
            engine: Arc::new(engine),
        })
    }

    /// The endpoint's base URL.
    pub fn base_url(&self) -> &str {
        self.base.as_str()
    }

    /// Request, retry and throttle counters.
    pub fn stats(&self) -> &Stats {
        self.engine.stats()
    }

    /// Sends a request (retrying as the policy allows) and decodes a JSON answer. `None` for
    /// `204 No Content` or an empty body.
    pub async fn send<T: DeserializeOwned>(&self, req: Request<'_>) -> Result<Option<T>, ApiError> {
        let url = self
            .base
            .join(req.path.trim_start_matches('/'))
            .map_err(|e| ApiError::BadEndpoint {
                url: req.path.clone(),
                reason: e.to_string(),
            })?;
        let call = Call {
            method: &req.method,
            path: &req.path,
            repeatable: req.retryable(),
        };
        let (this, req_ref, url) = (self, &req, &url);
        let answer = self
            .engine
            .run(call, move || async move {
                Ok::<_, ApiError>(retry::exchange(this.builder(req_ref, url)).await)
            })
            .await?;
        decode(req.method, req.path, answer, self.local)
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
mod tests;
