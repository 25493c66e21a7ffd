//! Endpoints that answer what an honest API answers only by mistake, from scripted servers on
//! loopback: a sign-in that is throttled or fails for another reason than the login is waited
//! out, retried, and reported for what it is.

use serde_json::json;

use crate::support::cli::{Cmd, partnerctl};
use crate::support::fake::{Fake, Reply};

const PASSWORD: &str = "pa55-w0rd-never-sent-elsewhere";

/// A configuration directory with just the partner.
fn partner_only() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("partner.yaml"),
        "version: 1\npartner:\n  name: Acme Partners\n",
    )
    .unwrap();
    dir
}

/// `partnerctl plan DIR` as a Nexudus login against `url`.
fn nexudus_plan(url: &str, dir: &tempfile::TempDir) -> Cmd {
    partnerctl()
        .arg("plan")
        .arg(dir.path())
        .env("PARTNERCTL_PROVIDER", "nexudus")
        .env("PARTNERCTL_ENDPOINT", url)
        .env("NEXUDUS_USERNAME", "ops@acme.example")
        .env("NEXUDUS_PASSWORD", PASSWORD)
        .env("PARTNERCTL_NEXUDUS_TIME_SCALE", "1000")
}

/// A throttled sign-in is waited out and a failing one retried, each announced like any
/// request's; only the answer that refuses the login blames the credentials.
#[test]
fn a_throttled_or_failing_sign_in_is_retried_before_the_login_is_refused() {
    let fake = Fake::start(|_, n| match n {
        0 => Reply::status(409)
            .header("Retry-After", "0")
            .header("X-Retry-After-Ms", "5"),
        1 => Reply::status(503).body("busy"),
        _ => Reply::json(
            400,
            json!({"error": "invalid_grant", "error_description": "The user name or password is incorrect."}),
        ),
    });
    let dir = partner_only();
    let run = nexudus_plan(&fake.url, &dir).run().code(1);
    run.stderr_contains("POST /api/token: throttled (HTTP 409, Retry-After 0.0 s); retrying in");
    run.stderr_contains("POST /api/token: HTTP 503 Service Unavailable; retrying in");
    run.stderr_contains(
        "the Nexudus API refused the login: The user name or password is incorrect.; check NEXUDUS_USERNAME and NEXUDUS_PASSWORD",
    );
    let received = fake.received();
    assert_eq!(received.len(), 3, "{received:?}");
    for r in &received {
        assert_eq!(
            (r.method.as_str(), r.target.as_str()),
            ("POST", "/api/token")
        );
        assert!(
            String::from_utf8_lossy(&r.body).starts_with("grant_type=password&"),
            "{r:?}"
        );
        assert!(
            !r.headers.iter().any(|(k, _)| k == "authorization"),
            "{r:?}"
        );
    }
}

/// An endpoint that is not the Nexudus API (a 404 to the token grant) is named as the
/// problem, not the credentials.
#[test]
fn a_sign_in_that_fails_for_another_reason_does_not_blame_the_credentials() {
    let fake = Fake::start(|_, _| Reply::status(404).body("Not Found"));
    let dir = partner_only();
    let run = nexudus_plan(&fake.url, &dir).run().code(1);
    run.stderr_contains("signing in failed: POST /api/token answered HTTP 404: Not Found; the endpoint does not answer as the Nexudus API does; check that PARTNERCTL_ENDPOINT is its base URL");
    assert!(!run.stderr.contains("NEXUDUS_PASSWORD"), "{}", run.stderr);
    assert!(!run.stderr.contains(PASSWORD), "{}", run.stderr);
}
