//! `partnerctl validate`, `schema`, `completions` and help: the foundation's user-facing contract.
//!
//! Validation runs against the sandbox's catalog file here: in the tests' shared working
//! directory, other tests' plans may have cached a catalog (`catalog.rs` covers the other
//! catalogs).

use crate::support::cli::{partnerctl, root};

/// `--catalog` and the sandbox's catalog file, relative to the crate root.
const CATALOG: [&str; 2] = ["--catalog", "src/sandbox/catalog.json"];

/// The end of validate's last line with [`CATALOG`].
const CHECKED: &str = "services checked against the catalog src/sandbox/catalog.json (4 types)";

#[test]
fn acme_example_is_valid_and_counted() {
    let run = partnerctl()
        .args(["validate", "examples/acme"])
        .args(CATALOG)
        .run()
        .success();
    assert_eq!(
        run.stdout,
        format!(
            "valid: 3 customers, 1 network, 2 sub-accounts, 10 users, 8 services (3 files); {CHECKED}\n"
        )
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
        let run = partnerctl().args(["validate", &rel]).args(CATALOG).run();
        assert_eq!(run.code, 1, "{rel} must be rejected\n{}", run.stderr);
        assert!(run.stdout.is_empty(), "{rel}: nothing on stdout");
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        insta::assert_snapshot!(format!("invalid__{name}"), run.stderr);
    }
}

/// Whether a customer needs a `contact` depends on the provider the configuration is for: the
/// partner API (also when none is named) needs one; Nexudus, named by flag or environment,
/// stores none. Every other problem is reported either way.
#[test]
fn a_contact_is_required_only_for_a_provider_that_stores_contacts() {
    let file = "examples/invalid/missing-field.yaml";
    let no_contact = "9:5: customer `contoso` has no `contact`";
    let no_name = "12:9: missing required field `name`";
    let validate = || partnerctl().args(["validate", file]).args(CATALOG);
    for run in [
        validate().run(),
        validate().args(["--provider", "http"]).run(),
        validate().env("PARTNERCTL_PROVIDER", "http").run(),
    ] {
        run.code(1)
            .stderr_contains(no_contact)
            .stderr_contains(no_name);
    }
    for run in [
        validate().args(["--provider", "nexudus"]).run(),
        validate().env("PARTNERCTL_PROVIDER", "nexudus").run(),
    ] {
        let run = run.code(1);
        run.stderr_contains(no_name)
            .stderr_contains("1 problem found");
        assert!(!run.stderr.contains("contact"), "{}", run.stderr);
    }
}

#[test]
fn problems_in_two_files_are_reported_in_one_run() {
    let run = partnerctl()
        .args(["validate", "examples/invalid/two-files"])
        .args(CATALOG)
        .run()
        .code(1);
    run.stderr_contains("two-files/a.yaml:");
    run.stderr_contains("two-files/b.yaml:");
    assert!(
        run.stderr
            .ends_with(&format!("4 problems found; {CHECKED}\n")),
        "{}",
        run.stderr
    );
}

#[test]
fn several_paths_and_missing_paths() {
    let run = partnerctl()
        .args([
            "validate",
            "examples/acme/partner.yaml",
            "examples/acme/customers",
        ])
        .run()
        .success();
    assert!(run.stdout.starts_with("valid: 3 customers"));
    let run = partnerctl()
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
    let run = partnerctl().arg("schema").run().success();
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
        let run = partnerctl().args([sub, "--help"]).run().success();
        assert!(
            run.stdout.contains("Examples:\n  partnerctl "),
            "`partnerctl {sub} --help` lacks an example:\n{}",
            run.stdout
        );
    }
}

#[test]
fn completions_and_man_page() {
    let run = partnerctl().args(["completions", "bash"]).run().success();
    run.stdout_contains("_partnerctl()");
    let run = partnerctl().args(["completions", "fish"]).run().success();
    run.stdout_contains("complete -c partnerctl");
    let run = partnerctl().arg("man").run().success();
    assert!(
        run.stdout.starts_with(".ie \\n(.g .ds Aq"),
        "{}",
        &run.stdout[..80.min(run.stdout.len())]
    );
    run.stdout_contains("partnerctl");
}

#[test]
fn usage_errors_exit_1_never_2() {
    // 2 means "changes present" under --detailed-exitcode; a typo must not look like that.
    let run = partnerctl()
        .args(["plan", "--detailed-exitcod", "x"])
        .run()
        .code(1);
    run.stderr_contains("unexpected argument");
    partnerctl().arg("--help").run().success();
    partnerctl().arg("--version").run().success();
}

/// A copy of `examples/acme` in a new temporary directory: the directory (keep it) and the
/// configuration's path in it.
fn acme_copy() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("acme");
    std::fs::create_dir_all(cfg.join("customers")).unwrap();
    for rel in [
        "partner.yaml",
        "customers/contoso.yaml",
        "customers/others.yaml",
    ] {
        std::fs::copy(root().join("examples/acme").join(rel), cfg.join(rel)).unwrap();
    }
    (dir, cfg)
}

/// A FIFO at `path` (what `mkfifo` makes).
fn mkfifo(path: &std::path::Path) {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: `c` is a valid NUL-terminated path that outlives the call.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");
}

/// Long enough for `validate` of a small configuration on a busy machine, far shorter than a
/// walk through links to `.` at every level (billions of directories) or a read that never
/// ends.
const HANG: std::time::Duration = std::time::Duration::from_secs(60);

/// Two links to `.` (a walk that followed them would visit about 2^40 directories), a FIFO
/// named like a configuration file (reading it blocks forever), `/dev/zero` linked as one
/// (reading it never ends) and a file over the size limit: `validate` finishes at once, names
/// each file that is not read and why, and still checks the others.
#[test]
fn validate_walks_each_directory_once_and_reads_only_regular_files_of_bounded_size() {
    use std::os::unix::fs::symlink;
    let (_dir, cfg) = acme_copy();
    symlink(".", cfg.join("again")).unwrap();
    symlink(".", cfg.join("customers/again")).unwrap();
    symlink("..", cfg.join("customers/up")).unwrap();
    let validate = || {
        partnerctl()
            .arg("validate")
            .arg(&cfg)
            .args(CATALOG)
            .spawn()
            .wait_within(HANG)
    };
    let run = validate().success();
    assert_eq!(
        run.stdout,
        format!(
            "valid: 3 customers, 1 network, 2 sub-accounts, 10 users, 8 services (3 files); {CHECKED}\n"
        )
    );

    mkfifo(&cfg.join("customers/pipe.yaml"));
    symlink("/dev/zero", cfg.join("zero.yml")).unwrap();
    let big = std::fs::File::create(cfg.join("big.yaml")).unwrap();
    // Sparse: a gigabyte that takes no room on the disk.
    big.set_len(1 << 30).unwrap();
    std::fs::write(cfg.join("broken.yaml"), "customers: [\n").unwrap();
    let run = validate().code(1);
    let at = |rel: &str| cfg.join(rel).display().to_string();
    run.stderr_contains(&format!(
        "{}: cannot read: this is a FIFO (named pipe), not a regular file; a configuration is read only from regular files: remove it or move it out of the configuration",
        at("customers/pipe.yaml")
    ));
    run.stderr_contains(&format!(
        "{}: cannot read: this is a character device, not a regular file",
        at("zero.yml")
    ));
    run.stderr_contains(&format!(
        "{}: cannot read: the file has 1073741824 bytes, more than the 268435456 bytes (256 MiB) a configuration file may have; split it into several files in one directory",
        at("big.yaml")
    ));
    // The files that are read are still checked, in the same run.
    run.stderr_contains(&format!("{}:2:1: ", at("broken.yaml")));
    run.stderr_contains("4 problems found");
}

/// Each subcommand's help lists the options it uses and no other: the API options (the Nexudus
/// login's included) where the live state is read, `--provider` also for `validate`, `--color` where a plan is printed;
/// the diagnostics options everywhere. Given where they are not used, they are refused.
#[test]
fn every_subcommand_help_lists_only_the_options_it_uses() {
    const API: [&str; 7] = [
        "--endpoint",
        "--token",
        "--timeout",
        "--read-deadline",
        "--nexudus-username",
        "--nexudus-password",
        "--nexudus-totp",
    ];
    const API_PROVIDER: [&str; 8] = [
        API[0],
        API[1],
        API[2],
        API[3],
        API[4],
        API[5],
        API[6],
        "--provider",
    ];
    const API_PROVIDER_COLOR: [&str; 9] = [
        API[0],
        API[1],
        API[2],
        API[3],
        API[4],
        API[5],
        API[6],
        "--provider",
        "--color",
    ];
    let cases: [(&[&str], &[&str]); 12] = [
        (&["validate"], &["--provider"]),
        (&["plan"], &API_PROVIDER_COLOR),
        (&["apply"], &API_PROVIDER_COLOR),
        (&["export"], &API_PROVIDER),
        (&["access"], &API_PROVIDER),
        (&["show"], &["--color"]),
        (&["import"], &[]),
        (&["schema"], &[]),
        (&["completions"], &[]),
        (&["man"], &[]),
        (&["sandbox"], &[]),
        (&["sandbox", "serve"], &[]),
    ];
    for (sub, used) in cases {
        let run = partnerctl().args(sub).arg("--help").run().success();
        for option in API.iter().chain(&["--provider", "--color"]) {
            let listed = run.stdout.contains(&format!("  {option} <"))
                || run.stdout.contains(&format!("  {option}\n"));
            assert_eq!(
                listed,
                used.contains(option),
                "`partnerctl {} --help` and {option}:\n{}",
                sub.join(" "),
                run.stdout
            );
        }
        for option in ["--verbose", "--quiet", "--log-format"] {
            run.stdout_contains(option);
        }
    }
    partnerctl()
        .args(["schema", "--endpoint", "local"])
        .run()
        .code(1)
        .stderr_contains("unexpected argument '--endpoint'");
    partnerctl()
        .args(["--endpoint", "local", "plan", "examples/acme"])
        .run()
        .code(1)
        .stderr_contains("'plan --endpoint' exists");
}

/// Deleting the last user of an account (or its last service, network or sub-account) leaves
/// `users:` with no value, which YAML reads as null: it is an empty list, as it reads.
#[test]
fn a_list_left_without_a_value_is_empty() {
    let (_dir, cfg) = acme_copy();
    let path = cfg.join("customers/contoso.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let emptied = text
        .replace(
            "            users: [{ email: lyon@contoso.example, name: Lyon Desk }]\n",
            "            users:\n",
        )
        .replace(
            "        services:\n          - type: access-control\n",
            "        services:\n",
        );
    assert_ne!(emptied, text);
    std::fs::write(&path, emptied).unwrap();
    let run = partnerctl()
        .arg("validate")
        .arg(&cfg)
        .args(CATALOG)
        .run()
        .success();
    assert_eq!(
        run.stdout,
        format!(
            "valid: 3 customers, 1 network, 2 sub-accounts, 9 users, 7 services (3 files); {CHECKED}\n"
        )
    );
}
