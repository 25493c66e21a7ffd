//! The HTTP provider where incidents start: a live read against an endpoint that stops
//! answering ends at the read deadline naming the last retry, and each way a request can end
//! maps to what it takes to succeed. Scripted servers on loopback.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};

use super::*;
use crate::api::Secret;
use crate::api::client::redirect::RefusedRedirect;
use crate::api::retry::{Cause, Policy};
use crate::api::scripted::{Scripted, Step};

#[tokio::test]
async fn a_silent_endpoint_ends_the_read_at_its_deadline_naming_the_last_retry() {
    let server = Scripted::start(vec![Step::Silent]).await;
    let policy = Policy {
        timeout: Duration::from_millis(100),
        ..Policy::default()
    };
    let client = Client::with_policy(&server.url, Secret::new("t"), policy).unwrap();
    let limit = Duration::from_millis(400);
    let provider = HttpProvider::new(client).with_read_deadline(limit);
    let started = Instant::now();
    let e = provider.snapshot().await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5), "{e}");
    match &e {
        ApiError::ReadDeadline {
            limit: l,
            last_retry: Some(last),
        } => {
            assert_eq!(*l, limit);
            assert_eq!(last, "GET /v1/partner: no response within 0.1 s");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        e.to_string(),
        "the live state could not be read within 0.4 s (the last retry: GET /v1/partner: no response within 0.1 s); check that the endpoint answers, or allow longer: --timeout SECONDS for each request, --read-deadline SECONDS for the whole read"
    );
    assert!(provider.retries() >= 1);
    assert_eq!(provider.throttle_events(), 0);
    // Only the partner was asked for, until it answered.
    assert!(server.seen().iter().all(|r| r.target == "/v1/partner"));
}

#[tokio::test]
async fn throttled_answers_are_counted_for_the_apply() {
    let server = Scripted::start(vec![
        Step::with(429, &[("Retry-After", "0")], ""),
        Step::status(401, "no"),
    ])
    .await;
    let client = Client::new(&server.url, Secret::new("t")).unwrap();
    let provider = HttpProvider::new(client);
    let e = provider.snapshot().await.unwrap_err();
    assert_eq!(e.status(), Some(StatusCode::UNAUTHORIZED));
    assert_eq!(HttpProvider::remedy(&e), Remedy::FixAccess);
    assert_eq!((provider.throttle_events(), provider.retries()), (1, 1));
    assert_eq!(server.count(), 2);
    assert_eq!(provider.endpoint(), server.url);
}

#[test]
fn each_way_a_request_ends_has_its_remedy() {
    let status = |s: u16| ApiError::Status {
        method: Method::PUT,
        path: "/v1/accounts/a1".into(),
        status: StatusCode::from_u16(s).unwrap(),
        body: String::new(),
        hint: None,
    };
    let cases = [
        (status(400), Remedy::FixConfiguration),
        (status(422), Remedy::FixConfiguration),
        (status(401), Remedy::FixAccess),
        (status(403), Remedy::FixAccess),
        (status(409), Remedy::Rerun),
        (status(429), Remedy::Rerun),
        (status(503), Remedy::Rerun),
        (
            ApiError::Transport {
                method: Method::GET,
                path: "/v1/users".into(),
                cause: Cause::Timeout(Duration::from_secs(30)),
                attempts: 8,
            },
            Remedy::Rerun,
        ),
        (
            ApiError::Redirect {
                method: Method::GET,
                path: "/v1/users".into(),
                refused: RefusedRedirect::TooMany {
                    location: "https://x.example/".into(),
                },
            },
            Remedy::FixAccess,
        ),
    ];
    for (e, remedy) in cases {
        assert_eq!(HttpProvider::remedy(&e), remedy, "{e}");
    }
}
