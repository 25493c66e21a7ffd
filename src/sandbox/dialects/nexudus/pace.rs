//! Nexudus-style pacing: sliding windows of requests per reseller, as [`wire::LIMITS`] lists
//! them (every request: 1 per 100 ms, 120 a minute, 5,000 an hour; writes also 60 a minute
//! and 5,000 a day). A request over any window is refused with the time until it would fit;
//! refused requests do not count.
//!
//! `--time-scale F` divides every window by F (60: a minute lasts a second); the
//! `--writes-per-minute` and `--writes-per-day` knobs replace the two write limits.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::sandbox::server::Pacing;
use crate::wire::nexudus::{self as wire, DAY_MILLIS};

/// One window: at most `limit` requests in any `span`.
#[derive(Debug, Clone)]
pub(super) struct Lane {
    limit: u32,
    span: Duration,
    /// When the admitted requests of the last `span` came (since the pacer's start).
    hits: VecDeque<Duration>,
}

impl Lane {
    pub(super) fn new(limit: u32, millis: u64, time_scale: f64) -> Self {
        Lane {
            limit,
            span: Duration::from_secs_f64(millis as f64 / 1000.0 / time_scale),
            hits: VecDeque::new(),
        }
    }

    /// Forgets the hits out of the window; `Some(wait)` when it is full.
    pub(super) fn wait(&mut self, now: Duration) -> Option<Duration> {
        while self.hits.front().is_some_and(|t| *t + self.span <= now) {
            self.hits.pop_front();
        }
        if self.hits.len() < self.limit as usize {
            return None;
        }
        if self.limit == 0 {
            return Some(self.span);
        }
        // The hit that must leave for one more to fit (the oldest, unless a knob lowered the
        // limit below what the window holds).
        let k = self.hits.len() - self.limit as usize;
        let leaves = self.hits[k] + self.span;
        Some(leaves.saturating_sub(now).max(Duration::from_micros(1)))
    }
}

impl Lane {
    /// Counts a hit at `now`, or says how long until one would fit.
    pub(super) fn hit(&mut self, now: Duration) -> Result<(), Duration> {
        match self.wait(now) {
            Some(w) => Err(w),
            None => {
                self.hits.push_back(now);
                Ok(())
            }
        }
    }

    /// Whether a hit is still in the window at `now` (forgetting those that are not).
    pub(super) fn any(&mut self, now: Duration) -> bool {
        let _ = self.wait(now);
        !self.hits.is_empty()
    }

    /// When the last hit came.
    pub(super) fn last(&self) -> Option<Duration> {
        self.hits.back().copied()
    }
}

/// The windows of one reseller.
#[derive(Debug, Clone)]
pub(super) struct Windows {
    all: Vec<Lane>,
    writes: Vec<Lane>,
}

impl Windows {
    /// The windows of [`wire::LIMITS`], with the knobs of `pacing`.
    pub(super) fn new(pacing: &Pacing) -> Self {
        let f = pacing.time_scale;
        let all = wire::LIMITS
            .all
            .iter()
            .map(|w| Lane::new(w.requests, w.millis, f))
            .collect();
        let writes = wire::LIMITS
            .writes
            .iter()
            .map(|w| {
                let limit = match w.millis {
                    60_000 => pacing.writes_per_minute.unwrap_or(w.requests),
                    DAY_MILLIS => pacing.writes_per_day.unwrap_or(w.requests),
                    _ => w.requests,
                };
                Lane::new(limit, w.millis, f)
            })
            .collect();
        Windows { all, writes }
    }

    /// Admits a request at `now` (counting it), or says how long until it would fit.
    pub(super) fn admit(&mut self, now: Duration, write: bool) -> Result<(), Duration> {
        let lanes = self
            .all
            .iter_mut()
            .chain(self.writes.iter_mut().filter(|_| write));
        let mut wait: Option<Duration> = None;
        let mut counted = Vec::new();
        for lane in lanes {
            match lane.wait(now) {
                Some(w) => wait = Some(wait.map_or(w, |x| x.max(w))),
                None => counted.push(lane),
            }
        }
        if let Some(w) = wait {
            return Err(w);
        }
        for lane in counted {
            lane.hits.push_back(now);
        }
        Ok(())
    }
}

/// The windows of every reseller.
pub(super) struct Pacer {
    pacing: Pacing,
    start: Instant,
    resellers: Mutex<HashMap<String, Windows>>,
}

impl Pacer {
    pub(super) fn new(pacing: Pacing) -> Self {
        Pacer {
            pacing,
            start: Instant::now(),
            resellers: Mutex::new(HashMap::new()),
        }
    }

    /// Admits a request of `reseller` now, or says how long until it would fit.
    pub(super) fn admit(&self, reseller: &str, write: bool) -> Result<(), Duration> {
        let now = self.start.elapsed();
        let mut all = self.resellers.lock().unwrap_or_else(|p| p.into_inner());
        all.entry(reseller.to_string())
            .or_insert_with(|| Windows::new(&self.pacing))
            .admit(now, write)
    }
}

/// `Retry-After`: whole seconds, rounded up (at least 1).
pub(super) fn retry_after_secs(wait: Duration) -> u64 {
    wait.as_secs_f64().ceil().max(1.0) as u64
}

/// `X-Retry-After-Ms`: milliseconds, rounded up (at least 1).
pub(super) fn retry_after_millis(wait: Duration) -> u64 {
    (wait.as_secs_f64() * 1000.0).ceil().max(1.0) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn windows(time_scale: f64) -> Windows {
        Windows::new(&Pacing {
            time_scale,
            ..Pacing::default()
        })
    }

    #[test]
    fn one_request_per_100_ms() {
        let mut w = windows(1.0);
        assert!(w.admit(ms(0), false).is_ok());
        assert_eq!(w.admit(ms(40), false), Err(ms(60)));
        assert!(w.admit(ms(100), false).is_ok());
    }

    #[test]
    fn refused_requests_do_not_count() {
        let mut w = windows(1.0);
        assert!(w.admit(ms(0), false).is_ok());
        for t in 1..100 {
            assert!(w.admit(ms(t), false).is_err());
        }
        assert!(w.admit(ms(100), false).is_ok());
    }

    #[test]
    fn at_most_120_a_minute_and_60_writes() {
        let mut w = windows(1.0);
        for i in 0..60 {
            assert!(w.admit(ms(i * 100), true).is_ok(), "write {i}");
        }
        // The 61st write waits until the first leaves the minute; a read may go.
        assert_eq!(w.admit(ms(6_000), true), Err(ms(54_000)));
        assert!(w.admit(ms(6_000), false).is_ok());
        for i in 61..120 {
            assert!(w.admit(ms(i * 100), false).is_ok(), "read {i}");
        }
        assert_eq!(w.admit(ms(12_000), false), Err(ms(48_000)));
        assert!(w.admit(ms(60_000), true).is_ok());
    }

    #[test]
    fn time_scale_divides_windows_and_knobs_replace_write_limits() {
        let mut w = Windows::new(&Pacing {
            time_scale: 60.0,
            writes_per_minute: Some(2),
            writes_per_day: Some(3),
        });
        assert!(w.admit(ms(0), true).is_ok());
        assert!(w.admit(ms(2), true).is_ok());
        // Two writes a (scaled) minute of 1 s.
        assert_eq!(w.admit(ms(4), true), Err(ms(996)));
        assert!(w.admit(ms(1_000), true).is_ok());
        // The third of the day: the next fits when the first leaves the day (1440 s scaled).
        assert_eq!(w.admit(ms(2_100), true), Err(ms(1_437_900)));
        assert!(w.admit(ms(2_100), false).is_ok(), "reads still go");
    }

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(retry_after_secs(ms(1)), 1);
        assert_eq!(retry_after_secs(ms(1_001)), 2);
        assert_eq!(retry_after_millis(Duration::from_micros(1_500)), 2);
        assert_eq!(retry_after_millis(Duration::ZERO), 1);
    }
}
