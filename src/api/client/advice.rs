//! Stage `api`, client advice: the sentences that say what to do once a request of the
//! partner API has given up (per cause), about a 401, a read that passed its deadline, or an
//! endpoint written without its scheme. Touches nothing.

use std::time::Duration;

use reqwest::Method;

use crate::api::retry::{Cause, seconds};

/// What to do about `cause`, once the request has given up.
fn advice(cause: &Cause) -> &'static str {
    match cause {
        Cause::Timeout(_) => {
            "check that the endpoint answers, or allow each request longer with --timeout SECONDS"
        }
        Cause::Connect(_) => "check the endpoint URL and that the server is running",
        Cause::Connection(_) => "is the endpoint reachable, and is it the partner API?",
        Cause::Status(_) | Cause::Throttled { .. } => "the server keeps failing; try again later",
    }
}

/// The error of a request that got no answer: the cause once, how many attempts were made,
/// and what to do.
pub fn gave_up(method: &Method, path: &str, cause: &Cause, attempts: u32) -> String {
    let tries = if attempts > 1 {
        format!(", after {attempts} attempts")
    } else {
        String::new()
    };
    format!("{method} {path}: {cause}{tries}; {}", advice(cause))
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
        let throttled = Cause::Throttled {
            status: reqwest::StatusCode::TOO_MANY_REQUESTS,
            retry_after: Some(Duration::from_secs(3600)),
        };
        assert_eq!(
            gave_up(&Method::GET, "/v1/users", &throttled, 2),
            "GET /v1/users: throttled (HTTP 429 Too Many Requests, Retry-After 3600 s), after 2 attempts; the server keeps failing; try again later"
        );
        let reset = gave_up(
            &Method::GET,
            "/v1/users",
            &Cause::Connection("reset".into()),
            3,
        );
        assert!(
            reset.ends_with("; is the endpoint reachable, and is it the partner API?"),
            "{reset}"
        );
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
