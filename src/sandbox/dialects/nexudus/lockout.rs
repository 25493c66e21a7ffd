//! Failed logins of the Nexudus dialect, throttled per login (the token grant and HTTP Basic
//! alike): at most [`FAILURES`] failed attempts in any [`WINDOW_MILLIS`] (divided by
//! `--time-scale`, like the rate windows). While a login has that many, every attempt for it is
//! refused before its password is looked at, right or wrong, with the wait until the oldest
//! failure leaves the window (the dialect's throttle answer: 409 and `Retry-After`). An attempt
//! counts as a failure from the moment it is admitted (so that a burst sent at once gets no
//! more tries than one sent in turn) until it succeeds, which forgets the login's failures.
//!
//! Memory is bounded: at most [`MAX_LOGINS`] logins are tracked; when one more is needed,
//! the logins whose failures all left the window are forgotten, and if that is not enough, the
//! one whose last failure is the oldest. Logins are kept as a hash of their lowercase form, so a long one costs no more.
//! Touches nothing but its own memory.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::pace::Lane;
use crate::sandbox::store::sha256_hex;

/// Failed attempts a login may have in the window.
pub(super) const FAILURES: u32 = 5;

/// The window (15 minutes), before `--time-scale`.
pub(super) const WINDOW_MILLIS: u64 = 15 * 60_000;

/// Most logins tracked at once.
const MAX_LOGINS: usize = 10_000;

/// The failures of every login.
pub(super) struct Lockout {
    time_scale: f64,
    start: Instant,
    logins: Mutex<HashMap<String, Lane>>,
}

/// The key of a login.
fn key(login: &str) -> String {
    sha256_hex(login.to_lowercase().as_bytes())
}

impl Lockout {
    pub(super) fn new(time_scale: f64) -> Self {
        Lockout {
            time_scale,
            start: Instant::now(),
            logins: Mutex::new(HashMap::new()),
        }
    }

    /// Admits an attempt to sign in as `login` (counting it as a failure until
    /// [`Lockout::succeeded`]), or says how long until the login may try again.
    pub(super) fn attempt(&self, login: &str) -> Result<(), Duration> {
        self.admit(login, self.start.elapsed())
    }

    /// The login signed in: its failures are forgotten.
    pub(super) fn succeeded(&self, login: &str) {
        self.lock().remove(&key(login));
    }

    /// How long `login` must wait before it may try again, if it must (counts nothing).
    pub(super) fn locked(&self, login: &str) -> Option<Duration> {
        let now = self.start.elapsed();
        self.lock().get_mut(&key(login)).and_then(|l| l.wait(now))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Lane>> {
        self.logins.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn admit(&self, login: &str, now: Duration) -> Result<(), Duration> {
        let mut logins = self.lock();
        let k = key(login);
        if !logins.contains_key(&k) && logins.len() >= MAX_LOGINS {
            logins.retain(|_, lane| lane.any(now));
            if logins.len() >= MAX_LOGINS {
                let oldest = logins
                    .iter()
                    .min_by_key(|(_, lane)| lane.last())
                    .map(|(k, _)| k.clone());
                if let Some(o) = oldest {
                    logins.remove(&o);
                }
            }
        }
        logins
            .entry(k)
            .or_insert_with(|| Lane::new(FAILURES, WINDOW_MILLIS, self.time_scale))
            .hit(now)
    }

    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn five_failures_lock_a_login_until_the_first_leaves_the_window() {
        let l = Lockout::new(1.0);
        for i in 0..5 {
            assert_eq!(l.admit("Ops@A.example", s(i * 10)), Ok(()), "attempt {i}");
        }
        // Whatever its password: the attempt is refused before it is looked at.
        assert_eq!(l.admit("ops@a.example", s(60)), Err(s(900 - 60)));
        assert_eq!(l.admit("ops@a.example", s(899)), Err(s(1)));
        assert!(l.admit("other@a.example", s(60)).is_ok(), "per login");
        assert!(l.admit("ops@a.example", s(900)).is_ok(), "the first left");
        assert_eq!(l.admit("ops@a.example", s(901)), Err(s(9)));
    }

    #[test]
    fn a_success_forgets_the_failures() {
        let l = Lockout::new(1.0);
        for i in 0..4 {
            l.admit("a@a.example", s(i)).unwrap();
        }
        l.admit("a@a.example", s(5)).unwrap();
        l.succeeded("A@a.example");
        assert_eq!(l.tracked(), 0);
        for i in 0..5 {
            assert!(l.admit("a@a.example", s(10 + i)).is_ok(), "attempt {i}");
        }
        assert!(l.admit("a@a.example", s(20)).is_err());
    }

    #[test]
    fn time_scale_divides_the_window() {
        let l = Lockout::new(900.0);
        for _ in 0..5 {
            l.admit("a@a.example", Duration::ZERO).unwrap();
        }
        assert_eq!(l.admit("a@a.example", Duration::ZERO), Err(s(1)));
    }

    #[test]
    fn memory_is_bounded() {
        let l = Lockout::new(1.0);
        for i in 0..MAX_LOGINS as u64 {
            l.admit(&format!("u{i}@a.example"), s(0)).unwrap();
        }
        assert_eq!(l.tracked(), MAX_LOGINS);
        // Full of logins still in their window: the oldest is forgotten for a new one.
        l.admit("new@a.example", s(1)).unwrap();
        assert_eq!(l.tracked(), MAX_LOGINS);
        // Once the window has passed, the lot goes.
        l.admit("later@a.example", s(2_000)).unwrap();
        assert_eq!(l.tracked(), 1);
    }
}
