//! Stage `provider`, Nexudus pacing: every request waits until it fits all of the API's rate
//! windows (sliding, as logs of recent send times), so the normal case never meets a throttled
//! answer. A write that would have to wait longer than a few minutes is not waited for: the
//! day's write budget is spent, and the caller is told when it renews.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::wire::{LIMITS, Limits, Window};

/// One window and the send times that fall in it.
#[derive(Debug)]
struct Log {
    requests: usize,
    length: Duration,
    sent: VecDeque<Instant>,
}

impl Log {
    /// The window as the client keeps it: a little longer than the server's (a tenth, at most
    /// a second, and at least [`MIN_MARGIN`] of real time, however fast time runs), since
    /// requests reach the server a little later and not all equally late.
    fn new(w: Window, scale: f64) -> Self {
        let length = Duration::from_millis(w.millis);
        let margin = (length / 10).min(Duration::from_secs(1)).div_f64(scale);
        Log {
            requests: w.requests as usize,
            length: length.div_f64(scale) + margin.max(MIN_MARGIN),
            sent: VecDeque::new(),
        }
    }

    /// When the next request fits this window (`now` if it fits already).
    fn free_at(&mut self, now: Instant) -> Instant {
        while self
            .sent
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= self.length)
        {
            self.sent.pop_front();
        }
        if self.sent.len() < self.requests {
            now
        } else {
            self.sent[self.sent.len() - self.requests] + self.length
        }
    }
}

/// The least margin of a window, in real time: the jitter of a request's arrival on a busy
/// machine, which does not shrink when a sandbox speeds time up.
const MIN_MARGIN: Duration = Duration::from_millis(2);

/// Longest wait worth sleeping for, in (unscaled) seconds: longer than any minute's window
/// can ask, far shorter than a spent day.
const PATIENCE_SECS: u64 = 300;

/// What a write must do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// Send now (the slot is taken).
    Go,
    /// Wait this long and ask again.
    Wait(Duration),
    /// The budget of a long window is spent; it renews after this long.
    Spent(Duration),
}

/// The client's windows: all requests, and writes.
#[derive(Debug)]
pub struct Pacer {
    inner: Mutex<(Vec<Log>, Vec<Log>)>,
    /// Longest wait worth sleeping for (a few minutes); beyond, the budget is spent.
    patience: Duration,
}

impl Pacer {
    /// The documented limits with time sped up `scale` times (1.0: real time).
    pub fn new(scale: f64) -> Self {
        Self::with_limits(&LIMITS, scale)
    }

    /// Given limits, with time sped up `scale` times.
    pub fn with_limits(limits: &Limits, scale: f64) -> Self {
        let scale = if scale > 0.0 { scale } else { 1.0 };
        Pacer {
            inner: Mutex::new((
                limits.all.iter().map(|w| Log::new(*w, scale)).collect(),
                limits.writes.iter().map(|w| Log::new(*w, scale)).collect(),
            )),
            patience: Duration::from_secs(PATIENCE_SECS).div_f64(scale),
        }
    }

    /// Takes a slot at `now` if the request fits every window it counts against.
    pub fn slot(&self, write: bool, now: Instant) -> Slot {
        let mut guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let (all, writes) = &mut *guard;
        let mut at = now;
        for log in all.iter_mut() {
            at = at.max(log.free_at(now));
        }
        if write {
            for log in writes.iter_mut() {
                let free = log.free_at(now);
                if free.saturating_duration_since(now) > self.patience {
                    return Slot::Spent(free.saturating_duration_since(now));
                }
                at = at.max(free);
            }
        }
        if at > now {
            return Slot::Wait(at - now);
        }
        for log in all.iter_mut() {
            log.sent.push_back(now);
        }
        if write {
            for log in writes.iter_mut() {
                log.sent.push_back(now);
            }
        }
        Slot::Go
    }

    /// Waits for a slot; `Err` with the time until renewal when a long window is spent.
    pub async fn acquire(&self, write: bool) -> Result<(), Duration> {
        loop {
            match self.slot(write, Instant::now()) {
                Slot::Go => return Ok(()),
                Slot::Wait(d) => tokio::time::sleep(d).await,
                Slot::Spent(d) => return Err(d),
            }
        }
    }

    /// Longest wait worth sleeping for; a throttled answer asking for longer means the budget
    /// of a long window is spent.
    pub fn patience(&self) -> Duration {
        self.patience
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEST: Limits = Limits {
        all: [
            Window {
                requests: 1,
                millis: 100,
            },
            Window {
                requests: 120,
                millis: 60_000,
            },
            Window {
                requests: 5_000,
                millis: 3_600_000,
            },
        ],
        writes: [
            Window {
                requests: 3,
                millis: 60_000,
            },
            Window {
                requests: 5,
                millis: 86_400_000,
            },
        ],
    };

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn requests_are_spaced_and_writes_kept_under_their_windows() {
        // Windows are kept a tenth longer (at most a second): 110 ms, 61 s, a day and a second.
        let p = Pacer::with_limits(&TEST, 1.0);
        let t0 = Instant::now();
        assert_eq!(p.slot(false, t0), Slot::Go);
        assert_eq!(p.slot(false, t0 + ms(40)), Slot::Wait(ms(70)));
        assert_eq!(p.slot(true, t0 + ms(110)), Slot::Go);
        assert_eq!(p.slot(true, t0 + ms(220)), Slot::Go);
        assert_eq!(p.slot(true, t0 + ms(330)), Slot::Go);
        // The fourth write of the minute waits for the first to leave the window.
        assert_eq!(p.slot(true, t0 + ms(440)), Slot::Wait(ms(61_110 - 440)));
        assert_eq!(p.slot(true, t0 + ms(61_110)), Slot::Go);
        assert_eq!(p.slot(true, t0 + ms(61_220)), Slot::Go);
        // The day's five writes are spent: renewal is a day (and a second) after the first.
        match p.slot(true, t0 + ms(122_330)) {
            Slot::Spent(d) => assert_eq!(d, ms(86_401_110 - 122_330)),
            other => panic!("{other:?}"),
        }
        // Reads go on.
        assert_eq!(p.slot(false, t0 + ms(122_330)), Slot::Go);
    }

    #[test]
    fn time_scales() {
        let p = Pacer::with_limits(&TEST, 1000.0);
        let t0 = Instant::now();
        assert_eq!(p.slot(false, t0), Slot::Go);
        // 100 µs, and a margin of at least 2 ms of real time.
        assert_eq!(
            p.slot(false, t0 + Duration::from_micros(40)),
            Slot::Wait(Duration::from_micros(2_060))
        );
        assert_eq!(p.patience(), ms(300));
    }
}
