//! The realism knobs of `sandbox serve`: `--write-limit` with `--throttle-status`, `--fail-rate`
//! with `--seed`, and `--latency-ms`.

use std::time::{Duration, Instant};

use crate::support::{Sandbox, customer_body};

#[tokio::test]
async fn write_limit_throttles_with_retry_after_429_or_409() {
    for (status, flag) in [(429u16, "429"), (409, "409")] {
        let sb = Sandbox::start_args(&["--write-limit", "6/min", "--throttle-status", flag]);
        let api = sb.partner("P", true);
        assert_eq!(
            api.get("/v1/limits").await.ok("Limits")["writes_per_minute"],
            6
        );
        api.customer("first").await; // passing: within the limit
        let r = api.post("/v1/accounts", customer_body("second")).await;
        let retry: u64 = r
            .header("retry-after")
            .expect("Retry-After")
            .parse()
            .unwrap();
        assert!((1..=10).contains(&retry), "Retry-After {retry}");
        r.err(status, "throttled");
        // Reads are not limited.
        for _ in 0..5 {
            api.get("/v1/accounts").await.ok("AccountPage");
        }
        assert_eq!(
            api.list_all("/v1/accounts", "AccountPage", 10).await.len(),
            1,
            "a throttled write did nothing"
        );
    }
    let sb = Sandbox::start();
    let api = sb.partner("P", true);
    for i in 0..20 {
        api.customer(&format!("c{i}")).await; // without a limit, nothing is throttled
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fail_rate_injects_failures_and_idempotency_keys_recover() {
    let sb = Sandbox::start_args(&["--fail-rate", "0.5", "--seed", "42"]);
    let api = sb.partner("P", true);
    let mut failures = 0;
    let mut dropped = 0;
    for i in 0..30 {
        let key = format!("create-{i}");
        let mut done = false;
        for _ in 0..30 {
            match api
                .try_call(
                    "POST",
                    "/v1/accounts",
                    Some(&customer_body(&format!("c{i}"))),
                    &[("Idempotency-Key", &key)],
                )
                .await
            {
                Ok(r) if r.status == 201 => {
                    r.ok("Account");
                    done = true;
                    break;
                }
                Ok(r) => {
                    r.err(500, "injected-failure");
                    failures += 1;
                }
                Err(_) => dropped += 1,
            }
        }
        assert!(done, "create {i} never succeeded");
    }
    assert!(
        failures > 0 && dropped > 0,
        "both kinds of failure happen ({failures} 500s, {dropped} drops)"
    );
    // Failures after commit + retries with the same key: still exactly one of each.
    let accounts = api.list_all("/v1/accounts", "AccountPage", 1000).await;
    assert_eq!(accounts.len(), 30, "no duplicates, nothing lost");

    // Without a key, a failure after commit makes the retry a conflict: idempotency is what
    // saves the client.
    let mut conflicts = 0;
    for i in 0..20 {
        loop {
            match api
                .try_call(
                    "POST",
                    "/v1/accounts",
                    Some(&customer_body(&format!("nokey{i}"))),
                    &[],
                )
                .await
            {
                Ok(r) if r.status == 201 || r.status == 409 => {
                    conflicts += usize::from(r.status == 409);
                    break;
                }
                _ => continue,
            }
        }
    }
    assert!(
        conflicts > 0,
        "some writes committed although the client saw a failure"
    );
}

#[tokio::test]
async fn fail_rate_is_deterministic_for_a_seed() {
    async fn pattern(seed: &str) -> Vec<bool> {
        let sb = Sandbox::start_args(&["--fail-rate", "0.3", "--seed", seed]);
        let api = sb.partner("P", true);
        let mut out = Vec::new();
        for i in 0..40 {
            let body = customer_body(&format!("c{i}"));
            let key = format!("k{i}");
            let r = api
                .try_call(
                    "POST",
                    "/v1/accounts",
                    Some(&body),
                    &[("Idempotency-Key", &key)],
                )
                .await;
            out.push(matches!(r, Ok(ref r) if r.status == 201));
        }
        out
    }
    let a = pattern("7").await;
    assert_eq!(a, pattern("7").await, "same seed, same failures");
    assert!(a.iter().any(|ok| !ok) && a.iter().any(|ok| *ok));
    assert_ne!(a, pattern("8").await, "another seed, other failures");
}

#[tokio::test]
async fn latency_knob_delays_every_request() {
    let sb = Sandbox::start_args(&["--latency-ms", "120"]);
    let api = sb.partner("P", true);
    let t = Instant::now();
    api.get("/v1/partner").await.ok("Partner");
    api.customer("c").await;
    assert!(
        t.elapsed() >= Duration::from_millis(240),
        "{:?}",
        t.elapsed()
    );
    let fast = Sandbox::start();
    let api = fast.partner("P", true);
    let t = Instant::now();
    api.get("/v1/partner").await.ok("Partner");
    assert!(
        t.elapsed() < Duration::from_millis(120),
        "no latency without the knob: {:?}",
        t.elapsed()
    );
}
