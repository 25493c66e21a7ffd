//! Stage `api`, retry causes: why an attempt of a request failed (no answer in time, no
//! connection, a broken one, a server error, a throttled answer), as any client of the program
//! meets it, and the one line that announces a retry. Touches nothing.

use std::fmt;
use std::time::Duration;

use reqwest::{Method, StatusCode};

/// Why one attempt of a request did not succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cause {
    /// No (complete) answer within the per-request timeout.
    Timeout(Duration),
    /// The connection could not be made (refused, no route, DNS, TLS handshake).
    Connect(String),
    /// The connection broke (reset, closed early) or the answer was malformed HTTP.
    Connection(String),
    /// A server error (5xx).
    Status(StatusCode),
    /// Throttled: 429, or a 409 with `Retry-After`.
    Throttled {
        /// The status.
        status: StatusCode,
        /// The `Retry-After` given, if any.
        retry_after: Option<Duration>,
    },
}

impl Cause {
    /// Classifies a transport error of reqwest. `timeout` is the per-request timeout the client
    /// was built with (reqwest's own message does not say how long it waited).
    pub(super) fn of_transport(e: &reqwest::Error, timeout: Duration) -> Self {
        if e.is_timeout() {
            Cause::Timeout(timeout)
        } else if e.is_connect() {
            Cause::Connect(innermost(e))
        } else {
            Cause::Connection(innermost(e))
        }
    }

    /// A one-word name for logs and JSON: `timeout`, `connect`, `connection`, `status`,
    /// `throttled`.
    pub fn kind(&self) -> &'static str {
        match self {
            Cause::Timeout(_) => "timeout",
            Cause::Connect(_) => "connect",
            Cause::Connection(_) => "connection",
            Cause::Status(_) => "status",
            Cause::Throttled { .. } => "throttled",
        }
    }

    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Cause::Status(s) | Cause::Throttled { status: s, .. } => Some(*s),
            _ => None,
        }
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cause::Timeout(t) => write!(f, "no response within {}", seconds(*t)),
            Cause::Connect(why) => write!(f, "cannot connect ({why})"),
            Cause::Connection(why) => write!(f, "connection failed ({why})"),
            Cause::Status(s) => write!(f, "HTTP {s}"),
            Cause::Throttled {
                status,
                retry_after: Some(r),
            } => write!(f, "throttled (HTTP {status}, Retry-After {})", seconds(*r)),
            Cause::Throttled {
                status,
                retry_after: None,
            } => write!(f, "throttled (HTTP {status}, no Retry-After)"),
        }
    }
}

/// The deepest message of an error chain: for reqwest that is the one that says what happened
/// (`Connection refused (os error 111)`), not `error sending request for url (…)`.
fn innermost(e: &(dyn std::error::Error + 'static)) -> String {
    let mut last: &dyn std::error::Error = e;
    while let Some(next) = last.source() {
        last = next;
    }
    last.to_string()
}

/// The whole chain of an error on one line, for the verbose log.
pub(super) fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(next) = cur {
        let s = next.to_string();
        if !out.contains(&s) {
            out.push_str(": ");
            out.push_str(&s);
        }
        cur = next.source();
    }
    out
}

/// A duration in seconds for people: `30 s`, `1.5 s`, `0.25 s`.
pub fn seconds(d: Duration) -> String {
    let s = d.as_secs_f64();
    let text = if s >= 10.0 {
        format!("{s:.0}")
    } else {
        let t = format!("{s:.2}");
        let t = t.trim_end_matches('0').trim_end_matches('.');
        if t.is_empty() { "0".into() } else { t.into() }
    };
    format!("{text} s")
}

/// The stderr line announcing a retry: what, why, which attempt comes next and when.
/// `next` counts the first try as attempt 1.
pub fn retry_line(
    method: &Method,
    path: &str,
    cause: &Cause,
    next: u32,
    attempts: u32,
    wait: Duration,
) -> String {
    format!(
        "{method} {path}: {cause}; retrying in {} (attempt {next} of {attempts})",
        seconds(wait)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_read_naturally() {
        assert_eq!(seconds(Duration::from_secs(30)), "30 s");
        assert_eq!(seconds(Duration::from_secs(1)), "1 s");
        assert_eq!(seconds(Duration::from_millis(1500)), "1.5 s");
        assert_eq!(seconds(Duration::from_millis(250)), "0.25 s");
        assert_eq!(seconds(Duration::from_millis(12_400)), "12 s");
        assert_eq!(seconds(Duration::ZERO), "0 s");
        assert_eq!(seconds(Duration::from_micros(10)), "0 s");
    }

    #[test]
    fn retry_line_says_what_why_which_and_when() {
        let line = retry_line(
            &Method::GET,
            "/v1/partner",
            &Cause::Timeout(Duration::from_secs(1)),
            2,
            8,
            Duration::from_millis(400),
        );
        assert_eq!(
            line,
            "GET /v1/partner: no response within 1 s; retrying in 0.4 s (attempt 2 of 8)"
        );
        let throttled = Cause::Throttled {
            status: StatusCode::TOO_MANY_REQUESTS,
            retry_after: Some(Duration::from_secs(3)),
        };
        assert_eq!(
            retry_line(
                &Method::POST,
                "/v1/accounts",
                &throttled,
                3,
                8,
                Duration::from_secs(3)
            ),
            "POST /v1/accounts: throttled (HTTP 429 Too Many Requests, Retry-After 3 s); retrying in 3 s (attempt 3 of 8)"
        );
        let refused = Cause::Connect("Connection refused (os error 111)".into());
        assert!(
            retry_line(&Method::GET, "/v1/users", &refused, 2, 8, Duration::ZERO)
                .contains("cannot connect (Connection refused (os error 111)); retrying in 0 s")
        );
        assert_eq!(
            Cause::Status(StatusCode::SERVICE_UNAVAILABLE).to_string(),
            "HTTP 503 Service Unavailable"
        );
        assert_eq!(throttled.kind(), "throttled");
        assert_eq!(throttled.status(), Some(StatusCode::TOO_MANY_REQUESTS));
    }

    #[test]
    fn every_cause_has_a_kind_and_says_its_status() {
        let cases = [
            (Cause::Timeout(Duration::from_secs(1)), "timeout", None),
            (Cause::Connect("refused".into()), "connect", None),
            (Cause::Connection("reset".into()), "connection", None),
            (
                Cause::Status(StatusCode::BAD_GATEWAY),
                "status",
                Some(StatusCode::BAD_GATEWAY),
            ),
            (
                Cause::Throttled {
                    status: StatusCode::CONFLICT,
                    retry_after: None,
                },
                "throttled",
                Some(StatusCode::CONFLICT),
            ),
        ];
        for (cause, kind, status) in cases {
            assert_eq!((cause.kind(), cause.status()), (kind, status), "{cause}");
        }
        assert_eq!(
            Cause::Connection("reset".into()).to_string(),
            "connection failed (reset)"
        );
    }

    /// An error with a source, as reqwest's wrap the operating system's.
    #[derive(Debug)]
    struct Wrapped(&'static str, Option<Box<Wrapped>>);

    impl fmt::Display for Wrapped {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.0)
        }
    }

    impl std::error::Error for Wrapped {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1.as_deref().map(|e| e as _)
        }
    }

    #[test]
    fn the_innermost_message_says_what_happened_and_the_chain_says_it_once() {
        let e = Wrapped(
            "error sending request",
            Some(Box::new(Wrapped(
                "client error (Connect): Connection refused",
                Some(Box::new(Wrapped("Connection refused", None))),
            ))),
        );
        assert_eq!(innermost(&e), "Connection refused");
        // A source its parent already quotes is not repeated.
        assert_eq!(
            chain(&e),
            "error sending request: client error (Connect): Connection refused"
        );
        let alone = Wrapped("timed out", None);
        assert_eq!(
            (innermost(&alone), chain(&alone)),
            ("timed out".into(), "timed out".into())
        );
    }
}
