//! `partnerctl plan` end to end: the embedded default, a real sandbox binary on 127.0.0.1:0,
//! output formats, exit codes and saved plans.

use crate::support::cli::{Cmd, partnerctl, root};
use crate::support::{Sandbox, acme};

/// `plan` against `sb` as partner "Acme Partners" (created there).
fn plan_against(sb: &Sandbox, token: &str) -> Cmd {
    partnerctl()
        .arg("plan")
        .env("PARTNERCTL_ENDPOINT", &sb.url)
        .env("PARTNERCTL_TOKEN", token)
}

#[test]
fn embedded_default_works_without_server_or_environment() {
    let dir = tempfile::tempdir().unwrap();
    let run = partnerctl()
        .current_dir(dir.path())
        .args(["plan", &acme()])
        .run()
        .success();
    run.stderr_contains("Using the embedded sandbox (.partnerctl/sandbox.db)");
    assert!(
        run.stdout.starts_with("Target: http://127.0.0.1:"),
        "{}",
        run.stdout
    );
    run.stdout_contains("(embedded sandbox) · partner Acme Partners");
    run.stdout_contains("\nPlan: 6 create, 10 invite, 8 add-service (24 writes).\n");
    assert!(dir.path().join(".partnerctl/sandbox.db").exists());
    // The partner was created once; a second run reuses it.
    partnerctl()
        .current_dir(dir.path())
        .args(["plan", &acme(), "--detailed-exitcode"])
        .run()
        .code(2);
}

#[test]
fn ci_without_endpoint_is_refused_unless_local_is_explicit() {
    let dir = tempfile::tempdir().unwrap();
    let run = partnerctl()
        .current_dir(dir.path())
        .env("CI", "true")
        .args(["plan", &acme()])
        .run()
        .code(1);
    run.stderr_contains("no endpoint configured and CI is set");
    assert!(run.stdout.is_empty());
    assert!(!dir.path().join(".partnerctl").exists(), "nothing written");
    partnerctl()
        .current_dir(dir.path())
        .env("CI", "true")
        .args(["plan", &acme(), "--endpoint", "local"])
        .run()
        .success();
}

#[test]
fn plan_against_a_real_sandbox_formats_and_exit_codes() {
    let sb = Sandbox::start();
    let token = sb.add_partner("Acme Partners", true);
    let run = plan_against(&sb, &token).arg(acme()).run().success();
    assert!(
        run.stdout
            .starts_with(&format!("Target: {} · partner Acme Partners", sb.url))
    );
    run.stdout_contains("Plan: 6 create, 10 invite, 8 add-service (24 writes).");
    assert!(!run.stdout.contains('\u{1b}'), "no colour off a terminal");
    plan_against(&sb, &token)
        .args([&acme(), "--detailed-exitcode"])
        .run()
        .code(2);
    let run = plan_against(&sb, &token)
        .args([&acme(), "--format", "json"])
        .run()
        .success();
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["format_version"], "1");
    assert_eq!(v["summary"]["writes"], 24);
    assert_eq!(v["target"]["embedded"], false);
    let run = plan_against(&sb, &token)
        .args([&acme(), "--format", "markdown"])
        .run()
        .success();
    assert!(
        run.stdout
            .starts_with("### partnerctl plan for `Acme Partners`")
    );
    run.stdout_contains("<details>");

    // A configuration that matches the (empty) live state: no changes, exit 0 either way.
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("p.yaml");
    std::fs::write(&cfg, "version: 1\npartner: { name: Acme Partners }\n").unwrap();
    let run = plan_against(&sb, &token)
        .arg(&cfg)
        .arg("--detailed-exitcode")
        .run()
        .success();
    run.stdout_contains("No changes");
}

#[test]
fn saved_plan_file() {
    let sb = Sandbox::start();
    let token = sb.add_partner("Acme Partners", true);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("plan.json");
    let run = plan_against(&sb, &token)
        .arg(acme())
        .arg("-o")
        .arg(&out)
        .run()
        .success();
    run.stderr_contains("Saved the plan to");
    run.stderr_contains(&format!("run `partnerctl apply --plan {}`", out.display()));
    let saved =
        partnerctl::plan::SavedPlan::from_json(&std::fs::read_to_string(&out).unwrap(), None)
            .expect("a valid saved plan");
    assert_eq!(saved.operations.len(), 24);
    assert_eq!(saved.sources.len(), 3);
    // A plan without changes is saved too, but there is nothing to apply: no apply hint.
    let cfg = dir.path().join("p.yaml");
    std::fs::write(&cfg, "version: 1\npartner: { name: Acme Partners }\n").unwrap();
    let run = plan_against(&sb, &token)
        .arg(&cfg)
        .arg("-o")
        .arg(&out)
        .run()
        .success();
    run.stderr_contains(&format!("Saved the plan to {} (", out.display()));
    run.stderr_contains("it has no changes, so there is nothing to apply.");
    assert!(!run.stderr.contains("apply --plan"), "{}", run.stderr);
}

#[test]
fn errors_exit_1_with_what_to_do() {
    let sb = Sandbox::start();
    let token = sb.add_partner("Acme Partners", true);
    // Wrong token.
    let run = plan_against(&sb, "not-a-token").arg(acme()).run().code(1);
    run.stderr_contains("401");
    assert!(
        !run.stderr.contains("not-a-token"),
        "the token is never echoed"
    );
    // Token of another partner than the config names.
    let other = sb.add_partner("Other Partners", true);
    let run = plan_against(&sb, &other).arg(acme()).run().code(1);
    run.stderr_contains("the configuration is for partner `Acme Partners`, but the token belongs to partner `Other Partners`");
    // No token for a remote endpoint.
    let run = partnerctl()
        .args(["plan", &acme(), "--endpoint", &sb.url])
        .run()
        .code(1);
    run.stderr_contains("set PARTNERCTL_TOKEN");
    // An invalid configuration is reported before any request.
    let run = plan_against(&sb, &token)
        .arg(root().join("examples/invalid/invalid-role.yaml"))
        .arg("--detailed-exitcode")
        .run()
        .code(1);
    run.stderr_contains("invalid role `owner`");
    run.stderr_contains("nothing was read from or written to the API");
    // Plain http to a remote host is refused.
    let run = partnerctl()
        .args(["plan", &acme(), "--endpoint", "http://api.example.com"])
        .env("PARTNERCTL_TOKEN", "t")
        .run()
        .code(1);
    run.stderr_contains("refusing plain http://");
}

#[tokio::test(flavor = "multi_thread")]
async fn unmanaged_objects_are_drift_unless_accepted() {
    let sb = Sandbox::start();
    let token = sb.add_partner("Acme Partners", true);
    plan_against(&sb, &token)
        .args([&acme(), "--detailed-exitcode"])
        .run()
        .code(2);
    partnerctl()
        .arg("apply")
        .env("PARTNERCTL_ENDPOINT", &sb.url)
        .env("PARTNERCTL_TOKEN", &token)
        .args([&acme(), "--auto-approve"])
        .run()
        .success();
    plan_against(&sb, &token)
        .args([&acme(), "--detailed-exitcode"])
        .run()
        .success()
        .stdout_contains("No changes: the live state matches the configuration");
    // Someone invites an admin by hand on a managed customer.
    let api = crate::support::Api::new(&sb.url, &token);
    let accounts = api.list_all("/v1/accounts", "AccountPage", 100).await;
    let contoso = accounts
        .iter()
        .find(|a| a["external_key"] == "contoso")
        .unwrap();
    let path = format!("/v1/accounts/{}/users", contoso["id"].as_str().unwrap());
    let body =
        serde_json::json!({"email": "intruder@evil.example", "name": "Intruder", "role": "admin"});
    api.post(&path, body).await.status_ok(201, "User");
    let run = plan_against(&sb, &token)
        .args([&acme(), "--detailed-exitcode"])
        .run()
        .code(2);
    run.stdout_contains("invitation intruder@evil.example \"Intruder\" (admin, invited) on customer.contoso [access risk: unmanaged admin]");
    run.stdout_contains(
        "No changes to make, but the live state has 1 unmanaged object(s), 1 of them admin",
    );
    assert!(!run.stdout.contains("matches"), "{}", run.stdout);
    let run = plan_against(&sb, &token)
        .args([&acme(), "--detailed-exitcode", "--format", "json"])
        .run()
        .code(2);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["summary"]["unmanaged_admins"], 1);
    assert_eq!(v["unmanaged"][0]["access_risk"], true);
    // An admin on a managed account is not accepted with the rest of the unmanaged objects.
    let run = plan_against(&sb, &token)
        .args([&acme(), "--detailed-exitcode", "--accept-unmanaged"])
        .run()
        .code(2);
    run.stderr_contains("Exit code 2: --accept-unmanaged does not accept unmanaged admins of the partner or of accounts the configuration manages: intruder@evil.example on customer.contoso. List them in the configuration or remove them, or pass --accept-unmanaged-admins as well to accept them.");
    plan_against(&sb, &token)
        .args([&acme(), "--detailed-exitcode", "--accept-unmanaged"])
        .arg("--accept-unmanaged-admins")
        .run()
        .success();
}

/// `--accept-unmanaged` accepts customers the configuration does not list, the admins invited
/// into them included (counted and listed as access risks all the same), but not an admin
/// invited by hand at the partner: that takes `--accept-unmanaged-admins` too.
#[tokio::test(flavor = "multi_thread")]
async fn unmanaged_admins_of_the_partner_are_never_accepted_silently() {
    let sb = Sandbox::start();
    let token = sb.add_partner("Acme Partners", true);
    let api = crate::support::Api::new(&sb.url, &token);
    let stray = api.customer("stray").await;
    let stray_id = stray["id"].as_str().unwrap();
    for i in 0..6 {
        let body = serde_json::json!({"email": format!("admin{i}@stray.example"), "name": "Stray Admin", "role": "admin"});
        api.post(&format!("/v1/accounts/{stray_id}/users"), body)
            .await
            .status_ok(201, "User");
    }
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("p.yaml");
    std::fs::write(&cfg, "version: 1\npartner: { name: Acme Partners }\n").unwrap();
    let accept = ["--detailed-exitcode", "--accept-unmanaged"];
    let run = plan_against(&sb, &token)
        .arg(&cfg)
        .args(accept)
        .args(["--format", "json"])
        .run()
        .success();
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["summary"]["unmanaged_admins"], 6);
    let risks: Vec<&str> = v["unmanaged"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["access_risk"] == true)
        .map(|u| u["email"].as_str().unwrap())
        .collect();
    assert_eq!(risks.len(), 6, "{risks:?}");
    plan_against(&sb, &token)
        .arg(&cfg)
        .arg("--detailed-exitcode")
        .run()
        .code(2);
    // Someone invites an admin at the partner by hand.
    let partner = api.get("/v1/partner").await.ok("Partner");
    let body = serde_json::json!({"email": "root@evil.example", "name": "Root", "role": "admin"});
    api.post(
        &format!("/v1/accounts/{}/users", partner["id"].as_str().unwrap()),
        body,
    )
    .await
    .status_ok(201, "User");
    let run = plan_against(&sb, &token)
        .arg(&cfg)
        .args(accept)
        .run()
        .code(2);
    run.stdout_contains("invitation root@evil.example \"Root\" (admin, invited) on partner [access risk: unmanaged admin]");
    run.stderr_contains("root@evil.example on partner. List them in the configuration or remove them, or pass --accept-unmanaged-admins as well to accept them.");
    assert!(!run.stderr.contains("stray.example"), "{}", run.stderr);
    plan_against(&sb, &token)
        .arg(&cfg)
        .args(accept)
        .arg("--accept-unmanaged-admins")
        .run()
        .success();
    // Accepting admins without accepting unmanaged objects is a usage error.
    plan_against(&sb, &token)
        .arg(&cfg)
        .args(["--detailed-exitcode", "--accept-unmanaged-admins"])
        .run()
        .code(1)
        .stderr_contains("--accept-unmanaged");
}

#[tokio::test(flavor = "multi_thread")]
async fn show_renders_a_saved_plan_exactly_as_plan_did() {
    let sb = Sandbox::start();
    let token = sb.add_partner("Acme Partners", true);
    // Something unmanaged and a near miss, so that all of the plan's context matters.
    let api = crate::support::Api::new(&sb.url, &token);
    let mut stray = crate::support::customer_body("stray");
    stray["name"] = serde_json::json!("Contoso  Ltd");
    stray.as_object_mut().unwrap().remove("external_key");
    api.post("/v1/accounts", stray)
        .await
        .status_ok(201, "Account");
    let dir = tempfile::tempdir().unwrap();
    for format in ["text", "json", "markdown"] {
        let file = dir.path().join(format!("plan-{format}.json"));
        let planned = plan_against(&sb, &token)
            .args([&acme(), "--format", format, "-o"])
            .arg(&file)
            .run()
            .success();
        let shown = partnerctl()
            .args(["show", "--format", format])
            .arg(&file)
            .run()
            .success();
        assert_eq!(shown.stdout, planned.stdout, "{format}");
    }
    let text = std::fs::read_to_string(dir.path().join("plan-text.json")).unwrap();
    let shown = partnerctl()
        .arg("show")
        .arg(dir.path().join("plan-text.json"))
        .run()
        .success();
    shown.stdout_contains("Warning: customer.contoso would be created as \"Contoso Ltd\"");
    // A tampered file is refused.
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, text.replace("Contoso Ltd", "Contoso Evil")).unwrap();
    partnerctl()
        .arg("show")
        .arg(&bad)
        .run()
        .code(1)
        .stderr_contains("digest mismatch");
}

#[test]
fn the_markdown_plan_of_5000_customers_fits_a_comment_and_says_what_it_left_out() {
    let sb = Sandbox::start();
    let token = sb.add_partner("Scale Partners", true);
    let (dir, cfg) = crate::support::generated(&partnerctl::testkit::Scale {
        customers: 5000,
        networks: 100,
        subs_per_network: 2,
        users_per_customer: 1,
        services_per_customer: 1,
        customers_per_file: 500,
    });
    let saved = dir.path().join("plan.json");
    let run = plan_against(&sb, &token)
        .arg(&cfg)
        .args(["--format", "markdown", "-o"])
        .arg(&saved)
        .run()
        .success();
    let chars = run.stdout.chars().count();
    assert!(chars <= 65_536, "{chars} characters");
    assert!(chars > 50_000, "uses its budget: {chars} characters");
    run.stdout_contains("### partnerctl plan for `Scale Partners`");
    run.stdout_contains("| `+ create` | 5300 |");
    run.stdout_contains("| `customer.");
    run.stdout_contains("**Shortened to fit a comment:**");
    run.stdout_contains(&format!(
        "The full plan: `partnerctl show {}`.",
        saved.display()
    ));
    // A smaller limit is honoured too, and `show` renders the same.
    let small = partnerctl()
        .args(["show", "--format", "markdown", "--markdown-limit", "20000"])
        .arg(&saved)
        .run()
        .success();
    assert!(small.stdout.chars().count() <= 20_000);
    let again = partnerctl()
        .args(["show", "--format", "markdown"])
        .arg(&saved)
        .run()
        .success();
    assert_eq!(again.stdout, run.stdout);
}

/// People invited as `JÖRG@…` and with the Kelvin sign (`\u{212A}im@…`), configured as
/// `jörg@…` and `kim@…`: the same people for the sandbox and for partnerctl, so the plan is
/// empty even with --prune (nobody invited again, nobody removed), and the sandbox refuses to
/// invite them a second time.
#[tokio::test]
async fn emails_are_one_person_whatever_the_case_of_any_letter() {
    let sb = Sandbox::start();
    let token = sb.add_partner("Acme Partners", true);
    let api = crate::support::Api::new(&sb.url, &token);
    let customer = api.customer("contoso").await;
    let id = customer["id"].as_str().unwrap();
    for email in ["JÖRG@firma.example", "\u{212A}im@firma.example"] {
        api.invite(id, email, "Someone").await;
    }
    let again = serde_json::json!({"email": "jörg@firma.example", "name": "Someone"});
    api.post(&format!("/v1/accounts/{id}/users"), again)
        .await
        .err(409, "user-exists");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("c.yaml"),
        "version: 1\npartner: { name: Acme Partners }\ncustomers:\n  - key: contoso\n    name: Customer contoso\n    contact: { name: Jane Doe, email: jane@contoso.example }\n    country: FR\n    timezone: Europe/Paris\n    labels: { tier: gold }\n    users:\n      - { email: jörg@firma.example, name: Someone }\n      - { email: kim@firma.example, name: Someone }\n",
    )
    .unwrap();
    plan_against(&sb, &token)
        .arg(dir.path())
        .args(["--prune", "--detailed-exitcode"])
        .run()
        .code(0);
}
