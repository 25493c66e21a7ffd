//! The engine against scripted servers on loopback: which answers are sent again, after which
//! wait (the engine's own, on a virtual clock: no test waits for real), how each request ends,
//! and what each retry says.

use std::io::Write;
use std::sync::{Arc, Mutex};

use super::*;
use crate::api::scripted::{Scripted, Step};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// An engine on a virtual clock, its jitter half the ceiling: backoffs of 100 ms, 200 ms, …
fn engine(policy: Policy) -> Engine {
    Engine::virtual_time(policy, Dialect::default(), 0.5)
}

/// The Nexudus-like dialect: exact milliseconds, empty 409s throttled.
const NEXUDUS_LIKE: Dialect = Dialect {
    millis_header: Some("x-retry-after-ms"),
    empty_conflict_is_throttled: true,
};

/// An error of the client's own, to end a request with.
#[derive(Debug, PartialEq)]
enum Ended {
    Own,
    Engine(GaveUp),
}

impl From<GaveUp> for Ended {
    fn from(e: GaveUp) -> Self {
        Ended::Engine(e)
    }
}

/// `method /x` at `url` through `engine`.
async fn send(
    engine: &Engine,
    url: &str,
    method: Method,
    repeatable: bool,
) -> Result<Answer, Ended> {
    let http = reqwest::Client::builder()
        .timeout(engine.policy().timeout)
        .redirect(redirect::same_origin_policy())
        .build()
        .unwrap();
    let (http, target, m) = (&http, format!("{url}/x"), &method);
    let target = &target;
    let call = Call {
        method: &method,
        path: "/x",
        repeatable,
    };
    engine
        .run(call, move || async move {
            Ok(exchange(http.request(m.clone(), target)).await)
        })
        .await
}

async fn get(engine: &Engine, url: &str) -> Result<Answer, Ended> {
    send(engine, url, Method::GET, true).await
}

fn count(n: &AtomicU64) -> u64 {
    n.load(Ordering::Relaxed)
}

/// The retry lines logged while `f` runs, as JSON objects.
async fn logged<T>(f: impl Future<Output = T>) -> (T, Vec<serde_json::Value>) {
    #[derive(Clone)]
    struct Sink(Arc<Mutex<Vec<u8>>>);
    impl Write for Sink {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let sink = Sink(Arc::default());
    let writer = sink.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_max_level(tracing::Level::WARN)
        .with_writer(move || writer.clone())
        .finish();
    let out = {
        let _guard = tracing::subscriber::set_default(subscriber);
        f.await
    };
    let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
    let lines = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (out, lines)
}

#[tokio::test]
async fn a_server_error_is_sent_again_after_the_backoff() {
    let server = Scripted::start(vec![Step::status(503, "busy"), Step::status(200, "ok")]).await;
    let e = engine(Policy::default());
    let (answer, lines) = logged(get(&e, &server.url)).await;
    let answer = answer.unwrap();
    assert_eq!(
        (answer.status, &answer.body[..]),
        (StatusCode::OK, &b"ok"[..])
    );
    assert_eq!(server.count(), 2);
    assert_eq!(e.waits(), [ms(100)]);
    let s = e.stats();
    assert_eq!(
        (count(&s.requests), count(&s.retries), count(&s.throttled)),
        (2, 1, 0)
    );
    assert_eq!(
        s.last_retry().as_deref(),
        Some("GET /x: HTTP 503 Service Unavailable")
    );
    assert_eq!(lines.len(), 1, "{lines:?}");
    let l = &lines[0];
    assert_eq!(
        l["message"],
        "GET /x: HTTP 503 Service Unavailable; retrying in 0.1 s (attempt 2 of 8)"
    );
    assert_eq!(l["level"], "WARN");
    assert_eq!(l["method"], "GET");
    assert_eq!(l["path"], "/x");
    assert_eq!(l["cause"], "status");
    assert_eq!(l["status"], 503);
    assert_eq!(l["attempt"], 2);
    assert_eq!(l["attempts"], 8);
    assert_eq!(l["wait_s"], 0.1);
    assert!(
        l.get("retry_after_s").is_none() && l.get("error").is_none(),
        "{l}"
    );
}

#[tokio::test]
async fn backoffs_double_until_the_attempts_run_out() {
    let server = Scripted::start(vec![Step::status(500, "down")]).await;
    let e = engine(Policy {
        attempts: 4,
        ..Policy::default()
    });
    // A server error after the last attempt is handed back, for the client to report.
    let answer = get(&e, &server.url).await.unwrap();
    assert_eq!(answer.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(server.count(), 4);
    assert_eq!(e.waits(), [ms(100), ms(200), ms(400)]);
    assert_eq!(count(&e.stats().retries), 3);
}

#[tokio::test]
async fn a_server_errors_retry_after_is_honoured_when_longer_than_the_backoff() {
    let server = Scripted::start(vec![
        Step::with(503, &[("Retry-After", "3")], ""),
        Step::with(503, &[("Retry-After", "0")], ""),
        Step::status(204, ""),
    ])
    .await;
    let e = engine(Policy::default());
    assert_eq!(get(&e, &server.url).await.unwrap().status, 204);
    assert_eq!(e.waits(), [secs(3), ms(200)]);
    // A server error is no throttling: the client does not pause.
    assert_eq!(count(&e.stats().throttled), 0);
}

#[tokio::test]
async fn a_server_error_not_safe_to_repeat_is_handed_back_at_once() {
    let server = Scripted::start(vec![Step::status(502, "")]).await;
    let e = engine(Policy::default());
    let answer = send(&e, &server.url, Method::POST, false).await.unwrap();
    assert_eq!(answer.status, StatusCode::BAD_GATEWAY);
    assert_eq!(server.count(), 1);
    assert!(e.waits().is_empty());
    assert_eq!(count(&e.stats().retries), 0);
}

#[tokio::test]
async fn a_429_waits_what_retry_after_asks() {
    let server = Scripted::start(vec![
        Step::with(429, &[("Retry-After", "2")], ""),
        Step::status(200, "{}"),
    ])
    .await;
    let e = engine(Policy::default());
    let (answer, lines) = logged(get(&e, &server.url)).await;
    assert_eq!(answer.unwrap().status, 200);
    assert_eq!(server.count(), 2);
    assert_eq!(e.waits(), [secs(2)]);
    let s = e.stats();
    assert_eq!(
        (count(&s.requests), count(&s.retries), count(&s.throttled)),
        (2, 1, 1)
    );
    // The throttled attempt is given back: nine allowed now.
    let l = &lines[0];
    assert_eq!(
        l["message"],
        "GET /x: throttled (HTTP 429 Too Many Requests, Retry-After 2 s); retrying in 2 s (attempt 2 of 9)"
    );
    assert_eq!(l["cause"], "throttled");
    assert_eq!(l["status"], 429);
    assert_eq!(l["retry_after_s"], 2.0);
    assert_eq!(l["attempts"], 9);
}

#[tokio::test]
async fn absurd_or_unusable_retry_after_values_are_bounded_waits() {
    let past = "Wed, 21 Oct 2015 07:28:00 GMT";
    let cases = [
        ("1e20", vec![secs(120)]),
        ("18446744073709551616", vec![secs(120)]),
        ("-5", vec![secs(1)]),
        ("NaN", vec![secs(1)]),
        ("soon", vec![secs(1)]),
        // A date past: no wait at all.
        (past, vec![]),
    ];
    for (value, waits) in cases {
        let server = Scripted::start(vec![
            Step::with(429, &[("Retry-After", value)], ""),
            Step::status(200, ""),
        ])
        .await;
        let e = engine(Policy::default());
        assert_eq!(get(&e, &server.url).await.unwrap().status, 200, "{value}");
        assert_eq!(e.waits(), waits, "{value}");
        assert_eq!(server.count(), 2, "{value}");
    }
}

#[tokio::test]
async fn a_date_ahead_is_waited_until() {
    let at = SystemTime::now() + secs(30);
    let server = Scripted::start(vec![
        Step::with(429, &[("Retry-After", &httpdate::fmt_http_date(at))], ""),
        Step::status(200, ""),
    ])
    .await;
    let e = engine(Policy::default());
    assert_eq!(get(&e, &server.url).await.unwrap().status, 200);
    // Whole seconds on the wire, read a moment later.
    let waits = e.waits();
    assert!(
        waits.len() == 1 && waits[0] > secs(27) && waits[0] <= secs(30),
        "{waits:?}"
    );
}

#[tokio::test]
async fn a_409_is_throttled_only_when_it_says_how_long() {
    // With Retry-After: throttled, waited out, sent again.
    let server = Scripted::start(vec![
        Step::with(409, &[("Retry-After", "1")], ""),
        Step::status(200, ""),
    ])
    .await;
    let e = engine(Policy::default());
    assert_eq!(get(&e, &server.url).await.unwrap().status, 200);
    assert_eq!((server.count(), e.waits()), (2, vec![secs(1)]));
    assert_eq!(count(&e.stats().throttled), 1);
    // Without: a conflict, handed back at once, empty body or not.
    for body in ["", r#"{"title":"Conflict"}"#] {
        let server = Scripted::start(vec![Step::status(409, body), Step::status(200, "")]).await;
        let e = engine(Policy::default());
        assert_eq!(get(&e, &server.url).await.unwrap().status, 409, "{body}");
        assert_eq!(server.count(), 1, "{body}");
        assert!(e.waits().is_empty(), "{body}");
        assert_eq!(count(&e.stats().throttled), 0);
    }
}

#[tokio::test]
async fn a_dialect_may_throttle_with_an_empty_409_and_exact_milliseconds() {
    let e = Engine::virtual_time(Policy::default(), NEXUDUS_LIKE, 0.5);
    let server = Scripted::start(vec![
        Step::status(409, ""),
        Step::with(409, &[("Retry-After", "1"), ("X-Retry-After-Ms", "15")], ""),
        Step::status(200, ""),
    ])
    .await;
    assert_eq!(get(&e, &server.url).await.unwrap().status, 200);
    assert_eq!(e.waits(), [secs(1), ms(15)]);
    assert_eq!(count(&e.stats().throttled), 2);
    // A 409 with a body is a conflict in that dialect too.
    let server = Scripted::start(vec![Step::status(409, r#"{"WasSuccessful":false}"#)]).await;
    assert_eq!(get(&e, &server.url).await.unwrap().status, 409);
    assert_eq!(server.count(), 1);
    // Without the dialect, the milliseconds header is nobody's: `Retry-After` says.
    let e = engine(Policy::default());
    let server = Scripted::start(vec![
        Step::with(429, &[("Retry-After", "1"), ("X-Retry-After-Ms", "15")], ""),
        Step::status(200, ""),
    ])
    .await;
    assert_eq!(get(&e, &server.url).await.unwrap().status, 200);
    assert_eq!(e.waits(), [secs(1)]);
}

#[tokio::test]
async fn throttled_answers_give_their_attempt_back_up_to_the_budget() {
    let server = Scripted::start(vec![Step::status(429, "slow down")]).await;
    let e = engine(Policy {
        attempts: 2,
        throttled: 1,
        ..Policy::default()
    });
    let (answer, lines) = logged(send(&e, &server.url, Method::POST, false)).await;
    // Throttled answers are sent again even when the request is not safe to repeat (nothing
    // was done); the last one is handed back.
    let answer = answer.unwrap();
    assert_eq!(
        (answer.status, &answer.body[..]),
        (StatusCode::TOO_MANY_REQUESTS, &b"slow down"[..])
    );
    assert_eq!(server.count(), 3);
    assert_eq!(e.waits(), [secs(1), secs(1)]);
    let s = e.stats();
    assert_eq!(
        (count(&s.requests), count(&s.retries), count(&s.throttled)),
        (3, 2, 3)
    );
    let said: Vec<&str> = lines
        .iter()
        .map(|l| l["message"].as_str().unwrap())
        .collect();
    assert_eq!(
        said,
        [
            "POST /x: throttled (HTTP 429 Too Many Requests, no Retry-After); retrying in 1 s (attempt 2 of 3)",
            "POST /x: throttled (HTTP 429 Too Many Requests, no Retry-After); retrying in 1 s (attempt 3 of 3)",
        ]
    );
}

#[tokio::test]
async fn a_wait_longer_than_the_policy_allows_ends_the_request_when_it_says_so() {
    let patient = Policy {
        long_waits: LongWaits::GiveUp,
        max_retry_after: secs(300),
        ..Policy::default()
    };
    let server = Scripted::start(vec![Step::with(429, &[("Retry-After", "301")], "")]).await;
    let e = engine(patient);
    let ended = get(&e, &server.url).await.unwrap_err();
    assert_eq!(
        ended,
        Ended::Engine(GaveUp::TooLong {
            method: Method::GET,
            path: "/x".into(),
            status: StatusCode::TOO_MANY_REQUESTS,
            wait: secs(301),
            attempts: 1,
        })
    );
    assert_eq!(server.count(), 1);
    assert!(e.waits().is_empty());
    assert_eq!(count(&e.stats().throttled), 1);
    // Its longest is still waited.
    let server = Scripted::start(vec![
        Step::with(429, &[("Retry-After", "300")], ""),
        Step::status(200, ""),
    ])
    .await;
    let e = engine(patient);
    assert_eq!(get(&e, &server.url).await.unwrap().status, 200);
    assert_eq!(e.waits(), [secs(300)]);
    // Capped: waits its longest instead.
    let server = Scripted::start(vec![
        Step::with(429, &[("Retry-After", "301")], ""),
        Step::status(200, ""),
    ])
    .await;
    let e = engine(Policy {
        long_waits: LongWaits::Capped,
        ..patient
    });
    assert_eq!(get(&e, &server.url).await.unwrap().status, 200);
    assert_eq!(e.waits(), [secs(300)]);
}

#[tokio::test]
async fn the_pause_holds_every_request_of_the_client() {
    let server = Scripted::start(vec![
        Step::with(429, &[("Retry-After", "5")], ""),
        Step::status(200, ""),
    ])
    .await;
    let e = engine(Policy {
        attempts: 1,
        throttled: 0,
        ..Policy::default()
    });
    // The first request gives up on its throttled answer, and the client pauses all the same…
    assert_eq!(get(&e, &server.url).await.unwrap().status, 429);
    assert!(e.waits().is_empty());
    // …so the next request waits before it is sent.
    assert_eq!(get(&e, &server.url).await.unwrap().status, 200);
    assert_eq!(e.waits(), [secs(5)]);
    // Once the pause is over, nothing waits.
    assert_eq!(get(&e, &server.url).await.unwrap().status, 200);
    assert_eq!(e.waits(), [secs(5)]);
}

#[tokio::test]
async fn a_connection_reset_is_sent_again_only_when_safe() {
    let server = Scripted::start(vec![Step::Reset, Step::status(200, "")]).await;
    let e = engine(Policy::default());
    let (answer, lines) = logged(get(&e, &server.url)).await;
    assert_eq!(answer.unwrap().status, 200);
    assert_eq!((server.count(), e.waits()), (2, vec![ms(100)]));
    let l = &lines[0];
    assert_eq!(l["cause"], "connection");
    assert!(l["status"].is_null(), "{l}");
    let message = l["message"].as_str().unwrap();
    assert!(
        message.starts_with("GET /x: connection failed (")
            && message.ends_with("); retrying in 0.1 s (attempt 2 of 8)"),
        "{message}"
    );
    assert!(l["error"].as_str().is_some_and(|e| !e.is_empty()), "{l}");

    let server = Scripted::start(vec![Step::Reset, Step::status(200, "")]).await;
    let e = engine(Policy::default());
    let ended = send(&e, &server.url, Method::POST, false)
        .await
        .unwrap_err();
    match ended {
        Ended::Engine(GaveUp::Exhausted {
            method,
            path,
            cause: Cause::Connection(_),
            attempts: 1,
        }) => assert_eq!((method, path.as_str()), (Method::POST, "/x")),
        other => panic!("{other:?}"),
    }
    assert_eq!(server.count(), 1);
    assert!(e.waits().is_empty());
}

#[tokio::test]
async fn a_request_that_never_gets_an_answer_gives_up_after_its_attempts() {
    let server = Scripted::start(vec![Step::Reset]).await;
    let e = engine(Policy {
        attempts: 3,
        ..Policy::default()
    });
    match get(&e, &server.url).await.unwrap_err() {
        Ended::Engine(GaveUp::Exhausted {
            cause: Cause::Connection(_),
            attempts: 3,
            ..
        }) => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(server.count(), 3);
    assert_eq!(e.waits(), [ms(100), ms(200)]);
}

#[tokio::test]
async fn no_answer_within_the_timeout_is_a_timeout() {
    let server = Scripted::start(vec![Step::Silent]).await;
    let e = engine(Policy {
        timeout: ms(100),
        attempts: 2,
        ..Policy::default()
    });
    let ended = get(&e, &server.url).await.unwrap_err();
    assert_eq!(
        ended,
        Ended::Engine(GaveUp::Exhausted {
            method: Method::GET,
            path: "/x".into(),
            cause: Cause::Timeout(ms(100)),
            attempts: 2,
        })
    );
    assert_eq!((server.count(), e.waits()), (2, vec![ms(100)]));
}

#[tokio::test]
async fn nobody_listening_is_a_connect_failure() {
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let e = engine(Policy {
        attempts: 2,
        ..Policy::default()
    });
    match get(&e, &closed).await.unwrap_err() {
        Ended::Engine(GaveUp::Exhausted {
            cause: Cause::Connect(_),
            attempts: 2,
            ..
        }) => {}
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_refused_redirect_ends_the_request_at_once() {
    let server = Scripted::start(vec![Step::with(
        307,
        &[("Location", "http://127.0.0.1:9/elsewhere")],
        "",
    )])
    .await;
    let e = engine(Policy::default());
    match get(&e, &server.url).await.unwrap_err() {
        Ended::Engine(GaveUp::Redirect {
            method,
            path,
            refused: RefusedRedirect::CrossOrigin { location, .. },
        }) => {
            assert_eq!((method, path.as_str()), (Method::GET, "/x"));
            assert_eq!(location, "http://127.0.0.1:9/elsewhere");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(server.count(), 1);
    assert!(e.waits().is_empty());
}

#[tokio::test]
async fn the_clients_own_error_ends_the_request() {
    let server = Scripted::start(vec![Step::status(503, "")]).await;
    let e = engine(Policy::default());
    let (http, target) = (&reqwest::Client::new(), &format!("{}/x", server.url));
    let sent = &AtomicU64::new(0);
    let call = Call {
        method: &Method::GET,
        path: "/x",
        repeatable: true,
    };
    let ended = e
        .run(call, move || async move {
            if sent.fetch_add(1, Ordering::Relaxed) == 2 {
                return Err(Ended::Own);
            }
            Ok(exchange(http.get(target)).await)
        })
        .await
        .unwrap_err();
    assert_eq!(ended, Ended::Own);
    assert_eq!(server.count(), 2);
    assert_eq!(e.waits(), [ms(100), ms(200)]);
}

#[test]
fn the_policy_reads_its_deadline_and_speeds_up() {
    let p = Policy::default();
    assert_eq!(p.read_deadline(), secs(240));
    let quick = Policy {
        timeout: secs(1),
        ..p
    };
    assert_eq!(quick.read_deadline(), secs(8));
    let given = Policy {
        read_deadline: Some(secs(600)),
        ..quick
    };
    assert_eq!(given.read_deadline(), secs(600));
    let fast = p.sped_up(100.0);
    assert_eq!((fast.base, fast.max), (ms(1), ms(100)));
    assert_eq!(fast.timeout, p.timeout);
    // Never slowed down.
    let slow = p.sped_up(0.5);
    assert_eq!((slow.base, slow.max), (p.base, p.max));
}

#[test]
fn what_ended_a_request_says_so() {
    let exhausted = GaveUp::Exhausted {
        method: Method::GET,
        path: "/x".into(),
        cause: Cause::Timeout(secs(30)),
        attempts: 8,
    };
    assert_eq!(
        exhausted.to_string(),
        "GET /x: no response within 30 s (8 attempt(s))"
    );
    let long = GaveUp::TooLong {
        method: Method::PUT,
        path: "/y".into(),
        status: StatusCode::CONFLICT,
        wait: secs(3600),
        attempts: 1,
    };
    assert_eq!(
        long.to_string(),
        "PUT /y: throttled (HTTP 409 Conflict) for 3600 s"
    );
}
