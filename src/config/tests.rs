//! Unit tests of the pure loader: parsing, validation and merging from in-memory sources.

use super::*;

fn src(path: &str, text: &str) -> Source {
    Source {
        path: path.to_string(),
        text: text.to_string(),
    }
}

fn problems(sources: &[Source]) -> Vec<String> {
    load_sources(sources)
        .expect_err("expected problems")
        .iter()
        .map(ToString::to_string)
        .collect()
}

const PARTNER: &str = "version: 1\npartner:\n  name: Acme\n  users:\n    - { email: ops@acme.example, name: Ops, role: admin }\n";

#[test]
fn minimal_config_loads_and_counts() {
    let d = load_sources(&[src("a.yaml", PARTNER)]).unwrap();
    assert_eq!(d.partner.name, "Acme");
    assert_eq!(d.counts().users, 1);
    assert_eq!(d.counts().customers, 0);
}

#[test]
fn defaults_merge_and_inheritance() {
    let text = format!(
        "{PARTNER}defaults:\n  country: GB\n  timezone: Europe/London\n  labels: {{ tier: std, region: eu }}\n  services:\n    - {{ type: cards, settings: {{ layout_approval: true }} }}\n    - {{ type: mobile-id }}\ncustomers:\n  - key: c1\n    name: C1\n    contact: {{ name: J, email: j@c1.example }}\n    country: FR\n    labels: {{ tier: gold }}\n    services:\n      - {{ type: cards, settings: {{ layout_approval: false }} }}\n    networks:\n      - key: n1\n        name: N1\n        timezone: Europe/Paris\n        sub_accounts:\n          - {{ key: s1, name: S1 }}\n"
    );
    let d = load_sources(&[src("a.yaml", &text)]).unwrap();
    let c = &d.customers[0];
    assert_eq!(c.country.as_deref(), Some("FR"));
    assert_eq!(c.timezone.as_deref(), Some("Europe/London"));
    assert_eq!(c.labels.get("tier").map(String::as_str), Some("gold"));
    assert_eq!(c.labels.get("region").map(String::as_str), Some("eu"));
    let types: Vec<&str> = c.services.iter().map(|s| s.service_type.as_str()).collect();
    assert_eq!(types, ["mobile-id", "cards"]);
    assert_eq!(c.services[1].settings["layout_approval"], false);
    let n = &c.networks[0];
    assert_eq!(n.country.as_deref(), Some("FR"));
    assert_eq!(n.timezone.as_deref(), Some("Europe/Paris"));
    let s = &n.sub_accounts[0];
    assert_eq!(s.timezone.as_deref(), Some("Europe/Paris"));
    assert_eq!(d.counts().services, 2);
}

#[test]
fn walk_yields_parents_before_children_with_their_indices() {
    let text = format!(
        "{PARTNER}defaults:\n  country: GB\n  timezone: UTC\n  labels: {{ tier: std }}\ncustomers:\n  - key: c1\n    name: C1\n    contact: {{ name: J, email: j@c1.example }}\n    protect: true\n    users: [{{ email: a@c1.example, name: A }}]\n    networks:\n      - key: n1\n        name: N1\n        country: FR\n        sub_accounts:\n          - {{ key: s1, name: S1 }}\n          - {{ key: s2, name: S2, services: [{{ type: cards }}] }}\n      - key: n2\n        name: N2\n  - key: c2\n    name: C2\n    contact: {{ name: K, email: k@c2.example }}\n    networks:\n      - {{ key: n3, name: N3, sub_accounts: [{{ key: s3, name: S3 }}] }}\n"
    );
    let d = load_sources(&[src("a.yaml", &text)]).unwrap();
    let walked: Vec<(AccountKind, &str, usize, Option<usize>)> = d
        .walk()
        .map(|n| (n.kind, n.key, n.index, n.parent))
        .collect();
    use AccountKind::{Customer, Network, SubAccount};
    assert_eq!(
        walked,
        [
            (Customer, "c1", 0, None),
            (Network, "n1", 1, Some(0)),
            (SubAccount, "s1", 2, Some(1)),
            (SubAccount, "s2", 3, Some(1)),
            (Network, "n2", 4, Some(0)),
            (Customer, "c2", 5, None),
            (Network, "n3", 6, Some(5)),
            (SubAccount, "s3", 7, Some(6)),
        ]
    );
    let nodes: Vec<Node> = d.walk().collect();
    assert_eq!(nodes[0].contact.map(|c| c.name.as_str()), Some("J"));
    assert!(nodes[0].protect && !nodes[1].protect);
    assert_eq!(nodes[0].labels.get("tier").map(String::as_str), Some("std"));
    assert_eq!(nodes[0].users.len(), 1);
    assert_eq!(nodes[1].contact, None);
    assert_eq!(
        (nodes[2].country, nodes[2].timezone),
        (Some("FR"), Some("UTC"))
    );
    assert_eq!(nodes[3].services[0].service_type, "cards");
    let c = d.counts();
    assert_eq!((c.customers, c.networks, c.sub_accounts), (2, 3, 3));
    assert_eq!((c.users, c.services), (2, 1));
}

#[test]
fn unknown_field_suggests_and_is_located() {
    let text = format!(
        "{PARTNER}customers:\n  - key: c1\n    nmae: C1\n    contact: {{ name: J, email: j@c1.example }}\n    country: FR\n    timezone: UTC\n"
    );
    let p = problems(&[src("a.yaml", &text)]);
    assert_eq!(
        p,
        [
            "a.yaml:7:5: missing required field `name`",
            "a.yaml:8:5: unknown field `nmae` (did you mean `name`?); allowed here: key, adopt, name, contact, country, timezone, protect, labels, users, services, networks",
        ]
    );
}

#[test]
fn every_problem_of_every_file_is_reported() {
    let a = format!(
        "{PARTNER}customers:\n  - key: Bad_Key\n    name: X\n    contact: {{ name: J, email: nope }}\n    country: XX\n    timezone: Mars/Base\n"
    );
    let b = "customers:\n  - key: ok\n    name: Y\n    contact: { name: J, email: j@y.example }\n    country: GB\n    timezone: Europe/London\n    users:\n      - { email: a@y.example, name: A, role: owner }\n      - { email: A@Y.example, name: A2 }\n";
    let p = problems(&[src("a.yaml", &a), src("b.yaml", b)]);
    assert_eq!(p.len(), 6, "{p:#?}");
    assert!(p[0].starts_with("a.yaml:7:10: invalid key `Bad_Key`"));
    assert!(p[1].starts_with("a.yaml:9:32: invalid email address `nope`"));
    assert!(p[2].starts_with("a.yaml:10:14: invalid country `XX`"));
    assert!(p[3].starts_with("a.yaml:11:15: invalid timezone `Mars/Base`"));
    assert!(p[4].starts_with("b.yaml:8:46: invalid role `owner`"));
    assert!(p[5].starts_with(
        "b.yaml:9:18: duplicate user `A@Y.example` in account `ok`; already listed at b.yaml:8:18"
    ));
}

#[test]
fn duplicate_keys_across_files_name_both_places() {
    let a = format!(
        "{PARTNER}defaults: {{ country: GB, timezone: UTC }}\ncustomers:\n  - {{ key: dup, name: A, contact: {{ name: J, email: j@a.example }} }}\n"
    );
    let b = "customers:\n  - key: other\n    name: B\n    contact: { name: J, email: j@b.example }\n    networks:\n      - { key: dup, name: N }\n";
    let p = problems(&[src("a.yaml", &a), src("b.yaml", b)]);
    assert_eq!(
        p,
        [
            "b.yaml:6:16: duplicate account key `dup`; it is already declared at a.yaml:8:12 (keys are unique in the whole configuration)"
        ]
    );
}

#[test]
fn partner_twice_never_and_version() {
    let p = problems(&[src("a.yaml", PARTNER), src("b.yaml", PARTNER)]);
    assert_eq!(p.len(), 1);
    assert!(p[0].starts_with(
        "b.yaml:2:1: `partner` is declared again; it is already declared at a.yaml:2:1"
    ));
    let p = problems(&[src("a.yaml", "customers: []\n")]);
    assert_eq!(p.len(), 1);
    assert!(p[0].starts_with("a.yaml:1:1: no file declares `partner`"));
    let p = problems(&[src("a.yaml", &PARTNER.replace("version: 1", "version: 2"))]);
    assert_eq!(
        p,
        ["a.yaml:1:10: unsupported version 2: this partnerctl reads version 1"]
    );
    let p = problems(&[src("a.yaml", &PARTNER.replace("version: 1\n", ""))]);
    assert_eq!(p, ["a.yaml:1:1: missing required field `version`"]);
}

/// A field written with nothing after it is pointed at where it is written, by name, rather
/// than where the parser finds its empty value (the next line): `partner:` included, which
/// no longer counts as a partner that is not there.
#[test]
fn a_field_without_a_value_is_named_at_its_key() {
    let p = problems(&[src(
        "a.yaml",
        "version: 1\npartner:\ncustomers:\n  - key: c1\n    name:\n    country: GB\n    timezone: UTC\n    contact: { name: J, email: j@c1.example }\n",
    )]);
    assert_eq!(
        p,
        [
            "a.yaml:2:1: `partner` has no value; expected a mapping",
            "a.yaml:5:5: `name` has no value; expected a string",
        ]
    );
    // A field whose value may be null (`defaults:` left empty, as the format allows) stays
    // quiet.
    load_sources(&[src("a.yaml", &format!("{PARTNER}defaults:\n"))]).unwrap();
    // A name of a map whose names are free (a label) is pointed at the same way.
    let p = problems(&[src(
        "a.yaml",
        "version: 1\npartner: { name: A }\ncustomers:\n  - key: c1\n    name: C1\n    country: GB\n    timezone: UTC\n    contact: { name: J, email: j@c1.example }\n    labels:\n      tier:\n",
    )]);
    assert_eq!(p, ["a.yaml:10:7: `tier` has no value; expected a string"]);
}

#[test]
fn wrong_types_and_missing_country() {
    let text = format!(
        "{PARTNER}customers:\n  - key: c1\n    name: [x]\n    contact: {{ name: J, email: j@c1.example }}\n    protect: maybe\n"
    );
    let p = problems(&[src("a.yaml", &text)]);
    assert_eq!(
        p,
        [
            "a.yaml:7:5: customer `c1` has no `country` and `defaults` sets none",
            "a.yaml:7:5: customer `c1` has no `timezone` and `defaults` sets none",
            "a.yaml:8:11: expected a string, found a list",
            "a.yaml:10:14: expected a boolean (true or false), found a string",
        ]
    );
}

/// `adopt` takes a live id as a string or as a number (a vendor's ids may be numbers), reads
/// either as the id's text, and writes a number back as a number; anything else is a located
/// type error.
#[test]
fn adopt_is_a_string_or_a_number() {
    let text = |adopt: &str| {
        format!(
            "{PARTNER}defaults: {{ country: GB, timezone: UTC }}\ncustomers:\n  - key: c1\n    adopt: {adopt}\n    name: C1\n    contact: {{ name: J, email: j@c1.example }}\n    networks:\n      - {{ key: n1, adopt: 7, name: N1, sub_accounts: [{{ key: s1, adopt: '8', name: S1 }}] }}\n"
        )
    };
    let adopted = |adopt: &str| {
        let d = load_sources(&[src("a.yaml", &text(adopt))]).unwrap();
        d.walk()
            .map(|n| n.adopt.map(str::to_string))
            .collect::<Vec<_>>()
    };
    let some = |ids: [&str; 3]| ids.map(|i| Some(i.to_string())).to_vec();
    assert_eq!(adopted("6"), some(["6", "7", "8"]));
    assert_eq!(adopted("\"acc_1\""), some(["acc_1", "7", "8"]));
    assert_eq!(adopted("acc_1"), some(["acc_1", "7", "8"]));
    assert_eq!(adopted("6.0"), some(["6", "7", "8"]));
    for (bad, found) in [
        ("1.5", "a number"),
        ("true", "a boolean"),
        ("[6]", "a list"),
    ] {
        assert_eq!(
            problems(&[src("a.yaml", &text(bad))]),
            [format!(
                "a.yaml:9:12: expected a string or an integer or null, found {found}"
            )],
            "{bad}"
        );
    }
    // Written back as read: a number as a number, any other id as a string.
    let d = load_sources(&[src("a.yaml", &text("6"))]).unwrap();
    let yaml = serde_yaml::to_string(&d.customers[0]).unwrap();
    assert!(yaml.contains("adopt: 6\n"), "{yaml}");
    assert!(yaml.contains("adopt: 7\n"), "{yaml}");
    assert!(yaml.contains("adopt: 8\n"), "{yaml}");
    for (id, written) in [
        ("acc_1", "acc_1"),
        ("6", "6"),
        ("007", "'007'"),
        ("-3", "'-3'"),
        ("99999999999999999999", "'99999999999999999999'"),
    ] {
        let text = serde_yaml::to_string(&AdoptId::from(id)).unwrap();
        assert_eq!(text, format!("{written}\n"), "{id}");
        let back: AdoptId = serde_yaml::from_str(&text).unwrap();
        assert_eq!(back.as_str(), id);
    }
}

/// A customer's `contact` is required for a provider that stores contacts (the default: the
/// partner API), located at the customer; for one that stores none it may be left out.
#[test]
fn contact_is_required_only_where_the_provider_stores_contacts() {
    let text = format!(
        "{PARTNER}defaults: {{ country: GB, timezone: UTC }}\ncustomers:\n  - key: c1\n    name: C1\n  - {{ key: c2, name: C2, contact: {{ name: K, email: k@c2.example }} }}\n"
    );
    let sources = [src("a.yaml", &text)];
    let want = "a.yaml:8:5: customer `c1` has no `contact`, which the partner API needs to create a customer: add `contact: { name: ..., email: ... }` (a provider that stores no contacts, such as nexudus, needs none: say which with --provider or PARTNERCTL_PROVIDER)";
    assert_eq!(problems(&sources), [want]);
    assert_eq!(
        load_sources_for(&sources, None, Needs::default())
            .unwrap_err()
            .to_string(),
        format!("{want}\n")
    );
    let d = load_sources_for(
        &sources,
        None,
        Needs {
            contact: false,
            ..Default::default()
        },
    )
    .unwrap();
    let contacts: Vec<Option<&str>> = d
        .customers
        .iter()
        .map(|c| c.contact.as_ref().map(|c| c.email.as_str()))
        .collect();
    assert_eq!(contacts, [None, Some("k@c2.example")]);
    // A contact that is given is checked whatever the provider.
    let bad = text.replace("k@c2.example", "k@c2");
    let p = load_sources_for(
        &[src("a.yaml", &bad)],
        None,
        Needs {
            contact: false,
            ..Default::default()
        },
    )
    .unwrap_err()
    .to_string();
    assert!(p.contains("invalid email address `k@c2`"), "{p}");
    // Written back without a contact when it has none.
    let yaml = serde_yaml::to_string(&d.customers[0]).unwrap();
    assert!(!yaml.contains("contact"), "{yaml}");
}

/// The JSON Schema editors use says the same of `adopt` as the loader.
#[test]
fn the_schema_takes_adopt_as_a_string_or_a_number() {
    let validator = jsonschema::validator_for(schema()).unwrap();
    let file = |adopt: serde_json::Value| {
        serde_json::json!({
            "customers": [{
                "key": "c1", "adopt": adopt, "name": "C1",
                "contact": { "name": "J", "email": "j@c1.example" },
                "networks": [{ "key": "n1", "adopt": adopt, "name": "N1" }],
            }]
        })
    };
    for good in [serde_json::json!(6), serde_json::json!("acc_1")] {
        assert!(validator.is_valid(&file(good.clone())), "{good}");
    }
    for bad in [
        serde_json::json!(1.5),
        serde_json::json!(true),
        serde_json::json!(""),
        serde_json::json!(-1),
    ] {
        assert!(!validator.is_valid(&file(bad.clone())), "{bad}");
    }
}

#[test]
fn duplicate_services_and_syntax_errors() {
    let text = format!(
        "{PARTNER}defaults:\n  services:\n    - {{ type: cards }}\n    - {{ type: cards }}\n"
    );
    let p = problems(&[src("a.yaml", &text), src("b.yaml", "customers: [\n")]);
    assert_eq!(p.len(), 2, "{p:#?}");
    assert!(p[0].starts_with(
        "a.yaml:9:15: duplicate service `cards` in defaults; already listed at a.yaml:8:15"
    ));
    assert!(
        p[1].starts_with("b.yaml:2:1: YAML syntax error"),
        "{}",
        p[1]
    );
}

#[test]
fn names_and_labels_are_held_to_the_api_limits() {
    let long_name = "N".repeat(201);
    let long_value = "v".repeat(256);
    let long_key = "k".repeat(64);
    let many: String = (0..63).map(|i| format!("l{i}: x, ")).collect();
    let text = format!(
        "{PARTNER}defaults:\n  country: GB\n  timezone: Europe/London\n  labels: {{ tier: std }}\ncustomers:\n  - key: c1\n    name: {long_name}\n    contact: {{ name: ' J', email: j@c1.example }}\n    labels: {{ {long_key}: a, note: {long_value} }}\n  - key: c2\n    name: C2\n    contact: {{ name: K, email: k@c2.example }}\n    protect: true\n    labels: {{ {many}}}\n    users:\n      - {{ email: u@c2.example, name: 'U ' }}\n"
    );
    let p = problems(&[src("a.yaml", &text)]);
    assert_eq!(
        p,
        [
            "a.yaml:12:11: name is 201 characters long; the API takes at most 200",
            "a.yaml:13:22: contact name must not start or end with spaces",
            "a.yaml:14:15: label key `kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk` is 64 characters long; label keys are 1 to 63 characters",
            "a.yaml:14:90: label `note` has a value of 256 characters; label values are at most 255 characters",
            "a.yaml:19:13: account `c2` would have 65 labels (with those from `defaults` and with the one `protect` records); an account has at most 64",
            "a.yaml:21:38: user name must not start or end with spaces",
        ],
    );
    // 63 own labels and `protect` are exactly the limit without defaults
    let fits = text.replace("  labels: { tier: std }\n", "");
    let p = problems(&[src("a.yaml", &fits)]);
    assert!(p.iter().all(|l| !l.contains("would have")), "{p:#?}");
}

fn sandbox_catalog() -> Catalog {
    Catalog::from_json(include_str!("../sandbox/catalog.json"))
        .unwrap()
        .catalog
}

#[test]
fn services_against_a_catalog_are_located_with_every_other_problem() {
    let text = format!(
        "{PARTNER}defaults:\n  country: France\n  timezone: Europe/Paris\n  services:\n    - {{ type: cardz }}\ncustomers:\n  - key: c1\n    name: C1\n    contact: {{ name: J, email: j@c1.example }}\n    services:\n      - type: cards\n        settings: {{ card_format: cr81 }}\n"
    );
    let sources = [src("a.yaml", &text)];
    assert!(
        load_sources(&[src("a.yaml", &text.replace("France", "FR"))]).is_ok(),
        "without a catalog, types and settings are not checked"
    );
    let catalog = sandbox_catalog();
    let p: Vec<String> = load_sources_with(&sources, Some(&catalog))
        .expect_err("problems")
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        p,
        [
            "a.yaml:7:12: invalid country `France`: expected an ISO 3166-1 alpha-2 code, did you mean `FR`?",
            "a.yaml:10:15: unknown service type `cardz` (did you mean `cards`?); known types: access-control, cards, mobile-id, visitor-management",
            "a.yaml:17:34: invalid settings for `cards`: /card_format: \"cr81\" is not one of \"cr80\", \"cr79\" or \"digital\"",
        ]
    );
}

/// The services of a loaded configuration, checked against a catalog it was not validated
/// with (the live one, before planning), give the problems `validate` gives with that catalog,
/// at the same places (a table's cell with its column), found from the model's spans without
/// reading the files again; a service of `defaults` that several customers get is one problem.
#[test]
fn services_of_a_loaded_configuration_are_located_as_validate_locates_them() {
    let yaml = format!(
        "{PARTNER}defaults:\n  country: FR\n  timezone: Europe/Paris\n  services:\n    - type: cards\n      settings: {{ card_format: cr81 }}\ncustomers:\n  - key: c1\n    name: C1\n    contact: {{ name: J, email: j@c1.example }}\n    services: [{{ type: parking }}]\n    networks:\n      - key: n1\n        name: N1\n        services:\n          - type: mobile-id\n            settings:\n              platforms: [ios, windows]\n              biometrix: true\n        sub_accounts:\n          - key: s1\n            name: S1\n            services: [{{ type: cards, settings: {{ max_cards_per_user: 50 }} }}]\n  - key: c2\n    name: C2\n    contact: {{ name: K, email: k@c2.example }}\n"
    );
    let table = "name,contact_name,contact_email,country,timezone,services\nGlobex,Hank,hank@globex.example,GB,Europe/London,cards; cardz\nInitech,Bill,bill@initech.example,GB,Europe/London,visitor-management\n";
    let sources = [src("a.yaml", &yaml), src("t.csv", table)];
    let catalog = sandbox_catalog();
    let strings = |p: Problems| p.iter().map(ToString::to_string).collect::<Vec<_>>();
    let validated = strings(load_sources_with(&sources, Some(&catalog)).expect_err("problems"));
    let desired = load_sources(&sources).unwrap();
    let checked = strings(check_services(&desired, &catalog));
    assert_eq!(checked, validated);
    assert_eq!(
        checked,
        [
            "a.yaml:11:32: invalid settings for `cards`: /card_format: \"cr81\" is not one of \"cr80\", \"cr79\" or \"digital\"",
            "a.yaml:16:24: unknown service type `parking`; known types: access-control, cards, mobile-id, visitor-management",
            "a.yaml:23:32: invalid settings for `mobile-id`: /platforms/1: \"windows\" is not one of \"ios\" or \"android\"",
            "a.yaml:24:15: unknown setting `biometrix` for service `mobile-id`; allowed here: platforms, require_biometrics, credential_ttl_hours",
            "a.yaml:28:71: invalid settings for `cards`: /max_cards_per_user: 50 is greater than the maximum of 20",
            "t.csv:2:6: (column services) unknown service type `cardz` (did you mean `cards`?); known types: access-control, cards, mobile-id, visitor-management",
        ]
    );
    let fixed = yaml
        .replace("cr81", "cr80")
        .replace("parking", "access-control")
        .replace(", windows", "")
        .replace("biometrix", "require_biometrics")
        .replace("50", "5");
    let sources = [
        src("a.yaml", &fixed),
        src("t.csv", &table.replace("cardz", "mobile-id")),
    ];
    let desired = load_sources_with(&sources, Some(&catalog)).unwrap();
    assert!(check_services(&desired, &catalog).is_empty());
}

#[test]
fn a_table_cell_with_an_unknown_service_type_names_its_column() {
    let table = "name,contact_name,contact_email,country,timezone,services\nGlobex,Hank,hank@globex.example,GB,Europe/London,cards; cardz\n";
    let sources = [src("a.yaml", PARTNER), src("t.csv", table)];
    let catalog = sandbox_catalog();
    let p: Vec<String> = load_sources_with(&sources, Some(&catalog))
        .expect_err("problems")
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        p,
        [
            "t.csv:2:6: (column services) unknown service type `cardz` (did you mean `cards`?); known types: access-control, cards, mobile-id, visitor-management"
        ]
    );
}

/// Keys derived from names are the rows' identities: two keyless rows whose names give one key,
/// or a keyless row whose name gives a key declared elsewhere, are problems naming both places
/// and the fix, whichever comes first.
#[test]
fn keys_from_names_never_depend_on_the_rows_order() {
    let yaml = "customers:\n  - key: acme\n    name: Acme\n    contact: { name: J, email: j@a.example }\n    country: GB\n    timezone: UTC\n";
    let table = "key,name,contact_name,contact_email,country,timezone\n,Atelier Berlin,A,a@x.example,DE,Europe/Berlin\n,Acme,B,b@x.example,GB,UTC\n,Atelier  Berlin!,C,c@x.example,DE,Europe/Berlin\nacme-2,Other,D,d@x.example,GB,UTC\n";
    let p = problems(&[
        src("a.yaml", PARTNER),
        src("b.yaml", yaml),
        src("t.csv", table),
    ]);
    assert_eq!(
        p,
        [
            "t.csv:3:2: (column name) this row has no key and its name gives the key `acme`, which the account at b.yaml:2:10 already has: give this row its own key in a `key` column",
            "t.csv:4:2: (column name) this row has no key and its name gives the key `atelier-berlin`, as does the row at t.csv:2:2: keys from names would follow the rows' order and swap the accounts when the sheet is sorted, so give each of these rows its own key in a `key` column",
        ]
    );
    // The keyed account after the keyless row.
    let p = problems(&[
        src("a.yaml", PARTNER),
        src("a.csv", table),
        src("b.yaml", yaml),
    ]);
    assert!(
        p.contains(&"b.yaml:2:10: key `acme` is also the key the row at a.csv:3:2 gets from its name (it has no key): give that row its own key in a `key` column".to_string()),
        "{p:#?}"
    );
    // Sorting the rows gives every account the same key.
    let keys = |t: &str| -> Vec<(String, String)> {
        let d = load_sources(&[src("a.yaml", PARTNER), src("t.csv", t)]).unwrap();
        let mut k: Vec<_> = d.customers.into_iter().map(|c| (c.name, c.key)).collect();
        k.sort();
        k
    };
    let rows = "name,contact_name,contact_email,country,timezone\nBeta,A,a@x.example,DE,Europe/Berlin\nAlpha,B,b@x.example,GB,UTC\n";
    let sorted = "name,contact_name,contact_email,country,timezone\nAlpha,B,b@x.example,GB,UTC\nBeta,A,a@x.example,DE,Europe/Berlin\n";
    assert_eq!(keys(rows), keys(sorted));
}

/// Every outcome of loading, validating and importing `sources`, as text: what duplicate
/// keys are found must not depend on how keys are fingerprinted.
fn outcomes(sources: &[Source]) -> Vec<String> {
    let shown = |r: Result<String, Problems>| match r {
        Ok(ok) => format!("ok {ok}"),
        Err(p) => p.to_string(),
    };
    let tables: Vec<Source> = sources
        .iter()
        .filter(|s| s.path.ends_with(".csv"))
        .cloned()
        .collect();
    vec![
        shown(load_sources(sources).map(|d| format!("{:?}", d.counts()))),
        shown(
            load::check_owned(sources.to_vec(), None, Needs::default())
                .map(|c| format!("{:?}", c.counts)),
        ),
        shown(load_tables(&tables, false).map(|t| t.customers.len().to_string())),
    ]
}

/// Keys are told apart by fingerprints, and by their texts, read again, only when two
/// fingerprints are the same: with every key given the same fingerprint, or one of three,
/// distinct keys are no duplicates, and keys given twice (in any case, in YAML, in tables,
/// derived from names) are the same problems, naming both places, in the same order.
#[test]
fn keys_whose_fingerprints_collide_are_told_apart_by_their_texts() {
    let yaml = "customers:\n  - key: acme\n    name: Acme\n    contact: { name: J, email: j@a.example }\n    country: GB\n    timezone: UTC\n    networks:\n      - key: acme-net\n        name: Net\n        sub_accounts:\n          - { key: acme-sub, name: Sub }\n";
    let distinct = "key,name,contact_name,contact_email,country,timezone\nk1,One,A,a@x.example,DE,Europe/Berlin\n,Two Co,B,b@x.example,GB,UTC\nk3,Three,C,c@x.example,GB,UTC\n";
    let repeated = "key,name,contact_name,contact_email,country,timezone\n,Atelier Berlin,A,a@x.example,DE,Europe/Berlin\n,Acme,B,b@x.example,GB,UTC\nACME-NET,Net again,E,e@x.example,GB,UTC\n,Atelier  Berlin!,C,c@x.example,DE,Europe/Berlin\nk9,Nine,D,d@x.example,GB,UTC\nk9,Nine again,bad name\u{202e},not-an-email,GB,UTC\n";
    let configs = [
        vec![
            src("a.yaml", PARTNER),
            src("b.yaml", yaml),
            src("t.csv", distinct),
        ],
        vec![
            src("a.yaml", PARTNER),
            src("b.yaml", yaml),
            src("t.csv", repeated),
        ],
        vec![
            src("a.yaml", PARTNER),
            src("t.csv", repeated),
            src("b.yaml", yaml),
            src("u.csv", distinct),
        ],
    ];
    let one: check::Fingerprint = |_| 7;
    let three: check::Fingerprint = |k| k.len() as u64 % 3;
    for sources in &configs {
        let expected = outcomes(sources);
        for (name, f) in [("one", one), ("three", three)] {
            let found = check::with_fingerprint(f, || outcomes(sources));
            assert_eq!(found, expected, "fingerprints: {name}");
        }
    }
    assert!(
        outcomes(&configs[0])[0].starts_with("ok "),
        "{:?}",
        outcomes(&configs[0])
    );
    let found = check::with_fingerprint(one, || outcomes(&configs[1]));
    let lines: Vec<&str> = found[0].lines().collect();
    assert_eq!(lines.len(), 7, "{}", found[0]);
    assert!(
        lines[0].contains("gives the key `acme`, which the account at b.yaml:2:10 already has")
    );
    assert!(lines[1].starts_with("t.csv:4:1: (column key) invalid key `ACME-NET`"));
    assert!(lines[2].starts_with("t.csv:4:1: (column key) duplicate account key `ACME-NET`; it is already declared at b.yaml:8:14"));
    assert!(lines[3].contains("as does the row at t.csv:2:2"));
    assert!(lines[4].starts_with(
        "t.csv:7:1: (column key) duplicate account key `k9`; it is already declared at t.csv:6:1"
    ));
}

/// A table's unknown columns are a warning: the configuration loads, with the warning
/// located at the header; `strict` makes it an error.
#[test]
fn unknown_columns_warn_unless_strict() {
    let table = "Name,Contact_Name,Contact_Email,Country,Timezone,Notes\nGlobex,Hank,hank@globex.example,GB,Europe/London,call\n";
    let sources = [src("a.yaml", PARTNER), src("t.csv", table)];
    let d = load_sources(&sources).unwrap();
    assert_eq!(d.customers[0].country.as_deref(), Some("GB"));
    let w: Vec<String> = d.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(w.len(), 1);
    assert!(
        w[0].starts_with("t.csv:1:6: warning: unknown column `Notes` ignored"),
        "{w:?}"
    );
    let strict = Needs {
        strict: true,
        ..Needs::default()
    };
    let e = load_sources_for(&sources, None, strict).unwrap_err();
    assert_eq!(e.errors(), 1);
    assert!(
        e.to_string()
            .starts_with("t.csv:1:6: unknown column `Notes` refused (--strict)"),
        "{e}"
    );
    // With other problems, the warning is reported with them (it may be why).
    let typo = table.replace("Country", "Contry");
    let e = load_sources(&[src("a.yaml", PARTNER), src("t.csv", &typo)]).unwrap_err();
    assert_eq!(e.errors(), 1, "{e}");
    assert_eq!(e.len(), 2, "{e}");
}

const NETWORKED: &str = "customers:\n  - key: contoso\n    name: Contoso\n    contact: { name: J, email: j@contoso.example }\n    country: GB\n    timezone: UTC\n    users: [{ email: jane@contoso.example, name: Jane }]\n    networks:\n      - key: contoso-net\n        name: Contoso Net\n        sub_accounts: [{ key: contoso-paris, name: Contoso Paris }]\n";

/// A users table invites people across accounts: the partner, customers of YAML and of tables,
/// networks and sub-accounts, each user after the account's own; `role` defaults to `member`.
#[test]
fn a_users_table_adds_users_to_the_accounts_it_names() {
    let customers = "name,contact_name,contact_email,country,timezone,admin_email\nGlobex,Hank,hank@globex.example,GB,UTC,hank@globex.example\n";
    let users = "Account,Email,Name,Role\npartner,audit@acme.example,Audit,\nContoso,kim@contoso.example,Kim,Admin\ncontoso-paris,luc@contoso.example,Luc,member\nglobex,ann@globex.example,Ann,\n";
    let d = load_sources(&[
        src("a.yaml", PARTNER),
        src("b.yaml", NETWORKED),
        src("u.csv", users),
        src("z.csv", customers),
    ])
    .unwrap();
    let emails = |u: &[User]| -> Vec<String> {
        u.iter()
            .map(|u| format!("{} {}", u.email, u.role.as_str()))
            .collect()
    };
    assert_eq!(
        emails(&d.partner.users),
        ["ops@acme.example admin", "audit@acme.example member"]
    );
    let contoso = &d.customers[0];
    assert_eq!(
        emails(&contoso.users),
        ["jane@contoso.example member", "kim@contoso.example admin"]
    );
    assert_eq!(
        emails(&contoso.networks[0].sub_accounts[0].users),
        ["luc@contoso.example member"]
    );
    assert_eq!(
        emails(&d.customers[1].users),
        ["hank@globex.example admin", "ann@globex.example member"]
    );
}

/// Every problem of a users table's rows: an account that is none (with the closest key), a
/// user listed twice in one account (in YAML, in a customer table's admin column or in the
/// users table, named at both places), and bad values at their cells.
#[test]
fn a_users_tables_problems_name_both_places() {
    let customers = "name,contact_name,contact_email,country,timezone,admin_email\nGlobex,Hank,hank@globex.example,GB,UTC,hank@globex.example\n";
    let users = "account,email,name,role\ncontosso,kim@contoso.example,Kim,\ncontoso,Jane@Contoso.example,Jane,\nglobex,HANK@globex.example,Hank,\npartner,x@acme.example,X,\npartner,x@acme.example,X,\nglobex,bad-email,,owner\n";
    let p = problems(&[
        src("a.yaml", PARTNER),
        src("b.yaml", NETWORKED),
        src("t.csv", customers),
        src("u.csv", users),
    ]);
    assert_eq!(
        p,
        [
            "u.csv:2:1: (column account) account `contosso` is not the key of a customer, network or sub-account of the configuration, nor `partner` (did you mean `contoso`?): write the key of the account this user joins",
            "u.csv:3:2: (column email) duplicate user `Jane@Contoso.example` in account `contoso`; already listed at b.yaml:7:22 (emails compare case-insensitively)",
            "u.csv:4:2: (column email) duplicate user `HANK@globex.example` in account `globex`; already listed at t.csv:2:6 (emails compare case-insensitively)",
            "u.csv:6:2: (column email) duplicate user `x@acme.example` in the partner; already listed at u.csv:5:2 (emails compare case-insensitively)",
            "u.csv:7:2: (column email) invalid email address `bad-email`: expected a bare address like name@example.com",
            "u.csv:7:3: (column name) user name must not be empty",
            "u.csv:7:4: (column role) invalid role `owner`: expected `admin` or `member`",
        ]
    );
}

/// `validate` counts what tables hold as it reads them instead of keeping it: the same counts
/// and warnings as the loaded configuration's, the same problems.
#[test]
fn validate_counts_what_load_keeps() {
    let customers = "name,contact_name,contact_email,country,timezone,admin_email,services,Notes\nGlobex,Hank,hank@globex.example,GB,UTC,hank@globex.example,cards;mobile-id,x\nInitech,Bill,bill@initech.example,FR,Europe/Paris,,,\n";
    let users = "account,email,name\npartner,audit@acme.example,Audit\ncontoso-net,kim@contoso.example,Kim\n";
    let sources = vec![
        src("a.yaml", PARTNER),
        src("b.yaml", NETWORKED),
        src("t.csv", customers),
        src("u.csv", users),
    ];
    let desired = load_sources(&sources).unwrap();
    let checked = load::check_owned(sources.clone(), None, Needs::default()).unwrap();
    assert_eq!(checked.counts, desired.counts());
    assert_eq!(checked.counts.customers, 3);
    assert_eq!(checked.counts.users, 5);
    assert_eq!(checked.files, 4);
    assert_eq!(checked.warnings, desired.warnings);
    let mut broken = sources;
    broken[2].text = broken[2].text.replace("GB", "UK");
    assert_eq!(
        load::check_owned(broken.clone(), None, Needs::default()).unwrap_err(),
        load_sources(&broken).unwrap_err()
    );
}

/// `import` writes customers with their users: a users sheet's rows join the customers read
/// with it, and a row for any other account is refused with where it belongs instead.
#[test]
fn imported_users_join_the_customers_read_with_them() {
    let customers = "name,contact_name,contact_email\nGlobex,Hank,hank@globex.example\n";
    let users = "account,email,name,role\nglobex,ann@globex.example,Ann,admin\n";
    let t = load_tables(
        &[
            src("b.xlsx:users!", users),
            src("b.xlsx:customers!", customers),
        ],
        false,
    )
    .unwrap();
    assert_eq!(t.customers[0].users[0].email, "ann@globex.example");
    assert_eq!(t.customers[0].users[0].role, crate::vocab::Role::Admin);
    let users = format!("{users}partner,x@acme.example,X,\n");
    let e = load_tables(
        &[
            src("b.xlsx:customers!", customers),
            src("b.xlsx:users!", &users),
        ],
        false,
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "b.xlsx:users!3:1: (column account) account `partner` is not a customer of what is imported: import writes customers with their users, so a user of another account (or of `partner`) has no place there; keep this users sheet in the configuration directory, where it is read with every account, or add the user to that account's YAML\n"
    );
}

#[test]
fn schema_has_descriptions_everywhere() {
    fn walk(v: &serde_json::Value, path: &str, missing: &mut Vec<String>) {
        if let Some(props) = v.get("properties").and_then(|p| p.as_object()) {
            for (name, sub) in props {
                if sub.get("description").is_none() {
                    missing.push(format!("{path}.{name}"));
                }
                walk(sub, &format!("{path}.{name}"), missing);
            }
        }
    }
    let schema = schema();
    let mut missing = Vec::new();
    walk(schema, "", &mut missing);
    for (name, def) in schema["$defs"].as_object().unwrap() {
        walk(def, name, &mut missing);
    }
    assert!(
        missing.is_empty(),
        "fields without description: {missing:?}"
    );
}

mod never_panics {
    //! Property tests: arbitrary bytes and mutated valid configs never panic the loader; the
    //! outcome is always a config or located problems.
    use super::*;
    use proptest::prelude::*;

    const ACME: [&str; 3] = [
        include_str!("../../examples/acme/partner.yaml"),
        include_str!("../../examples/acme/customers/contoso.yaml"),
        include_str!("../../examples/acme/customers/others.yaml"),
    ];

    fn assert_well_formed(sources: &[Source]) {
        match load_sources(sources) {
            Ok(d) => assert!(!d.partner.name.trim().is_empty()),
            Err(problems) => {
                assert!(!problems.is_empty());
                for p in problems.iter() {
                    assert!(p.location.pos.line >= 1, "unlocated problem: {p}");
                    assert!(sources.iter().any(|s| s.path == p.location.path), "{p}");
                }
            }
        }
    }

    /// One edit of a text: a byte range replaced by a fragment that is likely to matter to YAML.
    #[derive(Debug, Clone)]
    struct Edit {
        at: usize,
        remove: usize,
        insert: String,
    }

    fn edit() -> impl Strategy<Value = Edit> {
        let fragment = prop_oneof![
            Just(String::new()),
            Just(":".to_string()),
            Just("- ".to_string()),
            Just("\n".to_string()),
            Just("  ".to_string()),
            Just("{".to_string()),
            Just("]".to_string()),
            Just("&a ".to_string()),
            Just("*a".to_string()),
            Just("!!int ".to_string()),
            Just("'".to_string()),
            Just("\"".to_string()),
            Just("#".to_string()),
            Just("key: x\n".to_string()),
            Just("customers:\n".to_string()),
            Just("partner:\n".to_string()),
            Just("~".to_string()),
            Just("\t".to_string()),
            "[ -~]{0,12}".prop_map(|s| s),
            any::<String>().prop_map(|s| s.chars().take(8).collect()),
        ];
        (any::<usize>(), 0usize..40, fragment).prop_map(|(at, remove, insert)| Edit {
            at,
            remove,
            insert,
        })
    }

    fn apply(text: &str, edits: &[Edit]) -> String {
        let mut s = text.to_string();
        for e in edits {
            if s.is_empty() {
                s.push_str(&e.insert);
                continue;
            }
            let mut at = e.at % s.len();
            while !s.is_char_boundary(at) {
                at -= 1;
            }
            let mut end = (at + e.remove).min(s.len());
            while !s.is_char_boundary(end) {
                end -= 1;
            }
            s.replace_range(at..end, &e.insert);
        }
        s
    }

    /// A table's text: a header of known and unknown columns in any case, then rows of cells
    /// likely to matter to CSV (quotes, delimiters, line breaks), joined by one of the
    /// delimiters and any line ending.
    fn table() -> impl Strategy<Value = String> {
        let header = prop_oneof![
            Just("key"),
            Just("name"),
            Just(" Name "),
            Just("contact_name"),
            Just("CONTACT_EMAIL"),
            Just("country"),
            Just("timezone"),
            Just("admin_email"),
            Just("services"),
            Just("label:tier"),
            Just("account"),
            Just("email"),
            Just("role"),
            Just("Notes"),
            Just(""),
            Just("\"name"),
        ];
        let cell = prop_oneof![
            Just(String::new()),
            Just("\"".to_string()),
            Just("\"\"".to_string()),
            Just("\"a,b\"".to_string()),
            Just("a;b".to_string()),
            Just("x@y.example".to_string()),
            Just("GB".to_string()),
            Just("cards, mobile-id".to_string()),
            Just("partner".to_string()),
            Just("\r".to_string()),
            Just("\n".to_string()),
            Just("\u{feff}".to_string()),
            "[ -~]{0,10}".prop_map(|s| s),
            any::<String>().prop_map(|s| s.chars().take(6).collect()),
        ];
        let delimiter = prop_oneof![Just(","), Just(";"), Just("\t")];
        let eol = prop_oneof![Just("\n"), Just("\r\n"), Just("\r")];
        (
            proptest::collection::vec(header, 0..8),
            proptest::collection::vec(proptest::collection::vec(cell, 0..9), 0..6),
            delimiter,
            eol,
            any::<bool>(),
        )
            .prop_map(|(header, rows, d, eol, bom)| {
                let mut text = if bom {
                    "\u{feff}".to_string()
                } else {
                    String::new()
                };
                text.push_str(&header.join(d));
                for r in rows {
                    text.push_str(eol);
                    text.push_str(&r.join(d));
                }
                text
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Never a panic; and what validate finds counting the rows is what loading them
        /// finds.
        #[test]
        fn tables_never_panic(text in table()) {
            let sources = vec![src("a.yaml", PARTNER), src("t.csv", &text)];
            assert_well_formed(&sources);
            let _ = load_tables(&[src("t.csv", &text)], false);
            match (load_sources(&sources), load::check_owned(sources, None, Needs::default())) {
                (Ok(d), Ok(c)) => {
                    prop_assert_eq!(c.counts, d.counts());
                    prop_assert_eq!(c.warnings, d.warnings);
                }
                (Err(a), Err(b)) => prop_assert_eq!(a, b),
                (a, b) => prop_assert!(false, "load: {:?}\nvalidate: {:?}", a.is_ok(), b.is_ok()),
            }
        }

        /// The same tables saved in every encoding a spreadsheet writes, with some bytes
        /// changed: decoded, or refused at a row, and never a panic.
        #[test]
        fn tables_in_any_encoding_never_panic(
            text in table(),
            encoding in 0usize..5,
            noise in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..3),
        ) {
            let mut bytes = match encoding {
                0 => text.as_bytes().to_vec(),
                1 => [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat(),
                2 => [vec![0xFF, 0xFE], text.encode_utf16().flat_map(u16::to_le_bytes).collect()].concat(),
                3 => [vec![0xFE, 0xFF], text.encode_utf16().flat_map(u16::to_be_bytes).collect()].concat(),
                _ => encoding_rs::WINDOWS_1252.encode(&text).0.into_owned(),
            };
            for (at, b) in noise {
                if !bytes.is_empty() {
                    let at = at % bytes.len();
                    bytes[at] = b;
                }
            }
            match decode(&bytes) {
                Ok(text) => assert_well_formed(&[src("a.yaml", PARTNER), src("t.csv", &text)]),
                Err((pos, kind)) => {
                    assert!(pos.line >= 1);
                    assert!(kind.to_string().contains("CSV UTF-8"));
                }
            }
        }

        /// What is found of keys given twice does not depend on how keys are fingerprinted:
        /// with one fingerprint for every key, the same outcomes, problems and their order.
        #[test]
        fn keys_given_twice_whatever_their_fingerprints(text in table(), other in table()) {
            let sources = vec![src("a.yaml", PARTNER), src("t.csv", &text), src("u.csv", &other)];
            let expected = outcomes(&sources);
            prop_assert_eq!(check::with_fingerprint(|_| 1, || outcomes(&sources)), expected);
        }

        #[test]
        fn arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let text = String::from_utf8_lossy(&bytes).into_owned();
            assert_well_formed(&[src("x.yaml", &text)]);
        }

        #[test]
        fn mutated_valid_configs(which in 0usize..3, edits in proptest::collection::vec(edit(), 1..6)) {
            let mut sources: Vec<Source> = ACME
                .iter()
                .enumerate()
                .map(|(i, t)| src(&format!("f{i}.yaml"), t))
                .collect();
            sources[which].text = apply(ACME[which], &edits);
            assert_well_formed(&sources);
        }
    }
}

/// Where a role and a name belong to the login: an email given two roles (or two names) is a
/// problem at each place, naming the other places; a table's admin counts like a YAML user;
/// the same role and name everywhere (in any case of the email) is no problem.
#[test]
fn one_login_one_role_and_one_name() {
    let customers = "customers:\n  - key: c1\n    name: C1\n    contact: { name: J, email: j@c1.example }\n    country: GB\n    timezone: UTC\n    users:\n      - { email: OPS@acme.example, name: Ops }\n      - { email: jane@c1.example, name: Jane, role: admin }\n    networks:\n      - key: n1\n        name: N1\n        users: [{ email: jane@c1.example, name: Jane D, role: admin }]\n";
    let table = "key,name,contact_name,contact_email,country,timezone,admin_email,admin_name\nc2,C2,J,j@c2.example,GB,UTC,Ops@Acme.example,Ops\n";
    let sources = [
        src("a.yaml", PARTNER),
        src("b.yaml", customers),
        src("t.csv", table),
    ];
    let d = load_sources(&sources).unwrap();
    let p: Vec<String> = check_logins(&d).iter().map(ToString::to_string).collect();
    assert_eq!(
        p,
        [
            "a.yaml:5:16: `ops@acme.example` is admin in partner but member in customer.c1 (b.yaml:8:18): with this provider the role belongs to the login, not to each account (an admin of one account is an admin of every account of the login); give `ops@acme.example` one role everywhere",
            "b.yaml:8:18: `ops@acme.example` is member in customer.c1 but admin in partner (a.yaml:5:16), admin in customer.c2 (t.csv:2:7): with this provider the role belongs to the login, not to each account (an admin of one account is an admin of every account of the login); give `ops@acme.example` one role everywhere",
            "b.yaml:9:18: `jane@c1.example` is named \"Jane\" in customer.c1 but named \"Jane D\" in network.n1 (b.yaml:13:26): with this provider the name belongs to the login, not to each account (one name shows in every account of the login); give `jane@c1.example` one name everywhere",
            "b.yaml:13:26: `jane@c1.example` is named \"Jane D\" in network.n1 but named \"Jane\" in customer.c1 (b.yaml:9:18): with this provider the name belongs to the login, not to each account (one name shows in every account of the login); give `jane@c1.example` one name everywhere",
            "t.csv:2:7: (column admin_email) `ops@acme.example` is admin in customer.c2 but member in customer.c1 (b.yaml:8:18): with this provider the role belongs to the login, not to each account (an admin of one account is an admin of every account of the login); give `ops@acme.example` one role everywhere",
        ]
    );
    let same = customers
        .replace("name: Ops }", "name: Ops, role: admin }")
        .replace("Jane D", "Jane");
    let d = load_sources(&[src("a.yaml", PARTNER), src("b.yaml", &same)]).unwrap();
    assert!(check_logins(&d).is_empty());
    // A table's admin row is an admin: the same role as the partner's.
    let d = load_sources(&[src("a.yaml", PARTNER), src("t.csv", table)]).unwrap();
    assert!(check_logins(&d).is_empty(), "{}", check_logins(&d));
}

/// Two emails of one account that differ only in the case of a letter (the Kelvin sign is an
/// upper-case `k`) are one person listed twice.
#[test]
fn emails_equal_in_any_letters_case_are_duplicates() {
    let text = format!(
        "{PARTNER}customers:\n  - key: c1\n    name: C1\n    contact: {{ name: J, email: j@c1.example }}\n    country: GB\n    timezone: UTC\n    users:\n      - {{ email: kim@c1.example, name: Kim }}\n      - {{ email: \"\\u212Aim@c1.example\", name: Kim }}\n"
    );
    assert_eq!(
        problems(&[src("a.yaml", &text)]),
        [
            "a.yaml:14:18: duplicate user `\u{212A}im@c1.example` in account `c1`; already listed at a.yaml:13:18 (emails compare case-insensitively)"
        ]
    );
}

/// A list or mapping left with no value (its last entry deleted: `users:` and nothing under
/// it, which YAML reads as null) means an empty one, written as `~` or `null` too, and the
/// JSON Schema editors use says the same. The text with `null` is read by the fast reader,
/// the one with no value by the full parser; both give the configuration without them.
#[test]
fn a_list_left_without_a_value_is_empty() {
    let full = "version: 1\npartner:\n  name: Acme\n  users:\n    - { email: ops@acme.example, name: Ops, role: admin }\ndefaults:\n  country: GB\n  timezone: UTC\n  labels: {}\n  services: []\ncustomers:\n  - key: c1\n    name: C1\n    contact: { name: J, email: j@c1.example }\n    labels: {}\n    users: []\n    services: []\n    networks:\n      - key: n1\n        name: N1\n        labels: {}\n        users: []\n        services: []\n        sub_accounts:\n          - key: s1\n            name: S1\n            labels: {}\n            users: []\n            services: []\n  - key: c2\n    name: C2\n    contact: { name: K, email: k@c2.example }\n    networks:\n      - key: n2\n        name: N2\n        sub_accounts: []\n  - key: c3\n    name: C3\n    contact: { name: L, email: l@c3.example }\n    networks: []\n";
    let reference = load_sources(&[src("a.yaml", full)]).unwrap();
    for empty in ["", " ~", " null"] {
        let text = full.replace(": []", &format!(":{empty}"));
        let text = text.replace(": {}", &format!(":{empty}"));
        let d = load_sources(&[src("a.yaml", &text)]).unwrap_or_else(|p| panic!("{p}\n{text}"));
        assert_eq!(d.customers, reference.customers, "{text}");
        assert_eq!(d.partner, reference.partner, "{text}");
    }
    // The partner's last user and the last customer too.
    let text = "version: 1\npartner:\n  name: Acme\n  users:\ncustomers:\n";
    let d = load_sources(&[src("a.yaml", text)]).unwrap_or_else(|p| panic!("{p}"));
    assert!(d.partner.users.is_empty() && d.customers.is_empty());
    let validator = jsonschema::validator_for(schema()).unwrap();
    let file = serde_json::json!({
        "version": 1,
        "partner": { "name": "Acme", "users": null },
        "defaults": { "labels": null, "services": null },
        "customers": [{
            "key": "c1", "name": "C1", "labels": null, "users": null, "services": null,
            "networks": [{ "key": "n1", "name": "N1", "labels": null, "users": null,
                "services": null,
                "sub_accounts": [{ "key": "s1", "name": "S1", "labels": null, "users": null,
                    "services": null }] }],
        }]
    });
    assert!(
        validator.is_valid(&file),
        "{:?}",
        validator.validate(&file).err()
    );
    assert!(validator.is_valid(&serde_json::json!({ "customers": null })));
    // Null is no list for what must be one item.
    let wrong = serde_json::json!({ "customers": [null] });
    assert!(!validator.is_valid(&wrong));
}

/// Customers come in file order, whichever file holds the most (whose list the others join).
#[test]
fn customers_keep_file_order_around_a_large_table() {
    let yaml = |key: &str| {
        format!(
            "customers:\n  - key: {key}\n    name: {key}\n    contact: {{ name: J, email: j@{key}.example }}\n    country: GB\n    timezone: UTC\n"
        )
    };
    let table = "key,name,contact_name,contact_email,country,timezone\nt1,T1,J,j@t1.example,GB,UTC\nt2,T2,J,j@t2.example,GB,UTC\nt3,T3,J,j@t3.example,GB,UTC\n";
    let sources = [
        src("a.yaml", PARTNER),
        src("b.yaml", &yaml("yb")),
        src("c.yaml", &yaml("yc")),
        src("t.csv", table),
        src("z.yaml", &yaml("yz")),
    ];
    let d = load_sources(&sources).unwrap_or_else(|p| panic!("{p}"));
    let keys: Vec<&str> = d.customers.iter().map(|c| c.key.as_str()).collect();
    assert_eq!(keys, ["yb", "yc", "t1", "t2", "t3", "yz"]);
}

/// The same problem found twice at one place is one problem; at another place or in another
/// file, or another problem at the same place, it is not.
#[test]
fn problems_are_sorted_by_place_and_each_reported_once() {
    use crate::config::yaml::Pos;
    let at = |line, col| Pos { line, col };
    let bad = |k: &str| ProblemKind::InvalidKey(k.to_string());
    let sources = [src("a.yaml", ""), src("b.yaml", "")];
    let sink = vec![
        (1, at(2, 1), bad("x")),
        (0, at(3, 1), bad("x")),
        (0, at(2, 1), bad("x")),
        (0, at(2, 1), bad("y")),
        (0, at(2, 1), bad("x")),
        (0, at(2, 5), bad("x")),
    ];
    let shown: Vec<String> = super::load::into_problems(&sources, &Vec::new(), sink)
        .iter()
        .map(|p| p.location.to_string())
        .collect();
    assert_eq!(
        shown,
        [
            "a.yaml:2:1",
            "a.yaml:2:1",
            "a.yaml:2:5",
            "a.yaml:3:1",
            "b.yaml:2:1"
        ],
        "x and y at a.yaml:2:1, x once"
    );
}

/// A problem is a diagnostic at its location, a warning only when it is one.
#[test]
fn problems_are_diagnostics_at_their_place() {
    use crate::vocab::diagnostic::{Diagnostic, Severity};
    let table = "name,contact_name,contact_email,country,timezone,colour\nGlobex,Hank,hank@globex.example,GB,Europe/London,red\n";
    let desired = load_sources(&[src("a.yaml", PARTNER), src("t.csv", table)]).unwrap();
    let warning = &desired.warnings[0];
    assert_eq!(warning.location().unwrap().to_string(), "t.csv:1:6");
    assert_eq!(warning.severity(), Severity::Warning);
    let errors = load_sources(&[src("a.yaml", "version: 2\n")]).unwrap_err();
    let error = &errors.0[0];
    assert_eq!(error.location(), Some(error.location.clone()));
    assert_eq!(error.location().unwrap().to_string(), "a.yaml:1:1");
    assert_eq!(error.severity(), Severity::Error);
}
