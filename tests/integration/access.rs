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

/// An access review reads an empty answer as "no access": a person or an account the
/// configuration does not know is an error (exit 1) naming the closest one, never "0 grant(s)".
/// An account may be named by its key alone when one account has it.
#[test]
fn an_unknown_person_or_account_is_an_error_with_the_closest_one() {
    let access = |args: &[&str]| partnerctl().arg("access").arg(acme()).args(args).run();
    let run = access(&["--user", "jane@contso.example"]).code(1);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    run.stderr_contains(
        "--user jane@contso.example: no user or invitation has this email, so it reaches no account; did you mean jane@contoso.example?",
    );
    access(&["--user", "nobody-at-all@nowhere.example"])
        .code(1)
        .stderr_contains("check the spelling (without --user, every person is listed)");
    access(&["--account", "customer.contoso-lyon"])
        .code(1)
        .stderr_contains(
            "--account customer.contoso-lyon: no such account; did you mean sub_account.contoso-lyon?",
        );
    access(&["--account", "contoso-lyn"])
        .code(1)
        .stderr_contains("did you mean sub_account.contoso-lyon?");
    // A key alone names the account: the same grants as its full address.
    let by_key = access(&["--account", "contoso-lyon", "--format", "json"]).success();
    let by_address =
        access(&["--account", "sub_account.contoso-lyon", "--format", "json"]).success();
    assert_eq!(grants(&by_key.stdout), grants(&by_address.stdout));
    assert!(!grants(&by_key.stdout).is_empty());
    // A known person who does not reach a known account: no access, answered as such.
    access(&[
        "--user",
        "lyon@contoso.example",
        "--account",
        "contoso-paris",
    ])
    .success()
    .stdout_contains("0 grant(s)");
}

/// `plan --target` takes a key alone, and a live account without a key by its live id alone;
/// the plan names them by full address. A key no account has is answered with the closest full
/// address.
#[tokio::test(flavor = "multi_thread")]
async fn a_target_may_be_a_key_or_a_live_id() {
    let sb = Sandbox::start();
    let token = sb.add_partner("Acme Partners", true);
    against(&sb, &token)
        .args(["apply", &acme(), "--auto-approve"])
        .run()
        .success();
    let api = Api::new(&sb.url, &token);
    let body = serde_json::json!({ "kind": "customer", "name": "Made By Hand",
        "contact": { "name": "H", "email": "h@hand.example" }, "country": "GB", "timezone": "UTC" });
    let made = api
        .post("/v1/accounts", body)
        .await
        .status_ok(201, "Account");
    let id = made["id"].as_str().unwrap().to_string();
    let plan = |target: &str| {
        against(&sb, &token)
            .args([
                "plan",
                &acme(),
                "--prune-accounts",
                "--format",
                "json",
                "--target",
                target,
            ])
            .run()
    };
    let run = plan("contoso-lyon").success();
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        v["targets"],
        serde_json::json!(["sub_account.contoso-lyon"])
    );
    let run = plan(&id).success();
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let address = format!("customer[id={id}]");
    assert_eq!(v["targets"], serde_json::json!([address]));
    let ops = v["operations"].as_array().unwrap();
    assert_eq!(ops.len(), 1, "{ops:#?}");
    assert_eq!(ops[0]["address"], address.as_str());
    assert_eq!(ops[0]["action"], "delete");
    plan("contoso-lyn")
        .code(1)
        .stderr_contains("--target contoso-lyn: no such account in the configuration or the live state; did you mean sub_account.contoso-lyon?");
}
