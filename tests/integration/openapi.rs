//! The OpenAPI document states the server's rules: its request schemas carry the field rules
//! the sandbox enforces (the same tables of `partnerctl::vocab::rules`), and every operation
//! declares every status the sandbox's layers can answer. `.ci/contract-fuzz` checks the same
//! against a running sandbox with generated requests.

use serde_json::{Value, json};

use crate::support::contract::{document, is_valid};
use partnerctl::vocab::rules::{
    COUNTRY_CODES, KEY_PATTERN, hidden_char, name_problem, timezone_names, valid_country,
    valid_timezone,
};

fn schema(name: &str) -> &'static Value {
    &document()["components"]["schemas"][name]
}

fn strings(v: &Value) -> Vec<&str> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect()
}

#[test]
fn countries_time_zones_and_keys_are_the_shared_tables() {
    assert_eq!(strings(&schema("Country")["enum"]), COUNTRY_CODES);
    assert_eq!(strings(&schema("TimeZone")["enum"]), timezone_names());
    assert_eq!(schema("ExternalKey")["pattern"], KEY_PATTERN);
    for (value, ok) in [("GB", true), ("gb", false), ("UK", false), ("XX", false)] {
        assert_eq!(is_valid("Country", &json!(value)), ok, "{value}");
        assert_eq!(valid_country(value), ok, "{value}");
    }
    for (value, ok) in [
        ("Europe/London", true),
        ("europe/london", false),
        ("GMT+1", false),
    ] {
        assert_eq!(is_valid("TimeZone", &json!(value)), ok, "{value}");
        assert_eq!(valid_timezone(value), ok, "{value}");
    }
}

#[test]
fn the_name_pattern_is_the_sandbox_rule() {
    // Unicode White_Space (what the sandbox trims), and characters that some regex engines count
    // as white space but the sandbox does not.
    let spaces = [
        '\t', '\n', '\u{b}', '\u{c}', '\r', ' ', '\u{85}', '\u{a0}', '\u{1680}', '\u{2000}',
        '\u{200a}', '\u{2028}', '\u{2029}', '\u{202f}', '\u{205f}', '\u{3000}',
    ];
    let lookalikes = [
        '\u{1c}', '\u{1f}', '\u{180e}', '\u{200b}', '\u{feff}', '\0', 'x', '\u{1b}', '\u{7}',
        '\u{7f}', '\u{9b}', '\u{61c}', '\u{200d}', '\u{200e}', '\u{202e}', '\u{2060}', '\u{2066}',
        '\u{2069}', '\u{206f}',
    ];
    for c in spaces.iter().chain(&lookalikes) {
        for name in [
            format!("{c}"),
            format!("{c}a"),
            format!("a{c}"),
            format!("a{c}b"),
            format!("{c}{c}"),
        ] {
            assert_eq!(
                is_valid("Name", &json!(name)),
                name_problem(&name).is_none(),
                "{name:?}"
            );
        }
    }
    assert!(is_valid("Name", &json!("N".repeat(200))));
    assert!(!is_valid("Name", &json!("N".repeat(201))));
}

/// Names, emails and labels refuse exactly the characters the shared rule calls hidden: the
/// document's patterns and the rule agree on every character of the Basic Multilingual Plane
/// up to U+3100 and from U+FE00 on (where every such character is).
#[test]
fn names_emails_and_labels_refuse_the_hidden_characters_of_the_rule() {
    let chars = (0..=0x3100u32)
        .chain(0xfe00..=0xffff)
        .filter_map(char::from_u32);
    for c in chars {
        let inner = format!("a{c}b");
        let refused = hidden_char(c);
        assert_eq!(
            is_valid("Name", &json!(inner)),
            name_problem(&inner).is_none(),
            "U+{:04X}",
            u32::from(c)
        );
        assert_eq!(
            name_problem(&inner).is_some(),
            refused,
            "U+{:04X}",
            u32::from(c)
        );
        assert_eq!(
            is_valid("Labels", &json!({ "k": inner })),
            !refused,
            "label value with U+{:04X}",
            u32::from(c)
        );
        assert_eq!(
            is_valid("Labels", &json!({ inner.clone(): "v" })),
            !refused,
            "label key with U+{:04X}",
            u32::from(c)
        );
    }
    assert_eq!(schema("Email")["pattern"], schema("PlainText")["pattern"]);
    assert!(!is_valid("Email", &json!("ja\u{202e}ne@x.example")));
    assert!(is_valid("Email", &json!("jane@x.example")));
}

#[test]
fn customers_need_contact_country_and_time_zone_in_the_schema_too() {
    let customer = json!({
        "kind": "customer", "name": "C", "contact": {"name": "J", "email": "j@c.example"},
        "country": "GB", "timezone": "Europe/London",
    });
    assert!(is_valid("AccountCreate", &customer));
    for field in ["contact", "country", "timezone"] {
        let mut c = customer.clone();
        c.as_object_mut().unwrap().remove(field);
        assert!(!is_valid("AccountCreate", &c), "a customer without {field}");
        c[field] = Value::Null;
        assert!(
            !is_valid("AccountCreate", &c),
            "a customer with {field}: null"
        );
    }
    let network = json!({"kind": "network", "name": "N", "parent_id": "acc_1"});
    assert!(is_valid("AccountCreate", &network));
    assert!(!is_valid(
        "AccountCreate",
        &json!({"kind": "network", "name": "N"})
    ));
    let mut bad = network.clone();
    bad["country"] = json!("UK");
    assert!(!is_valid("AccountCreate", &bad));
    assert!(!is_valid("AccountPatch", &json!({"name": null})));
    assert!(is_valid("AccountPatch", &json!({"external_key": null})));
}

/// The statuses every layer of the sandbox can answer, by what an operation has.
fn expected_statuses(method: &str, op: &Value, path_params: bool) -> Vec<u16> {
    let params: Vec<String> = op["parameters"]
        .as_array()
        .map(|ps| {
            ps.iter()
                .filter_map(|p| p["$ref"].as_str())
                .map(|r| r.rsplit('/').next().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default();
    let has = |p: &str| params.iter().any(|x| x == p);
    let write = method != "get";
    let mut s = vec![401, 500]; // the token; the database
    if path_params || op.get("requestBody").is_some() || has("IdempotencyKey") {
        s.push(400); // a path segment that is not UTF-8; the body; the key
    }
    if path_params {
        s.push(404);
    }
    if write {
        s.extend([409, 429]); // throttled (429, or 409 Nexudus style)
    }
    if method == "post" || method == "put" || method == "patch" {
        s.push(413); // a body over 2 MiB
    }
    if has("IfMatchRequired") || has("IfMatchOptional") {
        s.extend([400, 412]);
    }
    if has("IfMatchRequired") {
        s.push(428);
    }
    if has("IdempotencyKey") {
        s.push(422);
    }
    s.sort_unstable();
    s.dedup();
    s
}

#[test]
fn every_operation_declares_every_status_the_sandbox_can_answer() {
    let paths = document()["paths"].as_object().unwrap();
    let mut checked = 0;
    for (path, item) in paths {
        if path == "/healthz" {
            continue;
        }
        let path_params = path.contains('{');
        for method in ["get", "post", "put", "patch", "delete"] {
            let Some(op) = item.get(method) else { continue };
            let declared: Vec<u16> = op["responses"]
                .as_object()
                .unwrap()
                .keys()
                .map(|k| k.parse().unwrap())
                .filter(|s| *s >= 400)
                .collect();
            for status in expected_statuses(method, op, path_params) {
                assert!(
                    declared.contains(&status),
                    "{method} {path} does not declare {status}"
                );
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 18);
}
