//! The admin commands that play the person at the vendor's dashboard: `partner add --login`,
//! `accounts add` (customers, networks and sub-accounts by their parent's name, validated like
//! the API) and `accounts set-manageable`; `users accept` makes a Nexudus user active.

use serde_json::json;

use super::{business_id, country_id, time_zone_id};
use crate::support::Sandbox;
use crate::support::nexudus::{LOGIN, PASSWORD};

#[test]
fn partner_add_gives_a_login_and_still_prints_only_the_token() {
    let sb = Sandbox::nexudus(&[]);
    sb.nexudus_partner("Acme", LOGIN);
    let taken = sb.admin(&[
        "partner",
        "add",
        "--name",
        "B",
        "--login",
        "OPS@acme.example",
        "--password",
        "x",
    ]);
    assert_ne!(taken.code, 0, "a login belongs to one partner");
    taken.stderr_contains("already a login");
    let bad = sb.admin(&[
        "partner",
        "add",
        "--name",
        "C",
        "--login",
        "nope",
        "--password",
        "x",
    ]);
    assert_ne!(bad.code, 0);
    bad.stderr_contains("/login");
    let half = sb.admin(&["partner", "add", "--name", "D", "--password", PASSWORD]);
    assert_eq!(half.code, 1, "--password needs --login: {}", half.stderr);
    let partners = sb.admin(&["partner", "list"]).success().stdout;
    assert_eq!(
        partners.lines().count(),
        1,
        "refused adds added nothing: {partners}"
    );
}

/// `sandbox ARGS` split on spaces (no argument here has one).
fn words(args: &str) -> Vec<&str> {
    args.split(' ').collect()
}

#[tokio::test]
async fn accounts_add_builds_the_tree() {
    let sb = Sandbox::nexudus(&[]);
    let nx = sb.nexudus_partner("Acme", LOGIN);
    let run = sb
        .admin(&words(
            "accounts add --kind customer --name Alpha --contact-name Jane \
             --contact-email jane@alpha.example --country GB --timezone Europe/London",
        ))
        .success();
    assert!(run.stdout.trim().starts_with("acc_") && run.stdout.lines().count() == 1);
    run.stderr_contains("reseller account");
    sb.add_account(&words("--kind network --name North --parent Alpha"));
    sb.add_account(&words(
        "--kind sub_account --name N1 --parent North --country FR",
    ));
    let (alpha, north, n1) = (
        business_id(&nx, "Alpha").await,
        business_id(&nx, "North").await,
        business_id(&nx, "N1").await,
    );
    let b = nx.get(&format!("/api/sys/businesses/{n1}")).await.ok();
    assert_eq!(
        (b["RootLocationId"].as_i64(), b["CountryId"].as_i64()),
        (Some(north), Some(country_id(&nx, "FR").await))
    );
    assert_eq!(
        b["SimpleTimeZoneId"].as_i64(),
        Some(time_zone_id(&nx, "Europe/London").await),
        "inherited from its parent"
    );
    let b = nx.get(&format!("/api/sys/businesses/{north}")).await.ok();
    assert_eq!(b["RootLocationId"].as_i64(), Some(alpha));
}

#[tokio::test]
async fn accounts_add_refuses_what_the_api_would() {
    let sb = Sandbox::nexudus(&[]);
    let nx = sb.nexudus_partner("Acme", LOGIN);
    sb.add_customer("Alpha", &[]);
    for (args, says) in [
        ("--kind network --name X", "--parent"),
        ("--kind customer --name X --parent Alpha", "--parent"),
        (
            "--kind network --name X --parent Nobody",
            "no customer named",
        ),
        (
            "--kind sub_account --name X --parent Alpha",
            "no network named",
        ),
        (
            "--kind network --name X --parent Alpha --not-manageable",
            "customer",
        ),
        ("--kind customer --name X --country XX", "/country"),
        ("--kind planet --name X", "planet"),
    ] {
        let mut all = words("accounts add");
        all.extend(words(args));
        let run = sb.admin(&all);
        assert_ne!(run.code, 0, "{args}");
        run.stderr_contains(says);
    }
    let all = nx.list_all("/api/sys/businesses", 100).await;
    assert_eq!(all.len(), 2, "home and Alpha: {all:?}");

    // With two partners, the partner must be named.
    sb.nexudus_partner("Other", "ops@other.example");
    let which = sb.admin(&words(
        "accounts add --kind network --name Y --parent Alpha",
    ));
    assert_ne!(which.code, 0);
    which.stderr_contains("--partner");
    sb.add_account(&words(
        "--kind network --name Y --parent Alpha --partner Acme",
    ));
}

#[tokio::test]
async fn set_manageable_flips_can_manage_account_and_accept_activates() {
    let sb = Sandbox::nexudus(&[]);
    let nx = sb.nexudus_partner("Acme", LOGIN);
    sb.add_customer("Alpha", &["--not-manageable"]);
    let manageable = || async {
        let page = nx.get("/api/sys/reselleraccounts").await.ok();
        page["Records"][0]["CanManageAccount"].as_bool().unwrap()
    };
    let set = |name: &str, to: &str| {
        let mut args = words("accounts set-manageable --name");
        args.extend([name, "--manageable", to]);
        sb.admin(&args)
    };
    assert!(!manageable().await);
    set("Alpha", "true")
        .success()
        .stderr_contains("manageable true");
    assert!(manageable().await);
    set("Alpha", "false").success();
    assert!(!manageable().await);
    set("Nobody", "true")
        .code(1)
        .stderr_contains("no customer named");
    set("Alpha", "yes").code(1);

    set("Alpha", "true").success();
    let alpha = business_id(&nx, "Alpha").await;
    let body = json!({"FullName": "Ann", "Email": "ann@example.com", "Businesses": [alpha]});
    let id = nx.post("/api/sys/users", body).await.written();
    let user = nx.get(&format!("/api/sys/users/{id}")).await.ok();
    assert_eq!(user["Active"], false);
    sb.admin(&words("users accept --email ann@example.com"))
        .success();
    let user = nx.get(&format!("/api/sys/users/{id}")).await.ok();
    assert_eq!(user["Active"], true);
}

#[test]
fn serve_refuses_the_other_dialects_knobs() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("k.db");
    for (args, says) in [
        (
            "serve --listen 127.0.0.1:0 --dialect nexudus --write-limit 5",
            "--write-limit",
        ),
        (
            "serve --listen 127.0.0.1:0 --dialect nexudus --throttle-status 409",
            "--throttle-status",
        ),
        (
            "serve --listen 127.0.0.1:0 --writes-per-day 5",
            "--writes-per-day",
        ),
        ("serve --listen 127.0.0.1:0 --time-scale 60", "--time-scale"),
        (
            "serve --listen 127.0.0.1:0 --conflict-rate 0.5",
            "--conflict-rate",
        ),
        (
            "serve --listen 127.0.0.1:0 --dialect nexudus --time-scale 0",
            "is not a time scale between 0.001 and 1000000",
        ),
        (
            "serve --listen 127.0.0.1:0 --dialect nexudus --writes-per-minute 0",
            "0",
        ),
    ] {
        let run = crate::support::sandbox::admin(&db, &words(args));
        assert_ne!(run.code, 0, "{args}");
        run.stderr_contains(says);
    }
}
