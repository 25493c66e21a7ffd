//! partnerctl against the sandbox's Nexudus dialect, end to end: customers, network accounts
//! and sub-accounts are manual steps with a runbook; once the admin commands (the person at
//! the dashboard) have made them, the next plan finds them by name; invitations land as logins
//! with the right businesses and admin flag; a customer that may not be managed refuses changes
//! inside it; the plan afterwards is empty. Faults, refusals, throttling and the daily budget
//! go through the real client.

use serde_json::Value;

use crate::support::Sandbox;
use crate::support::cli::{Cmd, Run, partnerctl};
use crate::support::nexudus::{LOGIN, Nx, PASSWORD};

/// The sandbox's time scale, and the client's (they must agree).
const SCALE: &str = "1000";

const PARTNER: &str = "version: 1
partner:
  name: Acme Partners
  users:
    - { email: ops@acme.example, name: Acme Ops, role: admin }
defaults:
  country: GB
  timezone: Europe/London
";

const CUSTOMERS: &str = "customers:
  - key: contoso
    name: Contoso Ltd
    contact: { name: Jane Doe, email: jane@contoso.example }
    users:
      - { email: jane@contoso.example, name: Jane Doe, role: admin }
      - { email: bob@contoso.example, name: Bob }
    networks:
      - key: contoso-network
        name: Contoso Network
        sub_accounts:
          - key: contoso-paris
            name: Contoso Paris
            timezone: Europe/Paris
            users: [{ email: paris@contoso.example, name: Paris Desk }]
";

/// A configuration directory with `customers` beside the partner file.
fn config(customers: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("partner.yaml"), PARTNER).unwrap();
    std::fs::write(dir.path().join("customers.yaml"), customers).unwrap();
    dir
}

/// `partnerctl CMD` against the sandbox as a Nexudus reseller login.
fn nexudus(sb: &Sandbox, cmd: &str, dir: &tempfile::TempDir, scale: &str) -> Cmd {
    partnerctl()
        .arg(cmd)
        .arg(dir.path())
        .env("PARTNERCTL_PROVIDER", "nexudus")
        .env("PARTNERCTL_ENDPOINT", &sb.url)
        .env("NEXUDUS_USERNAME", LOGIN)
        .env("NEXUDUS_PASSWORD", PASSWORD)
        .env("PARTNERCTL_NEXUDUS_TIME_SCALE", scale)
}

fn apply(sb: &Sandbox, dir: &tempfile::TempDir) -> Run {
    nexudus(sb, "apply", dir, SCALE)
        .args(["--auto-approve", "--format", "json"])
        .run()
}

/// Every login: email → (IsAdmin, Active, business names).
async fn logins(nx: &Nx) -> Vec<(String, bool, Vec<String>)> {
    let businesses = nx.list_all("/api/sys/businesses", 1000).await;
    let name = |id: &Value| {
        businesses
            .iter()
            .find(|b| b["Id"] == *id)
            .map_or("?".to_string(), |b| b["Name"].as_str().unwrap().to_string())
    };
    let mut out = Vec::new();
    for u in nx.list_all("/api/sys/users", 1000).await {
        let full = nx.get(&format!("/api/sys/users/{}", u["Id"])).await.ok();
        let mut names: Vec<String> = full["Businesses"]
            .as_array()
            .unwrap()
            .iter()
            .map(name)
            .collect();
        names.sort();
        out.push((
            full["Email"].as_str().unwrap().to_string(),
            full["IsAdmin"].as_bool().unwrap(),
            names,
        ));
    }
    out.sort();
    out
}

#[tokio::test]
async fn manual_steps_then_adoption_by_name_then_invitations_then_no_changes() {
    let sb = Sandbox::nexudus(&["--time-scale", SCALE]);
    let nx = sb.nexudus_partner("Acme Partners", LOGIN);
    let dir = config(CUSTOMERS);
    // 1. The plan: three manual steps in the dashboard's words, with the values to type.
    let plan = nexudus(&sb, "plan", &dir, SCALE).run().success();
    for line in [
        "1. Add the customer account",
        "click \"Add account\" (older dashboards: \"Add Customer\")",
        "Name: Contoso Ltd",
        "Contact email: jane@contoso.example",
        "Country: GB",
        "select the customer \"Contoso Ltd\" and click \"Add network account\".",
        "click \"⋯\" next to the network account \"Contoso Network\" and choose \"Add sub-account\" (older dashboards: select it and click \"Create sub-account\").",
        "Time zone: Europe/Paris",
    ] {
        plan.stdout_contains(line);
    }
    plan.stdout_contains("reading took");
    let json = nexudus(&sb, "plan", &dir, SCALE)
        .args(["--format", "json"])
        .run()
        .success();
    crate::support::assert_matches_schema("plan", &json.stdout);
    let v: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["manual_steps"].as_array().map(Vec::len), Some(3), "{v}");
    // 2. Apply does what it can (the partner's user), skips the rest, and ends with exit 1.
    let run = apply(&sb, &dir).code(1);
    crate::support::assert_matches_schema("apply-report", &run.stdout);
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    assert!(
        report["summary"]["waiting_for_manual_steps"].as_u64() > Some(0),
        "{report}"
    );
    let status = |address: &str| {
        report["operations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["address"] == address)
            .map(|o| o["status"].as_str().unwrap().to_string())
    };
    assert_eq!(
        status("partner.user[ops@acme.example]").as_deref(),
        Some("done")
    );
    assert_eq!(status("customer.contoso").as_deref(), Some("manual"));
    assert_eq!(
        status("customer.contoso.user[jane@contoso.example]").as_deref(),
        Some("skipped")
    );
    // 3. The person at the dashboard follows the runbook.
    sb.add_contoso_tree(&["--timezone", "Europe/Paris"]);
    // 4. The next plan finds them by name and invites; apply completes.
    let plan = nexudus(&sb, "plan", &dir, SCALE).run().success();
    assert!(!plan.stdout.contains("Manual steps"), "{}", plan.stdout);
    plan.stdout_contains("+ invite jane@contoso.example (\"Jane Doe\", admin)");
    apply(&sb, &dir).success();
    assert_eq!(
        logins(&nx).await,
        [
            (
                "bob@contoso.example".into(),
                false,
                vec!["Contoso Ltd".into()]
            ),
            (
                "jane@contoso.example".into(),
                true,
                vec!["Contoso Ltd".into()]
            ),
            (
                "ops@acme.example".into(),
                true,
                vec!["Acme Partners".into()]
            ),
            (
                "paris@contoso.example".into(),
                false,
                vec!["Contoso Paris".into()]
            ),
        ]
    );
    // 5. Converged.
    nexudus(&sb, "plan", &dir, SCALE)
        .arg("--detailed-exitcode")
        .run()
        .code(0)
        .stdout_contains("No changes");
    // 6. A customer whose reseller account does not allow managing it refuses changes inside.
    sb.admin(&[
        "accounts",
        "set-manageable",
        "--name",
        "Contoso Ltd",
        "--manageable",
        "false",
    ])
    .success();
    let more = CUSTOMERS.replace(
        "      - { email: bob@contoso.example, name: Bob }\n",
        "      - { email: bob@contoso.example, name: Bob }\n      - { email: new@contoso.example, name: New }\n",
    );
    let dir = config(&more);
    nexudus(&sb, "plan", &dir, SCALE)
        .run()
        .code(1)
        .stdout_contains("customer \"Contoso Ltd\" may not be managed by the partner");
}

#[test]
fn services_are_refused_for_this_vendor_and_a_login_is_required() {
    let sb = Sandbox::nexudus(&["--time-scale", SCALE]);
    sb.nexudus_partner("Acme Partners", LOGIN);
    let dir = config(&CUSTOMERS.replace(
        "    networks:\n",
        "    services: [{ type: cards }]\n    networks:\n",
    ));
    nexudus(&sb, "plan", &dir, SCALE)
        .run()
        .code(1)
        .stdout_contains("the vendor's API does not manage services");
    partnerctl()
        .arg("plan")
        .arg(dir.path())
        .env("PARTNERCTL_PROVIDER", "nexudus")
        .env("PARTNERCTL_ENDPOINT", &sb.url)
        .run()
        .code(1)
        .stderr_contains("no Nexudus login for");
    nexudus(&sb, "plan", &dir, SCALE)
        .env("NEXUDUS_PASSWORD", "wrong")
        .run()
        .code(1)
        .stderr_contains("the Nexudus API refused the login");
}

/// Customers, users of the partner only: `n` invitations at the partner, all new logins.
fn partner_users(n: usize) -> String {
    let users: String = (0..n)
        .map(|i| format!("    - {{ email: u{i}@acme.example, name: User {i} }}\n"))
        .collect();
    format!(
        "version: 1\npartner:\n  name: Acme Partners\n  users:\n    - {{ email: ops@acme.example, name: Acme Ops, role: admin }}\n{users}"
    )
}

fn partner_only(n: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("partner.yaml"), partner_users(n)).unwrap();
    dir
}

/// Dropped connections and server errors, before and after the commit: every login exists
/// exactly once (checked through the API), and the estate converges.
#[tokio::test]
async fn faults_never_leave_two_logins() {
    let sb = Sandbox::nexudus(&["--time-scale", SCALE, "--fail-rate", "0.4", "--seed", "11"]);
    let nx = sb.nexudus_partner("Acme Partners", LOGIN);
    let dir = partner_only(12);
    let mut runs = 0;
    loop {
        runs += 1;
        let run = apply(&sb, &dir);
        if run.code == 0 {
            break;
        }
        assert!(
            runs < 6,
            "no convergence after {runs} runs:\n{}",
            run.stderr
        );
    }
    let emails: Vec<String> = logins(&nx).await.into_iter().map(|l| l.0).collect();
    let mut unique = emails.clone();
    unique.dedup();
    assert_eq!(emails, unique, "a login was created twice");
    assert_eq!(emails.len(), 13);
}

/// Every write fails (a 500, or a dropped connection, before or after the commit): each
/// failure is reported as the API failing, to be run again, never as a refusal of the values.
/// (Renames: a complete-record PUT is sent again on each attempt, and every attempt fails; an
/// invitation would look the login up and often find it made.)
#[test]
fn server_errors_and_dropped_connections_are_to_be_run_again() {
    let home = tempfile::tempdir().unwrap();
    let db = home.path().join("sandbox.db");
    let args = ["--dialect", "nexudus", "--time-scale", SCALE];
    {
        let sb = Sandbox::start_on(&db, &args);
        sb.nexudus_partner("Acme Partners", LOGIN);
        apply(&sb, &partner_only(4)).success();
    }
    let sb = Sandbox::start_on(&db, &[&args[..], &["--fail-rate", "1"]].concat());
    let dir = tempfile::tempdir().unwrap();
    let renamed = partner_users(4).replace("name: User", "name: Person");
    std::fs::write(dir.path().join("partner.yaml"), renamed).unwrap();
    let run = apply(&sb, &dir).code(1);
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    let failed = remedies(&report);
    assert_eq!(failed.len(), 4, "{}", run.stdout);
    assert!(failed.iter().all(|r| r == "rerun"), "{}", run.stdout);
    assert!(!run.stdout.contains("was refused"), "{}", run.stdout);
}

/// The sandbox allows fewer writes a minute than the client believes: the 409s it answers
/// (empty body, Retry-After) are waited out and retried, and the run completes. Its minute
/// lasts 600 ms: 31 writes cannot fit in 5 a window however slowly a loaded machine sends
/// them (at the usual 60 ms one write each 12 ms could).
#[test]
fn a_throttling_409_is_waited_out_and_retried() {
    const SLOWER: &str = "100";
    let sb = Sandbox::nexudus(&["--time-scale", SLOWER, "--writes-per-minute", "5"]);
    sb.nexudus_partner("Acme Partners", LOGIN);
    let dir = partner_only(30);
    let run = nexudus(&sb, "apply", &dir, SLOWER)
        .args(["--auto-approve", "--format", "json"])
        .run()
        .success();
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    assert!(
        report["summary"]["throttled"].as_u64().unwrap() > 0,
        "{}",
        run.stdout
    );
    assert_eq!(report["summary"]["done"], 31);
}

/// The remedy of every failed operation of a JSON apply report.
fn remedies(report: &Value) -> Vec<String> {
    report["operations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["status"] == "failed")
        .map(|o| o["remedy"].as_str().unwrap().to_string())
        .collect()
}

/// A 409 with a body and no `Retry-After` is a conflict, not a throttle: reported as the
/// failure it is, after one attempt each (no wait, no retry), to be run again (the next plan
/// reads the change), and nothing was written.
#[tokio::test]
async fn a_conflict_409_is_not_retried() {
    let sb = Sandbox::nexudus(&["--time-scale", SCALE, "--conflict-rate", "1"]);
    let nx = sb.nexudus_partner("Acme Partners", LOGIN);
    let dir = partner_only(2);
    let run = apply(&sb, &dir).code(1);
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    let summary = &report["summary"];
    assert_eq!(summary["failed"], 3, "{}", run.stdout);
    assert_eq!(summary["retries"], 0, "{}", run.stdout);
    assert_eq!(summary["throttled"], 0, "{}", run.stdout);
    assert!(run.stdout.contains("HTTP 409"), "{}", run.stdout);
    assert!(run.stdout.contains("conflict"), "{}", run.stdout);
    assert_eq!(remedies(&report), ["rerun"; 3], "{}", run.stdout);
    // The refused writes wrote nothing: no login was made.
    assert_eq!(logins(&nx).await, vec![]);
}

/// At the documented limits the pacing keeps every request inside the windows: no throttled
/// answer, in real time (13 writes; unpaced, a burst of them meets about a dozen) and with time
/// sped up 60 times (121 writes, two minutes' worth of the write window), where the 100 ms
/// window lasts less than 2 ms and a busy machine delays requests by more than that: a request
/// counts from its answer, not from when it was sent.
#[test]
fn paced_at_the_limits_requests_stay_inside_the_windows() {
    for (scale, users) in [("1", 12), ("60", 120)] {
        let sb = Sandbox::nexudus(&["--time-scale", scale]);
        sb.nexudus_partner("Acme Partners", LOGIN);
        let dir = partner_only(users);
        let run = nexudus(&sb, "apply", &dir, scale)
            .args(["--auto-approve", "--format", "json"])
            .run()
            .success();
        let report: Value = serde_json::from_str(&run.stdout).unwrap();
        let throttled = report["summary"]["throttled"].as_u64().unwrap();
        assert_eq!(throttled, 0, "time scale {scale}:\n{}", run.stdout);
        assert_eq!(report["summary"]["done"], users + 1);
    }
}

/// A daily budget of 5 writes (a day lasting one second): the apply stops after 5 with the
/// reason and when the budget renews; after the day, a re-run finishes the job. `--max-writes`
/// caps a run the same way.
#[test]
fn the_daily_budget_stops_the_apply_and_a_later_run_finishes() {
    let scale = "86400";
    let sb = Sandbox::nexudus(&["--time-scale", scale, "--writes-per-day", "5"]);
    sb.nexudus_partner("Acme Partners", LOGIN);
    let dir = partner_only(7);
    let run = nexudus(&sb, "apply", &dir, scale)
        .arg("--auto-approve")
        .run()
        .code(1);
    run.stdout_contains("Apply stopped early: 5 done");
    run.stdout_contains("daily write budget is spent; it renews in");
    run.stdout_contains("Run `partnerctl apply` again to finish");
    // Wait for the renewal the tool announced (at most the one-second day).
    let renews: f64 = run
        .stdout
        .split("renews in ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|s| s.parse().ok())
        .unwrap();
    std::thread::sleep(std::time::Duration::from_secs_f64(renews + 0.05));
    let run = nexudus(&sb, "apply", &dir, scale)
        .arg("--auto-approve")
        .run()
        .success();
    run.stdout_contains("Apply complete: 3 done");
    // --max-writes: one run does at most N.
    let dir = partner_only(9);
    nexudus(&sb, "apply", &dir, scale)
        .args(["--auto-approve", "--max-writes", "1"])
        .run()
        .code(1)
        .stdout_contains(
            "Stopped starting operations: --max-writes 1 reached; 1 operation(s) left",
        );
}

/// A write the API refuses with HTTP 200 and `WasSuccessful: false` (here: inside a customer
/// that may not be managed, which the plan would have refused first) is the failure it is.
#[tokio::test]
async fn a_200_with_was_successful_false_is_a_failure() {
    use partnerctl::plan::{AccountRef, Change, Operation, Person};
    use partnerctl::provider::nexudus::NexudusProvider;
    use partnerctl::provider::nexudus::error::NexudusError;
    use partnerctl::provider::{Provider, Remedy, Resolved};
    use partnerctl::vocab::{AccountKind, Role};

    let sb = Sandbox::nexudus(&["--time-scale", SCALE]);
    sb.nexudus_partner("Acme Partners", LOGIN);
    sb.add_customer("Closed Ltd", &["--not-manageable"]);
    let provider = sb.nexudus_provider();
    let live = provider.snapshot().await.unwrap();
    let closed = live
        .accounts
        .iter()
        .find(|a| a.name == "Closed Ltd")
        .unwrap();
    assert!(!closed.manageable);
    let op = Operation::new(
        AccountRef::Account {
            kind: AccountKind::Customer,
            key: None,
            id: Some(closed.id.clone()),
        },
        Change::Invite(Person {
            email: "x@closed.example".into(),
            name: "X".into(),
            role: Role::Member,
        }),
    );
    let ids = Resolved {
        account_id: Some(closed.id.clone()),
        parent_id: None,
        private: live.private.clone(),
    };
    let e = provider.execute(&op, &ids, "unused").await.unwrap_err();
    assert!(
        matches!(e, NexudusError::Refused { status, .. } if status.as_u16() == 200),
        "{e:?}"
    );
    assert!(
        e.to_string().contains("(HTTP 200, WasSuccessful false)"),
        "{e}"
    );
    // The API meant 403: a permission, not a value, is what must change.
    assert_eq!(NexudusProvider::remedy(&e), Remedy::FixAccess);
}

/// What the read noted travels with the plan to the provider: inviting a login the read saw
/// links it straight away (read its record, update it, read it back), while the same
/// invitation without the read's notes first tries to create the login, is told the email is
/// taken, and looks it up by email.
#[tokio::test]
async fn the_logins_the_read_saw_reach_the_invitations() {
    use partnerctl::live::Private;
    use partnerctl::plan::{AccountRef, Change, Operation, Person};
    use partnerctl::provider::{Provider, Resolved};
    use partnerctl::vocab::{AccountKind, Role};

    let sb = Sandbox::nexudus(&["--time-scale", SCALE]);
    sb.nexudus_partner("Acme Partners", LOGIN);
    for i in 0..3 {
        sb.add_customer(&format!("Customer {i}"), &[]);
    }
    let dir = one_login_in_many(3, 1);
    apply(&sb, &dir).success();
    let provider = sb.nexudus_provider();
    let live = provider.snapshot().await.unwrap();
    let invite = |customer: &str, private: &Private| {
        let id = live
            .accounts
            .iter()
            .find(|a| a.name == customer)
            .map(|a| a.id.clone())
            .unwrap();
        let op = Operation::new(
            AccountRef::Account {
                kind: AccountKind::Customer,
                key: None,
                id: Some(id.clone()),
            },
            Change::Invite(Person {
                email: "jane@example.com".into(),
                name: "Jane Doe".into(),
                role: Role::Member,
            }),
        );
        let ids = Resolved {
            account_id: Some(id),
            parent_id: None,
            private: private.clone(),
        };
        (op, ids)
    };
    let (op, ids) = invite("Customer 1", &live.private);
    let before = provider.requests();
    provider.execute(&op, &ids, "unused").await.unwrap();
    let with_notes = provider.requests() - before;
    // A provider of its own (one provider hands an operation the record the previous one on
    // the same login left), which has read the live state itself: what it noted there is not
    // kept inside it, only what the operation carries counts.
    let other = sb.nexudus_provider();
    other.snapshot().await.unwrap();
    let (op, ids) = invite("Customer 2", &Private::default());
    let before = other.requests();
    other.execute(&op, &ids, "unused").await.unwrap();
    let without = other.requests() - before;
    assert_eq!((with_notes, without), (3, 5));
    let jane: Vec<String> = provider
        .snapshot()
        .await
        .unwrap()
        .users
        .iter()
        .filter(|u| u.email == "jane@example.com")
        .map(|u| u.account_id.clone())
        .collect();
    assert_eq!(jane.len(), 3, "{jane:?}");
}

/// `n` customers (as the dashboard made them), the first `linked` of which list `jane` as a
/// member.
fn one_login_in_many(n: usize, linked: usize) -> tempfile::TempDir {
    let customers: String = (0..n)
        .map(|i| {
            let users = if i < linked {
                "    users: [{ email: jane@example.com, name: Jane Doe }]\n"
            } else {
                ""
            };
            format!(
                "  - key: c{i}\n    name: Customer {i}\n    contact: {{ name: C, email: c@example.com }}\n{users}"
            )
        })
        .collect();
    config(&format!("customers:\n{customers}"))
}

/// One login linked to 8 businesses by one apply with 8 operations in flight, then unlinked
/// from 4 of them: each apply reports what the API shows (the next plan has no changes), and
/// the login has exactly the businesses the configuration lists.
#[tokio::test]
async fn operations_on_one_login_never_undo_each_other() {
    let sb = Sandbox::nexudus(&["--time-scale", SCALE]);
    let nx = sb.nexudus_partner("Acme Partners", LOGIN);
    for i in 0..8 {
        sb.add_customer(&format!("Customer {i}"), &[]);
    }
    let jane = |logins: Vec<(String, bool, Vec<String>)>| {
        logins
            .into_iter()
            .find(|l| l.0 == "jane@example.com")
            .map(|l| l.2)
            .unwrap_or_default()
    };
    let names = |n: usize| -> Vec<String> { (0..n).map(|i| format!("Customer {i}")).collect() };
    let dir = one_login_in_many(8, 8);
    let run = nexudus(&sb, "apply", &dir, SCALE)
        .args(["--auto-approve", "--parallelism", "8", "--format", "json"])
        .run()
        .success();
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["summary"]["done"], 9, "{}", run.stdout);
    assert_eq!(jane(logins(&nx).await), names(8));
    nexudus(&sb, "plan", &dir, SCALE)
        .arg("--detailed-exitcode")
        .run()
        .code(0);

    let dir = one_login_in_many(8, 4);
    nexudus(&sb, "apply", &dir, SCALE)
        .args(["--auto-approve", "--prune", "--parallelism", "8"])
        .run()
        .success();
    assert_eq!(jane(logins(&nx).await), names(4));
    nexudus(&sb, "plan", &dir, SCALE)
        .args(["--detailed-exitcode", "--prune"])
        .run()
        .code(0);
}

/// A role belongs to the login here: one email as admin of the partner and member of a
/// customer is refused by `plan` and `apply` before anything is read or written, at both
/// places; `validate` refuses it when told the provider, and accepts it for the partner API.
#[tokio::test]
async fn one_email_with_two_roles_is_refused_at_every_place() {
    let sb = Sandbox::nexudus(&["--time-scale", SCALE]);
    let nx = sb.nexudus_partner("Acme Partners", LOGIN);
    let dir = config(&CUSTOMERS.replace(
        "      - { email: bob@contoso.example, name: Bob }\n",
        "      - { email: bob@contoso.example, name: Bob }\n      - { email: OPS@acme.example, name: Acme Ops }\n",
    ));
    let partner = format!("{}", dir.path().join("partner.yaml").display());
    let customers = format!("{}", dir.path().join("customers.yaml").display());
    for extra in [vec!["plan"], vec!["apply", "--auto-approve"]] {
        let run = nexudus(&sb, extra[0], &dir, SCALE)
            .args(&extra[1..])
            .run()
            .code(1);
        run.stderr_contains(&format!(
            "{partner}:5:16: `ops@acme.example` is admin in partner but member in customer.contoso ({customers}:8:18)"
        ));
        run.stderr_contains(&format!(
            "{customers}:8:18: `ops@acme.example` is member in customer.contoso but admin in partner ({partner}:5:16)"
        ));
        run.stderr_contains("nothing was read from or written to the API");
    }
    assert_eq!(logins(&nx).await, vec![]);
    nexudus(&sb, "validate", &dir, SCALE)
        .run()
        .code(1)
        .stderr_contains("give `ops@acme.example` one role everywhere");
    partnerctl()
        .arg("validate")
        .arg(dir.path())
        .env("PARTNERCTL_PROVIDER", "http")
        .run()
        .success();
}

/// After convergence, the live access report names accounts by the configuration's keys and
/// marks nobody the configuration lists as unmanaged; the plan's access change for a new
/// member of one sub-account is that one account, as `access --user` shows it.
#[test]
fn live_access_is_in_the_configurations_terms() {
    let sb = Sandbox::nexudus(&["--time-scale", SCALE]);
    sb.nexudus_partner("Acme Partners", LOGIN);
    sb.add_contoso_tree(&[]);
    let dir = config(CUSTOMERS);
    apply(&sb, &dir).success();
    let access = nexudus(&sb, "access", &dir, SCALE)
        .args(["--live", "--format", "json"])
        .run()
        .success();
    let report: Value = serde_json::from_str(&access.stdout).unwrap();
    let grants = report["grants"].as_array().expect("grants");
    assert!(!grants.is_empty());
    for g in grants {
        assert_eq!(g["unmanaged"], false, "{g}");
        let account = g["account"].as_str().unwrap();
        assert!(!account.contains("[id="), "{g}");
    }
    // One more person on the sub-account: the plan says one account, like the access report
    // will.
    let dir = config(&CUSTOMERS.replace(
        "users: [{ email: paris@contoso.example, name: Paris Desk }]",
        "users: [{ email: paris@contoso.example, name: Paris Desk }, { email: new@contoso.example, name: New }]",
    ));
    let plan = nexudus(&sb, "plan", &dir, SCALE)
        .args(["--format", "json"])
        .run()
        .success();
    crate::support::assert_matches_schema("plan", &plan.stdout);
    let plan: Value = serde_json::from_str(&plan.stdout).unwrap();
    let changes = plan["access_changes"].as_array().expect("access changes");
    assert_eq!(changes.len(), 1, "{plan}");
    assert_eq!(changes[0]["email"], "new@contoso.example");
    assert_eq!(changes[0]["gains"], 1);
    apply(&sb, &dir).success();
    let user = nexudus(&sb, "access", &dir, SCALE)
        .args([
            "--live",
            "--user",
            "new@contoso.example",
            "--format",
            "json",
        ])
        .run()
        .success();
    let user: Value = serde_json::from_str(&user.stdout).unwrap();
    let accounts: Vec<&str> = user["grants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["account"].as_str().unwrap())
        .collect();
    assert_eq!(accounts, ["sub_account.contoso-paris"]);
}

/// Runs started one right after another, in real time: each run's sign-in comes within the
/// API's 100 ms of the previous run's last request, and its throttled answer is waited out
/// like any other request's instead of failing the login.
#[test]
fn runs_back_to_back_wait_out_a_throttled_sign_in() {
    let sb = Sandbox::nexudus(&["--time-scale", "1"]);
    sb.nexudus_partner("Acme Partners", LOGIN);
    let dir = config(CUSTOMERS);
    for _ in 0..3 {
        nexudus(&sb, "plan", &dir, "1").run().success();
    }
}

/// The provider reads the country and time zone lists once a read, whatever the number of
/// businesses, and gives the live model the ISO code and the IANA name each business points at
/// (what `export` writes); the read's cost counts the two lists.
#[tokio::test]
async fn countries_and_time_zones_are_read_once_and_mapped_to_codes_and_names() {
    use partnerctl::provider::Provider;

    let sb = Sandbox::nexudus(&["--time-scale", SCALE]);
    sb.nexudus_partner("Acme Partners", LOGIN);
    sb.add_contoso_tree(&["--country", "FR", "--timezone", "Europe/Paris"]);
    let provider = sb.nexudus_provider();
    // The first read signs in; the ones measured below do not.
    provider.snapshot().await.unwrap();
    let live = provider.snapshot().await.unwrap();
    let fields: Vec<(&str, Option<&str>, Option<&str>)> = live
        .accounts
        .iter()
        .map(|a| {
            let (c, t) = (a.country.as_deref(), a.timezone.as_deref());
            (a.name.as_str(), c, t)
        })
        .collect();
    assert_eq!(
        fields,
        [
            ("Contoso Ltd", Some("GB"), Some("Europe/London")),
            // Inherited from its customer when it was added.
            ("Contoso Network", Some("GB"), Some("Europe/London")),
            ("Contoso Paris", Some("FR"), Some("Europe/Paris")),
        ]
    );
    // The reseller, the country list, the time zone list, the reseller accounts, the
    // businesses and the users (none, so no batch get): one page each.
    let requests = |s: &partnerctl::live::Snapshot| s.read.as_ref().unwrap().requests;
    assert_eq!(requests(&live), 6);
    for i in 0..12 {
        let name = format!("Customer {i}");
        let country = ["DE", "ES", "IT"][i % 3];
        sb.add_account(&[
            "--kind",
            "customer",
            "--name",
            &name,
            "--contact-name",
            "C",
            "--contact-email",
            "c@example.com",
            "--country",
            country,
            "--timezone",
            "Europe/Berlin",
        ]);
    }
    let more = provider.snapshot().await.unwrap();
    assert_eq!(more.accounts.len(), 15);
    assert_eq!(
        requests(&more),
        6,
        "the lists are read once, not per business"
    );
    let de = more
        .accounts
        .iter()
        .find(|a| a.name == "Customer 0")
        .unwrap();
    assert_eq!(
        (de.country.as_deref(), de.timezone.as_deref()),
        (Some("DE"), Some("Europe/Berlin"))
    );
}

/// A rename is a `PUT` of the complete business: what partnerctl does not manage (the second
/// contact email, the country and time zone ids) is what it was before.
#[tokio::test]
async fn a_rename_keeps_the_fields_partnerctl_does_not_manage() {
    let sb = Sandbox::nexudus(&["--time-scale", SCALE]);
    let nx = sb.nexudus_partner("Acme Partners", LOGIN);
    sb.add_customer("Contoso", &[]);
    let listed = nx.list_all("/api/sys/businesses", 1000).await;
    let id = listed.iter().find(|b| b["Name"] == "Contoso").unwrap()["Id"].clone();
    let path = format!("/api/sys/businesses/{id}");
    let mut record = nx.get(&path).await.ok();
    record["ContactEmail"] = "desk@contoso.example".into();
    nx.put("/api/sys/businesses", record).await.written();
    let before = nx.get(&path).await.ok();
    let dir = config(&format!(
        "customers:\n  - key: contoso\n    name: Contoso Ltd\n    adopt: \"{id}\"\n    contact: {{ name: Jane Doe, email: jane@contoso.example }}\n"
    ));
    apply(&sb, &dir).success();
    let after = nx.get(&path).await.ok();
    assert_eq!(after["Name"], "Contoso Ltd");
    for field in ["Email", "ContactEmail", "CountryId", "SimpleTimeZoneId"] {
        assert!(!before[field].is_null(), "{field}: {before}");
        assert_eq!(after[field], before[field], "{field}");
    }
}

/// Renaming a customer the reseller may not manage: Nexudus refuses any change to that
/// business, so the plan is refused before anything is written (where it used to fail at
/// apply), naming the customer; the business keeps its name.
#[tokio::test]
async fn renaming_a_customer_the_reseller_may_not_manage_is_refused_by_the_plan() {
    let sb = Sandbox::nexudus(&["--time-scale", SCALE]);
    let nx = sb.nexudus_partner("Acme Partners", LOGIN);
    sb.add_customer("Closed Ltd", &["--not-manageable"]);
    let listed = nx.list_all("/api/sys/businesses", 1000).await;
    let id = listed.iter().find(|b| b["Name"] == "Closed Ltd").unwrap()["Id"].clone();
    let dir = config(&format!(
        "customers:\n  - key: closed\n    name: Closed Renamed\n    adopt: \"{id}\"\n"
    ));
    let run = apply(&sb, &dir).code(1);
    run.stderr_contains("customer \"Closed Ltd\" may not be managed by the partner");
    run.stderr_contains("1 change(s) to it or inside it cannot be made");
    let after = nx.get(&format!("/api/sys/businesses/{id}")).await.ok();
    assert_eq!(after["Name"], "Closed Ltd");
}
