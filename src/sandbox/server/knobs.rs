//! Realism knobs every dialect shares: `--latency-ms` (a middleware that also logs every
//! request) and `--fail-rate` with `--seed` (injected failures before or after the commit, as
//! a 500 or a dropped connection). Each dialect answers an injected 500 in its own words; the
//! dropped connection is the same for all. Throttling is the dialect's own.

use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Sleeps `latency` before every request but `/healthz`, and logs every request (target
/// `partnerctl::sandbox`, level info).
pub(in crate::sandbox) async fn latency_layer(
    State(latency): State<Duration>,
    req: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let (method, path) = (req.method().clone(), req.uri().path().to_string());
    if !latency.is_zero() && path != "/healthz" {
        tokio::time::sleep(latency).await;
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

/// When an injected failure strikes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::sandbox) enum Failure {
    /// Fail before the write: nothing happens.
    Before,
    /// Fail after the write committed: the client does not learn it succeeded.
    After,
}

impl Failure {
    /// `before` or `after`, for messages.
    pub(in crate::sandbox) fn as_str(self) -> &'static str {
        match self {
            Failure::Before => "before",
            Failure::After => "after",
        }
    }
}

/// An injected failure: when, and whether the connection drops (else a 500).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::sandbox) struct Injected {
    pub(in crate::sandbox) when: Failure,
    pub(in crate::sandbox) drop_connection: bool,
}

/// `--fail-rate` with `--seed`: which writes fail, and how.
pub(in crate::sandbox) struct Faults {
    rate: f64,
    /// The generator and the number of failures drawn so far.
    rng: Mutex<(StdRng, u64)>,
}

impl Faults {
    /// Failures of a fraction `rate` of writes, drawn from `seed`.
    pub(in crate::sandbox) fn new(rate: f64, seed: u64) -> Self {
        Faults {
            rate,
            rng: Mutex::new((StdRng::seed_from_u64(seed), 0)),
        }
    }

    /// Draws whether this write fails (deterministic for a seed and a request order).
    /// Failures alternate: before the commit, after the commit; and every other pair drops
    /// the connection.
    pub(in crate::sandbox) fn draw(&self) -> Option<Injected> {
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

/// A response whose body aborts the connection. Labelled `content_type` so that the dialect's
/// error-rewriting middleware passes it through untouched.
pub(in crate::sandbox) fn dropped_connection(content_type: &'static str) -> Response {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        [(header::CONTENT_TYPE, content_type)],
        Body::new(BrokenBody),
    )
        .into_response()
}
