//! Load benchmark of the sandbox server (its "write ceiling", which BENCHMARKS.md compares `apply` against).
//!
//! Starts the real `partnerctl sandbox serve` (release build) on `127.0.0.1:0` with a fresh
//! database per run, and measures over keep-alive HTTP/1.1:
//! - creates/s (`POST /v1/accounts`, customers, each with an Idempotency-Key) at concurrency
//!   1, 8 and 32;
//! - list pages/s (`GET /v1/accounts`, page sizes 100 and 1000) over 10,000 accounts, at
//!   concurrency 1 and 8.
//!
//! Each figure is the median of `SANDBOX_BENCH_RUNS` runs (default 3). Knobs (environment):
//! `SANDBOX_BENCH_CREATES` creates per run (default 3000), `SANDBOX_BENCH_ACCOUNTS` accounts
//! listed (default 10000), `SANDBOX_BENCH_LATENCY_MS` passed to `--latency-ms` (default 0).
//! Every loop is bounded in count; only loopback addresses are used.
//!
//! Run: `cargo bench --bench sandbox_load` (prints a markdown table).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use serde_json::{Value, json};

struct Server {
    child: Child,
    url: String,
    token: String,
    _dir: tempfile::TempDir,
}

impl Server {
    fn start(latency_ms: u64) -> Server {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("bench.db");
        let bin = env!("CARGO_BIN_EXE_partnerctl");
        let out = Command::new(bin)
            .args([
                "sandbox",
                "partner",
                "add",
                "--name",
                "Bench Partners",
                "--db",
            ])
            .arg(&db)
            .output()
            .expect("partner add");
        assert!(
            out.status.success(),
            "partner add: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let token = String::from_utf8(out.stdout)
            .expect("utf-8")
            .trim()
            .to_string();
        let mut child = Command::new(bin)
            .args([
                "sandbox",
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--latency-ms",
                &latency_ms.to_string(),
                "--db",
            ])
            .arg(&db)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn sandbox serve");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("read address");
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .expect("address line")
            .to_string();
        Server {
            child,
            url,
            token,
            _dir: dir,
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn customer(i: usize, tag: &str) -> Value {
    json!({
        "kind": "customer",
        "external_key": format!("{tag}-{i}"),
        "name": format!("Customer {i}"),
        "contact": {"name": "Jane Doe", "email": format!("jane{i}@example.com")},
        "country": "GB",
        "timezone": "Europe/London",
    })
}

/// Creates `n` customers with `concurrency` workers; returns creates per second.
async fn creates(
    s: &Server,
    http: &reqwest::Client,
    n: usize,
    concurrency: usize,
    tag: &str,
) -> f64 {
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (next, http, url, token, tag) = (
            next.clone(),
            http.clone(),
            s.url.clone(),
            s.token.clone(),
            tag.to_string(),
        );
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    return;
                }
                let r = http
                    .post(format!("{url}/v1/accounts"))
                    .bearer_auth(&token)
                    .header("Idempotency-Key", format!("{tag}-{i}"))
                    .json(&customer(i, &tag))
                    .send()
                    .await
                    .expect("POST");
                assert_eq!(
                    r.status().as_u16(),
                    201,
                    "create failed: {}",
                    r.text().await.unwrap_or_default()
                );
                r.bytes().await.expect("body");
            }
        }));
    }
    for t in tasks {
        t.await.expect("worker");
    }
    n as f64 / start.elapsed().as_secs_f64()
}

/// Pages through all accounts `rounds` times per worker; returns pages per second.
async fn pages(
    s: &Server,
    http: &reqwest::Client,
    page_size: u32,
    concurrency: usize,
    rounds: usize,
) -> f64 {
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (http, url, token) = (http.clone(), s.url.clone(), s.token.clone());
        tasks.push(tokio::spawn(async move {
            let mut count = 0usize;
            for _ in 0..rounds {
                let mut cursor: Option<String> = None;
                loop {
                    let mut q = vec![("page_size", page_size.to_string())];
                    if let Some(c) = &cursor {
                        q.push(("page_token", c.clone()));
                    }
                    let page: Value = http
                        .get(format!("{url}/v1/accounts"))
                        .bearer_auth(&token)
                        .query(&q)
                        .send()
                        .await
                        .expect("GET")
                        .json()
                        .await
                        .expect("page");
                    count += 1;
                    match page.get("next_page_token").and_then(Value::as_str) {
                        Some(t) => cursor = Some(t.to_string()),
                        None => break,
                    }
                }
            }
            count
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.expect("reader");
    }
    total as f64 / start.elapsed().as_secs_f64()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let runs = env_num("SANDBOX_BENCH_RUNS", 3).max(1) as usize;
    let n = env_num("SANDBOX_BENCH_CREATES", 3000) as usize;
    let accounts = env_num("SANDBOX_BENCH_ACCOUNTS", 10_000) as usize;
    let latency = env_num("SANDBOX_BENCH_LATENCY_MS", 0);
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .expect("client");
    println!(
        "sandbox load: {runs} run(s), {n} creates per run, {accounts} accounts listed, --latency-ms {latency}"
    );
    println!();
    println!("| measurement | concurrency | median | runs |");
    println!("|---|---:|---:|---|");
    for c in [1usize, 8, 32] {
        let mut v = Vec::new();
        for r in 0..runs {
            let s = Server::start(latency);
            creates(&s, &http, 20, 1, &format!("warm{r}")).await;
            v.push(creates(&s, &http, n, c, &format!("c{c}r{r}")).await);
        }
        let runs_s: Vec<String> = v.iter().map(|x| format!("{x:.0}")).collect();
        println!(
            "| creates/s | {c} | {:.0} | {} |",
            median(v),
            runs_s.join(", ")
        );
    }
    for (page_size, c) in [(100u32, 1usize), (100, 8), (1000, 1), (1000, 8)] {
        let mut v = Vec::new();
        for _ in 0..runs {
            let s = Server::start(latency);
            creates(&s, &http, accounts, 32, "seed").await;
            let rounds = if page_size == 100 { 2 } else { 10 };
            v.push(pages(&s, &http, page_size, c, rounds).await);
        }
        let runs_s: Vec<String> = v.iter().map(|x| format!("{x:.0}")).collect();
        println!(
            "| list pages/s (page_size {page_size}, {} items/s) | {c} | {:.0} | {} |",
            (median(v.clone()) * f64::from(page_size)) as u64,
            median(v),
            runs_s.join(", ")
        );
    }
}
