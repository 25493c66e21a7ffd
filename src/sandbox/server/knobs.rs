//! Realism knobs every dialect shares: `--latency-ms` (a middleware that also logs every
//! request) and `--fail-rate` with `--seed` (injected failures before or after the commit, as
//! a 500 or a dropped connection), drawn by a seeded `Chance` that other knobs of a dialect
//! (Nexudus' `--conflict-rate`) use too. Each dialect answers an injected 500 in its own words;
//! the dropped connection is the same for all. Throttling is the dialect's own.

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

/// A seeded draw that hits a fraction `rate` of the time, deterministic for a seed and an
/// order of draws (the `--seed` of `--fail-rate` and `--conflict-rate`).
pub(in crate::sandbox) struct Chance {
    rate: f64,
    /// The generator and the number of hits so far.
    rng: Mutex<(StdRng, u64)>,
}

impl Chance {
    /// Hits of a fraction `rate` of draws, drawn from `seed`.
    pub(in crate::sandbox) fn new(rate: f64, seed: u64) -> Self {
        Chance {
            rate,
            rng: Mutex::new((StdRng::seed_from_u64(seed), 0)),
        }
    }

    /// Draws once: the number of this hit (1 for the first), or `None` for a miss.
    pub(in crate::sandbox) fn hit(&self) -> Option<u64> {
        if self.rate <= 0.0 {
            return None;
        }
        let mut g = self.rng.lock().unwrap_or_else(|p| p.into_inner());
        let (rng, hits) = &mut *g;
        if rng.random::<f64>() >= self.rate {
            return None;
        }
        *hits += 1;
        Some(*hits)
    }
}

/// `--fail-rate` with `--seed`: which writes fail, and how.
pub(in crate::sandbox) struct Faults(Chance);

impl Faults {
    /// Failures of a fraction `rate` of writes, drawn from `seed`.
    pub(in crate::sandbox) fn new(rate: f64, seed: u64) -> Self {
        Faults(Chance::new(rate, seed))
    }

    /// Draws whether this write fails (deterministic for a seed and a request order).
    /// Failures alternate: before the commit, after the commit; and every other pair drops
    /// the connection.
    pub(in crate::sandbox) fn draw(&self) -> Option<Injected> {
        let n = self.0.hit()?;
        let when = if n % 2 == 1 {
            Failure::Before
        } else {
            Failure::After
        };
        Some(Injected {
            when,
            drop_connection: (n / 2) % 2 == 1,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chance_hits_its_rate_and_numbers_its_hits() {
        assert_eq!(Chance::new(0.0, 7).hit(), None);
        let always = Chance::new(1.0, 7);
        assert_eq!([always.hit(), always.hit()], [Some(1), Some(2)]);
        let half = Chance::new(0.5, 7);
        let hits = (0..1000).filter_map(|_| half.hit()).count();
        assert!((400..600).contains(&hits), "{hits}");
        // The same seed draws the same sequence.
        let draws = |seed| {
            let c = Chance::new(0.5, seed);
            (0..64).map(|_| c.hit().is_some()).collect::<Vec<_>>()
        };
        assert_eq!(draws(3), draws(3));
        assert_ne!(draws(3), draws(4));
    }

    #[test]
    fn failures_alternate_before_and_after_and_sometimes_drop_the_connection() {
        let faults = Faults::new(1.0, 1);
        let drawn: Vec<(Failure, bool)> = (0..4)
            .map(|_| {
                let i = faults.draw().unwrap();
                (i.when, i.drop_connection)
            })
            .collect();
        assert_eq!(
            drawn,
            [
                (Failure::Before, false),
                (Failure::After, true),
                (Failure::Before, true),
                (Failure::After, false),
            ]
        );
        assert_eq!(Faults::new(0.0, 1).draw(), None);
    }
}
