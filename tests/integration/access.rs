//! `partnerctl access` end to end: from the configuration, and from the live state of a real
//! sandbox after apply (the same grants), with unmanaged people marked.

use crate::support::cli::partnerctl;
use crate::support::{Api, Sandbox, acme};

fn against(sb: &Sandbox, token: &str) -> crate::support::cli::Cmd {
    partnerctl()
        .env("PARTNERCTL_ENDPOINT", &sb.url)
        .env("PARTNERCTL_TOKEN", token)
}

/// `(account, email, role, source)` of every grant of a JSON access report.
fn grants(json: &str) -> Vec<(String, String, String, String)> {
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    let mut out: Vec<_> = v["grants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["account"].as_str().unwrap().to_string(),
                g["email"].as_str().unwrap().to_string(),
                g["role"].as_str().unwrap().to_string(),
                g["source"].to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn live_access_after_apply_equals_the_configured_access() {
    let sb = Sandbox::start();
    let token = sb.add_partner("Acme Partners", true);
    against(&sb, &token)
        .args(["apply", &acme(), "--auto-approve"])
        .run()
        .success();
    let configured = partnerctl()
        .args(["access", &acme(), "--format", "json"])
        .run()
        .success();
    let live = against(&sb, &token)
        .args(["access", &acme(), "--live", "--format", "json"])
        .run()
        .success();
    let want = grants(&configured.stdout);
    assert_eq!(want.len(), 30, "{want:#?}");
    assert_eq!(grants(&live.stdout), want);
    // A hand-invited admin is there, marked.
    let api = Api::new(&sb.url, &token);
    let accounts = api.list_all("/v1/accounts", "AccountPage", 100).await;
    let paris = accounts
        .iter()
        .find(|a| a["external_key"] == "contoso-paris")
        .unwrap();
    let body = serde_json::json!({"email": "intruder@evil.example", "name": "I", "role": "admin"});
    let path = format!("/v1/accounts/{}/users", paris["id"].as_str().unwrap());
    api.post(&path, body).await.status_ok(201, "User");
    let run = against(&sb, &token)
        .args([
            "access",
            &acme(),
            "--live",
            "--user",
            "INTRUDER@evil.example",
        ])
        .run()
        .success();
    run.stdout_contains(
        "intruder@evil.example \"I\" ADMIN · direct · invited · UNMANAGED: not in the configuration",
    );
    run.stdout_contains(
        "1 grant(s) of 1 person(s) (1 as admin, 1 unmanaged), from the live state.",
    );
}
