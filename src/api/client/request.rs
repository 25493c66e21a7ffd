//! Stage `api`, client requests: one request of the partner API before sending. Touches
//! nothing.

use reqwest::Method;
use serde::Serialize;

/// One request, before sending.
pub struct Request<'a> {
    pub(super) method: Method,
    pub(super) path: String,
    pub(super) query: Vec<(&'a str, String)>,
    /// The serialized JSON body (serialized once, re-sent as is on retries).
    pub(super) body: Option<bytes::Bytes>,
    pub(super) if_match: Option<&'a str>,
    pub(super) idempotency_key: Option<&'a str>,
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
    pub(super) fn retryable(&self) -> bool {
        self.method != Method::POST || self.idempotency_key.is_some()
    }
}
