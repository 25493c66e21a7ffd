//! The Nexudus client against scripted servers on loopback: the sign-in (its form, its
//! retries), the token renewed once on a 401, the dialect's throttling (an empty 409, exact
//! milliseconds, a wait beyond patience as a spent budget), what is sent again and what is
//! not, and what each answer becomes. Waits are the engine's, on a virtual clock.

use std::time::Duration;

use super::*;
use crate::api::retry::Cause;
use crate::api::scripted::{Scripted, Step};
use crate::wire::nexudus::{Limits, Window};

fn answer(status: u16, headers: &[(&'static str, &'static str)], body: &str) -> Answer {
    let mut h = reqwest::header::HeaderMap::new();
    for (k, v) in headers {
        h.insert(*k, v.parse().unwrap());
    }
    Answer {
        status: StatusCode::from_u16(status).unwrap(),
        headers: h,
        body: body.to_string().into(),
    }
}

#[test]
fn only_a_refused_login_blames_the_credentials() {
    let invalid = r#"{"error":"invalid_grant","error_description":"The user name or password is incorrect."}"#;
    for (status, body) in [(400, invalid), (401, "")] {
        let e = sign_in_error(&answer(status, &[], body));
        assert!(matches!(e, NexudusError::Login(_)), "{status}: {e:?}");
        assert!(e.to_string().contains("NEXUDUS_PASSWORD"), "{e}");
        assert_eq!(e.remedy(), crate::provider::Remedy::FixAccess);
    }
    let e = sign_in_error(&answer(400, &[], invalid));
    assert!(
        e.to_string().starts_with(
            "the Nexudus API refused the login: The user name or password is incorrect.;"
        ),
        "{e}"
    );
    let cases = [
        (
            400,
            r#"{"error":"unsupported_grant_type","error_description":"send the grant form-encoded"}"#,
            "HTTP 400: unsupported_grant_type: send the grant form-encoded; the endpoint does not answer as the Nexudus API does; check that PARTNERCTL_ENDPOINT",
            crate::provider::Remedy::FixAccess,
        ),
        (
            404,
            "<html>Not Found</html>",
            "HTTP 404: <html>Not Found</html>; the endpoint does not answer as the Nexudus API does; check that PARTNERCTL_ENDPOINT",
            crate::provider::Remedy::FixAccess,
        ),
        (
            503,
            "",
            "HTTP 503: ; the API is failing or busy, the login was not refused; run again in a while",
            crate::provider::Remedy::Rerun,
        ),
        (
            409,
            "",
            "HTTP 409: ; the API is failing or busy, the login was not refused; run again in a while",
            crate::provider::Remedy::Rerun,
        ),
    ];
    for (status, body, said, remedy) in cases {
        let e = sign_in_error(&answer(status, &[], body));
        let shown = e.to_string();
        assert!(
            shown.starts_with("signing in failed: POST /api/token answered "),
            "{shown}"
        );
        assert!(shown.contains(said), "{shown}");
        assert!(!shown.contains("NEXUDUS_PASSWORD"), "{shown}");
        assert_eq!(e.remedy(), remedy, "{status}");
    }
}

#[test]
fn write_answers_are_refusals_except_server_errors() {
    use crate::provider::Remedy;
    let call = Call {
        method: Method::POST,
        path: "/api/sys/users",
        query: &[],
        body: Body::None,
        write: true,
        repeatable: false,
    };
    let result = |meant: u16, ok: bool, message: &str| {
        serde_json::json!({
            "Status": meant, "Message": message, "Value": null,
            "Errors": null, "WasSuccessful": ok,
        })
        .to_string()
    };
    let ok = result(200, true, "User was successfully created.");
    assert!(checked(&call, &answer(200, &[], &ok)).is_ok());
    // (HTTP status, meant, message) → (the error, its remedy).
    let cases = [
        (
            409,
            409,
            "changed by someone else",
            "was refused (HTTP 409, WasSuccessful false): changed by someone else",
            Remedy::Rerun,
        ),
        (
            400,
            400,
            "Email: not an email",
            "was refused (HTTP 400, WasSuccessful false): Email: not an email",
            Remedy::FixConfiguration,
        ),
        (
            200,
            422,
            "too long",
            "was refused (HTTP 200, WasSuccessful false): too long",
            Remedy::FixConfiguration,
        ),
        (
            200,
            403,
            "not allowed",
            "was refused (HTTP 200, WasSuccessful false): not allowed",
            Remedy::FixAccess,
        ),
        (
            500,
            500,
            "injected failure (after the write)",
            "failed: HTTP 500: injected failure (after the write); the API failed (a write may or may not have taken effect); run again later",
            Remedy::Rerun,
        ),
        (
            503,
            200,
            "down",
            "failed: HTTP 503: down; the API failed",
            Remedy::Rerun,
        ),
    ];
    for (status, meant, message, shown, remedy) in cases {
        let e = checked(&call, &answer(status, &[], &result(meant, false, message))).unwrap_err();
        assert!(e.to_string().starts_with("POST /api/sys/users "), "{e}");
        assert!(e.to_string().contains(shown), "{e}");
        assert_eq!(e.remedy(), remedy, "{e}");
    }
    // A server error is an unknown outcome, never a refusal.
    assert!(matches!(
        checked(&call, &answer(500, &[], &result(500, false, "x"))),
        Err(NexudusError::Status {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            ..
        })
    ));
    // A body that is no WriteResult: the status and the start of the body.
    let e = checked(&call, &answer(404, &[], "<html>no</html>")).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("POST /api/sys/users failed: HTTP 404: <html>no</html>; "),
        "{e}"
    );
}

#[test]
fn the_authorization_header_is_sensitive() {
    let v = authorization(&Secret::new("s3cr3t")).unwrap();
    assert!(v.is_sensitive());
    assert!(!format!("{v:?}").contains("s3cr3t"), "{v:?}");
    let e = authorization(&Secret::new("bad\ntoken")).unwrap_err();
    assert!(e.to_string().contains("PARTNERCTL_TOKEN"), "{e}");
}

#[test]
fn credentials_never_show() {
    let c = Credentials::Login {
        username: "a@x.example".into(),
        password: Secret::new("hunter2"),
        totp: Some(Secret::new("123456")),
    };
    let shown = format!("{c:?}");
    assert!(
        !shown.contains("hunter2") && !shown.contains("123456"),
        "{shown}"
    );
    assert!(shown.contains("a@x.example"), "{shown}");
    let shown = format!("{:?}", Credentials::Token(Secret::new("secret")));
    assert_eq!(shown, "Token(***)");
}

#[test]
fn the_policy_runs_at_the_apis_speed_and_gives_up_beyond_patience() {
    let settings = Settings {
        policy: Policy {
            attempts: 3,
            ..Policy::default()
        },
        time_scale: 100.0,
    };
    let pacer = Pacer::new(100.0);
    let p = policy(&settings, &pacer);
    assert_eq!(p.attempts, 3);
    assert_eq!(
        (p.base, p.max),
        (Duration::from_millis(1), Duration::from_millis(100))
    );
    assert_eq!(p.max_retry_after, Duration::from_secs(3));
    assert_eq!(p.long_waits, LongWaits::GiveUp);
}

/// Limits no test meets: pacing lets every request go at once.
const ROOMY: Limits = Limits {
    all: [
        Window {
            requests: 10_000,
            millis: 100,
        },
        Window {
            requests: 10_000,
            millis: 60_000,
        },
        Window {
            requests: 10_000,
            millis: 3_600_000,
        },
    ],
    writes: [
        Window {
            requests: 10_000,
            millis: 60_000,
        },
        Window {
            requests: 10_000,
            millis: 86_400_000,
        },
    ],
};

const PASSWORD: &str = "pa55-w0rd";

fn login() -> Credentials {
    Credentials::Login {
        username: "ops@acme.example".into(),
        password: Secret::new(PASSWORD),
        totp: Some(Secret::new("123456")),
    }
}

/// A client of `url` on a virtual clock (backoffs of 100 ms, 200 ms, …; patience 300 s),
/// with `attempts`.
fn client(url: &str, credentials: Credentials, attempts: u32) -> NexudusClient {
    let settings = Settings {
        policy: Policy {
            attempts,
            ..Policy::default()
        },
        time_scale: 1.0,
    };
    let pacer = Pacer::with_limits(&ROOMY, 1.0);
    let engine = Engine::virtual_time(policy(&settings, &pacer), DIALECT, 0.5);
    NexudusClient::with_engine(url, credentials, pacer, engine).unwrap()
}

fn token(t: &str) -> Step {
    let body = serde_json::json!({"access_token": t, "token_type": "bearer", "expires_in": 600});
    Step::status(200, &body.to_string())
}

fn ok(id: i64) -> Step {
    let body = serde_json::json!({
        "Status": 200, "Message": "done", "Value": {"Id": id},
        "Errors": null, "WasSuccessful": true,
    });
    Step::status(200, &body.to_string())
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[tokio::test]
async fn a_throttled_or_failing_sign_in_is_waited_out_and_retried() {
    let server = Scripted::start(vec![
        Step::with(409, &[("Retry-After", "0"), ("X-Retry-After-Ms", "5")], ""),
        Step::status(503, "busy"),
        token("t-1"),
        Step::status(200, r#"{"Records":[]}"#),
    ])
    .await;
    let c = client(&server.url, login(), 8);
    let v: serde_json::Value = c
        .get("/api/sys/users", &[("page", "1".into())])
        .await
        .unwrap();
    assert_eq!(v, serde_json::json!({"Records": []}));
    // 5 ms as asked (exactly), then the backoff after the second attempt.
    assert_eq!(c.engine.waits(), [ms(5), ms(200)]);
    let seen = server.seen();
    assert_eq!(seen.len(), 4);
    for grant in &seen[..3] {
        assert_eq!(
            (grant.method.as_str(), grant.target.as_str()),
            ("POST", "/api/token")
        );
        assert_eq!(
            String::from_utf8_lossy(&grant.body),
            format!(
                "grant_type=password&username=ops%40acme.example&password={PASSWORD}&totp=123456"
            )
        );
        assert_eq!(grant.header("authorization"), None);
        assert_eq!(
            grant.header("content-type"),
            Some("application/x-www-form-urlencoded")
        );
    }
    assert_eq!(seen[3].target, "/api/sys/users?page=1");
    assert_eq!(seen[3].header("authorization"), Some("Bearer t-1"));
    let s = c.stats();
    use std::sync::atomic::Ordering::Relaxed;
    assert_eq!(
        (
            s.requests.load(Relaxed),
            s.retries.load(Relaxed),
            s.throttled.load(Relaxed)
        ),
        (4, 2, 1)
    );
}

#[tokio::test]
async fn a_refused_token_is_renewed_once() {
    let server = Scripted::start(vec![
        token("t-1"),
        Step::status(401, ""),
        token("t-2"),
        Step::status(200, "[]"),
    ])
    .await;
    let c = client(&server.url, login(), 8);
    let v: serde_json::Value = c.get("/api/sys/countries", &[]).await.unwrap();
    assert_eq!(v, serde_json::json!([]));
    let auth: Vec<Option<String>> = server
        .seen()
        .iter()
        .map(|r| r.header("authorization").map(str::to_string))
        .collect();
    assert_eq!(
        auth,
        [
            None,
            Some("Bearer t-1".into()),
            None,
            Some("Bearer t-2".into())
        ]
    );
    // Refused again: the login is the problem. A token given is never renewed.
    let server = Scripted::start(vec![
        token("t-1"),
        Step::status(401, ""),
        token("t-2"),
        Step::status(401, ""),
    ])
    .await;
    let c = client(&server.url, login(), 8);
    let e = c
        .get::<serde_json::Value>("/api/sys/countries", &[])
        .await
        .unwrap_err();
    assert!(
        e.to_string().starts_with(
            "the Nexudus API refused the login: GET /api/sys/countries answered HTTP 401;"
        ),
        "{e}"
    );
    assert_eq!(server.count(), 4);
    let server = Scripted::start(vec![Step::status(401, "")]).await;
    let c = client(&server.url, Credentials::Token(Secret::new("given")), 8);
    let e = c
        .get::<serde_json::Value>("/api/sys/countries", &[])
        .await
        .unwrap_err();
    assert!(matches!(e, NexudusError::Login(_)), "{e:?}");
    assert_eq!(server.count(), 1);
    assert_eq!(
        server.seen()[0].header("authorization"),
        Some("Bearer given")
    );
}

#[tokio::test]
async fn a_409_with_a_body_is_a_conflict_not_a_throttle() {
    let conflict = serde_json::json!({
        "Status": 409, "Message": "changed by someone else", "Value": null,
        "Errors": null, "WasSuccessful": false,
    });
    let server = Scripted::start(vec![Step::status(409, &conflict.to_string()), ok(1)]).await;
    let c = client(&server.url, Credentials::Token(Secret::new("t")), 8);
    let e = c
        .write(
            Method::PUT,
            "/api/sys/users",
            Some(&serde_json::json!({"Id": 1})),
            true,
        )
        .await
        .unwrap_err();
    assert!(
        e.to_string()
            .starts_with("PUT /api/sys/users was refused (HTTP 409, WasSuccessful false): changed by someone else"),
        "{e}"
    );
    assert_eq!(server.count(), 1);
    assert!(c.engine.waits().is_empty());
    // An empty one is the throttle's: waited out (a second, when it does not say), sent again.
    let server = Scripted::start(vec![Step::status(409, ""), ok(1)]).await;
    let c = client(&server.url, Credentials::Token(Secret::new("t")), 8);
    let r = c
        .write(
            Method::PUT,
            "/api/sys/users",
            Some(&serde_json::json!({"Id": 1})),
            true,
        )
        .await
        .unwrap();
    assert!(r.was_successful);
    assert_eq!(c.engine.waits(), [Duration::from_secs(1)]);
    assert_eq!(server.seen()[1].body, br#"{"Id":1}"#);
}

#[tokio::test]
async fn a_wait_beyond_patience_is_a_spent_budget() {
    for (name, value, renews_in) in [
        ("Retry-After", "301", Duration::from_secs(301)),
        ("Retry-After", "1e20", Duration::from_secs(86_400)),
        ("X-Retry-After-Ms", "1e300", Duration::from_secs(86_400)),
    ] {
        let server = Scripted::start(vec![Step::with(409, &[(name, value)], ""), ok(1)]).await;
        let c = client(&server.url, Credentials::Token(Secret::new("t")), 8);
        let e = c
            .write(
                Method::POST,
                "/api/sys/users",
                Some(&serde_json::json!({})),
                false,
            )
            .await
            .unwrap_err();
        match e {
            NexudusError::BudgetSpent { renews_in: r } => assert_eq!(r, renews_in, "{value}"),
            other => panic!("{value}: {other:?}"),
        }
        assert_eq!(server.count(), 1);
        assert!(c.engine.waits().is_empty());
    }
    // Unusable values are the default second, and a date past no wait.
    for value in ["-5", "NaN", "Wed, 21 Oct 2015 07:28:00 GMT"] {
        let server =
            Scripted::start(vec![Step::with(429, &[("Retry-After", value)], ""), ok(1)]).await;
        let c = client(&server.url, Credentials::Token(Secret::new("t")), 8);
        c.write(Method::DELETE, "/api/sys/users/1", None::<&()>, true)
            .await
            .unwrap();
        let waited = if value.contains("GMT") {
            vec![]
        } else {
            vec![Duration::from_secs(1)]
        };
        assert_eq!(c.engine.waits(), waited, "{value}");
    }
}

#[tokio::test]
async fn an_unknown_outcome_is_sent_again_only_when_repeatable() {
    let body = serde_json::json!({"Email": "a@x.example"});
    // A complete-record PUT: again after a reset and a server error.
    let server = Scripted::start(vec![Step::Reset, Step::status(502, ""), ok(7)]).await;
    let c = client(&server.url, Credentials::Token(Secret::new("t")), 8);
    let r = c
        .write(Method::PUT, "/api/sys/users", Some(&body), true)
        .await
        .unwrap();
    assert_eq!(r.value.map(|v| v.id), Some(7));
    assert_eq!(c.engine.waits(), [ms(100), ms(200)]);
    // A POST: the reset ends it (the caller looks the record up), saying so.
    let server = Scripted::start(vec![Step::Reset, ok(7)]).await;
    let c = client(&server.url, Credentials::Token(Secret::new("t")), 8);
    let e = c
        .write(Method::POST, "/api/sys/users", Some(&body), false)
        .await
        .unwrap_err();
    match &e {
        NexudusError::Transport {
            method,
            path,
            cause: Cause::Connection(_),
            attempts: 1,
        } => assert_eq!((method, path.as_str()), (&Method::POST, "/api/sys/users")),
        other => panic!("{other:?}"),
    }
    assert!(
        e.to_string().ends_with(
            ", after 1 attempt(s); check that PARTNERCTL_ENDPOINT is reachable, and run again"
        ),
        "{e}"
    );
    assert_eq!(e.remedy(), crate::provider::Remedy::Rerun);
    assert_eq!(server.count(), 1);
    // A server error to a POST: handed back as the unknown outcome it is.
    let server = Scripted::start(vec![Step::status(500, "oops"), ok(7)]).await;
    let c = client(&server.url, Credentials::Token(Secret::new("t")), 8);
    let e = c
        .write(Method::POST, "/api/sys/users", Some(&body), false)
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            NexudusError::Status {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(server.count(), 1);
}

#[tokio::test]
async fn a_read_that_never_gets_an_answer_gives_up_after_its_attempts() {
    let server = Scripted::start(vec![Step::Reset]).await;
    let c = client(&server.url, Credentials::Token(Secret::new("t")), 3);
    let e = c
        .get::<serde_json::Value>("/api/sys/users", &[])
        .await
        .unwrap_err();
    assert!(
        matches!(e, NexudusError::Transport { attempts: 3, .. }),
        "{e:?}"
    );
    assert_eq!(server.count(), 3);
    assert_eq!(c.engine.waits(), [ms(100), ms(200)]);
    // A 404 is handed back at once.
    let server = Scripted::start(vec![Step::status(404, "no such login")]).await;
    let c = client(&server.url, Credentials::Token(Secret::new("t")), 3);
    let e = c
        .get::<serde_json::Value>("/api/sys/users/9", &[])
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "GET /api/sys/users/9 failed: HTTP 404: no such login; run again if the record was removed meanwhile, or check that PARTNERCTL_ENDPOINT is the Nexudus API"
    );
    assert_eq!(server.count(), 1);
}

#[test]
fn plain_http_only_on_loopback() {
    let settings = Settings {
        policy: Policy::default(),
        time_scale: 1.0,
    };
    let new = |url: &str| NexudusClient::new(url, Credentials::Token(Secret::new("t")), settings);
    let c = new("https://spaces.nexudus.com").unwrap();
    assert_eq!(c.endpoint(), "https://spaces.nexudus.com");
    assert_eq!(
        new("https://x.example/base").unwrap().endpoint(),
        "https://x.example/base"
    );
    assert_eq!(
        new("http://127.0.0.1:9/").unwrap().endpoint(),
        "http://127.0.0.1:9"
    );
    assert!(new("http://localhost:9").is_ok());
    let e = new("http://spaces.nexudus.com").unwrap_err();
    assert_eq!(
        e.to_string(),
        "refusing plain http:// to `spaces.nexudus.com`: the credentials would cross the network unencrypted; use https://"
    );
    assert!(matches!(new("not a url"), Err(NexudusError::Setup(_))));
}

#[tokio::test]
async fn a_refused_sign_in_blames_the_login_and_sends_nothing_else() {
    let refused = r#"{"error":"invalid_grant","error_description":"The user name or password is incorrect."}"#;
    let server = Scripted::start(vec![Step::status(400, refused)]).await;
    let c = client(&server.url, login(), 8);
    let e = c
        .get::<serde_json::Value>("/api/sys/users", &[])
        .await
        .unwrap_err();
    assert!(
        e.to_string().starts_with(
            "the Nexudus API refused the login: The user name or password is incorrect.;"
        ),
        "{e}"
    );
    assert_eq!(server.count(), 1);
    // A sign-in that fails otherwise is retried like a read, then reported as such.
    let server = Scripted::start(vec![Step::status(503, "down")]).await;
    let c = client(&server.url, login(), 2);
    let e = c
        .get::<serde_json::Value>("/api/sys/users", &[])
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            NexudusError::SignIn {
                status: StatusCode::SERVICE_UNAVAILABLE,
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(server.count(), 2);
    // A granted token that is no token.
    let server = Scripted::start(vec![Step::status(200, "{}")]).await;
    let c = client(&server.url, login(), 2);
    let e = c
        .get::<serde_json::Value>("/api/sys/users", &[])
        .await
        .unwrap_err();
    assert!(
        e.to_string()
            .starts_with("POST /api/token: unexpected answer: "),
        "{e}"
    );
}
