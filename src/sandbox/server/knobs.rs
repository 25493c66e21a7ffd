//! Realism knobs: `--latency-ms` (a middleware), `--write-limit` with
//! `--throttle-status` (a token bucket per partner) and `--fail-rate` with `--seed` (injected
//! failures before or after the commit, as a 500 or a dropped connection).

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::super::error::RequestError;
use super::state::AppState;
use crate::api::types::PROBLEM_CONTENT_TYPE;

/// Sleeps `--latency-ms` before every request but `/healthz`, and logs every request (target
/// `partnerctl::sandbox`, level info).
pub(super) async fn latency_layer(
    State(st): State<Arc<AppState>>,
    req: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let (method, path) = (req.method().clone(), req.uri().path().to_string());
    if !st.latency.is_zero() && path != "/healthz" {
        tokio::time::sleep(st.latency).await;
    }
    let resp = next.run(req).await;
    tracing::info!(
        target: "partnerctl::sandbox",
        %method,
        %path,
        status = resp.status().as_u16(),
        ms = started.elapsed().as_micros() as f64 / 1000.0,
        "request"
    );
    resp
}

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

/// When an injected failure strikes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Failure {
    /// Fail before the write: nothing happens.
    Before,
    /// Fail after the write committed: the client does not learn it succeeded.
    After,
}

/// An injected failure: when, and whether the connection drops (else a 500).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Injected {
    pub(super) when: Failure,
    drop_connection: bool,
}

/// `--fail-rate` with `--seed`: which writes fail, and how.
pub(super) struct Faults {
    rate: f64,
    /// The generator and the number of failures drawn so far.
    rng: Mutex<(StdRng, u64)>,
}

impl Faults {
    /// Failures of a fraction `rate` of writes, drawn from `seed`.
    pub(super) fn new(rate: f64, seed: u64) -> Self {
        Faults {
            rate,
            rng: Mutex::new((StdRng::seed_from_u64(seed), 0)),
        }
    }

    /// Draws whether this write fails (deterministic for a seed and a request order).
    /// Failures alternate: before the commit, after the commit; and every other pair drops
    /// the connection.
    pub(super) fn draw(&self) -> Option<Injected> {
        if self.rate <= 0.0 {
            return None;
        }
        let mut g = self.rng.lock().unwrap_or_else(|p| p.into_inner());
        let (rng, count) = &mut *g;
        if rng.random::<f64>() >= self.rate {
            return None;
        }
        *count += 1;
        let when = if *count % 2 == 1 {
            Failure::Before
        } else {
            Failure::After
        };
        let drop_connection = (*count / 2) % 2 == 1;
        Some(Injected {
            when,
            drop_connection,
        })
    }
}

/// A body that fails on first poll: hyper aborts the connection, the client sees a transport
/// error (a "dropped connection").
struct BrokenBody;

impl http_body::Body for BrokenBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        Poll::Ready(Some(Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "injected dropped connection",
        ))))
    }
}

impl Injected {
    /// The response of the failed write.
    pub(super) fn response(self) -> Response {
        if self.drop_connection {
            // Labelled problem+json so that `problem_layer` passes it through untouched.
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                [(header::CONTENT_TYPE, PROBLEM_CONTENT_TYPE)],
                Body::new(BrokenBody),
            )
                .into_response();
        }
        let when = match self.when {
            Failure::Before => "before",
            Failure::After => "after",
        };
        RequestError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "injected-failure",
            format!("injected failure ({when} the write) by --fail-rate; retry with the same Idempotency-Key"),
        )
        .into_response()
    }
}
