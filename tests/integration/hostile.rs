//! Endpoints that answer what an honest API answers only by mistake, from scripted servers on
//! loopback: a sign-in that is throttled or fails for another reason than the login is waited
//! out, retried, and reported for what it is; a redirect to another origin is not followed,
//! so the password, the token and the `Authorization` header never reach it.

use serde_json::json;

use crate::support::acme;
use crate::support::cli::{Cmd, partnerctl};
use crate::support::fake::{Fake, Received, Reply};

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
    run.stderr_contains("POST /api/token: throttled (HTTP 409 Conflict, Retry-After 0.01 s); retrying in 0.01 s (attempt 2 of 9)");
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

/// The login may be given as API options instead of the environment: it signs in the same
/// way. No credential's value shows in `--help`, whichever way it came.
#[test]
fn the_login_given_as_options_signs_in_and_help_shows_no_credential() {
    let fake = Fake::start(|_, _| {
        Reply::json(
            400,
            json!({"error": "invalid_grant", "error_description": "The user name or password is incorrect."}),
        )
    });
    let dir = partner_only();
    let run = partnerctl()
        .arg("plan")
        .arg(dir.path())
        .args(["--provider", "nexudus", "--endpoint", &fake.url])
        .args(["--nexudus-username", "ops@acme.example"])
        .args(["--nexudus-password", PASSWORD])
        .run()
        .code(1);
    run.stderr_contains("the Nexudus API refused the login");
    assert!(!run.stderr.contains(PASSWORD), "{}", run.stderr);
    let received = fake.received();
    assert_eq!(received.len(), 1, "{received:?}");
    assert_eq!(
        String::from_utf8_lossy(&received[0].body),
        format!("grant_type=password&username=ops%40acme.example&password={PASSWORD}")
    );
    let help = partnerctl()
        .args(["plan", "--help"])
        .env("NEXUDUS_USERNAME", "ops@acme.example")
        .env("NEXUDUS_PASSWORD", PASSWORD)
        .env("NEXUDUS_TOTP", "314159")
        .env("PARTNERCTL_TOKEN", "tok-never-shown")
        .run()
        .success();
    for secret in [PASSWORD, "314159", "tok-never-shown", "ops@acme.example"] {
        assert!(!help.stdout.contains(secret), "{secret}:\n{}", help.stdout);
    }
    help.stdout_contains("[env: NEXUDUS_PASSWORD]");
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

/// A server that records whatever reaches it and answers as a token endpoint would (so a
/// client that followed a redirect there would carry on).
fn capture() -> Fake {
    Fake::start(|_, _| {
        Reply::json(
            200,
            json!({"access_token": "captured", "token_type": "bearer", "expires_in": 600}),
        )
    })
}

/// A server answering every request with `307 Location: {to}{its target}`.
fn redirecting_to(to: &str) -> Fake {
    let to = to.to_string();
    Fake::start(move |r: &Received, _| {
        Reply::status(307).header("Location", &format!("{to}{}", r.target))
    })
}

/// Asserts that nothing reached `capture`, a secret least of all.
#[track_caller]
fn nothing_reached(capture: &Fake, secrets: &[&str]) {
    let received = capture.received();
    for r in &received {
        for secret in secrets {
            assert!(!r.text().contains(secret), "{secret} leaked:\n{}", r.text());
        }
        assert!(
            !r.headers.iter().any(|(k, _)| k == "authorization"),
            "an Authorization header leaked:\n{}",
            r.text()
        );
    }
    assert!(received.is_empty(), "{received:?}");
}

/// The Nexudus sign-in answered with a redirect to another port: the form with the password
/// is not sent there, and the error names where it pointed.
#[test]
fn the_nexudus_client_follows_no_redirect_to_another_origin() {
    let elsewhere = capture();
    let front = redirecting_to(&elsewhere.url);
    let dir = partner_only();
    let run = nexudus_plan(&front.url, &dir).run().code(1);
    run.stderr_contains(&format!(
        "POST /api/token: the answer redirects to {}/api/token, another origin than {}; it was not followed",
        elsewhere.url, front.url
    ));
    run.stderr_contains(
        "if the API has moved there, point --endpoint (PARTNERCTL_ENDPOINT) at its new URL",
    );
    nothing_reached(&elsewhere, &[PASSWORD]);
    // Not retried: the same answer would come again.
    assert_eq!(front.received().len(), 1, "{:?}", front.received());
}

/// The partner API answered with a redirect to another port: the token is not sent there.
#[test]
fn the_partner_api_client_follows_no_redirect_to_another_origin() {
    const TOKEN: &str = "tok-never-sent-elsewhere";
    let elsewhere = capture();
    let front = redirecting_to(&elsewhere.url);
    let run = partnerctl()
        .args(["plan", &acme()])
        .env("PARTNERCTL_ENDPOINT", &front.url)
        .env("PARTNERCTL_TOKEN", TOKEN)
        .run()
        .code(1);
    run.stderr_contains(&format!(
        "GET /v1/partner: the answer redirects to {}/v1/partner, another origin than {}; it was not followed",
        elsewhere.url, front.url
    ));
    nothing_reached(&elsewhere, &[TOKEN]);
    assert_eq!(front.received().len(), 1, "{:?}", front.received());
}

/// A redirect within the endpoint's origin is followed, with the token.
#[test]
fn a_redirect_within_the_origin_is_followed() {
    const TOKEN: &str = "tok-for-this-origin";
    let front = Fake::start(|r: &Received, _| {
        if r.target.starts_with("/moved/") {
            Reply::status(401).body("no")
        } else {
            Reply::status(308).header("Location", &format!("/moved{}", r.target))
        }
    });
    partnerctl()
        .args(["plan", &acme()])
        .env("PARTNERCTL_ENDPOINT", &front.url)
        .env("PARTNERCTL_TOKEN", TOKEN)
        .run()
        .code(1)
        .stderr_contains("GET /v1/partner failed: HTTP 401 Unauthorized: no");
    let received = front.received();
    assert_eq!(received.len(), 2, "{received:?}");
    assert_eq!(received[1].target, "/moved/v1/partner");
    let auth = format!("Bearer {TOKEN}");
    assert!(
        received[1]
            .headers
            .iter()
            .any(|(k, v)| k == "authorization" && *v == auth),
        "{received:?}"
    );
}

/// Waits no clock can hold (`Retry-After: 1e20`, `X-Retry-After-Ms: 1e300`) are a clamped wait
/// and a clear end, never a panic: the partner API client gives up at the read deadline, the
/// Nexudus client takes a wait beyond its patience for a spent budget.
#[test]
fn absurd_waits_end_the_run_cleanly() {
    let throttled = Fake::start(|_, _| {
        Reply::status(429)
            .header("Retry-After", "1e20")
            .header("X-Retry-After-Ms", "1e300")
    });
    let run = partnerctl()
        .args(["plan", &acme(), "--read-deadline", "1"])
        .env("PARTNERCTL_ENDPOINT", &throttled.url)
        .env("PARTNERCTL_TOKEN", "t0ken")
        .run()
        .code(1);
    run.stderr_contains("throttled (HTTP 429");
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    let dir = partner_only();
    let run = nexudus_plan(&throttled.url, &dir).run().code(1);
    run.stderr_contains("daily write budget is spent");
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}

/// Numbers from the command line and the environment are checked against their range: a
/// time scale that would overflow the rate windows' clocks is refused with what is allowed.
#[test]
fn out_of_range_numbers_are_refused_not_a_panic() {
    let dir = partner_only();
    let run = nexudus_plan("http://127.0.0.1:9", &dir)
        .env("PARTNERCTL_NEXUDUS_TIME_SCALE", "1e-300")
        .run()
        .code(1);
    run.stderr_contains("\"1e-300\" is not a time scale between 0.001 and 1000000");
    partnerctl()
        .args([
            "sandbox",
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--time-scale",
            "1e-300",
        ])
        .run()
        .code(1)
        .stderr_contains("is not a time scale between 0.001 and 1000000");
    partnerctl()
        .args(["plan", &acme(), "--timeout", "1e30"])
        .run()
        .code(1)
        .stderr_contains("is not a number of seconds greater than 0");
}
