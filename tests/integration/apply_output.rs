//! `partnerctl apply` options that shape what it does and reports: the JSON apply report and
//! `--target`, against the real sandbox binary.

use serde_json::Value;

use crate::apply::{State, apply, apply_cmd, dump, path_str, with_target};
use crate::support::cli::{partnerctl, root};
use crate::support::{Sandbox, acme, assert_matches_schema};

#[test]
fn the_json_apply_report_lists_statuses_errors_and_created_ids() {
    let sb = Sandbox::start();
    let token = sb.add_partner("Acme Partners", true);
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let run = apply_cmd(
        &sb,
        &token,
        &[&acme(), "--auto-approve", "--format", "json"],
    )
    .arg("--report")
    .arg(&report)
    .run()
    .success();
    // stdout is only the report; the plan and summary for people went to stderr.
    assert_matches_schema("apply-report", &run.stdout);
    let v: Value = serde_json::from_str(&run.stdout).expect("stdout is one JSON document");
    assert_eq!(
        v,
        serde_json::from_str::<Value>(&std::fs::read_to_string(&report).unwrap()).unwrap()
    );
    run.stderr_contains("Apply complete: 24 done");
    assert_eq!(v["format_version"], "1");
    assert_eq!(v["summary"]["done"], 24);
    assert_eq!(v["summary"]["success"], true);
    let ops = v["operations"].as_array().unwrap();
    assert!(ops.iter().all(|o| o["status"] == "done"));
    // The created ids are the live accounts' ids, key for key.
    let live = dump(&sb, &token);
    let creates: Vec<&Value> = ops.iter().filter(|o| o["action"] == "create").collect();
    assert_eq!(creates.len(), 6);
    for c in creates {
        let key = c["address"].as_str().unwrap().split_once('.').unwrap().1;
        let account = live
            .accounts
            .iter()
            .find(|a| a["external_key"] == key)
            .unwrap();
        assert_eq!(c["created_id"], account["id"], "{key}");
    }
    // Nothing to do: an empty, successful report.
    let run = apply_cmd(
        &sb,
        &token,
        &[&acme(), "--auto-approve", "--format", "json"],
    )
    .run()
    .success();
    assert_matches_schema("apply-report", &run.stdout);
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["summary"]["operations"], 0);
    assert_eq!(v["summary"]["success"], true);
}

#[test]
fn target_plans_and_applies_nothing_outside_it() {
    let sb = Sandbox::start();
    let token = sb.add_partner("Acme Partners", true);
    let run = with_target(partnerctl().arg("plan"), &sb, &token)
        .args([&acme(), "--target", "customer.fabrikam", "--format", "json"])
        .run()
        .success();
    assert_matches_schema("plan", &run.stdout);
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["targets"], serde_json::json!(["customer.fabrikam"]));
    let addresses: Vec<&str> = v["operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["address"].as_str().unwrap())
        .collect();
    assert_eq!(addresses.len(), 4, "{addresses:?}");
    assert!(addresses.iter().all(|a| a.starts_with("customer.fabrikam")));
    apply(
        &sb,
        &token,
        &[&acme(), "--auto-approve", "--target", "customer.fabrikam"],
    )
    .success();
    let keys = |s: &State| -> Vec<String> {
        let mut k: Vec<String> = s
            .accounts
            .iter()
            .map(|a| a["external_key"].to_string())
            .collect();
        k.sort();
        k
    };
    assert_eq!(keys(&dump(&sb, &token)), ["\"fabrikam\""]);
    apply(&sb, &token, &[&acme(), "--auto-approve"]).success();
    // A configuration without fabrikam, pruning, targeted elsewhere: fabrikam stays.
    let dir = tempfile::tempdir().unwrap();
    for f in ["partner.yaml", "customers/contoso.yaml"] {
        let to = dir.path().join(f);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(root().join("examples/acme").join(f), to).unwrap();
    }
    let cfg = path_str(dir.path());
    let args = [
        &cfg,
        "--auto-approve",
        "--prune-accounts",
        "--force",
        "--target",
        "customer.contoso",
    ];
    apply(&sb, &token, &args)
        .success()
        .stdout_contains("No changes");
    assert_eq!(dump(&sb, &token).accounts.len(), 6);
    let run = apply(
        &sb,
        &token,
        &[&cfg, "--auto-approve", "--target", "customer.contso"],
    )
    .code(1);
    run.stderr_contains("--target customer.contso: no such account in the configuration or the live state; did you mean customer.contoso?");
}

/// `--report FILE` where FILE is a link (to a file elsewhere, or to nowhere) replaces the link
/// with the report: nothing is written through it.
#[cfg(unix)]
#[test]
fn the_report_replaces_a_link_and_never_writes_through_it() {
    use std::os::unix::fs::symlink;
    let sb = Sandbox::start();
    let token = sb.add_partner("Acme Partners", true);
    let dir = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let victim = elsewhere.path().join("victim.txt");
    std::fs::write(&victim, "keep me").unwrap();
    let report = dir.path().join("report.json");
    symlink(&victim, &report).unwrap();
    let dangling = dir.path().join("dangling.json");
    let created = elsewhere.path().join("created-through-link.json");
    symlink(&created, &dangling).unwrap();
    for (link, cfg) in [(&report, acme()), (&dangling, acme())] {
        apply_cmd(&sb, &token, &[&cfg, "--auto-approve"])
            .arg("--report")
            .arg(link)
            .run()
            .success();
        let meta = std::fs::symlink_metadata(link).unwrap();
        assert!(meta.is_file(), "{} is still a link", link.display());
        let v: Value = serde_json::from_str(&std::fs::read_to_string(link).unwrap()).unwrap();
        assert_eq!(v["format_version"], "1");
    }
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me");
    assert!(!created.exists(), "written through a link to nowhere");
}
