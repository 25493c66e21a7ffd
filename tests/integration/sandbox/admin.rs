//! The admin commands of `partnerctl sandbox` (they open the database; no server, no token):
//! `partner add|list|token`, `outbox`, and the refusal of bad `serve` options.

use serde_json::{Value, json};

use crate::support::assert_valid;
use crate::support::sandbox::admin;

#[test]
fn admin_commands_report_errors_and_partner_add_prints_only_the_token() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("a/b/admin.db");
    let stdout = admin(&db, &["partner", "add", "--name", "Acme Partners"])
        .success()
        .stdout;
    assert_eq!(stdout.lines().count(), 1);
    assert!(stdout.trim().starts_with("psk_"));
    let run = admin(&db, &["partner", "add", "--name", "  "]);
    assert_ne!(run.code, 0, "a blank name is refused");
    let run = admin(&db, &["partner", "list"]);
    let listed: Vec<Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(listed.len(), 1);
    assert_valid("Partner", &listed[0]);
    assert!(!run.stdout.contains("psk_"), "tokens are never listed");
    let id = listed[0]["id"].as_str().unwrap();
    let second = admin(&db, &["partner", "token", "--id", id])
        .success()
        .stdout;
    assert!(second.trim().starts_with("psk_") && second.trim() != stdout.trim());
    let run = admin(&db, &["partner", "token", "--id", "ptn_nope"]);
    assert_ne!(run.code, 0, "no token for an unknown partner");
    let run = admin(&db, &["outbox"]).success();
    assert!(run.stdout.is_empty());
    let run = admin(
        &db,
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--throttle-status",
            "418",
        ],
    );
    assert_ne!(run.code, 0, "bad throttle status is refused");
    assert_valid("Health", &json!({"status": "ok"}));
}
