//! Stage `api`, retry waits: how long the server asks to wait (`Retry-After` as seconds or an
//! HTTP date, and a dialect's header of exact milliseconds), the backoff with full jitter, the
//! client-wide pause after a throttled answer, and the clock they are measured on. Touches the
//! clock (tokio's timer) and nothing else.

use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use reqwest::header::HeaderValue;

use super::Policy;

/// The longest wait a throttled answer is taken to ask for: a day, the longest window any API
/// here counts in. Longer values (`1e20`, a date years ahead) are clamped to it; each client
/// honours less ([`Policy::max_retry_after`]).
pub const LONGEST_RETRY_AFTER: Duration = Duration::from_secs(86_400);

/// The wait of a throttled answer that does not say how long, or says nothing usable.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(1);

/// The wait an answer asks for: `millis` (a dialect's header of exact milliseconds, which
/// wins when usable) or `retry_after` as seconds (fractions accepted) or as an HTTP date (`now`
/// until then; a date past is no wait). Total: any header value gives a wait between zero and
/// [`LONGEST_RETRY_AFTER`], never a panic; a value that says nothing usable (`soon`, `NaN`,
/// `-5`) gives [`DEFAULT_WAIT`]. `None` when the answer has neither header.
pub fn requested_wait(
    retry_after: Option<&HeaderValue>,
    millis: Option<&HeaderValue>,
    now: SystemTime,
) -> Option<Duration> {
    let text = |v: &HeaderValue| String::from_utf8_lossy(v.as_bytes()).trim().to_string();
    let (secs, ms) = (retry_after.map(text), millis.map(text));
    if secs.is_none() && ms.is_none() {
        return None;
    }
    let wait = ms
        .as_deref()
        .and_then(number)
        .map(|n| n / 1000.0)
        .or_else(|| secs.as_deref().and_then(number))
        .map(clamped)
        .or_else(|| {
            let date = httpdate::parse_http_date(secs.as_deref()?).ok()?;
            Some(
                date.duration_since(now)
                    .unwrap_or_default()
                    .min(LONGEST_RETRY_AFTER),
            )
        });
    Some(wait.unwrap_or(DEFAULT_WAIT))
}

/// A number of seconds (or milliseconds) as written, not negative: not a date, not NaN.
fn number(text: &str) -> Option<f64> {
    text.parse::<f64>().ok().filter(|n| *n >= 0.0)
}

/// `secs` (not negative) seconds, at most [`LONGEST_RETRY_AFTER`].
fn clamped(secs: f64) -> Duration {
    Duration::try_from_secs_f64(secs).map_or(LONGEST_RETRY_AFTER, |d| d.min(LONGEST_RETRY_AFTER))
}

/// The wait before the attempt after `attempt` (counted from 1): exponential backoff from
/// [`Policy::base`], doubling each time, at most [`Policy::max`], with full jitter (`fraction`,
/// between 0 and 1, of that ceiling); or what the server asked (`retry_after`, at most
/// [`Policy::max_retry_after`]) when that is longer.
pub fn backoff(
    policy: &Policy,
    attempt: u32,
    retry_after: Option<Duration>,
    fraction: f64,
) -> Duration {
    let ceiling = policy
        .base
        .saturating_mul(1u32 << attempt.min(16))
        .min(policy.max);
    // Total: a ceiling no float holds exactly (a policy of centuries) is taken whole.
    let jittered = Duration::try_from_secs_f64(ceiling.as_secs_f64() * fraction.clamp(0.0, 1.0))
        .map_or(ceiling, |d| d.min(ceiling));
    retry_after.map_or(jittered, |r| r.min(policy.max_retry_after).max(jittered))
}

/// Where the jitter comes from.
#[derive(Debug, Clone, Copy)]
pub(super) enum Jitter {
    /// Anywhere between none and all of the ceiling.
    Full,
    /// Always this fraction of it (tests).
    #[cfg(test)]
    Fixed(f64),
}

impl Jitter {
    /// A fraction between 0 and 1.
    pub(super) fn fraction(self) -> f64 {
        match self {
            Jitter::Full => rand::random::<f64>(),
            #[cfg(test)]
            Jitter::Fixed(f) => f,
        }
    }
}

/// What the engine's waits are measured on.
#[derive(Debug)]
pub(super) enum Clock {
    /// tokio's timer.
    Real,
    /// Tests: time that passes only when the engine waits, every wait recorded.
    #[cfg(test)]
    Virtual(Mutex<Virtual>),
}

/// The state of a virtual clock.
#[cfg(test)]
#[derive(Debug)]
pub(super) struct Virtual {
    pub(super) start: Instant,
    pub(super) waits: Vec<Duration>,
}

impl Clock {
    pub(super) fn now(&self) -> Instant {
        match self {
            Clock::Real => Instant::now(),
            #[cfg(test)]
            Clock::Virtual(v) => {
                let v = v.lock().unwrap_or_else(|p| p.into_inner());
                v.start + v.waits.iter().sum::<Duration>()
            }
        }
    }

    pub(super) async fn sleep(&self, wait: Duration) {
        match self {
            Clock::Real => tokio::time::sleep(wait).await,
            #[cfg(test)]
            Clock::Virtual(v) => v.lock().unwrap_or_else(|p| p.into_inner()).waits.push(wait),
        }
    }
}

/// The pause of a whole client after a throttled answer: every request of the client waits
/// for it before it is sent.
#[derive(Debug, Default)]
pub(super) struct Pause {
    not_before: Mutex<Option<Instant>>,
}

impl Pause {
    /// Until when requests wait.
    pub(super) fn until(&self) -> Option<Instant> {
        *self.not_before.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Makes requests wait until `until` at least; the pause's end, as extended.
    pub(super) fn extend(&self, until: Instant) -> Instant {
        let mut g = self.not_before.lock().unwrap_or_else(|p| p.into_inner());
        let end = g.map_or(until, |t| t.max(until));
        *g = Some(end);
        end
    }

    /// How long a request must still wait at `now`.
    pub(super) fn left(&self, now: Instant) -> Duration {
        self.until()
            .map_or(Duration::ZERO, |t| t.saturating_duration_since(now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(v: &str) -> HeaderValue {
        HeaderValue::from_str(v).unwrap()
    }

    #[test]
    fn retry_after_reads_seconds_dates_and_exact_milliseconds() {
        let now = std::time::UNIX_EPOCH + Duration::from_secs(1_445_412_000);
        let wait = |secs: Option<&str>, ms: Option<&str>| {
            requested_wait(secs.map(header).as_ref(), ms.map(header).as_ref(), now)
        };
        assert_eq!(wait(None, None), None);
        assert_eq!(wait(Some("3"), None), Some(Duration::from_secs(3)));
        assert_eq!(wait(Some(" 3 "), None), Some(Duration::from_secs(3)));
        assert_eq!(wait(Some("0.25"), None), Some(Duration::from_millis(250)));
        assert_eq!(wait(Some("0"), None), Some(Duration::ZERO));
        // An HTTP date: until then (this one is 80 s after `now`); past dates are no wait.
        let date = "Wed, 21 Oct 2015 07:21:20 GMT";
        assert_eq!(wait(Some(date), None), Some(Duration::from_secs(80)));
        let past = "Wed, 21 Oct 2015 07:00:00 GMT";
        assert_eq!(wait(Some(past), None), Some(Duration::ZERO));
        let years_ahead = "Wed, 21 Oct 2099 07:00:00 GMT";
        assert_eq!(wait(Some(years_ahead), None), Some(LONGEST_RETRY_AFTER));
        for nothing in ["soon", "NaN", "", "-5", "-0.5"] {
            assert_eq!(wait(Some(nothing), None), Some(DEFAULT_WAIT), "{nothing}");
            assert_eq!(wait(None, Some(nothing)), Some(DEFAULT_WAIT), "{nothing}");
        }
        for huge in [
            "1e20",
            "18446744073709551616",
            "1.7976931348623157e308",
            "inf",
        ] {
            assert_eq!(wait(Some(huge), None), Some(LONGEST_RETRY_AFTER), "{huge}");
        }
        // The milliseconds are exact and win; unusable ones leave `Retry-After` to say.
        assert_eq!(wait(Some("1"), Some("15")), Some(Duration::from_millis(15)));
        assert_eq!(wait(None, Some("1500")), Some(Duration::from_millis(1500)));
        assert_eq!(wait(Some("2"), Some("soon")), Some(Duration::from_secs(2)));
        assert_eq!(wait(None, Some("1e300")), Some(LONGEST_RETRY_AFTER));
        // Bytes that are no text are read as far as they go: nothing usable.
        let latin = HeaderValue::from_bytes(b"\xff3").unwrap();
        assert_eq!(requested_wait(Some(&latin), None, now), Some(DEFAULT_WAIT));
    }

    proptest::proptest! {
        /// Any header value whatever: a wait within bounds, never a panic.
        #[test]
        fn any_header_value_is_a_bounded_wait(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..40),
            ms in proptest::prelude::any::<bool>(),
        ) {
            if let Ok(v) = HeaderValue::from_bytes(&bytes) {
                let (secs, millis) = if ms { (None, Some(&v)) } else { (Some(&v), None) };
                let w = requested_wait(secs, millis, SystemTime::now());
                proptest::prop_assert!(w.is_some_and(|w| w <= LONGEST_RETRY_AFTER));
            }
        }
    }

    #[test]
    fn backoff_doubles_to_its_ceiling_with_full_jitter() {
        let p = Policy::default();
        let ms = Duration::from_millis;
        // Ceilings 200 ms, 400 ms, 800 ms, … at most 10 s; the jitter takes a fraction of it.
        assert_eq!(backoff(&p, 1, None, 1.0), ms(200));
        assert_eq!(backoff(&p, 2, None, 1.0), ms(400));
        assert_eq!(backoff(&p, 3, None, 0.5), ms(400));
        assert_eq!(backoff(&p, 6, None, 1.0), ms(6_400));
        assert_eq!(backoff(&p, 7, None, 1.0), ms(10_000));
        assert_eq!(backoff(&p, 40, None, 1.0), ms(10_000));
        assert_eq!(backoff(&p, u32::MAX, None, 0.25), ms(2_500));
        assert_eq!(backoff(&p, 1, None, 0.0), Duration::ZERO);
        // A fraction out of range is taken at its bound.
        assert_eq!(backoff(&p, 1, None, 7.0), ms(200));
        assert_eq!(backoff(&p, 1, None, -1.0), Duration::ZERO);
        // The server's wait when longer, at most the policy's longest.
        assert_eq!(backoff(&p, 1, Some(ms(3_000)), 1.0), ms(3_000));
        assert_eq!(backoff(&p, 3, Some(ms(100)), 1.0), ms(800));
        assert_eq!(
            backoff(&p, 1, Some(LONGEST_RETRY_AFTER), 1.0),
            p.max_retry_after
        );
        let huge = Policy {
            base: Duration::MAX / 4,
            max: Duration::MAX,
            ..p
        };
        assert_eq!(backoff(&huge, 60, None, 1.0), Duration::MAX);
        let half = backoff(&huge, 60, None, 0.5);
        assert!(half > Duration::MAX / 3 && half < Duration::MAX, "{half:?}");
    }

    #[test]
    fn full_jitter_spreads_over_the_whole_ceiling() {
        let draws: Vec<f64> = (0..200).map(|_| Jitter::Full.fraction()).collect();
        assert!(draws.iter().all(|f| (0.0..1.0).contains(f)), "{draws:?}");
        assert!(draws.iter().any(|f| *f < 0.5) && draws.iter().any(|f| *f >= 0.5));
        assert_eq!(Jitter::Fixed(0.3).fraction(), 0.3);
    }

    #[test]
    fn the_pause_only_grows() {
        let pause = Pause::default();
        let t0 = Instant::now();
        let s = Duration::from_secs;
        assert_eq!(pause.until(), None);
        assert_eq!(pause.left(t0), Duration::ZERO);
        assert_eq!(pause.extend(t0 + s(5)), t0 + s(5));
        assert_eq!(pause.extend(t0 + s(2)), t0 + s(5));
        assert_eq!(pause.left(t0 + s(1)), s(4));
        assert_eq!(pause.left(t0 + s(9)), Duration::ZERO);
        assert_eq!(pause.extend(t0 + s(7)), t0 + s(7));
        assert_eq!(pause.until(), Some(t0 + s(7)));
    }

    #[tokio::test]
    async fn a_virtual_clock_moves_only_by_the_waits() {
        let clock = Clock::Virtual(Mutex::new(Virtual {
            start: Instant::now(),
            waits: Vec::new(),
        }));
        let t0 = clock.now();
        clock.sleep(Duration::from_secs(3600)).await;
        clock.sleep(Duration::from_millis(5)).await;
        assert_eq!(clock.now() - t0, Duration::from_millis(3_600_005));
        let real = Clock::Real;
        let before = real.now();
        real.sleep(Duration::from_millis(1)).await;
        assert!(real.now() > before);
    }
}
