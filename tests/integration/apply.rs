//! `partnerctl apply` end to end against the real sandbox binary convergence,
//! zero writes on re-apply, confirmation, failures (injected, throttled, rejected), kill -9 and
//! saved plans. The live state is always checked through the API, never through the CLI's word.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::cli::{Cmd, Run, Running, partnerctl, root};
use crate::support::{Api, LISTS, Sandbox, acme};

/// `cmd` aimed at `sb` as the partner of `token`, with `CI` set as on a CI runner (with an
/// endpoint given, it must change nothing).
pub(crate) fn with_target(cmd: Cmd, sb: &Sandbox, token: &str) -> Cmd {
    cmd.env("PARTNERCTL_ENDPOINT", &sb.url)
        .env("PARTNERCTL_TOKEN", token)
        .env("CI", "true")
}

pub(crate) fn apply_cmd(sb: &Sandbox, token: &str, args: &[&str]) -> Cmd {
    with_target(partnerctl().arg("apply"), sb, token).args(args)
}

pub(crate) fn apply(sb: &Sandbox, token: &str, args: &[&str]) -> Run {
    apply_cmd(sb, token, args).run()
}

fn plan_exit(sb: &Sandbox, token: &str, config: &str) -> i32 {
    with_target(partnerctl().arg("plan"), sb, token)
        .args([config, "--detailed-exitcode"])
        .run()
        .code
}

/// The whole live state of a partner, read through the API (pages of 1,000).
#[derive(Debug, PartialEq)]
pub(crate) struct State {
    pub(crate) accounts: Vec<Value>,
    pub(crate) users: Vec<Value>,
    pub(crate) services: Vec<Value>,
}

pub(crate) fn dump(sb: &Sandbox, token: &str) -> State {
    let api = Api::new(&sb.url, token);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let [accounts, users, services] =
        LISTS.map(|(path, schema)| rt.block_on(api.list_all(path, schema, 1000)));
    State {
        accounts,
        users,
        services,
    }
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
    crate::support::generated(&partnerctl::testkit::Scale {
        customers,
        networks: customers / 5,
        subs_per_network: 2,
        users_per_customer: 2,
        services_per_customer: 1,
        customers_per_file: 50,
    })
}

/// Waits (bounded, by polling the API) until the sandbox holds at least `n` accounts while the
/// `apply` is still running.
fn wait_for_accounts(sb: &Sandbox, token: &str, n: usize, apply: &mut Running) {
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
        assert!(apply.is_running(), "apply ended too early");
    }
}

pub(crate) fn path_str(p: &Path) -> String {
    p.display().to_string()
}

#[test]
fn apply_converges_and_a_second_apply_writes_nothing() {
    let sb = Sandbox::start();
    let token = sb.add_partner("Acme Partners", true);
    let run = apply(&sb, &token, &[&acme(), "--auto-approve"]).success();
    run.stdout_contains("Apply complete: 24 done, 0 failed, 0 skipped");
    run.stdout_contains("Done: 6 create, 10 invite, 8 add-service.");
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
    run.stdout_contains("No changes");
    // Zero writes: every object, etag and timestamp is exactly as before.
    assert_eq!(dump(&sb, &token), before);
}

#[test]
fn apply_refuses_without_confirmation_off_a_terminal() {
    let sb = Sandbox::start();
    let token = sb.add_partner("Acme Partners", true);
    let run = apply(&sb, &token, &[&acme()]).code(1);
    run.stderr_contains("refusing to apply without confirmation: stdin is not a terminal");
    let s = dump(&sb, &token);
    assert!(s.accounts.is_empty() && s.users.is_empty() && s.services.is_empty());
    // Anything but `yes` on stdin is not a confirmation either (stdin is a pipe here).
    let run = apply_cmd(&sb, &token, &[&acme()])
        .stdin("yes\n")
        .run()
        .code(1);
    run.stderr_contains("stdin is not a terminal");
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
    run.stdout_contains("Apply complete: 24 done");
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
    let mut child = apply_cmd(&sb, &token, &[&cfg, "--auto-approve", "--parallelism", "4"]).spawn();
    // Once the apply is well under way, kill it without warning.
    wait_for_accounts(&sb, &token, 40, &mut child);
    child.kill9();
    child.wait();
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
    with_target(partnerctl().arg("plan"), &sb, &token)
        .args([&acme(), "-o", &file])
        .run()
        .success();
    // Someone creates `contoso` meanwhile: the plan would now update it, not create it.
    let api = Api::new(&sb.url, &token);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let contoso = rt.block_on(api.customer("contoso"));
    let before = dump(&sb, &token);
    let run = apply(&sb, &token, &["--plan", &file]).code(1);
    run.stderr_contains(&format!(
        "plan is stale: {file}: 1 of its 24 operations needs objects that changed since the plan was made:\n  - customer.contoso (create): it exists now (customer {}, named \"Customer contoso\")\n  - and 13 operations that depend on it\nNothing was changed.",
        contoso["id"].as_str().unwrap()
    ));
    assert_eq!(dump(&sb, &token), before, "zero writes");

    // Unchanged live state: exactly the saved operations run, without a prompt.
    let sb = Sandbox::start();
    let token = sb.add_partner("Acme Partners", true);
    with_target(partnerctl().arg("plan"), &sb, &token)
        .args([&acme(), "-o", &file])
        .run()
        .success();
    let saved =
        partnerctl::plan::SavedPlan::from_json(&std::fs::read_to_string(&file).unwrap(), None)
            .unwrap();
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
fn a_rejected_operation_skips_only_its_dependents_and_is_located_in_the_configuration() {
    // A vendor stricter than partnerctl knows: names of at most 40 characters. `validate`
    // passes, so only the server can refuse it.
    let sb = Sandbox::start_args(&["--max-name-chars", "40"]);
    let token = sb.add_partner("Acme Partners", true);
    let dir = tempfile::tempdir().unwrap();
    let long = "N".repeat(41);
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
    let report = path_str(&dir.path().join("report.json"));
    let run = apply(&sb, &token, &[&cfg, "--auto-approve", "--report", &report]).code(1);
    run.stdout_contains("Apply finished with errors: 24 done, 1 failed, 4 skipped");
    run.stdout_contains("Failed (1):\n  - customer.toolong (create): ");
    run.stdout_contains("  - network.toolong-net (create) ← customer.toolong");
    run.stdout_contains("  - sub_account.toolong-site (create) ← customer.toolong");
    let extra = dir.path().join("extra.yaml").display().to_string();
    run.stderr_contains(&format!("{extra}:2:10: customer.toolong (create): POST "));
    run.stderr_contains("must be at most 40 characters");
    run.stdout_contains("The API refused the values of 1 operation(s): fix the configuration");
    assert!(
        !run.stdout.contains("apply` again"),
        "a re-run cannot help: {}",
        run.stdout
    );
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(
        (
            v["summary"]["failed"].clone(),
            v["summary"]["skipped"].clone()
        ),
        (1.into(), 4.into())
    );
    let ops = v["operations"].as_array().unwrap();
    let failed = ops.iter().find(|o| o["status"] == "failed").unwrap();
    assert_eq!(failed["address"], "customer.toolong");
    assert!(
        failed["error"]
            .as_str()
            .unwrap()
            .contains("at most 40 characters")
    );
    assert_eq!(failed["remedy"], "fix-configuration");
    let skipped: Vec<&Value> = ops.iter().filter(|o| o["status"] == "skipped").collect();
    assert!(
        skipped
            .iter()
            .all(|o| o["skipped_because"]["address"] == "customer.toolong")
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
    let mut child = apply_cmd(&sb, &token, &[&cfg, "--auto-approve", "--parallelism", "2"]).spawn();
    wait_for_accounts(&sb, &token, 10, &mut child);
    child.interrupt(); // Ctrl-C (asserts that `kill -INT` succeeded)
    let run = child.wait().code(1);
    run.stderr_contains("Interrupted: finishing in-flight operations")
        .stdout_contains("Apply interrupted: ")
        .stdout_contains(" not started in ");
    assert!(
        run.stdout.contains("0 failed"),
        "in-flight operations finished: {}",
        run.stdout
    );
    apply(&sb, &token, &[&cfg, "--auto-approve"]).success();
    assert_eq!(plan_exit(&sb, &token, &cfg), 0);
    assert_no_duplicates(&dump(&sb, &token));
}

#[test]
fn saved_plan_options_cannot_be_overridden() {
    let run = partnerctl()
        .args(["apply", "--plan", "whatever.json", "--prune"])
        .run()
        .code(1);
    run.stderr_contains("cannot be combined with --plan");
    let run = partnerctl()
        .args(["apply", "--plan", "x.json", "examples/acme"])
        .run()
        .code(1);
    run.stderr_contains("cannot be used with");
}

/// `partnerctl apply examples/acme` on a pseudo-terminal, typing `answer`.
fn apply_on_a_terminal(sb: &Sandbox, token: &str, answer: &str) -> Run {
    apply_cmd(sb, token, &[&acme()])
        .on_a_terminal()
        .stdin(answer)
        .run()
}

#[test]
fn on_a_terminal_apply_asks_and_only_yes_proceeds() {
    let sb = Sandbox::start();
    let token = sb.add_partner("Acme Partners", true);
    let run = apply_on_a_terminal(&sb, &token, "no\n").code(1);
    run.stdout_contains("Only 'yes' will be accepted");
    run.stdout_contains("Apply cancelled; nothing was changed.");
    assert!(dump(&sb, &token).accounts.is_empty(), "zero writes");
    let run = apply_on_a_terminal(&sb, &token, "yes\n").success();
    run.stdout_contains("Apply complete: 24 done");
    // On a terminal the plan is coloured.
    run.stdout_contains("\u{1b}[32m+\u{1b}[0m");
    assert_eq!(plan_exit(&sb, &token, &acme()), 0);
}
