//! Services checked against a service catalog, located at the offending node: `validate
//! --catalog FILE`, `plan` against the live catalog (which it caches in
//! `.partnerctl/catalog.json` of the working directory), `validate` offline with that cache,
//! and customer tables. Every command here runs in a fresh working directory, so no cache of
//! another test is seen.

use crate::support::Sandbox;
use crate::support::cli::{partnerctl, root};

const CUSTOMERS: &str = "customers:
  - key: contoso
    name: Contoso Ltd
    contact: { name: Jane Doe, email: jane@contoso.example }
    services:
      - type: cardz
      - type: cards
        settings:
          layout_aproval: false
          max_cards_per_user: 50
";

/// What validate and plan say about [`CUSTOMERS`] as `config/customers.yaml`.
const PROBLEMS: [&str; 3] = [
    "config/customers.yaml:6:15: unknown service type `cardz` (did you mean `cards`?); known types: access-control, cards, mobile-id, visitor-management",
    "config/customers.yaml:9:11: unknown setting `layout_aproval` for service `cards` (did you mean `layout_approval`?); allowed here: layout_approval, card_format, max_cards_per_user, expiry_days",
    "config/customers.yaml:10:31: invalid settings for `cards`: /max_cards_per_user: 50 is greater than the maximum of 20",
];

/// A working directory with `config/`: the acme partner file (its defaults add `cards`) and
/// `customers` as `customers.yaml`.
fn workdir(customers: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("config")).unwrap();
    std::fs::copy(
        root().join("examples/acme/partner.yaml"),
        dir.path().join("config/partner.yaml"),
    )
    .unwrap();
    std::fs::write(dir.path().join("config/customers.yaml"), customers).unwrap();
    dir
}

fn sandbox_catalog() -> String {
    root()
        .join("src/sandbox/catalog.json")
        .display()
        .to_string()
}

#[test]
fn validate_with_a_catalog_file_locates_unknown_types_and_bad_settings() {
    let dir = workdir(CUSTOMERS);
    let catalog = sandbox_catalog();
    let run = partnerctl()
        .current_dir(dir.path())
        .args(["validate", "config", "--catalog", &catalog])
        .run()
        .code(1);
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines[..3], PROBLEMS, "{}", run.stderr);
    assert_eq!(
        lines[3],
        format!("3 problems found; services checked against the catalog {catalog} (4 types)")
    );
    assert_eq!(lines.len(), 4);

    // The whole response of GET /v1/service-types is a catalog file too.
    let list: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&catalog).unwrap()).unwrap();
    let page = serde_json::json!({ "items": list });
    std::fs::write(dir.path().join("page.json"), page.to_string()).unwrap();
    let run = partnerctl()
        .current_dir(dir.path())
        .args(["validate", "config", "--catalog", "page.json"])
        .run()
        .code(1);
    assert!(
        run.stderr.starts_with(&PROBLEMS.join("\n")),
        "{}",
        run.stderr
    );

    // A file that is not a catalog is an error, not a pass.
    std::fs::write(dir.path().join("bad.json"), r#"{"types": []}"#).unwrap();
    let run = partnerctl()
        .current_dir(dir.path())
        .args(["validate", "config", "--catalog", "bad.json"])
        .run()
        .code(1);
    run.stderr_contains("bad.json is not a service catalog");
    run.stderr_contains("found an object without `items`");
}

#[test]
fn without_a_catalog_services_are_not_checked_and_the_summary_says_so() {
    let dir = workdir(CUSTOMERS);
    let run = partnerctl()
        .current_dir(dir.path())
        .args(["validate", "config"])
        .run()
        .success();
    assert_eq!(
        run.stdout,
        "valid: 1 customer, 0 networks, 0 sub-accounts, 2 users, 2 services (2 files); service types and settings not checked: no catalog (pass --catalog FILE, or run `partnerctl plan` in this directory once to cache the live one)\n"
    );
    // Under CI no plan caches a catalog, so validate does not suggest one.
    let run = partnerctl()
        .current_dir(dir.path())
        .env("CI", "true")
        .args(["validate", "config"])
        .run()
        .success();
    assert_eq!(
        run.stdout,
        "valid: 1 customer, 0 networks, 0 sub-accounts, 2 users, 2 services (2 files); service types and settings not checked: no catalog (pass --catalog FILE)\n"
    );
}

#[test]
fn a_plan_reports_service_problems_located_and_caches_the_catalog_for_validate() {
    let sb = Sandbox::start();
    let token = sb.add_partner("Acme Partners", true);
    let dir = workdir(CUSTOMERS);
    let plan = |dir: &std::path::Path| {
        partnerctl()
            .current_dir(dir)
            .args(["plan", "config"])
            .env("PARTNERCTL_ENDPOINT", &sb.url)
            .env("PARTNERCTL_TOKEN", &token)
    };
    // Under CI, the catalog is not cached (the checkout stays as it was).
    let run = plan(dir.path()).env("CI", "true").run().code(1);
    assert!(
        run.stderr.starts_with(&PROBLEMS.join("\n")),
        "{}",
        run.stderr
    );
    assert!(!dir.path().join(".partnerctl").exists());

    // The plan refuses with the problems where they are written, as validate reports them.
    let run = plan(dir.path()).run().code(1);
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines[..3], PROBLEMS, "{}", run.stderr);
    assert_eq!(lines[3], "3 planning error(s); nothing was changed");
    let cache = dir.path().join(".partnerctl/catalog.json");
    let cached: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&cache).unwrap()).unwrap();
    assert_eq!(cached["source"], sb.url.as_str());
    assert_eq!(cached["items"].as_array().unwrap().len(), 4);
    drop(sb);

    // Offline (no endpoint, the sandbox gone), validate uses the cached catalog.
    let run = partnerctl()
        .current_dir(dir.path())
        .args(["validate", "config"])
        .run()
        .code(1);
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines[..3], PROBLEMS, "{}", run.stderr);
    let url = cached["source"].as_str().unwrap();
    assert_eq!(
        lines[3],
        format!(
            "3 problems found; services checked against the catalog cached by the last plan (.partnerctl/catalog.json from {url}, 4 types)"
        )
    );

    // Fixed, it validates, saying against what.
    let fixed = CUSTOMERS
        .replace("cardz", "mobile-id")
        .replace("layout_aproval", "layout_approval")
        .replace("50", "5");
    std::fs::write(dir.path().join("config/customers.yaml"), fixed).unwrap();
    let run = partnerctl()
        .current_dir(dir.path())
        .args(["validate", "config"])
        .run()
        .success();
    run.stdout_contains("(2 files); services checked against the catalog cached by the last plan");
}

#[test]
fn a_customer_table_gets_the_cell_of_an_unknown_service_type() {
    let dir = workdir("");
    std::fs::remove_file(dir.path().join("config/customers.yaml")).unwrap();
    std::fs::write(
        dir.path().join("config/customers.csv"),
        "name,contact_name,contact_email,services\nGlobex,Hank,hank@globex.example,cards\nInitech,Bill,bill@initech.example,mobile-id; cardz\n",
    )
    .unwrap();
    let run = partnerctl()
        .current_dir(dir.path())
        .args(["validate", "config", "--catalog", &sandbox_catalog()])
        .run()
        .code(1);
    let lines: Vec<&str> = run.stderr.lines().collect();
    let cardz = "config/customers.csv:3:4: (column services) unknown service type `cardz` (did you mean `cards`?); known types: access-control, cards, mobile-id, visitor-management";
    assert_eq!(lines[0], cardz);
    assert!(lines[1].starts_with("1 problem found; "), "{}", run.stderr);

    // The plan finds it at the same cell, against the live catalog: from where the loaded
    // services are written, before anything is planned.
    let sb = Sandbox::start();
    let token = sb.add_partner("Acme Partners", true);
    let run = partnerctl()
        .current_dir(dir.path())
        .args(["plan", "config"])
        .env("PARTNERCTL_ENDPOINT", &sb.url)
        .env("PARTNERCTL_TOKEN", &token)
        .env("CI", "true")
        .run()
        .code(1);
    assert_eq!(
        run.stderr.lines().collect::<Vec<_>>(),
        [cardz, "1 planning error(s); nothing was changed"],
        "{}",
        run.stderr
    );
}
