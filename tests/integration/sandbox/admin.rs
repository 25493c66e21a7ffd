//! The admin commands of `partnerctl sandbox` (they open the database; no server, no token):
//! `partner add|list|token`, `outbox`, and the refusal of bad `serve` options.

use serde_json::{Value, json};

use crate::support::assert_valid;
use crate::support::sandbox::admin;

#[test]
fn admin_commands_report_errors_and_partner_add_prints_only_the_token() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("a/b/admin.db");
    let out = admin(&db, &["partner", "add", "--name", "Acme Partners"]);
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1);
    assert!(stdout.trim().starts_with("psk_"));
    let out = admin(&db, &["partner", "add", "--name", "  "]);
    assert!(!out.status.success(), "a blank name is refused");
    let out = admin(&db, &["partner", "list"]);
    let listed: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(listed.len(), 1);
    assert_valid("Partner", &listed[0]);
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("psk_"),
        "tokens are never listed"
    );
    let id = listed[0]["id"].as_str().unwrap();
    let out = admin(&db, &["partner", "token", "--id", id]);
    assert!(out.status.success());
    let second = String::from_utf8(out.stdout).unwrap();
    assert!(second.trim().starts_with("psk_") && second.trim() != stdout.trim());
    let out = admin(&db, &["partner", "token", "--id", "ptn_nope"]);
    assert!(!out.status.success(), "no token for an unknown partner");
    let out = admin(&db, &["outbox"]);
    assert!(out.status.success());
    assert!(out.stdout.is_empty());
    let out = admin(
        &db,
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--throttle-status",
            "418",
        ],
    );
    assert!(!out.status.success(), "bad throttle status is refused");
    assert_valid("Health", &json!({"status": "ok"}));
}
