//! The percentage guards end to end against the real sandbox binary: a refused plan or apply
//! exits 1 and writes nothing (the live state read back through the API is unchanged), and
//! `--force` is the way through.

use std::path::Path;

use crate::apply::{apply, dump, path_str, with_target};
use crate::support::Sandbox;
use crate::support::cli::partnerctl;

/// Writes a configuration of partner "Acme Partners" to `file`, with a customer `c{i}` of `n`
/// users (`u{j}@c{i}.example`) and every service type for each `(i, n)` of `customers`. The
/// first `renamed` users of each customer have another name.
fn estate(file: &Path, customers: &[(usize, usize)], renamed: usize) {
    let mut y = String::from("version: 1\npartner: { name: Acme Partners }\ncustomers:\n");
    for (i, users) in customers {
        y += &format!(
            "  - key: c{i}\n    name: Customer {i}\n    contact: {{ name: C, email: c{i}@x.example }}\n    country: GB\n    timezone: UTC\n    services:\n"
        );
        for t in ["cards", "mobile-id", "visitor-management", "access-control"] {
            y += &format!("      - {{ type: {t} }}\n");
        }
        y += "    users:\n";
        for j in 0..*users {
            let name = if j < renamed { "Renamed" } else { "User" };
            y += &format!("      - {{ email: u{j}@c{i}.example, name: {name} {j} }}\n");
        }
    }
    std::fs::write(file, y).unwrap();
}

/// Deleting a customer that holds most of the partner's users is refused like removing those
/// users one by one: exit 1, the refusal names the customer and what it takes with it, and
/// nothing changes; `--force` deletes it.
#[test]
fn deleting_a_customer_counts_what_it_holds_and_force_goes_through() {
    let sb = Sandbox::start();
    let token = sb.add_partner("Acme Partners", true);
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("estate.yaml");
    estate(&cfg, &[(0, 40), (1, 6), (2, 6)], 0);
    apply(&sb, &token, &[&path_str(&cfg), "--auto-approve"]).success();
    let before = dump(&sb, &token);
    assert_eq!(
        (
            before.accounts.len(),
            before.users.len(),
            before.services.len()
        ),
        (3, 52, 12)
    );
    let smaller = dir.path().join("smaller.yaml");
    estate(&smaller, &[(1, 6), (2, 6)], 0);
    let prune = [
        path_str(&smaller),
        "--prune".into(),
        "--prune-accounts".into(),
    ];
    let refusal = "deleting customer.c0 removes 40 of 52 users (77%), which exceeds --max-delete-percent 25; check the configuration, or pass --force (or raise --max-delete-percent) if this is intended";
    let plan = with_target(partnerctl().arg("plan"), &sb, &token)
        .args(&prune)
        .run()
        .code(1);
    plan.stdout_contains(refusal);
    plan.stdout_contains("deleting customer.c0 removes 4 of 12 services (34%)");
    let run = with_target(partnerctl().arg("apply"), &sb, &token)
        .args(&prune)
        .arg("--auto-approve")
        .run()
        .code(1);
    run.stdout_contains(refusal);
    run.stderr_contains("the plan is refused (2 reasons)");
    assert_eq!(dump(&sb, &token), before, "a refused apply writes nothing");
    with_target(partnerctl().arg("apply"), &sb, &token)
        .args(&prune)
        .args(["--auto-approve", "--force"])
        .run()
        .success()
        .stdout_contains("1 delete");
    let after = dump(&sb, &token);
    assert_eq!(
        (
            after.accounts.len(),
            after.users.len(),
            after.services.len()
        ),
        (2, 12, 8)
    );
    assert!(after.accounts.iter().all(|a| a["external_key"] != "c0"));
}

/// Renaming a third of the users is refused (exit 1, nothing written) until `--force`.
#[test]
fn updating_a_third_of_the_users_is_refused_until_forced() {
    let sb = Sandbox::start();
    let token = sb.add_partner("Acme Partners", true);
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("estate.yaml");
    estate(&cfg, &[(0, 6), (1, 6)], 0);
    apply(&sb, &token, &[&path_str(&cfg), "--auto-approve"]).success();
    let before = dump(&sb, &token);
    estate(&cfg, &[(0, 6), (1, 6)], 2);
    let refusal = "updating 4 of 12 users (34%) exceeds --max-update-percent 30; check the configuration, or pass --force (or raise --max-update-percent) if this is intended";
    with_target(partnerctl().arg("plan"), &sb, &token)
        .arg(&cfg)
        .run()
        .code(1)
        .stdout_contains(refusal);
    let run = apply(&sb, &token, &[&path_str(&cfg), "--auto-approve"]).code(1);
    run.stdout_contains(refusal);
    run.stderr_contains("the plan is refused (1 reason)");
    assert_eq!(dump(&sb, &token), before, "a refused apply writes nothing");
    apply(&sb, &token, &[&path_str(&cfg), "--auto-approve", "--force"])
        .success()
        .stdout_contains("4 update-user");
    let renamed = dump(&sb, &token)
        .users
        .iter()
        .filter(|u| u["name"].as_str().unwrap().starts_with("Renamed"))
        .count();
    assert_eq!(renamed, 4);
}
