//! `partnerctl validate`, `schema`, `completions` and help: the foundation's user-facing contract.

use crate::cmd::{Cmd, root};

#[test]
fn acme_example_is_valid_and_counted() {
    let run = Cmd::new()
        .args(["validate", "examples/acme"])
        .run()
        .success();
    assert_eq!(
        run.stdout,
        "valid: 3 customers, 1 network, 2 sub-accounts, 10 users, 8 services (3 files)\n"
    );
}

/// Every entry of `examples/invalid/` fails with exactly its snapshotted messages.
#[test]
fn invalid_examples_report_their_problems() {
    let dir = root().join("examples/invalid");
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .expect("examples/invalid exists")
        .map(|e| e.expect("dir entry").path())
        .collect();
    entries.sort();
    assert!(entries.len() >= 12, "at least 12 invalid examples");
    for path in entries {
        let rel = path
            .strip_prefix(root())
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let run = Cmd::new().args(["validate", &rel]).run();
        assert_eq!(run.code, 1, "{rel} must be rejected\n{}", run.stderr);
        assert!(run.stdout.is_empty(), "{rel}: nothing on stdout");
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        insta::assert_snapshot!(format!("invalid__{name}"), run.stderr);
    }
}

#[test]
fn problems_in_two_files_are_reported_in_one_run() {
    let run = Cmd::new()
        .args(["validate", "examples/invalid/two-files"])
        .run()
        .code(1);
    assert!(run.stderr.contains("two-files/a.yaml:"));
    assert!(run.stderr.contains("two-files/b.yaml:"));
    assert!(run.stderr.ends_with("4 problems found\n"), "{}", run.stderr);
}

#[test]
fn several_paths_and_missing_paths() {
    let run = Cmd::new()
        .args([
            "validate",
            "examples/acme/partner.yaml",
            "examples/acme/customers",
        ])
        .run()
        .success();
    assert!(run.stdout.starts_with("valid: 3 customers"));
    let run = Cmd::new()
        .args(["validate", "examples/acme", "does/not/exist.yaml"])
        .run()
        .code(1);
    assert!(
        run.stderr.starts_with("does/not/exist.yaml: cannot read: "),
        "{}",
        run.stderr
    );
}

#[test]
fn committed_schema_is_current() {
    let run = Cmd::new().arg("schema").run().success();
    let committed = std::fs::read_to_string(root().join("schemas/partnerctl.schema.json"))
        .expect("schemas/partnerctl.schema.json is committed");
    assert!(
        run.stdout == committed,
        "schemas/partnerctl.schema.json is stale: run `cargo run -q -- schema > schemas/partnerctl.schema.json`"
    );
}

#[test]
fn every_subcommand_help_shows_an_example() {
    for sub in ["validate", "schema", "completions", "man", "sandbox"] {
        let run = Cmd::new().args([sub, "--help"]).run().success();
        assert!(
            run.stdout.contains("Examples:\n  partnerctl "),
            "`partnerctl {sub} --help` lacks an example:\n{}",
            run.stdout
        );
    }
}

#[test]
fn completions_and_man_page() {
    let run = Cmd::new().args(["completions", "bash"]).run().success();
    assert!(run.stdout.contains("_partnerctl()"));
    let run = Cmd::new().args(["completions", "fish"]).run().success();
    assert!(run.stdout.contains("complete -c partnerctl"));
    let run = Cmd::new().arg("man").run().success();
    assert!(
        run.stdout.starts_with(".ie \\n(.g .ds Aq"),
        "{}",
        &run.stdout[..80.min(run.stdout.len())]
    );
    assert!(run.stdout.contains("partnerctl"));
}

#[test]
fn usage_errors_exit_1_never_2() {
    // 2 means "changes present" under --detailed-exitcode; a typo must not look like that.
    let run = Cmd::new()
        .args(["plan", "--detailed-exitcod", "x"])
        .run()
        .code(1);
    assert!(run.stderr.contains("unexpected argument"), "{}", run.stderr);
    Cmd::new().arg("--help").run().success();
    Cmd::new().arg("--version").run().success();
}
