//! Stage `api`, client causes: why an attempt failed, and the sentences built from it (the
//! retry announcement, the final error of a request that gave up, the hints).

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

    /// What to do about it, once the request has given up.
    fn advice(&self) -> &'static str {
        match self {
            Cause::Timeout(_) => {
                "check that the endpoint answers, or allow each request longer with --timeout SECONDS"
            }
            Cause::Connect(_) => "check the endpoint URL and that the server is running",
            Cause::Connection(_) => "is the endpoint reachable, and is it the partner API?",
            Cause::Status(_) | Cause::Throttled { .. } => {
                "the server keeps failing; try again later"
            }
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

/// The error of a request that got no answer: the cause once, how many attempts were made,
/// and what to do.
pub fn gave_up(method: &Method, path: &str, cause: &Cause, attempts: u32) -> String {
    let tries = if attempts > 1 {
        format!(", after {attempts} attempts")
    } else {
        String::new()
    };
    format!("{method} {path}: {cause}{tries}; {}", cause.advice())
}

/// What to do about a 401: for a local sandbox (loopback, the embedded one included) where
/// its tokens come from; for a real API, the variable that holds the token.
pub fn unauthorized_hint(local: bool) -> &'static str {
    if local {
        "this endpoint is a local sandbox: get a token with `partnerctl sandbox partner add --name NAME` (a new partner) or `partnerctl sandbox partner token --id ID` (an existing one; `partnerctl sandbox partner list` shows them), passing the --db FILE the sandbox serves, and put it in PARTNERCTL_TOKEN"
    } else {
        "the API did not accept the token: set PARTNERCTL_TOKEN to an API token of the partner account this configuration manages (issued by the vendor); it may be missing a character, expired or revoked"
    }
}

/// The error when reading the live state took longer than the read deadline.
pub fn read_deadline_message(limit: Duration, last_retry: Option<&str>) -> String {
    let last = last_retry.map_or(String::new(), |l| format!(" (the last retry: {l})"));
    format!(
        "the live state could not be read within {}{last}; check that the endpoint answers, or allow longer: --timeout SECONDS for each request, --read-deadline SECONDS for the whole read",
        seconds(limit)
    )
}

/// Is `endpoint` missing its scheme (`127.0.0.1:7878`, `api.example.com`)? Then the URL it
/// probably means: `http://` for a loopback host (where plain http is allowed), `https://`
/// otherwise.
pub fn missing_scheme(endpoint: &str, is_loopback: impl Fn(&str) -> bool) -> Option<String> {
    if endpoint.contains("://") || endpoint.trim().is_empty() {
        return None;
    }
    let guess = reqwest::Url::parse(&format!("http://{endpoint}")).ok()?;
    let host = guess.host_str()?;
    let scheme = if is_loopback(host) { "http" } else { "https" };
    Some(format!("{scheme}://{endpoint}"))
}

/// Why an endpoint without a scheme is refused, with the URL it probably means.
pub fn missing_scheme_reason(guess: &str) -> String {
    format!(
        "it has no scheme; did you mean `{guess}`? (plain http:// is allowed only to loopback addresses such as 127.0.0.1 or localhost; anything else needs https://)"
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
    fn gave_up_names_the_cause_once() {
        let cause = Cause::Timeout(Duration::from_secs(30));
        let msg = gave_up(&Method::GET, "/v1/partner", &cause, 8);
        assert!(
            msg.starts_with("GET /v1/partner: no response within 30 s, after 8 attempts; check"),
            "{msg}"
        );
        assert_eq!(msg.matches("no response").count(), 1, "{msg}");
        assert!(msg.contains("--timeout"), "{msg}");
        let once = gave_up(
            &Method::POST,
            "/v1/accounts",
            &Cause::Connect("x".into()),
            1,
        );
        assert!(!once.contains("attempts"), "{once}");
    }

    #[test]
    fn unauthorized_hints_fit_the_endpoint() {
        let local = unauthorized_hint(true);
        assert!(local.contains("partnerctl sandbox partner add"));
        assert!(local.contains("PARTNERCTL_TOKEN"));
        let remote = unauthorized_hint(false);
        assert!(remote.contains("PARTNERCTL_TOKEN"));
        assert!(!remote.contains("sandbox"), "{remote}");
    }

    #[test]
    fn read_deadline_names_the_flag_and_the_last_retry() {
        let m = read_deadline_message(Duration::from_secs(240), None);
        assert!(m.contains("within 240 s;"), "{m}");
        assert!(m.contains("--read-deadline"), "{m}");
        let m = read_deadline_message(
            Duration::from_secs(8),
            Some("GET /v1/partner: no response within 1 s"),
        );
        assert!(
            m.contains("within 8 s (the last retry: GET /v1/partner: no response within 1 s)"),
            "{m}"
        );
    }

    #[test]
    fn endpoints_without_a_scheme_get_a_guess() {
        let lo = |h: &str| h == "127.0.0.1" || h == "localhost";
        assert_eq!(
            missing_scheme("127.0.0.1:34001", lo).as_deref(),
            Some("http://127.0.0.1:34001")
        );
        assert_eq!(
            missing_scheme("localhost:7878", lo).as_deref(),
            Some("http://localhost:7878")
        );
        assert_eq!(
            missing_scheme("api.example.com/base", lo).as_deref(),
            Some("https://api.example.com/base")
        );
        assert_eq!(missing_scheme("https://api.example.com", lo), None);
        assert_eq!(missing_scheme("", lo), None);
        let m = missing_scheme_reason("http://127.0.0.1:34001");
        assert!(m.contains("did you mean `http://127.0.0.1:34001`?"), "{m}");
        assert!(m.contains("only to loopback"), "{m}");
    }
}
