//! The partner API client against scripted servers on loopback: what it sends, how it recovers
//! (or not) from each kind of failure, how long it waits (the engine's computed waits on a
//! virtual clock, never the wall clock), and how it ends.

use std::time::Duration;

use reqwest::Method;

use super::*;
use crate::api::retry::{Cause, Dialect, Engine, Policy};
use crate::api::scripted::{Scripted, Step};

#[test]
fn plain_http_only_on_loopback() {
    let t = || Secret::new("secret-token");
    assert!(Client::new("http://127.0.0.1:7878", t()).is_ok());
    assert!(Client::new("http://localhost:7878", t()).is_ok());
    assert!(Client::new("http://[::1]:7878", t()).is_ok());
    assert!(Client::new("https://api.example.com", t()).is_ok());
    let e = Client::new("http://api.example.com", t()).unwrap_err();
    assert!(matches!(e, ApiError::InsecureEndpoint { .. }), "{e}");
    assert!(Client::new("ftp://x", t()).is_err());
    assert!(Client::new("not a url", t()).is_err());
}

#[test]
fn token_is_never_in_debug_output() {
    let c = Client::new("http://127.0.0.1:1", Secret::new("s3cr3t-value")).unwrap();
    let shown = format!("{c:?}");
    assert!(!shown.contains("s3cr3t"), "{shown}");
    assert!(shown.contains("token: ***"), "{shown}");
}

/// A client of `url` on a virtual clock (backoffs of 100 ms, 200 ms, …), with `policy`.
fn client(url: &str, policy: Policy) -> Client {
    let engine = Engine::virtual_time(policy, Dialect::default(), 0.5);
    Client::with_engine(url, Secret::new("tok-3"), engine).unwrap()
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[tokio::test]
async fn a_failing_read_recovers_and_is_decoded() {
    let server = Scripted::start(vec![
        Step::status(503, "busy"),
        Step::Reset,
        Step::with(429, &[("Retry-After", "2")], ""),
        Step::with(
            200,
            &[("Content-Type", "application/json")],
            r#"{"id":"p1"}"#,
        ),
    ])
    .await;
    let c = client(&server.url, Policy::default());
    let v: serde_json::Value = c.get("/v1/partner").await.unwrap();
    assert_eq!(v, serde_json::json!({"id": "p1"}));
    assert_eq!(c.engine.waits(), [ms(100), ms(200), Duration::from_secs(2)]);
    let seen = server.seen();
    assert_eq!(seen.len(), 4);
    for r in &seen {
        assert_eq!(
            (r.method.as_str(), r.target.as_str()),
            ("GET", "/v1/partner")
        );
        assert_eq!(r.header("authorization"), Some("Bearer tok-3"));
    }
    let s = c.stats();
    assert_eq!(s.retries.load(std::sync::atomic::Ordering::Relaxed), 3);
    assert_eq!(s.throttled.load(std::sync::atomic::Ordering::Relaxed), 1);
}

#[tokio::test]
async fn a_post_is_sent_again_only_with_its_idempotency_key() {
    let body = serde_json::json!({"name": "Contoso"});
    // With a key: the same key and body each time.
    let server = Scripted::start(vec![Step::Reset, Step::status(201, r#"{"id":"a1"}"#)]).await;
    let c = client(&server.url, Policy::default());
    let req = Request::new(Method::POST, "/v1/accounts")
        .json(&body)
        .idempotency_key("op-1")
        .if_match("\"e1\"")
        .query("dry", 0);
    let v: Option<serde_json::Value> = c.send(req).await.unwrap();
    assert_eq!(v, Some(serde_json::json!({"id": "a1"})));
    let seen = server.seen();
    assert_eq!(seen.len(), 2);
    for r in &seen {
        assert_eq!(r.target, "/v1/accounts?dry=0");
        assert_eq!(r.header("idempotency-key"), Some("op-1"));
        assert_eq!(r.header("if-match"), Some("\"e1\""));
        assert_eq!(r.header("content-type"), Some("application/json"));
        assert_eq!(r.body, br#"{"name":"Contoso"}"#);
    }
    // Without: an unknown outcome is not sent again, and says so.
    let server = Scripted::start(vec![Step::Reset, Step::status(201, "{}")]).await;
    let c = client(&server.url, Policy::default());
    let req = Request::new(Method::POST, "/v1/accounts").json(&body);
    let e = c.send::<serde_json::Value>(req).await.unwrap_err();
    match &e {
        ApiError::Transport {
            method,
            path,
            cause: Cause::Connection(_),
            attempts: 1,
        } => assert_eq!((method, path.as_str()), (&Method::POST, "/v1/accounts")),
        other => panic!("{other:?}"),
    }
    assert!(
        e.to_string()
            .ends_with("; is the endpoint reachable, and is it the partner API?"),
        "{e}"
    );
    assert_eq!(server.count(), 1);
    // A server error is not sent again either: the outcome is unknown.
    let server = Scripted::start(vec![Step::status(500, "oops"), Step::status(201, "{}")]).await;
    let c = client(&server.url, Policy::default());
    let req = Request::new(Method::POST, "/v1/accounts").json(&body);
    let e = c.send::<serde_json::Value>(req).await.unwrap_err();
    assert_eq!(e.status(), Some(reqwest::StatusCode::INTERNAL_SERVER_ERROR));
    assert_eq!(server.count(), 1);
    assert!(c.engine.waits().is_empty());
}

#[tokio::test]
async fn a_conflict_is_reported_at_once_and_throttling_in_the_end() {
    let problem = r#"{"type":"about:blank","title":"Conflict","status":409,"detail":"changed meanwhile","code":"etag_mismatch"}"#;
    let server = Scripted::start(vec![Step::with(
        409,
        &[("Content-Type", "application/problem+json")],
        problem,
    )])
    .await;
    let c = client(&server.url, Policy::default());
    let e = c
        .get::<serde_json::Value>("/v1/accounts/a1")
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("etag_mismatch"));
    assert_eq!(
        e.problem().map(|p| p.detail.as_str()),
        Some("changed meanwhile")
    );
    assert_eq!(e.status(), Some(reqwest::StatusCode::CONFLICT));
    assert_eq!(server.count(), 1);
    // Throttled to the end: the last answer is the error.
    let server = Scripted::start(vec![Step::status(429, "slow down")]).await;
    let c = client(
        &server.url,
        Policy {
            attempts: 1,
            throttled: 2,
            ..Policy::default()
        },
    );
    let e = c.get::<serde_json::Value>("/v1/partner").await.unwrap_err();
    assert_eq!(
        e.to_string(),
        "GET /v1/partner failed: HTTP 429 Too Many Requests: slow down"
    );
    assert_eq!(server.count(), 3);
    assert_eq!(c.engine.waits(), [Duration::from_secs(1); 2]);
}

#[tokio::test]
async fn a_silent_endpoint_ends_in_a_timeout_naming_the_flag() {
    let server = Scripted::start(vec![Step::Silent]).await;
    let c = client(
        &server.url,
        Policy {
            timeout: ms(100),
            attempts: 2,
            ..Policy::default()
        },
    );
    let e = c.get::<serde_json::Value>("/v1/partner").await.unwrap_err();
    assert_eq!(
        e.to_string(),
        "GET /v1/partner: no response within 0.1 s, after 2 attempts; check that the endpoint answers, or allow each request longer with --timeout SECONDS"
    );
    assert_eq!(
        c.stats().last_retry().as_deref(),
        Some("GET /v1/partner: no response within 0.1 s")
    );
}

#[tokio::test]
async fn lists_follow_their_cursors_through_retries() {
    let server = Scripted::start(vec![
        Step::status(200, r#"{"items":[1,2],"next_page_token":"p2"}"#),
        Step::status(502, ""),
        Step::status(200, r#"{"items":[3],"next_page_token":""}"#),
    ])
    .await;
    let c = client(&server.url, Policy::default());
    let all: Vec<u32> = c
        .list_all("/v1/users", &[("account_id", "a1".to_string())])
        .await
        .unwrap();
    assert_eq!(all, [1, 2, 3]);
    let targets: Vec<String> = server.seen().into_iter().map(|r| r.target).collect();
    assert_eq!(
        targets,
        [
            "/v1/users?page_size=1000&account_id=a1",
            "/v1/users?page_size=1000&account_id=a1&page_token=p2",
            "/v1/users?page_size=1000&account_id=a1&page_token=p2",
        ]
    );
    // An empty body where a value was expected.
    let server = Scripted::start(vec![Step::status(200, "")]).await;
    let c = client(&server.url, Policy::default());
    let e = c.get::<serde_json::Value>("/v1/partner").await.unwrap_err();
    assert!(matches!(e, ApiError::Decode { .. }), "{e}");
    let e = c.list_all::<u32>("/v1/users", &[]).await.unwrap_err();
    assert!(matches!(e, ApiError::Decode { .. }), "{e}");
}

#[tokio::test]
async fn an_empty_success_is_no_value() {
    let server = Scripted::start(vec![Step::status(200, ""), Step::status(204, "")]).await;
    let c = client(&server.url, Policy::default());
    for _ in 0..2 {
        let v: Option<serde_json::Value> = c
            .send(Request::new(Method::DELETE, "/v1/accounts/a1"))
            .await
            .unwrap();
        assert_eq!(v, None);
    }
    // A body that is no JSON is the contract broken.
    let server = Scripted::start(vec![Step::status(200, "<html>")]).await;
    let c = client(&server.url, Policy::default());
    let e = c.get::<serde_json::Value>("/v1/partner").await.unwrap_err();
    assert!(
        e.to_string()
            .starts_with("GET /v1/partner: response does not match the API contract: "),
        "{e}"
    );
    assert_eq!(
        (e.status(), e.code(), e.problem().is_none()),
        (None, None, true)
    );
}

#[test]
fn a_problem_names_each_field_it_refuses() {
    let problem: crate::wire::partner::Problem = serde_json::from_value(serde_json::json!({
        "type": "about:blank", "title": "Unprocessable Entity", "status": 422,
        "detail": "invalid fields", "code": "validation_failed",
        "errors": [
            {"pointer": "/name", "message": "too long"},
            {"pointer": "", "message": "missing contact"},
        ],
    }))
    .unwrap();
    let e = ApiError::Problem {
        method: Method::POST,
        path: "/v1/accounts".into(),
        problem: Box::new(problem),
        hint: None,
    };
    assert_eq!(
        e.to_string(),
        "POST /v1/accounts failed: 422 Unprocessable Entity: invalid fields\n  /name: too long\n  /: missing contact"
    );
    assert_eq!(e.status(), Some(reqwest::StatusCode::UNPROCESSABLE_ENTITY));
}
