//! `partnerctl apply` end to end against the real sandbox binary (SPEC §6, issue #5): convergence,
//! zero writes on re-apply, confirmation, failures (injected, throttled, rejected), kill -9 and
//! saved plans. The live state is always checked through the API, never through the CLI's word.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::cmd::{Cmd, Run, root};
use crate::support::{Api, Sandbox};

fn acme() -> String {
    root().join("examples/acme").display().to_string()
}

fn with_target(cmd: Cmd, sb: &Sandbox, token: &str) -> Cmd {
    cmd.env("PARTNERCTL_ENDPOINT", &sb.url)
        .env("PARTNERCTL_TOKEN", token)
        .env("CI", "true")
}

fn apply(sb: &Sandbox, token: &str, args: &[&str]) -> Run {
    with_target(Cmd::new().arg("apply"), sb, token)
        .args(args)
        .run()
}

fn plan_exit(sb: &Sandbox, token: &str, config: &str) -> i32 {
    with_target(Cmd::new().arg("plan"), sb, token)
        .args([config, "--detailed-exitcode"])
        .run()
        .code
}

/// The whole live state of a partner, read through the API (pages of 1,000).
#[derive(Debug, PartialEq)]
struct State {
    accounts: Vec<Value>,
    users: Vec<Value>,
    services: Vec<Value>,
}

fn dump(sb: &Sandbox, token: &str) -> State {
    let api = Api::new(&sb.url, token);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let mut lists = Vec::new();
        for (path, schema) in [
            ("/v1/accounts", "AccountPage"),
            ("/v1/users", "UserPage"),
            ("/v1/services", "ServicePage"),
        ] {
            let mut items = Vec::new();
            let mut token: Option<String> = None;
            loop {
                let url = match &token {
                    Some(t) => format!("{path}?page_size=1000&page_token={t}"),
                    None => format!("{path}?page_size=1000"),
                };
                let page = api.get(&url).await.ok(schema);
                items.extend(page["items"].as_array().unwrap().iter().cloned());
                match page["next_page_token"].as_str() {
                    Some(t) => token = Some(t.to_string()),
                    None => break,
                }
            }
            lists.push(items);
        }
        let services = lists.pop().unwrap();
        let users = lists.pop().unwrap();
        let accounts = lists.pop().unwrap();
        State {
            accounts,
            users,
            services,
        }
    })
}

/// No account key, user (per account, case-insensitive) or service (per account) twice.
fn assert_no_duplicates(s: &State) {
    let mut keys = HashSet::new();
    for a in &s.accounts {
        if let Some(k) = a["external_key"].as_str() {
            assert!(keys.insert(k.to_string()), "duplicate account {k}");
        }
    }
    let mut users = HashSet::new();
    for u in &s.users {
        let id = (
            u["account_id"].as_str().unwrap().to_string(),
            u["email"].as_str().unwrap().to_lowercase(),
        );
        assert!(users.insert(id.clone()), "duplicate user {id:?}");
    }
    let mut services = HashSet::new();
    for x in &s.services {
        let id = (
            x["account_id"].as_str().unwrap().to_string(),
            x["type"].as_str().unwrap().to_string(),
        );
        assert!(services.insert(id.clone()), "duplicate service {id:?}");
    }
}

/// A generated configuration of `customers` customers in a temporary directory.
fn generated(customers: usize) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let scale = partnerctl::testgen::Scale {
        customers,
        networks: customers / 5,
        subs_per_network: 2,
        users_per_customer: 2,
        services_per_customer: 1,
        customers_per_file: 50,
    };
    let cfg = dir.path().join("config");
    std::fs::create_dir_all(&cfg).unwrap();
    for (name, text) in partnerctl::testgen::generate(&scale) {
        std::fs::write(cfg.join(name), text).unwrap();
    }
    (dir, cfg)
}

/// Waits (bounded, by polling the API) until the sandbox holds at least `n` accounts while the
/// apply `child` is still running.
fn wait_for_accounts(sb: &Sandbox, token: &str, n: usize, child: &mut std::process::Child) {
    let api = Api::new(&sb.url, token);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let have = rt.block_on(async {
            api.get("/v1/accounts?page_size=1000")
                .await
                .ok("AccountPage")["items"]
                .as_array()
                .unwrap()
                .len()
        });
        if have >= n {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "apply made no progress"
        );
        assert!(child.try_wait().unwrap().is_none(), "apply ended too early");
    }
}

fn path_str(p: &Path) -> String {
    p.display().to_string()
}

#[test]
fn apply_converges_and_a_second_apply_writes_nothing() {
    let sb = Sandbox::start();
    let token = sb.add_partner("Acme Partners", true);
    let run = apply(&sb, &token, &[&acme(), "--auto-approve"]).success();
    assert!(
        run.stdout
            .contains("Apply complete: 24 done, 0 failed, 0 skipped"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("Done: 6 create, 10 invite, 8 add-service.")
    );
    assert_eq!(plan_exit(&sb, &token, &acme()), 0, "a fresh plan is empty");
    let before = dump(&sb, &token);
    assert_eq!(
        (
            before.accounts.len(),
            before.users.len(),
            before.services.len()
        ),
        (6, 10, 8)
    );
    assert_no_duplicates(&before);
    let run = apply(&sb, &token, &[&acme(), "--auto-approve"]).success();
    assert!(run.stdout.contains("No changes"), "{}", run.stdout);
    // Zero writes: every object, etag and timestamp is exactly as before.
    assert_eq!(dump(&sb, &token), before);
}

#[test]
fn apply_refuses_without_confirmation_off_a_terminal() {
    let sb = Sandbox::start();
    let token = sb.add_partner("Acme Partners", true);
    let run = apply(&sb, &token, &[&acme()]).code(1);
    assert!(
        run.stderr
            .contains("refusing to apply without confirmation: stdin is not a terminal"),
        "{}",
        run.stderr
    );
    let s = dump(&sb, &token);
    assert!(s.accounts.is_empty() && s.users.is_empty() && s.services.is_empty());
    // Anything but `yes` on stdin is not a confirmation either (stdin is a pipe here).
    let run = with_target(Cmd::new().arg("apply"), &sb, &token)
        .arg(acme())
        .stdin("yes\n")
        .run()
        .code(1);
    assert!(run.stderr.contains("stdin is not a terminal"));
}

#[test]
fn injected_failures_converge_within_two_applies_without_duplicates() {
    let sb = Sandbox::start_args(&["--fail-rate", "0.2", "--seed", "11"]);
    let token = sb.add_partner("Scale Partners", true);
    let (_dir, cfg) = generated(40);
    let cfg = path_str(&cfg);
    let first = apply(&sb, &token, &[&cfg, "--auto-approve", "--parallelism", "8"]);
    if first.code != 0 {
        apply(&sb, &token, &[&cfg, "--auto-approve"]).success();
    }
    assert_eq!(plan_exit(&sb, &token, &cfg), 0, "converged");
    let s = dump(&sb, &token);
    assert_no_duplicates(&s);
    // 40 customers + 8 networks × 2 sub-accounts; 1 partner user + 2 per customer; 2 services
    // per customer (one from defaults).
    assert_eq!(
        (s.accounts.len(), s.users.len(), s.services.len()),
        (40 + 8 + 16, 1 + 80, 80)
    );
    let retries: u64 = first
        .stdout
        .split(" retr")
        .next()
        .and_then(|s| s.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(
        retries > 0,
        "the failures were injected and retried: {}",
        first.stdout
    );
}

#[test]
fn throttling_with_409_and_retry_after_is_honoured() {
    let sb = Sandbox::start_args(&["--write-limit", "600/min", "--throttle-status", "409"]);
    let token = sb.add_partner("Acme Partners", true);
    let run = apply(&sb, &token, &[&acme(), "--auto-approve"]).success();
    assert!(
        run.stdout.contains("Apply complete: 24 done"),
        "{}",
        run.stdout
    );
    let throttled: u64 = run
        .stdout
        .split(" throttled")
        .next()
        .and_then(|s| s.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .expect("a throttled count in the summary");
    assert!(
        throttled > 0,
        "24 writes against a burst of 10: {}",
        run.stdout
    );
    // The client slowed down as a whole: adaptive concurrency went below --parallelism 8.
    assert!(
        run.stdout.contains("(parallelism went down to "),
        "{}",
        run.stdout
    );
    assert_eq!(plan_exit(&sb, &token, &acme()), 0);
    assert_no_duplicates(&dump(&sb, &token));
}

#[test]
fn kill_9_mid_apply_then_rerun_converges() {
    let sb = Sandbox::start_args(&["--latency-ms", "5"]);
    let token = sb.add_partner("Scale Partners", true);
    let (_dir, cfg) = generated(150);
    let cfg = path_str(&cfg);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_partnerctl"))
        .env_clear()
        .env("PARTNERCTL_ENDPOINT", &sb.url)
        .env("PARTNERCTL_TOKEN", &token)
        .args(["apply", &cfg, "--auto-approve", "--parallelism", "4"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Once the apply is well under way, kill it without warning.
    wait_for_accounts(&sb, &token, 40, &mut child);
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let partial = dump(&sb, &token);
    assert!(
        partial.accounts.len() < 150 + 30 + 60,
        "killed before the end"
    );
    apply(&sb, &token, &[&cfg, "--auto-approve"]).success();
    assert_eq!(plan_exit(&sb, &token, &cfg), 0);
    let s = dump(&sb, &token);
    assert_no_duplicates(&s);
    assert_eq!(s.accounts.len(), 150 + 30 + 60);
}

#[test]
fn saved_plan_is_refused_when_stale_and_executed_exactly_otherwise() {
    let sb = Sandbox::start();
    let token = sb.add_partner("Acme Partners", true);
    let dir = tempfile::tempdir().unwrap();
    let file = path_str(&dir.path().join("plan.json"));
    with_target(Cmd::new().arg("plan"), &sb, &token)
        .args([&acme(), "-o", &file])
        .run()
        .success();
    // Someone creates `contoso` meanwhile: the plan would now update it, not create it.
    let api = Api::new(&sb.url, &token);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(api.customer("contoso"));
    let before = dump(&sb, &token);
    let run = apply(&sb, &token, &["--plan", &file]).code(1);
    assert!(run.stderr.contains("plan is stale"), "{}", run.stderr);
    assert_eq!(dump(&sb, &token), before, "zero writes");

    // Unchanged live state: exactly the saved operations run, without a prompt.
    let sb = Sandbox::start();
    let token = sb.add_partner("Acme Partners", true);
    with_target(Cmd::new().arg("plan"), &sb, &token)
        .args([&acme(), "-o", &file])
        .run()
        .success();
    let saved =
        partnerctl::plan::SavedPlan::from_json(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let run = apply(&sb, &token, &["--plan", &file]).success();
    assert!(
        run.stdout
            .contains(&format!("Apply complete: {} done", saved.operations.len())),
        "{}",
        run.stdout
    );
    assert_eq!(plan_exit(&sb, &token, &acme()), 0);
}

#[test]
fn a_rejected_operation_skips_only_its_dependents() {
    let sb = Sandbox::start();
    let token = sb.add_partner("Acme Partners", true);
    let dir = tempfile::tempdir().unwrap();
    // The sandbox allows names of at most 200 characters; the configuration format does not
    // know that limit, so only the server can refuse it.
    let long = "N".repeat(201);
    std::fs::write(
        dir.path().join("extra.yaml"),
        format!(
            "customers:\n  - key: toolong\n    name: {long}\n    contact: {{ name: T, email: t@toolong.example }}\n    users: [{{ email: a@toolong.example, name: A }}]\n    networks:\n      - key: toolong-net\n        name: Net\n        sub_accounts: [{{ key: toolong-site, name: Site }}]\n"
        ),
    )
    .unwrap();
    for f in [
        "partner.yaml",
        "customers/contoso.yaml",
        "customers/others.yaml",
    ] {
        let to = dir.path().join(f);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(root().join("examples/acme").join(f), to).unwrap();
    }
    let cfg = path_str(dir.path());
    let run = apply(&sb, &token, &[&cfg, "--auto-approve"]).code(1);
    assert!(
        run.stdout
            .contains("Apply finished with errors: 24 done, 1 failed, 4 skipped"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("Failed (1):\n  - customer.toolong (create): ")
    );
    assert!(
        run.stdout
            .contains("  - network.toolong-net (create) ← customer.toolong")
    );
    assert!(
        run.stdout
            .contains("  - sub_account.toolong-site (create) ← customer.toolong")
    );
    assert!(
        run.stderr.contains("must be at most 200 characters"),
        "{}",
        run.stderr
    );
    let s = dump(&sb, &token);
    assert_eq!(s.accounts.len(), 6, "everything independent was done");
    assert_no_duplicates(&s);
}

#[test]
fn ctrl_c_finishes_in_flight_operations_then_a_rerun_converges() {
    let sb = Sandbox::start_args(&["--latency-ms", "20"]);
    let token = sb.add_partner("Scale Partners", true);
    let (_dir, cfg) = generated(60);
    let cfg = path_str(&cfg);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_partnerctl"))
        .env_clear()
        .env("PARTNERCTL_ENDPOINT", &sb.url)
        .env("PARTNERCTL_TOKEN", &token)
        .args(["apply", &cfg, "--auto-approve", "--parallelism", "2"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_accounts(&sb, &token, 10, &mut child);
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("Interrupted: finishing in-flight operations"),
        "{stderr}"
    );
    assert!(stdout.contains("Apply interrupted: "), "{stdout}");
    assert!(stdout.contains(" not started in "), "{stdout}");
    assert!(
        stdout.contains("0 failed"),
        "in-flight operations finished: {stdout}"
    );
    apply(&sb, &token, &[&cfg, "--auto-approve"]).success();
    assert_eq!(plan_exit(&sb, &token, &cfg), 0);
    assert_no_duplicates(&dump(&sb, &token));
}

#[test]
fn saved_plan_options_cannot_be_overridden() {
    let run = Cmd::new()
        .args(["apply", "--plan", "whatever.json", "--prune"])
        .run()
        .code(1);
    assert!(
        run.stderr.contains("cannot be combined with --plan"),
        "{}",
        run.stderr
    );
    let run = Cmd::new()
        .args(["apply", "--plan", "x.json", "examples/acme"])
        .run()
        .code(1);
    assert!(run.stderr.contains("cannot be used with"), "{}", run.stderr);
}

/// Runs `partnerctl ARGS` on a pseudo-terminal (util-linux `script`), typing `answer`.
fn on_a_terminal(sb: &Sandbox, token: &str, args: &str, answer: &str) -> Run {
    let command = format!(
        "PARTNERCTL_ENDPOINT={} PARTNERCTL_TOKEN={} {} {args}",
        sb.url,
        token,
        env!("CARGO_BIN_EXE_partnerctl")
    );
    Cmd::new_program("script")
        .args(["-qec", &command, "/dev/null"])
        .stdin(answer)
        .run()
}

#[test]
fn on_a_terminal_apply_asks_and_only_yes_proceeds() {
    let sb = Sandbox::start();
    let token = sb.add_partner("Acme Partners", true);
    let run = on_a_terminal(&sb, &token, &format!("apply {}", acme()), "no\n").code(1);
    assert!(
        run.stdout.contains("Only 'yes' will be accepted"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("Apply cancelled; nothing was changed."));
    assert!(dump(&sb, &token).accounts.is_empty(), "zero writes");
    let run = on_a_terminal(&sb, &token, &format!("apply {}", acme()), "yes\n").success();
    assert!(
        run.stdout.contains("Apply complete: 24 done"),
        "{}",
        run.stdout
    );
    // On a terminal the plan is coloured.
    assert!(run.stdout.contains("\u{1b}[32m+\u{1b}[0m"));
    assert_eq!(plan_exit(&sb, &token, &acme()), 0);
}
