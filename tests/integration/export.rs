//! `partnerctl export` end to end against a real sandbox: the exported files of the acme estate
//! (both layouts, byte for byte), refusals, random hand-made estates that export, validate,
//! plan only adoptions and re-sends, and converge after one apply, the takeover of a Nexudus
//! estate (pinned by id, without contacts), and what export may touch on the disk whatever the
//! API answers and whatever the target directory holds (links, hidden files, other files).

use std::collections::BTreeMap;
use std::path::Path;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use crate::support::cli::{Cmd, partnerctl};
use crate::support::fake::{Fake, Received, Reply};
use crate::support::nexudus::{self, Nx};
use crate::support::{Api, Sandbox, acme};

/// `partnerctl SUBCOMMAND` against `sb` with `token`.
fn against(sb: &Sandbox, token: &str, subcommand: &str) -> Cmd {
    partnerctl()
        .arg(subcommand)
        .env("PARTNERCTL_ENDPOINT", &sb.url)
        .env("PARTNERCTL_TOKEN", token)
}

/// Every file below `dir`, by path relative to it.
fn read_tree(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().display().to_string();
                out.insert(rel, std::fs::read_to_string(&p).unwrap());
            }
        }
    }
    out
}

#[test]
fn acme_exports_byte_for_byte_and_plans_to_zero() {
    let sb = Sandbox::start();
    let token = sb.add_partner("Acme Partners", true);
    against(&sb, &token, "apply")
        .args([&acme(), "--auto-approve"])
        .run()
        .success();
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("acme");
    let run = against(&sb, &token, "export")
        .arg("-o")
        .arg(&tree)
        .run()
        .success();
    run.stderr_contains("Exported 3 customer(s), 1 network(s), 2 sub-account(s), 10 user(s)");
    let files = read_tree(&tree);
    assert_eq!(
        files.keys().collect::<Vec<_>>(),
        [
            "customers/contoso.yaml",
            "customers/fabrikam.yaml",
            "customers/northwind.yaml",
            "partner.yaml",
            "partnerctl.schema.json"
        ]
    );
    assert_eq!(
        files["partnerctl.schema.json"],
        partnerctl::config::schema_json()
    );
    for (path, text) in files.iter().filter(|(p, _)| p.ends_with(".yaml")) {
        let name = format!("export_acme_per_customer__{}", path.replace('/', "__"));
        insta::assert_snapshot!(name, text);
    }
    let single = dir.path().join("acme.yaml");
    against(&sb, &token, "export")
        .arg("-o")
        .arg(&single)
        .run()
        .success();
    insta::assert_snapshot!(
        "export_acme_single",
        std::fs::read_to_string(&single).unwrap()
    );
    for config in [&tree, &single] {
        against(&sb, &token, "plan")
            .arg(config)
            .arg("--detailed-exitcode")
            .run()
            .success()
            .stdout_contains("No changes");
    }
}

#[test]
fn export_refuses_to_overwrite_and_runs_under_ci_only_with_an_endpoint() {
    let sb = Sandbox::start();
    let token = sb.add_partner("Acme Partners", true);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("estate.yaml");
    std::fs::write(&file, "mine\n").unwrap();
    let run = against(&sb, &token, "export")
        .arg("-o")
        .arg(&file)
        .run()
        .code(1);
    run.stderr_contains("exists; nothing was written. Pass --force");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "mine\n");
    let tree = dir.path().join("tree");
    std::fs::create_dir_all(tree.join("customers")).unwrap();
    std::fs::write(tree.join("customers/gone.yaml"), "old\n").unwrap();
    std::fs::write(tree.join("README.md"), "keep\n").unwrap();
    against(&sb, &token, "export")
        .arg("-o")
        .arg(&tree)
        .run()
        .code(1)
        .stderr_contains("is not empty; nothing was written");
    assert!(tree.join("customers/gone.yaml").exists());
    // --force replaces the YAML (a customer gone from the live state does not linger) and
    // keeps everything else.
    against(&sb, &token, "export")
        .args(["--force", "-o"])
        .arg(&tree)
        .run()
        .success();
    assert!(!tree.join("customers/gone.yaml").exists());
    assert!(tree.join("README.md").exists() && tree.join("partner.yaml").exists());
    // Under CI, the embedded default is refused and nothing is written.
    let empty = tempfile::tempdir().unwrap();
    partnerctl()
        .current_dir(empty.path())
        .env("CI", "true")
        .args(["export", "-o", "out"])
        .run()
        .code(1)
        .stderr_contains("no endpoint configured and CI is set");
    assert!(!empty.path().join("out").exists() && !empty.path().join(".partnerctl").exists());
    against(&sb, &token, "export")
        .env("CI", "true")
        .args(["--layout", "per-customer"])
        .run()
        .code(1)
        .stderr_contains("name a directory with -o DIR");
}

#[test]
fn a_wrong_adopt_id_is_a_located_error() {
    let sb = Sandbox::start();
    let token = sb.add_partner("Acme Partners", true);
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c.yaml");
    std::fs::write(
        &cfg,
        "version: 1\npartner: { name: Acme Partners }\ncustomers:\n  - key: a\n    adopt: acc_nope\n    name: A\n    contact: { name: J, email: j@a.example }\n    country: GB\n    timezone: UTC\n",
    )
    .unwrap();
    let run = against(&sb, &token, "plan").arg(&cfg).run().code(1);
    run.stderr_contains(&format!(
        "{}:5:12: customer.a: adopt: the partner has no live account `acc_nope`",
        cfg.display()
    ));
    // Shown as the configuration's problems are, with no `error:` before the place.
    assert!(
        run.stderr
            .lines()
            .any(|l| l.starts_with(&format!("{}:5:12: ", cfg.display()))),
        "{}",
        run.stderr
    );
}

#[test]
fn the_embedded_sandbox_never_quietly_creates_a_second_partner() {
    let dir = tempfile::tempdir().unwrap();
    let embedded = |args: &[&str]| partnerctl().current_dir(dir.path()).args(args).run();
    embedded(&["apply", &acme(), "--auto-approve"]).success();
    let cfg = dir.path().join("renamed.yaml");
    std::fs::write(&cfg, "version: 1\npartner: { name: ACME Partners }\n").unwrap();
    let cfg = cfg.display().to_string();
    let run = embedded(&["plan", &cfg]).code(1);
    run.stderr_contains("it holds partner \"Acme Partners\", not \"ACME Partners\"");
    run.stderr_contains("partnerctl sandbox partner add --name \"ACME Partners\"");
    // Creating it is an explicit act; then both exist and each configuration finds its own.
    embedded(&["sandbox", "partner", "add", "--name", "ACME Partners"]).success();
    embedded(&["plan", &cfg, "--detailed-exitcode"]).success();
    embedded(&["export"]).code(1).stderr_contains(
        "several partners \"Acme Partners\", \"ACME Partners\"; name one with --partner",
    );
    embedded(&["export", "--partner", "Acme Partners"])
        .success()
        .stdout_contains("key: contoso");
}

/// The `defaults` of the partner file of an export in `tree`, as YAML.
fn defaults_of(tree: &BTreeMap<String, String>) -> serde_yaml::Value {
    let partner: serde_yaml::Value = serde_yaml::from_str(&tree["partner.yaml"]).unwrap();
    partner["defaults"].clone()
}

/// Two customers in each of five countries: the defaults are one place customers have (not
/// the most common country beside an unrelated most common timezone). One customer added in
/// the dashboard afterwards, in what is now the most common country, changes its own file on
/// `export --force`: the defaults already there are kept, and no other customer's file moves.
#[tokio::test(flavor = "multi_thread")]
async fn a_re_export_after_one_new_customer_changes_at_most_two_files() {
    let sb = Sandbox::start();
    let token = sb.add_partner("Acme Partners", true);
    let api = Api::new(&sb.url, &token);
    let places = [
        ("GB", "Europe/London"),
        ("FR", "Europe/Paris"),
        ("CH", "Europe/Zurich"),
        ("CN", "Asia/Shanghai"),
        ("IE", "Europe/Dublin"),
    ];
    let customer = |key: Option<String>, name: String, (country, timezone): (&str, &str)| {
        json!({
            "kind": "customer", "external_key": key, "name": name,
            "contact": { "name": "Jane Doe", "email": "jane@x.example" },
            "country": country, "timezone": timezone,
        })
    };
    for (i, place) in places.iter().enumerate() {
        for j in 0..2 {
            let body = customer(Some(format!("c{i}-{j}")), format!("C{i} {j}"), *place);
            api.post("/v1/accounts", body)
                .await
                .status_ok(201, "Account");
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("config");
    against(&sb, &token, "export")
        .arg("-o")
        .arg(&out)
        .run()
        .success();
    let before = read_tree(&out);
    assert_eq!(
        defaults_of(&before),
        serde_yaml::from_str::<serde_yaml::Value>("{ country: CH, timezone: Europe/Zurich }")
            .unwrap()
    );
    // Made in the dashboard: no key.
    let body = customer(None, "New Co".into(), places[0]);
    api.post("/v1/accounts", body)
        .await
        .status_ok(201, "Account");
    against(&sb, &token, "export")
        .args(["--force", "-o"])
        .arg(&out)
        .run()
        .success();
    let after = read_tree(&out);
    let changed: Vec<&String> = after
        .keys()
        .chain(before.keys())
        .filter(|path| before.get(*path) != after.get(*path))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    assert!(changed.len() <= 2, "{changed:?}");
    assert_eq!(changed, ["customers/new-co.yaml"]);
    let new = &after["customers/new-co.yaml"];
    assert!(
        new.contains("country: GB\n") && new.contains("timezone: Europe/London\n"),
        "{new}"
    );
    // The first apply only adopts the new customer.
    let plan = against(&sb, &token, "plan")
        .arg(&out)
        .args(["--format", "json"])
        .run()
        .success();
    let actions = count_actions(&plan.stdout);
    assert_eq!(actions.get("adopt"), Some(&1), "{actions:?}");
    assert_eq!(actions.values().sum::<u64>(), 1, "{actions:?}");
}

/// What a random hand-made estate holds, for the exact counts of the first plan.
#[derive(Default)]
struct Made {
    unkeyed: usize,
    expired: usize,
}

const NAMES: [&str; 6] = [
    "Twin",
    "Zürich Café",
    "東京 Office",
    "Acme",
    "  Spaced  Out ",
    "Twin",
];

/// One account: keyed or not, with random users and services.
async fn account(
    api: &Api,
    rng: &mut StdRng,
    made: &mut Made,
    kind: &str,
    parent: Option<&str>,
    n: usize,
) -> String {
    let name = NAMES[rng.random_range(0..NAMES.len())].trim().to_string();
    let mut body = json!({ "kind": kind, "name": name, "parent_id": parent });
    if rng.random_bool(0.5) {
        body["external_key"] = json!(format!("k{n}"));
    } else {
        made.unkeyed += 1;
    }
    if kind == "customer" {
        body["contact"] = json!({ "name": "C", "email": format!("c{n}@x.example") });
        let country = ["GB", "FR"][rng.random_range(0..2)];
        body["country"] = json!(country);
        body["timezone"] = json!("Europe/London");
    } else if rng.random_bool(0.3) {
        body["country"] = json!("DE");
    }
    if rng.random_bool(0.5) {
        let tier = ["gold", "silver"][rng.random_range(0..2)];
        body["labels"] = json!({ "tier": tier });
    }
    let a = api
        .post("/v1/accounts", body)
        .await
        .status_ok(201, "Account");
    let id = a["id"].as_str().unwrap().to_string();
    if rng.random_bool(0.5) {
        let settings = json!({ "settings": { "layout_approval": rng.random_bool(0.5) } });
        api.put(&format!("/v1/accounts/{id}/services/cards"), settings)
            .await;
    }
    id
}

/// A random estate made through the API, as by hand; users in every state.
async fn hand_made(sb: &Sandbox, api: &Api, seed: u64) -> Made {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut made = Made::default();
    let mut n = 0;
    let mut next = || {
        n += 1;
        n
    };
    let mut accounts = Vec::new();
    for _ in 0..rng.random_range(1..5) {
        let c = account(api, &mut rng, &mut made, "customer", None, next()).await;
        accounts.push(c.clone());
        for _ in 0..rng.random_range(0..2) {
            let net = account(api, &mut rng, &mut made, "network", Some(&c), next()).await;
            accounts.push(net.clone());
            for _ in 0..rng.random_range(0..3) {
                let sub =
                    account(api, &mut rng, &mut made, "sub_account", Some(&net), next()).await;
                accounts.push(sub);
            }
        }
    }
    // Twins: two customers without a key and with one name, told apart only by their ids.
    if seed % 2 == 0 {
        for _ in 0..2 {
            let body = json!({ "kind": "customer", "name": "Twin Co",
                "contact": { "name": "T", "email": "t@x.example" }, "country": "GB", "timezone": "UTC" });
            let a = api
                .post("/v1/accounts", body)
                .await
                .status_ok(201, "Account");
            accounts.push(a["id"].as_str().unwrap().to_string());
            made.unkeyed += 1;
        }
    }
    for (i, id) in accounts.iter().enumerate() {
        for j in 0..rng.random_range(0..3) {
            let email = format!("u{seed}-{i}-{j}@x.example");
            api.invite(id, &email, &format!("User {j}")).await;
            match rng.random_range(0..3) {
                0 => {}
                1 => {
                    sb.admin(&["users", "accept", "--email", &email]).success();
                }
                _ => {
                    sb.admin(&["users", "expire", "--email", &email]).success();
                    made.expired += 1;
                }
            }
        }
    }
    made
}

fn count_actions(plan_json: &str) -> BTreeMap<String, u64> {
    let v: Value = serde_json::from_str(plan_json).unwrap();
    let by = v["summary"]["by_action"].as_object().unwrap();
    by.iter()
        .map(|(k, n)| (k.clone(), n.as_u64().unwrap()))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn hand_made_estates_export_then_adopt_then_converge() {
    let seeds: u64 = std::env::var("PARTNERCTL_EXPORT_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(6);
    let sb = Sandbox::start();
    let (mut unkeyed, mut expired, mut pinned) = (0, 0, 0);
    for seed in 0..seeds {
        let name = format!("Partner {seed}");
        let token = sb.add_partner(&name, true);
        let api = Api::new(&sb.url, &token);
        let made = hand_made(&sb, &api, seed).await;
        let dir = tempfile::tempdir().unwrap();
        let tree = dir.path().join("estate");
        against(&sb, &token, "export")
            .arg("-o")
            .arg(&tree)
            .run()
            .success();
        partnerctl().arg("validate").arg(&tree).run().success();
        let run = against(&sb, &token, "plan")
            .arg(&tree)
            .args(["--format", "json"])
            .run()
            .success();
        let mut want = BTreeMap::new();
        if made.unkeyed > 0 {
            want.insert("adopt".to_string(), made.unkeyed as u64);
        }
        if made.expired > 0 {
            want.insert("resend".to_string(), made.expired as u64);
        }
        assert_eq!(count_actions(&run.stdout), want, "seed {seed}");
        unkeyed += made.unkeyed;
        expired += made.expired;
        let texts = read_tree(&tree).into_values().collect::<String>();
        pinned += texts.matches("adopt: acc_").count();
        against(&sb, &token, "apply")
            .arg(&tree)
            .arg("--auto-approve")
            .run()
            .success();
        against(&sb, &token, "plan")
            .arg(&tree)
            .arg("--detailed-exitcode")
            .run()
            .success();
    }
    // The estates exercised what the test is about.
    assert!(
        unkeyed > 0 && expired > 0 && pinned > 0,
        "{unkeyed} {expired} {pinned}"
    );
    eprintln!("{seeds} estates: {unkeyed} unkeyed accounts, {expired} expired, {pinned} pinned");
}

/// The Nexudus sandbox's time scale, and the client's (they must agree).
const NEXUDUS_SCALE: &str = "1000";

/// `partnerctl SUBCOMMAND` against the sandbox's Nexudus dialect as the reseller's login.
fn nexudus(sb: &Sandbox, subcommand: &str) -> Cmd {
    partnerctl()
        .arg(subcommand)
        .env("PARTNERCTL_PROVIDER", "nexudus")
        .env("PARTNERCTL_ENDPOINT", &sb.url)
        .env("NEXUDUS_USERNAME", nexudus::LOGIN)
        .env("NEXUDUS_PASSWORD", nexudus::PASSWORD)
        .env("PARTNERCTL_NEXUDUS_TIME_SCALE", NEXUDUS_SCALE)
}

/// Every business, by name: its complete record.
async fn businesses(nx: &Nx) -> BTreeMap<String, Value> {
    let all = nx.list_all("/api/sys/businesses", 1000).await;
    all.into_iter()
        .map(|b| (b["Name"].as_str().unwrap().to_string(), b))
        .collect()
}

/// A login at the dashboard, linked to `businesses`.
async fn login(nx: &Nx, email: &str, name: &str, admin: bool, businesses: &[i64]) {
    let body =
        json!({ "FullName": name, "Email": email, "IsAdmin": admin, "Businesses": businesses });
    nx.post("/api/sys/users", body).await.written();
}

/// Every account of an exported configuration: (key, `adopt` as written).
fn pins(tree: &BTreeMap<String, String>) -> Vec<(String, serde_yaml::Value)> {
    fn visit(account: &serde_yaml::Value, out: &mut Vec<(String, serde_yaml::Value)>) {
        let key = account["key"].as_str().unwrap().to_string();
        out.push((key, account["adopt"].clone()));
        for list in ["networks", "sub_accounts"] {
            if let Some(children) = account[list].as_sequence() {
                children.iter().for_each(|c| visit(c, out));
            }
        }
    }
    let mut out = Vec::new();
    for (path, text) in tree.iter().filter(|(p, _)| p.ends_with(".yaml")) {
        let doc: serde_yaml::Value = serde_yaml::from_str(text).unwrap();
        let customers = doc["customers"].as_sequence().cloned().unwrap_or_default();
        assert!(!text.contains("contact"), "{path}:\n{text}");
        customers.iter().for_each(|c| visit(c, &mut out));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// A Nexudus estate made at the dashboard (customers, a network with a sub-account, logins of
/// the reseller and of customers) is taken over: the export pins every account to its
/// business id, written as the number it is, with no contact (the vendor carries none); it
/// validates for this provider and plans to no change. A customer and a sub-account renamed
/// at the dashboard afterwards are found by their ids: the plan renames them back (no new
/// account, no manual step), and after the apply it is empty again. A new customer without a
/// contact is a dashboard step that says so.
#[tokio::test]
async fn a_nexudus_estate_is_taken_over_pinned_by_id_and_renames_at_the_vendor_are_updates() {
    let sb = Sandbox::nexudus(&["--time-scale", NEXUDUS_SCALE]);
    let nx = sb.nexudus_partner("Acme Partners", nexudus::LOGIN);
    sb.add_contoso_tree(&["--timezone", "Europe/Paris"]);
    sb.add_customer("Fabrikam Inc", &[]);
    let ids: BTreeMap<String, i64> = businesses(&nx)
        .await
        .into_iter()
        .map(|(name, b)| (name, b["Id"].as_i64().unwrap()))
        .collect();
    login(
        &nx,
        nexudus::LOGIN,
        "Acme Ops",
        true,
        &[ids["Acme Partners"]],
    )
    .await;
    login(
        &nx,
        "jane@contoso.example",
        "Jane Doe",
        true,
        &[ids["Contoso Ltd"]],
    )
    .await;
    login(
        &nx,
        "bob@contoso.example",
        "Bob",
        false,
        &[ids["Contoso Ltd"]],
    )
    .await;
    login(
        &nx,
        "paris@contoso.example",
        "Paris Desk",
        false,
        &[ids["Contoso Paris"]],
    )
    .await;
    login(
        &nx,
        "ravi@fabrikam.example",
        "Ravi Patel",
        false,
        &[ids["Fabrikam Inc"]],
    )
    .await;
    sb.admin(&["users", "accept", "--email", "jane@contoso.example"])
        .success();

    // Export: every account pinned to its business id, as a number; no contact anywhere.
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("estate");
    let run = nexudus(&sb, "export").arg("-o").arg(&tree).run().success();
    run.stderr_contains("Exported 2 customer(s), 1 network(s), 1 sub-account(s), 5 user(s)");
    run.stderr_contains("4 account(s) got a key from their name and are pinned to their live id");
    let files = read_tree(&tree);
    let number = |name: &str| serde_yaml::Value::from(ids[name]);
    assert_eq!(
        pins(&files),
        [
            ("contoso-ltd".to_string(), number("Contoso Ltd")),
            ("contoso-network".to_string(), number("Contoso Network")),
            ("contoso-paris".to_string(), number("Contoso Paris")),
            ("fabrikam-inc".to_string(), number("Fabrikam Inc")),
        ]
    );
    let partner = &files["partner.yaml"];
    assert!(partner.contains("email: ops@acme.example"), "{partner}");
    let contoso = &files["customers/contoso-ltd.yaml"];
    for user in [
        "jane@contoso.example",
        "bob@contoso.example",
        "paris@contoso.example",
    ] {
        assert!(contoso.contains(user), "{contoso}");
    }

    // Valid for this provider (the partner API would want contacts), and no change.
    nexudus(&sb, "validate").arg(&tree).run().success();
    partnerctl()
        .arg("validate")
        .arg(&tree)
        .run()
        .code(1)
        .stderr_contains("customer `contoso-ltd` has no `contact`");
    nexudus(&sb, "plan")
        .arg(&tree)
        .arg("--detailed-exitcode")
        .run()
        .success()
        .stdout_contains("No changes");

    // Renamed at the dashboard: a PUT of the complete business record.
    for (old, new) in [
        ("Fabrikam Inc", "Fabrikam Renamed"),
        ("Contoso Paris", "Paris Office"),
    ] {
        let mut record = nx
            .get(&format!("/api/sys/businesses/{}", ids[old]))
            .await
            .ok();
        record["Name"] = json!(new);
        assert_eq!(
            nx.put("/api/sys/businesses", record).await.written(),
            ids[old]
        );
    }
    let run = nexudus(&sb, "plan")
        .arg(&tree)
        .args(["--detailed-exitcode", "--format", "json"])
        .run()
        .code(2);
    let plan: Value = serde_json::from_str(&run.stdout).unwrap();
    let mut ops: Vec<(&str, &str, &str, &str)> = plan["operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["action"].as_str().unwrap(),
                o["address"].as_str().unwrap(),
                o["before"]["name"].as_str().unwrap_or_default(),
                o["after"]["name"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    ops.sort_unstable();
    assert_eq!(
        ops,
        [
            (
                "update",
                "customer.fabrikam-inc",
                "Fabrikam Renamed",
                "Fabrikam Inc"
            ),
            (
                "update",
                "sub_account.contoso-paris",
                "Paris Office",
                "Contoso Paris"
            ),
        ],
        "{}",
        run.stdout
    );
    assert!(plan.get("manual_steps").is_none(), "{}", run.stdout);
    assert_eq!(plan["summary"]["unmanaged"], 0, "{}", run.stdout);

    // The apply renames them back at the vendor; then nothing is left to do.
    nexudus(&sb, "apply")
        .arg(&tree)
        .arg("--auto-approve")
        .run()
        .success();
    let names = businesses(&nx).await;
    assert!(
        names.contains_key("Fabrikam Inc") && names.contains_key("Contoso Paris"),
        "{:?}",
        names.keys()
    );
    nexudus(&sb, "plan")
        .arg(&tree)
        .arg("--detailed-exitcode")
        .run()
        .success();

    // A new customer without a contact: the dashboard step says the contact is not in the
    // configuration.
    std::fs::write(
        tree.join("customers/globex.yaml"),
        "customers:\n  - { key: globex, name: Globex, country: GB, timezone: Europe/London }\n",
    )
    .unwrap();
    let run = nexudus(&sb, "plan").arg(&tree).run().success();
    run.stdout_contains("Add Customer");
    run.stdout_contains("Name: Globex");
    run.stdout_contains("Contact name and email: not in the configuration");
}

/// Every file below `dir`, links not followed, by path relative to it (for "nothing else was
/// written" checks).
fn entries_below(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let rel = e.path().strip_prefix(dir).unwrap().display().to_string();
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            }
            out.push(rel);
        }
    }
    out.sort();
    out
}

/// A scripted endpoint in front of a real sandbox: every request is answered with the
/// sandbox's answer (as `token`'s partner), but for the live keys of the accounts that
/// `hostile` replaces (key as the sandbox has it, key the endpoint says instead). The sandbox
/// itself refuses such keys; a vendor's API may still answer them.
fn hostile_keys(sb: &Sandbox, token: &str, hostile: Vec<(&'static str, String)>) -> Fake {
    let (url, token) = (sb.url.clone(), token.to_string());
    Fake::start(move |req: &Received, _| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let api = Api::new(&url, &token);
        let resp = rt.block_on(api.call(&req.method, &req.target, None, &[]));
        let etag = resp.header("etag");
        let mut body = resp.body;
        if req.target.starts_with("/v1/accounts") {
            for a in body["items"].as_array_mut().into_iter().flatten() {
                for (from, to) in &hostile {
                    if a["external_key"] == *from {
                        a["external_key"] = json!(to);
                    }
                }
            }
        }
        let mut reply = Reply::json(resp.status, body);
        if let Some(etag) = etag {
            reply = reply.header("ETag", &etag);
        }
        reply
    })
}

/// Export writes where valid keys say, whatever keys the API answers: live keys that are paths
/// (`../../made/here`, an absolute path) write nothing outside the target and create no
/// directory on the way; those accounts are exported like keyless ones (a key from the name,
/// pinned to the live id), export says so, and the files validate and plan to their adoption.
#[test]
fn export_writes_only_below_its_target_whatever_keys_the_api_answers() {
    let sb = Sandbox::start();
    let token = sb.add_partner("Acme Partners", true);
    against(&sb, &token, "apply")
        .args([&acme(), "--auto-approve"])
        .run()
        .success();
    let dir = tempfile::tempdir().unwrap();
    let outside = dir.path().join("abs");
    let fake = hostile_keys(
        &sb,
        &token,
        vec![
            ("contoso", "../../made/here".to_string()),
            ("fabrikam", outside.display().to_string()),
        ],
    );
    let tree = dir.path().join("a/b/out");
    let run = partnerctl()
        .args(["export", "-o"])
        .arg(&tree)
        .env("PARTNERCTL_ENDPOINT", &fake.url)
        .env("PARTNERCTL_TOKEN", &token)
        .run()
        .success();
    let mut files = entries_below(dir.path());
    files.retain(|f| !f.starts_with("a/b/out/"));
    assert_eq!(files, ["a", "a/b", "a/b/out"], "written outside the target");
    assert_eq!(
        entries_below(&tree),
        [
            "customers",
            "customers/contoso-ltd.yaml",
            "customers/fabrikam-inc.yaml",
            "customers/northwind.yaml",
            "partner.yaml",
            "partnerctl.schema.json"
        ]
    );
    run.stderr_contains("2 account(s) have a live key that is not a valid configuration key");
    run.stderr_contains("live key \"../../made/here\" exported as `contoso-ltd`");
    run.stderr_contains(&format!(
        "live key {:?} exported as `fabrikam-inc`",
        outside.display().to_string()
    ));
    let contoso = std::fs::read_to_string(tree.join("customers/contoso-ltd.yaml")).unwrap();
    assert!(
        contoso.contains("- key: contoso-ltd\n  adopt: acc_"),
        "{contoso}"
    );
    let tree = tree.display().to_string();
    partnerctl().args(["validate", &tree]).run().success();
    let plan = partnerctl()
        .args(["plan", &tree, "--format", "json"])
        .env("PARTNERCTL_ENDPOINT", &fake.url)
        .env("PARTNERCTL_TOKEN", &token)
        .run()
        .success();
    assert_eq!(
        count_actions(&plan.stdout),
        BTreeMap::from([("adopt".to_string(), 2)])
    );
}

/// `export --force` into a directory full of traps removes only the regular, non-hidden
/// `*.yaml`/`*.yml` files of the target that it did not write, and says which: not a file
/// outside reached through a directory link, not what a link leads to, not a hidden file, not
/// `*.YAML`, not a file it wrote again, and not the files it just wrote when a link leads back
/// to them.
#[test]
fn export_force_removes_only_the_configuration_files_of_its_target() {
    use std::os::unix::fs::symlink;
    let sb = Sandbox::start();
    let token = sb.add_partner("Acme Partners", true);
    against(&sb, &token, "apply")
        .args([&acme(), "--auto-approve"])
        .run()
        .success();
    let dir = tempfile::tempdir().unwrap();
    let elsewhere = dir.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    std::fs::write(elsewhere.join("victim.yaml"), "keep\n").unwrap();
    let tree = dir.path().join("tree");
    std::fs::create_dir_all(tree.join("customers")).unwrap();
    std::fs::create_dir_all(tree.join("sub")).unwrap();
    std::fs::create_dir_all(tree.join(".git")).unwrap();
    for (rel, text) in [
        ("customers/contoso.yaml", "old\n"),
        ("customers/gone.yaml", "old\n"),
        ("sub/old.yml", "old\n"),
        (".hidden.yaml", "keep\n"),
        (".git/config.yaml", "keep\n"),
        ("notes.YAML", "keep\n"),
        ("table.csv", "keep\n"),
    ] {
        std::fs::write(tree.join(rel), text).unwrap();
    }
    symlink(&elsewhere, tree.join("linked")).unwrap();
    symlink("customers", tree.join("mirror")).unwrap();
    symlink(elsewhere.join("victim.yaml"), tree.join("ext.yaml")).unwrap();
    let run = against(&sb, &token, "export")
        .args(["--force", "-o"])
        .arg(&tree)
        .run()
        .success();
    let removed: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("Removed "))
        .collect();
    let at = |rel: &str| tree.join(rel).display().to_string();
    assert_eq!(
        removed,
        [
            format!(
                "Removed {}: not part of this export (a customer gone from the live state, or a file of another layout).",
                at("customers/gone.yaml")
            ),
            format!(
                "Removed {}: not part of this export (a customer gone from the live state, or a file of another layout).",
                at("sub/old.yml")
            ),
        ]
    );
    run.stderr_contains(&format!("Kept {}: a link", at("ext.yaml")));
    run.stderr_contains(&format!(
        "Kept {}: a sheet, which export neither removes nor writes; the configuration reads it too",
        at("table.csv")
    ));
    assert_eq!(
        entries_below(&tree),
        [
            ".git",
            ".git/config.yaml",
            ".hidden.yaml",
            "customers",
            "customers/contoso.yaml",
            "customers/fabrikam.yaml",
            "customers/northwind.yaml",
            "ext.yaml",
            "linked",
            "mirror",
            "notes.YAML",
            "partner.yaml",
            "partnerctl.schema.json",
            "sub",
            "table.csv"
        ]
    );
    for rel in [
        ".hidden.yaml",
        ".git/config.yaml",
        "notes.YAML",
        "table.csv",
    ] {
        assert_eq!(std::fs::read_to_string(tree.join(rel)).unwrap(), "keep\n");
    }
    // A file that was there before and that this export wrote again is kept, with its new text.
    let contoso = std::fs::read_to_string(tree.join("customers/contoso.yaml")).unwrap();
    assert!(contoso.contains("- key: contoso\n"), "{contoso}");
    assert_eq!(entries_below(&elsewhere), ["victim.yaml"]);
    assert_eq!(
        std::fs::read_to_string(elsewhere.join("victim.yaml")).unwrap(),
        "keep\n"
    );
}

/// Export writes nothing through a link: a `customers` directory that is a link out of the
/// target, or a single file that is a link, is refused before anything is written, with what
/// to do.
#[test]
fn export_writes_nothing_through_a_link() {
    use std::os::unix::fs::symlink;
    let sb = Sandbox::start();
    let token = sb.add_partner("Acme Partners", true);
    against(&sb, &token, "apply")
        .args([&acme(), "--auto-approve"])
        .run()
        .success();
    let dir = tempfile::tempdir().unwrap();
    let elsewhere = dir.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    std::fs::write(elsewhere.join("mine.yaml"), "mine\n").unwrap();
    let tree = dir.path().join("tree");
    std::fs::create_dir(&tree).unwrap();
    symlink(&elsewhere, tree.join("customers")).unwrap();
    let run = against(&sb, &token, "export")
        .args(["--force", "-o"])
        .arg(&tree)
        .run()
        .code(1);
    run.stderr_contains(&format!(
        "nothing was written to {}:\n  {} is a link: export writes nothing through a link; remove the link, or choose another -o",
        tree.display(),
        tree.join("customers").display()
    ));
    assert_eq!(entries_below(&tree), ["customers"]);
    assert_eq!(entries_below(&elsewhere), ["mine.yaml"]);

    let file = dir.path().join("estate.yaml");
    symlink(elsewhere.join("mine.yaml"), &file).unwrap();
    against(&sb, &token, "export")
        .args(["--force", "-o"])
        .arg(&file)
        .run()
        .code(1)
        .stderr_contains("estate.yaml is a link: export writes nothing through a link");
    assert_eq!(
        std::fs::read_to_string(elsewhere.join("mine.yaml")).unwrap(),
        "mine\n"
    );
}
