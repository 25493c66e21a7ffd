//! Stage `api`, the retry engine of every HTTP client of the program (the partner API's and
//! the vendors'): one [`Policy`], one backoff with full jitter, one reading of the wait a
//! throttled answer asks for, one pause of the whole client after a throttled answer, one line
//! announcing each retry. A client sends one attempt at a time (signing and pacing it as its
//! API wants) and hands the engine what came back; the engine decides whether, when and how
//! often to send again, and what ends the request. May touch: the network through reqwest
//! (one exchange at a time, [`exchange`]), the clock, and the log (one warning per retry).
//!
//! The rules, the same for every client: an answer that was not processed because the client
//! was throttled (429; a 409 with `Retry-After`, or with an empty body when the dialect says
//! so) is always sent again after the wait it asks for, and the whole client waits too; such
//! an answer raises the number of attempts allowed by one (up to [`Policy::throttled`]), since
//! nothing happened. A failure without an answer, or a server error (5xx), is sent again only
//! when the request is safe to repeat, after an exponential backoff with full jitter (or the
//! server's `Retry-After` when longer), until the attempts run out. A redirect that was
//! refused ends the request at once: the same answer would come again.

mod cause;
mod wait;

pub use cause::{Cause, retry_line, seconds};
pub use wait::{DEFAULT_WAIT, LONGEST_RETRY_AFTER, backoff, requested_wait};

use std::future::Future;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::{Method, StatusCode};

use super::client::redirect::{self, RefusedRedirect};
use wait::{Clock, Jitter, Pause};

/// The default per-request timeout: generous for a page of 1000 objects from a slow API, short
/// enough that a silent endpoint is announced (as a retry) within half a minute.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The default number of attempts of one request (first try included).
pub const DEFAULT_ATTEMPTS: u32 = 8;

/// How patient a client is: with one attempt, with one request, with the whole read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Policy {
    /// Longest wait for one attempt: connecting, sending, and the whole answer.
    pub timeout: Duration,
    /// Attempts of one request (first try included), not counting throttled answers.
    pub attempts: u32,
    /// First backoff; doubles each retry (full jitter).
    pub base: Duration,
    /// Backoff ceiling.
    pub max: Duration,
    /// Most throttled answers one request waits through beyond its attempts.
    pub throttled: u32,
    /// Longest `Retry-After` honoured.
    pub max_retry_after: Duration,
    /// What a throttled answer asking for longer than [`Policy::max_retry_after`] does.
    pub long_waits: LongWaits,
    /// Longest time for reading the whole live state; `None`: [`Policy::timeout`] times
    /// [`Policy::attempts`], so that one request's retries fit in it.
    pub read_deadline: Option<Duration>,
}

/// What a throttled answer asking for longer than a client waits does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LongWaits {
    /// The client waits its longest and tries again.
    Capped,
    /// The request ends ([`GaveUp::TooLong`]): a wait that long means a budget is spent.
    GiveUp,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            timeout: DEFAULT_TIMEOUT,
            attempts: DEFAULT_ATTEMPTS,
            base: Duration::from_millis(100),
            max: Duration::from_secs(10),
            throttled: 50,
            max_retry_after: Duration::from_secs(120),
            long_waits: LongWaits::Capped,
            read_deadline: None,
        }
    }
}

impl Policy {
    /// The read deadline in effect: as given, or the timeout times the attempts.
    pub fn read_deadline(&self) -> Duration {
        self.read_deadline
            .unwrap_or_else(|| self.timeout.saturating_mul(self.attempts))
    }

    /// The backoff of an API whose clock runs `scale` times faster (a sandbox with a time
    /// scale): shorter as many times, never longer.
    pub fn sped_up(self, scale: f64) -> Self {
        let scale = scale.max(1.0);
        Policy {
            base: self.base.div_f64(scale),
            max: self.max.div_f64(scale),
            ..self
        }
    }
}

/// How a vendor's API says "throttled", beyond a 429 and a 409 with `Retry-After`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Dialect {
    /// A header giving the exact wait in milliseconds, read before `Retry-After`.
    pub millis_header: Option<&'static str>,
    /// A 409 with an empty body is throttled too (any other 409 is a conflict).
    pub empty_conflict_is_throttled: bool,
}

/// One request, as the engine sees it.
#[derive(Debug, Clone, Copy)]
pub struct Call<'a> {
    /// Its method.
    pub method: &'a Method,
    /// Its path (for the announcements and errors).
    pub path: &'a str,
    /// Safe to send again after an unknown outcome (no answer, a server error).
    pub repeatable: bool,
}

/// A whole answer: status, headers, body.
#[derive(Debug, Clone)]
pub struct Answer {
    /// HTTP status.
    pub status: StatusCode,
    /// Headers.
    pub headers: HeaderMap,
    /// The body, read to its end.
    pub body: Bytes,
}

/// Sends one request and reads its whole answer (a body cut short is a failure of the
/// attempt, like no answer at all).
pub async fn exchange(request: reqwest::RequestBuilder) -> Result<Answer, reqwest::Error> {
    let response = request.send().await?;
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.bytes().await?;
    Ok(Answer {
        status,
        headers,
        body,
    })
}

/// Why a request ended without an answer to hand back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GaveUp {
    /// Every attempt allowed failed (no answer, or a server error for a request not safe to
    /// repeat is not this: that answer is handed back).
    #[error("{method} {path}: {cause} ({attempts} attempt(s))")]
    Exhausted {
        /// Request method.
        method: Method,
        /// Request path.
        path: String,
        /// Why the last attempt failed.
        cause: Cause,
        /// Attempts made.
        attempts: u32,
    },
    /// A throttled answer asked for longer than the policy waits ([`LongWaits::GiveUp`]).
    #[error("{method} {path}: throttled (HTTP {status}) for {}", seconds(*wait))]
    TooLong {
        /// Request method.
        method: Method,
        /// Request path.
        path: String,
        /// The throttled answer's status.
        status: StatusCode,
        /// The wait it asked for.
        wait: Duration,
        /// Attempts made.
        attempts: u32,
    },
    /// A redirect that was not followed. Not retried: the same answer would come again.
    #[error("{method} {path}: {refused}")]
    Redirect {
        /// Request method.
        method: Method,
        /// Request path.
        path: String,
        /// Where it pointed, and why it was not followed.
        refused: RefusedRedirect,
    },
}

/// Counters of one client, for summaries and tests.
#[derive(Debug, Default)]
pub struct Stats {
    /// Attempts started (retries included).
    pub requests: AtomicU64,
    /// Retries after errors or throttling.
    pub retries: AtomicU64,
    /// Throttled answers.
    pub throttled: AtomicU64,
    /// What the last retry was for (`GET /v1/partner: no response within 30 s`).
    last_retry: Mutex<Option<String>>,
}

impl Stats {
    /// What the last retry was for, if there was one.
    pub fn last_retry(&self) -> Option<String> {
        self.last_retry
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

/// The retry engine of one client: its policy, its dialect, its pause, its counters.
#[derive(Debug)]
pub struct Engine {
    policy: Policy,
    dialect: Dialect,
    pause: Pause,
    stats: Stats,
    clock: Clock,
    jitter: Jitter,
}

impl Engine {
    /// The engine of a client with `policy`, whose API speaks `dialect`.
    pub fn new(policy: Policy, dialect: Dialect) -> Self {
        Engine {
            policy,
            dialect,
            pause: Pause::default(),
            stats: Stats::default(),
            clock: Clock::Real,
            jitter: Jitter::Full,
        }
    }

    /// An engine on a virtual clock (its waits pass at once, and are recorded for
    /// [`Engine::waits`]) with a fixed jitter `fraction`.
    #[cfg(test)]
    pub(crate) fn virtual_time(policy: Policy, dialect: Dialect, fraction: f64) -> Self {
        Engine {
            clock: Clock::Virtual(Mutex::new(wait::Virtual {
                start: std::time::Instant::now(),
                waits: Vec::new(),
            })),
            jitter: Jitter::Fixed(fraction),
            ..Engine::new(policy, dialect)
        }
    }

    /// Every wait so far, in order (a virtual clock's; empty on the real one).
    #[cfg(test)]
    pub(crate) fn waits(&self) -> Vec<Duration> {
        match &self.clock {
            Clock::Virtual(v) => v.lock().unwrap().waits.clone(),
            Clock::Real => Vec::new(),
        }
    }

    /// The policy.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The counters.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Sends `call` with `send` (one attempt: sign, pace and [`exchange`] as the client's API
    /// wants; an `Err` ends the request with the client's own error) until an answer is to be
    /// handed back: a success, an error the client reports, a server error or throttled answer
    /// after the last attempt allowed. Ends with [`GaveUp`] (into the client's error) when no
    /// attempt got an answer, a throttled answer asked for too long, or a redirect was refused.
    pub async fn run<E, F, Fut>(&self, call: Call<'_>, mut send: F) -> Result<Answer, E>
    where
        E: From<GaveUp>,
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<Result<Answer, reqwest::Error>, E>>,
    {
        let (mut attempt, mut throttled) = (0u32, 0u32);
        let mut wait = Duration::ZERO;
        loop {
            // Every request waits for the pause of the whole client too.
            let wait_now = wait.max(self.pause.left(self.clock.now()));
            if !wait_now.is_zero() {
                self.clock.sleep(wait_now).await;
            }
            attempt += 1;
            self.stats.requests.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(method = %call.method, path = call.path, attempt, "request");
            wait = match send().await? {
                Err(e) => self.after_failure(call, attempt, throttled, &e)?,
                Ok(answer) => match self.after_answer(call, attempt, &mut throttled, &answer)? {
                    Some(wait) => wait,
                    None => return Ok(answer),
                },
            };
        }
    }

    /// The wait before sending again after attempt `attempt` got no answer (`e`), or why the
    /// request ends. Announces a retry.
    fn after_failure(
        &self,
        call: Call<'_>,
        attempt: u32,
        throttled: u32,
        e: &reqwest::Error,
    ) -> Result<Duration, GaveUp> {
        if let Some(refused) = redirect::refused_redirect(e) {
            return Err(GaveUp::Redirect {
                method: call.method.clone(),
                path: call.path.to_string(),
                refused,
            });
        }
        let cause = Cause::of_transport(e, self.policy.timeout);
        let allowed = self.allowed(throttled);
        if call.repeatable && attempt < allowed {
            let wait = self.backoff(attempt, None);
            self.announce(call, &cause, attempt, allowed, wait, Some(e));
            return Ok(wait);
        }
        Err(GaveUp::Exhausted {
            method: call.method.clone(),
            path: call.path.to_string(),
            cause,
            attempts: attempt,
        })
    }

    /// The wait before sending again after attempt `attempt` got `answer`, or `None` to hand
    /// it back; `throttled` counts the request's throttled answers. Announces a retry.
    fn after_answer(
        &self,
        call: Call<'_>,
        attempt: u32,
        throttled: &mut u32,
        answer: &Answer,
    ) -> Result<Option<Duration>, GaveUp> {
        let status = answer.status;
        let millis = self
            .dialect
            .millis_header
            .and_then(|h| answer.headers.get(h));
        let retry_after =
            requested_wait(answer.headers.get(RETRY_AFTER), millis, SystemTime::now());
        if self.is_throttled(answer, retry_after) {
            self.stats.throttled.fetch_add(1, Ordering::Relaxed);
            let asked = retry_after.unwrap_or(DEFAULT_WAIT);
            if asked > self.policy.max_retry_after && self.policy.long_waits == LongWaits::GiveUp {
                return Err(GaveUp::TooLong {
                    method: call.method.clone(),
                    path: call.path.to_string(),
                    status,
                    wait: asked,
                    attempts: attempt,
                });
            }
            // The whole client pauses, whether this request waits or not; another throttled
            // answer may have made the pause longer already.
            let now = self.clock.now();
            let end = self
                .pause
                .extend(now + asked.min(self.policy.max_retry_after));
            *throttled += 1;
            let allowed = self.allowed(*throttled);
            if attempt >= allowed {
                return Ok(None);
            }
            let cause = Cause::Throttled {
                status,
                retry_after,
            };
            self.announce(call, &cause, attempt, allowed, end - now, None);
            // Waited out as the pause, which every request of the client waits for.
            return Ok(Some(Duration::ZERO));
        }
        let allowed = self.allowed(*throttled);
        if status.is_server_error() && call.repeatable && attempt < allowed {
            let wait = self.backoff(attempt, retry_after);
            self.announce(call, &Cause::Status(status), attempt, allowed, wait, None);
            return Ok(Some(wait));
        }
        Ok(None)
    }

    /// Attempts allowed after `throttled` throttled answers: each gives one back.
    fn allowed(&self, throttled: u32) -> u32 {
        self.policy
            .attempts
            .saturating_add(throttled.min(self.policy.throttled))
    }

    /// Is `answer` a throttled one?
    fn is_throttled(&self, answer: &Answer, retry_after: Option<Duration>) -> bool {
        match answer.status {
            StatusCode::TOO_MANY_REQUESTS => true,
            StatusCode::CONFLICT => {
                retry_after.is_some()
                    || (self.dialect.empty_conflict_is_throttled && answer.body.is_empty())
            }
            _ => false,
        }
    }

    /// The wait after attempt `attempt`, its jitter drawn.
    fn backoff(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        backoff(&self.policy, attempt, retry_after, self.jitter.fraction())
    }

    /// Counts a retry and announces it as a warning: one line saying what, why, which attempt
    /// comes next (of how many allowed) and when, with structured fields for
    /// `--log-format json` (`error` carries a transport error's whole chain).
    fn announce(
        &self,
        call: Call<'_>,
        cause: &Cause,
        attempt: u32,
        allowed: u32,
        wait: Duration,
        error: Option<&reqwest::Error>,
    ) {
        self.stats.retries.fetch_add(1, Ordering::Relaxed);
        *self
            .stats
            .last_retry
            .lock()
            .unwrap_or_else(|p| p.into_inner()) =
            Some(format!("{} {}: {cause}", call.method, call.path));
        let next = attempt + 1;
        let line = retry_line(call.method, call.path, cause, next, allowed, wait);
        let retry_after_s = match cause {
            Cause::Throttled { retry_after, .. } => retry_after.map(|r| r.as_secs_f64()),
            _ => None,
        };
        tracing::warn!(
            method = %call.method,
            path = call.path,
            cause = cause.kind(),
            status = cause.status().map(|s| s.as_u16()),
            retry_after_s,
            attempt = next,
            attempts = allowed,
            wait_s = (wait.as_secs_f64() * 1000.0).round() / 1000.0,
            error = error.map(|e| tracing::field::display(cause::chain(e))),
            "{line}"
        );
    }
}

#[cfg(test)]
mod tests;
