//! Pacing, Nexudus style: a request over a rate window is HTTP 409 with `Retry-After` (whole
//! seconds) and `X-Retry-After-Ms` and an empty body, and does nothing; windows are per
//! reseller; the daily write quota stops writes (not reads) for the rest of the day.
//! `--time-scale` keeps these fast: nothing sleeps but for a wait the sandbox announced.

use std::time::Duration;

use serde_json::json;

use crate::support::Sandbox;
use crate::support::nexudus::{LOGIN, Nx, NxResp};

/// Sends `n` writes (new users) through the retrying client.
async fn writes(nx: &Nx, from: usize, n: usize) {
    for i in from..from + n {
        nx.post(
            "/api/sys/users",
            json!({"FullName": "U", "Email": format!("u{i}@example.com")}),
        )
        .await
        .written();
    }
}

/// One raw write, waiting out only the per-request window (1 per 100 ms, scaled); the first
/// answer of another window is returned.
async fn raw_write(nx: &Nx, i: usize, short_ms: u64) -> NxResp {
    let raw = nx.raw();
    loop {
        let r = raw
            .post(
                "/api/sys/users",
                json!({"FullName": "U", "Email": format!("u{i}@example.com")}),
            )
            .await;
        let ms = r
            .header("x-retry-after-ms")
            .and_then(|m| m.parse::<u64>().ok());
        match ms {
            Some(ms) if r.throttled() && ms <= short_ms => {
                tokio::time::sleep(Duration::from_millis(ms)).await;
            }
            _ => return r,
        }
    }
}

#[tokio::test]
async fn over_a_window_is_409_with_retry_after_and_an_empty_body() {
    // A minute lasts a second; 100 ms last 1.7 ms.
    let sb = Sandbox::nexudus(&["--time-scale", "60", "--writes-per-minute", "2"]);
    let nx = sb.nexudus_partner("Acme", LOGIN);
    let other = sb.nexudus_partner("Other", "ops@other.example");
    writes(&nx, 0, 2).await;
    let r = raw_write(&nx, 2, 2).await;
    assert!(r.throttled(), "{} {:?} {}", r.status, r.headers, r.text);
    assert_eq!(r.status, 409);
    assert!(r.text.is_empty(), "a throttle has no body");
    assert_eq!(r.header("content-length").as_deref(), Some("0"));
    assert_eq!(
        r.header("retry-after").as_deref(),
        Some("1"),
        "whole seconds, rounded up"
    );
    let ms: u64 = r.header("x-retry-after-ms").unwrap().parse().unwrap();
    assert!((3..=1000).contains(&ms), "{ms}");
    // Reads and other resellers go on.
    assert_eq!(
        nx.list_all("/api/sys/users", 100).await.len(),
        2,
        "the throttled write did nothing"
    );
    writes(&other, 10, 2).await;
    // After the wait it was told, the write goes through.
    tokio::time::sleep(Duration::from_millis(ms)).await;
    let r = raw_write(&nx, 2, 2).await;
    r.written();
}

#[tokio::test]
async fn every_request_counts_one_per_100_ms() {
    let sb = Sandbox::nexudus(&["--time-scale", "1"]);
    let nx = sb.nexudus_partner("Acme", LOGIN).raw();
    let mut throttled = None;
    for _ in 0..5 {
        let r = nx.get("/api/sys/resellers").await;
        if r.throttled() {
            throttled = Some(r);
            break;
        }
        assert_eq!(r.status, 200);
    }
    let r = throttled.expect("back-to-back requests hit the 100 ms window");
    assert_eq!(r.header("retry-after").as_deref(), Some("1"));
    let ms: u64 = r.header("x-retry-after-ms").unwrap().parse().unwrap();
    assert!((1..=100).contains(&ms), "{ms}");
    tokio::time::sleep(Duration::from_millis(ms)).await;
    assert_eq!(nx.get("/api/sys/resellers").await.status, 200);
}

#[tokio::test]
async fn the_daily_write_quota_stops_writes_until_the_day_is_over() {
    // A day lasts 86.4 s; three writes a day.
    let sb = Sandbox::nexudus(&["--time-scale", "1000", "--writes-per-day", "3"]);
    let nx = sb.nexudus_partner("Acme", LOGIN);
    writes(&nx, 0, 3).await;
    let r = raw_write(&nx, 3, 1000).await;
    assert!(r.throttled(), "{} {}", r.status, r.text);
    let secs: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!(
        (80..=87).contains(&secs),
        "the rest of the (scaled) day: {secs}"
    );
    let ms: u64 = r.header("x-retry-after-ms").unwrap().parse().unwrap();
    assert!(ms > 80_000, "{ms}");
    let users = nx.list_all("/api/sys/users", 100).await;
    assert_eq!(users.len(), 3, "reads go on; the fourth write did nothing");
}
