//! Stage `provider`, Nexudus pacing: every request waits until it fits all of the API's rate
//! windows (sliding, as logs of recent requests), so the normal case never meets a throttled
//! answer. A write that would have to wait longer than a few minutes is not waited for: the
//! day's write budget is spent, and the caller is told when it renews.
//!
//! The server counts a request when it arrives, which the client cannot see: somewhere between
//! sending it and receiving the answer. So a request counts in the client's windows from when
//! its answer came (a request in flight holds its place until then): whatever the network's
//! or a busy machine's delays, the server never sees requests closer together than the client
//! spaced them. Touches no I/O but the clock.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use crate::wire::nexudus::{LIMITS, Limits, Window};

/// One window and the requests that fall in it.
#[derive(Debug)]
struct Log {
    requests: usize,
    length: Duration,
    /// When the answers of the recent requests came, oldest first.
    answered: VecDeque<Instant>,
    /// Requests sent and not answered yet.
    in_flight: usize,
}

/// When the next request fits a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Free {
    At(Instant),
    /// Only after a request in flight is answered.
    AfterAnswer,
}

impl Log {
    /// The window as the client keeps it: a little longer than the server's (a tenth, at most
    /// a second, and at least [`MIN_MARGIN`] of real time, however fast time runs).
    fn new(w: Window, scale: f64) -> Self {
        let length = Duration::from_millis(w.millis);
        let margin = (length / 10).min(Duration::from_secs(1)).div_f64(scale);
        Log {
            requests: w.requests as usize,
            length: length.div_f64(scale) + margin.max(MIN_MARGIN),
            answered: VecDeque::new(),
            in_flight: 0,
        }
    }

    /// When the next request fits this window.
    fn free_at(&mut self, now: Instant) -> Free {
        while self
            .answered
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= self.length)
        {
            self.answered.pop_front();
        }
        let held = self.answered.len() + self.in_flight;
        if held < self.requests {
            return Free::At(now);
        }
        // The request whose leaving lets one more in; requests in flight leave last (and a
        // window of no requests has none to leave: `held` is past the answered ones).
        match self.answered.get(held - self.requests) {
            Some(t) => Free::At(*t + self.length),
            None => Free::AfterAnswer,
        }
    }

    fn answered(&mut self, now: Instant) {
        self.in_flight = self.in_flight.saturating_sub(1);
        // Answers are logged under one lock with the clock read inside it: in order.
        let at = self.answered.back().map_or(now, |last| now.max(*last));
        self.answered.push_back(at);
    }
}

/// The least margin of a window, in real time (clock rounding, when a sandbox speeds time up).
const MIN_MARGIN: Duration = Duration::from_millis(2);

/// Longest wait worth sleeping for, in (unscaled) seconds: longer than any minute's window
/// can ask, far shorter than a spent day.
const PATIENCE_SECS: u64 = 300;

/// What a request must do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// Send now (the slot is taken until [`Pacer::answered`]).
    Go,
    /// Wait this long and ask again.
    Wait(Duration),
    /// Wait for a request in flight to be answered, and ask again.
    Busy,
    /// The budget of a long window is spent; it renews after this long.
    Spent(Duration),
}

/// The client's windows: all requests, and writes.
#[derive(Debug)]
pub struct Pacer {
    inner: Mutex<(Vec<Log>, Vec<Log>)>,
    /// Woken when an answer frees a place.
    answers: Notify,
    /// Longest wait worth sleeping for (a few minutes); beyond, the budget is spent.
    patience: Duration,
}

/// A request's place in the windows, from its slot to its answer: dropping it (when the
/// answer has come, or the request was given up) logs the answer's time.
#[must_use = "the place is held until the ticket is dropped"]
pub struct Ticket<'p> {
    pacer: &'p Pacer,
    write: bool,
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        self.pacer.answered(self.write, Instant::now());
    }
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
            answers: Notify::new(),
            patience: Duration::from_secs(PATIENCE_SECS).div_f64(scale),
        }
    }

    /// Takes a slot at `now` if the request fits every window it counts against; the caller
    /// then owes [`Pacer::answered`].
    pub fn slot(&self, write: bool, now: Instant) -> Slot {
        let mut guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let (all, writes) = &mut *guard;
        let mut at = now;
        let mut busy = false;
        let mut fit = |free: Free| match free {
            Free::At(t) => at = at.max(t),
            Free::AfterAnswer => busy = true,
        };
        for log in all.iter_mut() {
            fit(log.free_at(now));
        }
        if write {
            for log in writes.iter_mut() {
                let free = log.free_at(now);
                if let Free::At(t) = free {
                    if t.saturating_duration_since(now) > self.patience {
                        return Slot::Spent(t.saturating_duration_since(now));
                    }
                }
                fit(free);
            }
        }
        if busy {
            return Slot::Busy;
        }
        if at > now {
            return Slot::Wait(at - now);
        }
        for log in all.iter_mut() {
            log.in_flight += 1;
        }
        if write {
            for log in writes.iter_mut() {
                log.in_flight += 1;
            }
        }
        Slot::Go
    }

    /// The answer to a request that took a slot came at `now` (or the request was given up).
    pub fn answered(&self, write: bool, now: Instant) {
        {
            let mut guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
            let (all, writes) = &mut *guard;
            all.iter_mut().for_each(|log| log.answered(now));
            if write {
                writes.iter_mut().for_each(|log| log.answered(now));
            }
        }
        self.answers.notify_waiters();
    }

    /// Waits for a slot; `Err` with the time until renewal when a long window is spent. The
    /// ticket holds the place until it is dropped, once the answer has come.
    pub async fn acquire(&self, write: bool) -> Result<Ticket<'_>, Duration> {
        loop {
            // Registered before looking, so that an answer in between is not missed.
            let answer = self.answers.notified();
            tokio::pin!(answer);
            answer.as_mut().enable();
            match self.slot(write, Instant::now()) {
                Slot::Go => return Ok(Ticket { pacer: self, write }),
                Slot::Wait(d) => tokio::time::sleep(d).await,
                Slot::Busy => answer.await,
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

    /// The API's own request windows, with writes of 3 a minute and 5 a day.
    const TEST: Limits = Limits {
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
        ..LIMITS
    };

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// Takes a slot at `t` and has the answer come at once.
    fn go(p: &Pacer, write: bool, t: Instant) -> Slot {
        let slot = p.slot(write, t);
        if slot == Slot::Go {
            p.answered(write, t);
        }
        slot
    }

    #[test]
    fn requests_are_spaced_and_writes_kept_under_their_windows() {
        // Windows are kept a tenth longer (at most a second): 110 ms, 61 s, a day and a second.
        let p = Pacer::with_limits(&TEST, 1.0);
        let t0 = Instant::now();
        assert_eq!(go(&p, false, t0), Slot::Go);
        assert_eq!(go(&p, false, t0 + ms(40)), Slot::Wait(ms(70)));
        assert_eq!(go(&p, true, t0 + ms(110)), Slot::Go);
        assert_eq!(go(&p, true, t0 + ms(220)), Slot::Go);
        assert_eq!(go(&p, true, t0 + ms(330)), Slot::Go);
        // The fourth write of the minute waits for the first to leave the window.
        assert_eq!(go(&p, true, t0 + ms(440)), Slot::Wait(ms(61_110 - 440)));
        assert_eq!(go(&p, true, t0 + ms(61_110)), Slot::Go);
        assert_eq!(go(&p, true, t0 + ms(61_220)), Slot::Go);
        // The day's five writes are spent: renewal is a day (and a second) after the first.
        match p.slot(true, t0 + ms(122_330)) {
            Slot::Spent(d) => assert_eq!(d, ms(86_401_110 - 122_330)),
            other => panic!("{other:?}"),
        }
        // Reads go on.
        assert_eq!(go(&p, false, t0 + ms(122_330)), Slot::Go);
    }

    #[test]
    fn a_request_counts_from_its_answer_and_holds_its_place_while_in_flight() {
        let p = Pacer::with_limits(&TEST, 1.0);
        let t0 = Instant::now();
        assert_eq!(p.slot(false, t0), Slot::Go);
        // In flight: however long it takes, the next request waits for its answer.
        assert_eq!(p.slot(false, t0 + ms(500)), Slot::Busy);
        assert_eq!(p.slot(true, t0 + ms(500)), Slot::Busy);
        // Answered after 300 ms: the window of 110 ms runs from the answer.
        p.answered(false, t0 + ms(300));
        assert_eq!(p.slot(false, t0 + ms(350)), Slot::Wait(ms(60)));
        assert_eq!(p.slot(false, t0 + ms(410)), Slot::Go);
        // Writes: three in flight fill the minute's window of three; no fourth until an
        // answer, and then a minute (and a second) after that answer.
        p.answered(false, t0 + ms(410));
        let mut t = t0 + ms(600);
        for _ in 0..3 {
            assert_eq!(p.slot(true, t), Slot::Go);
            p.answered(true, t + ms(5));
            t += ms(200);
        }
        assert_eq!(p.slot(true, t), Slot::Wait(ms(600 + 5 + 61_000) - (t - t0)));
    }

    #[tokio::test]
    async fn a_dropped_ticket_lets_the_next_request_go() {
        let p = Pacer::with_limits(&TEST, 1000.0);
        let first = p.acquire(false).await.expect("a slot");
        assert_eq!(p.slot(false, Instant::now()), Slot::Busy);
        let next = tokio::time::timeout(Duration::from_secs(10), p.acquire(false));
        let (waited, ()) = tokio::join!(next, async { drop(first) });
        // The next one went once the (sped-up) window had passed since the answer.
        drop(waited.expect("woken by the answer").expect("a slot"));
    }

    /// Roomy limits for all requests, and writes as given.
    fn writes(requests: u32, millis: u64) -> Limits {
        let roomy = Window {
            requests: 1_000_000,
            millis: 1,
        };
        Limits {
            all: [roomy; 3],
            writes: [Window { requests, millis }, roomy],
        }
    }

    #[test]
    fn a_write_in_flight_holds_the_write_window_alone() {
        let p = Pacer::with_limits(&writes(1, 60_000), 1.0);
        let t0 = Instant::now();
        assert_eq!(p.slot(true, t0), Slot::Go);
        // Reads have room; the one write of the window is in flight.
        assert_eq!(p.slot(false, t0 + ms(1)), Slot::Go);
        assert_eq!(p.slot(true, t0 + ms(2)), Slot::Busy);
    }

    #[test]
    fn a_window_of_no_requests_waits_for_an_answer() {
        let p = Pacer::with_limits(&writes(0, 60_000), 1.0);
        assert_eq!(p.slot(true, Instant::now()), Slot::Busy);
    }

    #[test]
    fn a_wait_of_exactly_the_patience_is_waited_and_a_longer_one_is_a_spent_budget() {
        // 299 s and a margin of a second: the window is as long as the patience, 300 s.
        let p = Pacer::with_limits(&writes(1, 299_000), 1.0);
        let t0 = Instant::now();
        assert_eq!(go(&p, true, t0), Slot::Go);
        assert_eq!(p.slot(true, t0), Slot::Wait(p.patience()));
        let p = Pacer::with_limits(&writes(1, 299_001), 1.0);
        assert_eq!(go(&p, true, t0), Slot::Go);
        assert_eq!(p.slot(true, t0), Slot::Spent(p.patience() + ms(1)));
    }

    #[test]
    fn a_time_scale_that_is_not_positive_is_real_time() {
        for scale in [0.0, -2.0] {
            let p = Pacer::with_limits(&TEST, scale);
            assert_eq!(p.patience(), Duration::from_secs(PATIENCE_SECS));
            let t0 = Instant::now();
            assert_eq!(go(&p, false, t0), Slot::Go);
            assert_eq!(go(&p, false, t0 + ms(40)), Slot::Wait(ms(70)));
        }
    }

    #[test]
    fn time_scales() {
        let p = Pacer::with_limits(&TEST, 1000.0);
        let t0 = Instant::now();
        assert_eq!(go(&p, false, t0), Slot::Go);
        // 100 µs, and a margin of at least 2 ms of real time.
        assert_eq!(
            go(&p, false, t0 + Duration::from_micros(40)),
            Slot::Wait(Duration::from_micros(2_060))
        );
        assert_eq!(p.patience(), ms(300));
    }
}
