//! Unit tests of the policy stage: files, parsing, the input document, evaluation (messages,
//! errors, the time budget, what policies cannot reach) and policy tests.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::json;

use super::*;
use crate::config::{Source, load_sources};
use crate::live::PartnerInfo;

fn file(path: &str, text: &str) -> PolicyFile {
    use sha2::Digest as _;
    PolicyFile {
        path: path.to_string(),
        text: text.to_string(),
        sha256: format!("{:x}", sha2::Sha256::digest(text.as_bytes())),
    }
}

fn policies(files: &[(&str, &str)]) -> Result<Policies, PolicyErrors> {
    Policies::new(files.iter().map(|(p, t)| file(p, t)).collect())
}

/// Evaluates `files` over `input`, made with what they reach of it (as `plan` makes it).
fn evaluate(files: &[(&str, &str)], input: serde_json::Value) -> Result<Outcome, PolicyErrors> {
    let policies = policies(files).expect("the policies parse");
    policies.evaluate(
        &Input::of(&input, policies.reach()),
        Duration::from_secs(10),
    )
}

fn only(errors: PolicyErrors) -> PolicyError {
    assert_eq!(errors.0.len(), 1, "{errors}");
    errors.0.into_iter().next().unwrap()
}

const ACME: &str = "version: 1
partner:
  name: Acme Partners
  users:
    - { email: ops@acme.example, name: Acme Ops, role: admin }
defaults:
  country: GB
  timezone: Europe/London
  labels: { managed-by: partnerctl }
  services:
    - { type: cards, settings: { layout_approval: true } }
customers:
  - key: contoso
    name: Contoso
    contact: { name: Jane Doe, email: jane@contoso.example }
    users:
      - { email: jane@contoso.example, name: Jane Doe, role: admin }
    networks:
      - key: contoso-net
        name: Contoso Network
        sub_accounts:
          - { key: contoso-paris, name: Contoso Paris, country: FR }
  - key: fabrikam
    name: Fabrikam
    contact: { name: Ravi, email: ravi@fabrikam.example }
";

fn acme() -> crate::config::Desired {
    load_sources(&[Source {
        path: "acme.yaml".into(),
        text: ACME.into(),
    }])
    .unwrap()
}

#[test]
fn a_syntax_error_is_located_in_its_file_and_every_bad_file_is_reported() {
    let errors = policies(&[
        (
            "good.rego",
            "package partnerctl\n\ndeny contains \"x\" if { false }\n",
        ),
        (
            "bad.rego",
            "package partnerctl\n\ndeny contains msg if {\n  msg := \n}\n",
        ),
        ("worse.rego", "package partnerctl\n\nwarn contains if\n"),
    ])
    .unwrap_err();
    assert_eq!(errors.0.len(), 2, "{errors}");
    let PolicyError::Located {
        path, line, col, ..
    } = &errors.0[0]
    else {
        panic!("{errors}")
    };
    assert_eq!((path.as_str(), *line, *col), ("bad.rego", 4, 7));
    let text = errors.to_string();
    assert!(
        text.starts_with("bad.rego:4:7: expecting `}`"),
        "one line, located: {text}"
    );
    assert!(text.contains("\nworse.rego:3:"), "{text}");
}

#[test]
fn deny_and_warn_of_every_package_under_partnerctl_are_collected() {
    let outcome = evaluate(
        &[
            (
                "p/admins.rego",
                "package partnerctl.admins\n\ndeny contains {\"msg\": sprintf(\"%s is not ours\", [u]), \"address\": sprintf(\"partner.user[%s]\", [u])} if {\n  some u in input.admins\n  not endswith(u, \"@acme.example\")\n}\n",
            ),
            (
                "p/root.rego",
                "package partnerctl\n\nwarn contains \"plain\" if { true }\ndeny contains \"never\" if { false }\n",
            ),
            (
                "p/lib.rego",
                "package partnerctl.lib\n\nfree(email) if endswith(email, \"@gmail.com\")\n",
            ),
            (
                "p/free.rego",
                "package partnerctl.free\n\nimport data.partnerctl.lib\n\nwarn contains sprintf(\"free-mail: %s\", [u]) if {\n  some u in input.admins\n  lib.free(u)\n}\n",
            ),
        ],
        json!({ "admins": ["ops@acme.example", "x@gmail.com"] }),
    )
    .unwrap();
    assert!(outcome.denied());
    assert_eq!(
        outcome.denials,
        [Finding {
            policy: "p/admins.rego".into(),
            message: "x@gmail.com is not ours".into(),
            address: Some("partner.user[x@gmail.com]".into()),
        }]
    );
    let warnings: Vec<(&str, &str)> = outcome
        .warnings
        .iter()
        .map(|w| (w.policy.as_str(), w.message.as_str()))
        .collect();
    assert_eq!(
        warnings,
        [
            ("p/root.rego", "plain"),
            ("p/free.rego", "free-mail: x@gmail.com")
        ]
    );
    assert_eq!(outcome.policies.len(), 4);
    assert_eq!(outcome.policies[0].path, "p/admins.rego");
}

#[test]
fn a_policy_without_any_message_allows() {
    let outcome = evaluate(
        &[(
            "a.rego",
            "package partnerctl\n\ndeny contains u if { some u in input.users; u == \"nobody\" }\n",
        )],
        json!({ "users": ["a"] }),
    )
    .unwrap();
    assert!(!outcome.denied());
    assert!(outcome.warnings.is_empty());
}

#[test]
fn deny_outside_package_partnerctl_is_refused_as_never_evaluated() {
    let err = only(
        policies(&[
            (
                "main.rego",
                "package main\n\ndeny contains \"x\" if { true }\n",
            ),
            ("helpers.rego", "package helpers\n\nok if { true }\n"),
        ])
        .unwrap_err(),
    );
    assert_eq!(
        err.to_string(),
        "main.rego: package main declares `deny`, which partnerctl never evaluates: write `package partnerctl` (or a package under it, such as `package partnerctl.admins`)"
    );
}

#[test]
fn messages_of_another_shape_are_errors_naming_the_rule() {
    let err = only(
        evaluate(
            &[(
                "a.rego",
                "package partnerctl\n\ndeny contains 42 if { true }\n",
            )],
            json!({}),
        )
        .unwrap_err(),
    );
    assert!(
        err.to_string()
            .starts_with("a.rego: a message of data.partnerctl.deny is 42;"),
        "{err}"
    );
    let err = only(
        evaluate(
            &[("b.rego", "package partnerctl\n\nwarn := true\n")],
            json!({}),
        )
        .unwrap_err(),
    );
    assert!(
        err.to_string()
            .starts_with("b.rego: data.partnerctl.warn is true, not a set of messages"),
        "{err}"
    );
    let err = only(
        evaluate(
            &[(
                "c.rego",
                "package partnerctl\n\ndeny contains {\"message\": \"typo\"} if { true }\n",
            )],
            json!({}),
        )
        .unwrap_err(),
    );
    assert!(err.to_string().contains("string `msg`"), "{err}");
}

#[test]
fn the_network_and_the_environment_are_out_of_reach() {
    for (call, function) in [
        (
            "r := http.send({\"method\": \"get\", \"url\": \"http://127.0.0.1:9/\"})",
            "http.send",
        ),
        ("r := opa.runtime().env.HOME", "opa.runtime"),
    ] {
        let text = format!("package partnerctl\n\ndeny contains \"reached\" if {{\n  {call}\n}}\n");
        let err = only(evaluate(&[("net.rego", &text)], json!({})).unwrap_err());
        let PolicyError::Located {
            path,
            line,
            message,
            ..
        } = &err
        else {
            panic!("{err}")
        };
        assert_eq!((path.as_str(), *line), ("net.rego", 4));
        assert!(message.contains(function), "{err}");
    }
}

#[test]
fn an_endless_evaluation_is_stopped_by_the_budget() {
    let policies = policies(&[(
        "slow.rego",
        "package partnerctl\n\ndeny contains msg if {\n  n := count([x | some a in numbers.range(1, 100000); some b in numbers.range(1, 100000); x := a * b])\n  msg := sprintf(\"%d\", [n])\n}\n",
    )])
    .unwrap();
    let err = only(
        policies
            .evaluate(
                &Input::of(&json!({}), &Reach::everything()),
                Duration::from_millis(200),
            )
            .unwrap_err(),
    );
    assert_eq!(
        err.to_string(),
        "slow.rego: evaluating data.partnerctl.deny was stopped: the policies took longer than --policy-timeout (0.2 s); make the policy cheaper, or raise --policy-timeout"
    );
}

#[test]
fn a_free_thread_takes_the_next_rule_while_another_is_busy() {
    // Two threads, the first rule endless: the other thread evaluates every other rule, and
    // only the endless one is stopped.
    let endless = "package partnerctl.a\n\ndeny contains msg if {\n  n := count([x | some a in numbers.range(1, 100000); some b in numbers.range(1, 100000); x := a * b])\n  msg := sprintf(\"%d\", [n])\n}\n";
    let quick = |p: &str| format!("package partnerctl.{p}\n\ndeny contains \"{p}\"\n");
    let (b, c, d) = (quick("b"), quick("c"), quick("d"));
    let policies = policies(&[
        ("a.rego", endless),
        ("b.rego", &b),
        ("c.rego", &c),
        ("d.rego", &d),
    ])
    .unwrap();
    let paths = ["a", "b", "c", "d"]
        .map(|p| format!("data.partnerctl.{p}.deny"))
        .to_vec();
    let results = super::eval::shared(
        &policies.engine,
        Input::of(&json!({}), &Reach::everything()).value(),
        paths,
        2,
        Duration::from_millis(1500),
    );
    let shown: Vec<serde_json::Value> = results
        .into_iter()
        .map(|r| match r {
            Some((super::eval::Evaluated::Value(v), _)) => {
                serde_json::from_str(&v.to_json_str().unwrap()).unwrap()
            }
            Some((super::eval::Evaluated::TimedOut, _)) => json!("stopped"),
            other => json!(format!("{other:?}")),
        })
        .collect();
    assert_eq!(
        shown,
        [json!("stopped"), json!(["b"]), json!(["c"]), json!(["d"])]
    );
}

#[test]
fn the_input_shows_the_configuration_with_every_field_the_plan_and_the_target() {
    let all = Reach::everything();
    let desired = acme();
    let doc = Input::configuration(&desired, &all)
        .without_plan("http", &all)
        .to_json();
    assert_eq!(doc["target"], json!({ "provider": "http" }));
    assert!(doc.get("plan").is_none());
    let c = &doc["configuration"];
    assert_eq!(
        c["partner"],
        json!({ "name": "Acme Partners", "users": [{ "email": "ops@acme.example", "name": "Acme Ops", "role": "admin" }] })
    );
    let fabrikam = &c["customers"][1];
    assert_eq!(
        fabrikam,
        &json!({
            "key": "fabrikam", "adopt": null, "name": "Fabrikam",
            "contact": { "name": "Ravi", "email": "ravi@fabrikam.example" },
            "country": "GB", "timezone": "Europe/London", "protect": false,
            "labels": { "managed-by": "partnerctl" }, "users": [],
            "services": [{ "type": "cards", "settings": { "layout_approval": true } }],
            "networks": []
        }),
        "defaults applied, every field written"
    );
    let paris = &c["customers"][0]["networks"][0]["sub_accounts"][0];
    assert_eq!(paris["country"], "FR");
    assert_eq!(paris["timezone"], "Europe/London", "inherited");
    assert!(paris.get("networks").is_none() && paris.get("contact").is_none());
    assert_eq!(paris["services"], json!([]));

    let partner = PartnerInfo {
        id: "ptn_1".into(),
        name: "Acme Partners".into(),
        manageable: true,
        support_level: "standard".into(),
    };
    let plan = json!({ "format_version": "1", "operations": [] });
    let doc = Input::configuration(&desired, &all)
        .with_plan(&plan, &partner, "nexudus", &all)
        .to_json();
    assert_eq!(doc["plan"], plan);
    assert_eq!(
        doc["target"],
        json!({ "partner": { "id": "ptn_1", "name": "Acme Partners", "manageable": true, "support_level": "standard" }, "provider": "nexudus" })
    );
    assert_eq!(doc["configuration"], c.clone());
}

#[test]
fn operations_given_apart_are_the_plan_s_operations_in_their_order() {
    let all = Reach::everything();
    // Enough operations for several slices, each converted on a thread of its own.
    let operations: Vec<serde_json::Value> = (0..5000)
        .map(|i| json!({ "action": "create", "index": i, "address": format!("customer.c{i}"), "depends_on": [] }))
        .collect();
    let whole = json!({ "format_version": "1", "operations": operations, "refusals": ["no"] });
    let apart = json!({ "format_version": "1", "operations": [], "refusals": ["no"] });
    let partner = PartnerInfo {
        id: "ptn_1".into(),
        name: "Acme Partners".into(),
        manageable: true,
        support_level: "standard".into(),
    };
    let desired = acme();
    let expected = Input::configuration(&desired, &all)
        .with_plan(&whole, &partner, "http", &all)
        .to_json();
    let given = Input::configuration(&desired, &all)
        .with_plan_and_operations(&apart, &operations, &partner, "http", &all)
        .to_json();
    assert_eq!(given, expected);
    assert_eq!(given["plan"]["operations"][4999]["index"], 4999);
}

#[test]
fn policies_see_the_input_document() {
    let all = Reach::everything();
    let desired = acme();
    let input = Input::configuration(&desired, &all).without_plan("http", &all);
    let outcome = policies(&[(
        "admins.rego",
        "package partnerctl\n\ndeny contains {\"msg\": \"no admin\", \"address\": concat(\".\", [\"customer\", c.key])} if {\n  some c in input.configuration.customers\n  not any_admin(c)\n}\n\nany_admin(c) if { some u in c.users; u.role == \"admin\" }\n",
    )])
    .unwrap()
    .evaluate(&input, DEFAULT_TIMEOUT)
    .unwrap();
    assert_eq!(
        outcome.denials,
        [Finding {
            policy: "admins.rego".into(),
            message: "no admin".into(),
            address: Some("customer.fabrikam".into()),
        }]
    );
}

#[test]
fn prints_are_gathered_with_their_place() {
    let outcome = evaluate(
        &[(
            "p.rego",
            "package partnerctl\n\nwarn contains \"w\" if {\n  print(\"seen\", input.n)\n}\n",
        )],
        json!({ "n": 3 }),
    )
    .unwrap();
    assert_eq!(outcome.prints, ["p.rego:4: seen 3"]);
}

/// A directory of policy files for the tests of `find`.
fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

#[test]
fn a_directory_gives_its_rego_files_sorted_tests_only_when_asked() {
    let dir = tree(&[
        ("b.rego", "package partnerctl.b\n"),
        ("a/z.rego", "package partnerctl.z\n"),
        ("b_test.rego", "package partnerctl.b_test\n"),
        (".hidden/x.rego", "package partnerctl.x\n"),
        (".y.rego", "package partnerctl.y\n"),
        ("README.md", "not a policy"),
    ]);
    let root = dir.path().to_path_buf();
    let names = |selection| {
        find(std::slice::from_ref(&root), selection)
            .unwrap()
            .into_iter()
            .map(|f| {
                f.path
                    .strip_prefix(&format!("{}/", root.display()))
                    .unwrap()
                    .to_string()
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(names(Selection::Policies), ["a/z.rego", "b.rego"]);
    assert_eq!(
        names(Selection::WithTests),
        ["a/z.rego", "b.rego", "b_test.rego"]
    );
    // A file given is read whatever its name; given twice (or within a directory given), once.
    let test = root.join("b_test.rego");
    let both = find(&[test.clone(), root.clone(), test], Selection::Policies).unwrap();
    assert_eq!(both.len(), 3);
    use sha2::Digest as _;
    assert_eq!(
        both[0].sha256,
        format!("{:x}", sha2::Sha256::digest(b"package partnerctl.b_test\n"))
    );
}

#[test]
fn paths_are_shown_without_dot_components_and_every_bad_path_is_reported() {
    let dir = tree(&[("p/a.rego", "package partnerctl.a\n"), ("empty/README", "")]);
    let at = |p: &str| PathBuf::from(format!("{}/./{p}", dir.path().display()));
    let found = find(&[at("p")], Selection::Policies).unwrap();
    assert_eq!(found[0].path, format!("{}/p/a.rego", dir.path().display()));
    let errors = find(
        &[at("missing.rego"), at("empty"), at("p")],
        Selection::Policies,
    )
    .unwrap_err()
    .to_string();
    assert!(
        errors.contains("/missing.rego: cannot read the policy:"),
        "{errors}"
    );
    assert!(
        errors.contains("/empty: no policy file (*.rego) in this directory"),
        "{errors}"
    );
    assert_eq!(errors.lines().count(), 2, "{errors}");
}

#[test]
fn policy_tests_pass_fail_and_err_each_on_its_own() {
    let files = [
        file(
            "p/free.rego",
            "package partnerctl.free\n\ndeny contains u if { some u in input.invites; endswith(u, \"@gmail.com\") }\n",
        ),
        file(
            "p/free_test.rego",
            "package partnerctl.free_test\n\nimport data.partnerctl.free\n\ntest_gmail_is_denied if {\n  free.deny == {\"a@gmail.com\"} with input as {\"invites\": [\"a@gmail.com\"]}\n}\n\ntest_wrong_expectation if {\n  count(free.deny) == 2 with input as {\"invites\": [\"a@gmail.com\"]}\n}\n\ntest_errs if {\n  print(\"about to fail\")\n  x := 1 / 0\n  x > 0\n}\n\nhelper := 1\n",
        ),
    ];
    let results = run_tests(&files, DEFAULT_TIMEOUT).unwrap();
    let got: Vec<(&str, usize, &TestOutcome)> = results
        .iter()
        .map(|r| (r.name.as_str(), r.line, &r.outcome))
        .collect();
    assert_eq!(got.len(), 3, "{results:?}");
    assert_eq!(got[0], ("test_gmail_is_denied", 5, &TestOutcome::Passed));
    assert_eq!(got[1], ("test_wrong_expectation", 9, &TestOutcome::Failed));
    assert_eq!(got[2].0, "test_errs");
    assert!(
        matches!(got[2].2, TestOutcome::Error(_) | TestOutcome::Failed),
        "{:?}",
        got[2]
    );
    assert_eq!(
        results[0].rule,
        "data.partnerctl.free_test.test_gmail_is_denied"
    );
    assert_eq!(results[2].prints, ["p/free_test.rego:14: about to fail"]);
}

#[test]
fn documents_become_the_values_their_json_parses_to() {
    let all = Reach::everything();
    #[derive(serde::Serialize)]
    #[serde(rename_all = "kebab-case")]
    enum Kind {
        UnitVariant,
        Newtype(u8),
        Pair(i32, String),
        Fields { a: bool },
    }
    #[derive(serde::Serialize)]
    struct Doc<'a> {
        kinds: Vec<Kind>,
        nothing: Option<u8>,
        something: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        absent: Option<u8>,
        numbers: (i64, u64, f64, f32),
        not_finite: f64,
        unit: (),
        by_number: std::collections::BTreeMap<u32, char>,
        json: serde_json::Value,
    }
    let doc = Doc {
        kinds: vec![
            Kind::UnitVariant,
            Kind::Newtype(7),
            Kind::Pair(-3, "x".into()),
            Kind::Fields { a: true },
        ],
        nothing: None,
        something: Some("ü\u{202e}\"quoted\""),
        absent: None,
        numbers: (-9_007_199_254_740_993, u64::MAX, 0.1, 2.5),
        not_finite: f64::NAN,
        unit: (),
        by_number: [(1, 'a'), (20, 'b')].into(),
        json: json!({ "settings": { "b": [1, 2.5, null, true, "s"], "a": {} } }),
    };
    let direct = value::to_value(&doc, &all).unwrap();
    let through_json =
        regorus::Value::from_json_str(&serde_json::to_string(&doc).unwrap()).unwrap();
    assert_eq!(direct, through_json);
    assert_eq!(
        value::to_value(&acme().partner, &all).unwrap(),
        regorus::Value::from_json_str(&serde_json::to_string(&acme().partner).unwrap()).unwrap()
    );
}

#[test]
fn short_strings_and_empty_containers_are_made_once_and_shared() {
    let long = "a string longer than the strings shared, made anew each time";
    let document = json!([
        { "action": "create", "depends_on": [], "labels": {}, "note": long },
        { "action": "create", "depends_on": [], "labels": {}, "note": long },
    ]);
    let value = super::value::to_value(&document, &Reach::everything()).unwrap();
    let (first, second) = (&value[0], &value[1]);
    let same = |key: &str| match (&first[key], &second[key]) {
        (regorus::Value::String(a), regorus::Value::String(b)) => regorus::Rc::ptr_eq(a, b),
        (regorus::Value::Array(a), regorus::Value::Array(b)) => regorus::Rc::ptr_eq(a, b),
        (regorus::Value::Object(a), regorus::Value::Object(b)) => regorus::Rc::ptr_eq(a, b),
        other => panic!("{other:?}"),
    };
    assert!(same("action"));
    assert!(same("depends_on"));
    assert!(same("labels"));
    assert!(!same("note"));
    // Shared or not, the values are those of the JSON.
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&value.to_json_str().unwrap()).unwrap(),
        document
    );
}

/// Every policy error is a diagnostic whose message starts with its place: the line and column
/// of a parse error, the policy file (or files) of the others; only a failed input has none.
#[test]
fn policy_errors_start_with_their_place() {
    use crate::vocab::diagnostic::Diagnostic;
    let path = || "p.rego".to_string();
    let (policy, rule) = (
        || "a.rego, b.rego".to_string(),
        || "data.partnerctl.deny".to_string(),
    );
    let errors = [
        PolicyError::Located {
            path: path(),
            line: 4,
            col: 7,
            message: "expecting `}`".into(),
        },
        PolicyError::Read {
            path: path(),
            reason: "gone".into(),
        },
        PolicyError::Empty { path: path() },
        PolicyError::TooLarge {
            path: path(),
            bytes: 1,
        },
        PolicyError::OutsidePackage {
            path: path(),
            package: "x".into(),
            rule: "deny",
        },
        PolicyError::Evaluation {
            policy: policy(),
            rule: rule(),
            message: "m".into(),
        },
        PolicyError::NotASet {
            policy: policy(),
            rule: rule(),
            short: "deny",
            found: "1".into(),
        },
        PolicyError::BadMessage {
            policy: policy(),
            rule: rule(),
            found: "1".into(),
        },
        PolicyError::Timeout {
            policy: policy(),
            rule: rule(),
            budget: std::time::Duration::from_secs(1),
        },
    ];
    let places: Vec<String> = errors
        .iter()
        .map(|e| {
            let at = e.location().unwrap_or_else(|| panic!("{e}")).to_string();
            assert!(e.to_string().starts_with(&format!("{at}: ")), "{e}");
            at
        })
        .collect();
    assert_eq!(places[0], "p.rego:4:7");
    assert!(places[1..5].iter().all(|p| p == "p.rego"), "{places:?}");
    assert!(
        places[5..].iter().all(|p| p == "a.rego, b.rego"),
        "{places:?}"
    );
    assert_eq!(PolicyError::Input("x".into()).location(), None);
}

/// The input `policy` (one file) is given of `document`: what it reaches of it.
fn reached(policy: &str, document: &serde_json::Value) -> serde_json::Value {
    let policies = policies(&[("p.rego", policy)]).expect("the policy parses");
    Input::of(document, policies.reach()).to_json()
}

fn reach_document() -> serde_json::Value {
    json!({
        "configuration": {
            "partner": { "name": "P", "users": [{ "email": "a@x", "name": "A", "role": "admin" }] },
            "customers": [{
                "key": "c1", "name": "C1",
                "labels": { "team": "x", "other": "y" },
                "services": [{ "type": "cards", "settings": { "a": 1 } }],
                "users": [{ "email": "u@x", "name": "U", "role": "member" }]
            }]
        },
        "plan": {
            "operations": [
                { "action": "create", "index": 0, "before": null, "after": { "key": "c1", "name": "C1" } },
                { "action": "invite", "index": 1, "after": { "email": "u@x" } }
            ],
            "summary": { "creates": 1 }
        },
        "target": { "provider": "http" }
    })
}

#[test]
fn the_input_holds_only_what_the_policies_reach() {
    let policy = "package partnerctl\n\ndeny contains u.email if {\n  some c in input.configuration.customers\n  some u in c.users\n  u.role == \"admin\"\n  c.labels[\"team\"] == \"x\"\n}\n\nwarn contains op.action if {\n  some op in input.plan.operations\n  after := op.after\n  after.email\n}\n";
    assert_eq!(
        reached(policy, &reach_document()),
        json!({
            "configuration": { "customers": [{
                "labels": { "team": "x" },
                "users": [{ "email": "u@x", "role": "member" }]
            }] },
            "plan": { "operations": [
                { "action": "create", "after": {} },
                { "action": "invite", "after": { "email": "u@x" } }
            ] }
        })
    );
}

#[test]
fn what_a_policy_uses_whole_or_iterates_is_kept_whole_or_with_every_member() {
    let doc = reach_document();
    let customers = doc["configuration"]["customers"].clone();
    for (rule, kept) in [
        // Counted, given to a function, compared, collected, printed: whole.
        (
            "deny contains 1 if count(input.configuration.customers[0]) > 1",
            json!({ "configuration": { "customers": customers } }),
        ),
        (
            "deny contains x if { p := input.configuration.partner; x := json.marshal(p) }",
            json!({ "configuration": { "partner": doc["configuration"]["partner"] } }),
        ),
        (
            "deny contains c if { some c in input.configuration.customers }",
            json!({ "configuration": { "customers": customers } }),
        ),
        (
            "deny contains 1 if { some c in input.configuration.customers; print(c.labels) }",
            json!({ "configuration": { "customers": [{ "labels": { "team": "x", "other": "y" } }] } }),
        ),
        (
            "deny contains 1 if { x = input.plan; x.summary }",
            json!({ "plan": doc["plan"] }),
        ),
        (
            "deny contains 1 if input.plan.summary == {\"creates\": 1}",
            json!({ "plan": { "summary": { "creates": 1 } } }),
        ),
        // Iterated: every member, each with what is reached of it.
        (
            "deny contains k if { some k, _ in input.configuration }",
            json!({ "configuration": { "customers": [{}], "partner": {} } }),
        ),
        (
            "deny contains 1 if { input.plan[k].creates }",
            json!({ "plan": { "operations": [{}, {}], "summary": { "creates": 1 } } }),
        ),
        (
            "deny contains 1 if { every op in input.plan.operations { op.index >= 0 } }",
            json!({ "plan": { "operations": [{ "index": 0 }, { "index": 1 }] } }),
        ),
    ] {
        assert_eq!(
            reached(&format!("package partnerctl\n\n{rule}\n"), &doc),
            kept,
            "{rule}"
        );
    }
}

#[test]
fn what_the_scan_cannot_follow_keeps_the_whole_input() {
    let doc = reach_document();
    for policy in [
        "package partnerctl\n\nimport input.plan as p\n\ndeny contains 1 if count(p.operations) > 0\n",
        "package partnerctl\n\nd if input.plan.summary\n\ndeny contains 1 if { d with input.plan.summary as {} }\n",
        "package partnerctl\n\ndeny contains 1 if { walk(input, [_, v]); v == 1 }\n",
    ] {
        assert_eq!(reached(policy, &doc), doc, "{policy}");
    }
}

#[test]
fn the_example_policies_decide_on_what_they_reach_as_on_the_whole_input() {
    let policies = Policies::load(&[PathBuf::from("examples/policies")]).expect("the examples");
    let desired = acme();
    let partner = PartnerInfo {
        id: "ptn_1".into(),
        name: "Acme Partners".into(),
        manageable: true,
        support_level: "standard".into(),
    };
    let account = |key: &str| json!({ "type": "account", "kind": "customer", "key": key });
    let mut operations = vec![
        json!({ "index": 0, "action": "invite", "address": "customer.contoso.user[x@gmail.com]",
                "account": account("contoso"), "after": { "email": "X@Gmail.com", "name": "X", "role": "member" }, "depends_on": [] }),
        json!({ "index": 1, "action": "resend", "address": "customer.contoso.user[y@yahoo.com]",
                "account": account("contoso"), "before": { "email": "y@yahoo.com" }, "depends_on": [] }),
    ];
    for i in 0..7 {
        operations.push(json!({ "index": i + 2, "action": "create", "address": format!("customer.c{i}"),
            "account": account(&format!("c{i}")), "after": { "key": format!("c{i}"), "name": "N" }, "depends_on": [] }));
    }
    let plan =
        json!({ "format_version": "1", "operations": operations, "summary": { "creates": 7 } });
    let outcome = |reach: &Reach| {
        let input = Input::configuration(&desired, reach).with_plan(&plan, &partner, "http", reach);
        policies.evaluate(&input, DEFAULT_TIMEOUT).unwrap()
    };
    let reached = outcome(policies.reach());
    assert_eq!(reached, outcome(&Reach::everything()));
    // Three of the four deny: change_limit, customer_admins (fabrikam), free_mail (twice).
    assert_eq!(reached.denials.len(), 4, "{:?}", reached.denials);
    assert_ne!(*policies.reach(), Reach::everything());
}

#[test]
fn variants_are_reached_through_their_name_as_their_json_shows_them() {
    #[derive(serde::Serialize)]
    #[serde(rename_all = "kebab-case")]
    enum Kind {
        Unit,
        Newtype(u8),
        Pair(i32, String),
        Fields { a: bool, b: u8 },
    }
    #[derive(serde::Serialize)]
    struct Doc {
        kinds: Vec<Kind>,
    }
    let doc = Doc {
        kinds: vec![
            Kind::Unit,
            Kind::Newtype(7),
            Kind::Pair(-3, "x".into()),
            Kind::Fields { a: true, b: 2 },
        ],
    };
    let reached = |rule: &str| {
        let policies = policies(&[("p.rego", &format!("package partnerctl\n\n{rule}\n"))])
            .expect("the policy parses");
        Input::of(&doc, policies.reach()).to_json()
    };
    assert_eq!(
        reached("deny contains k.fields.a if { some k in input.kinds }"),
        json!({ "kinds": ["unit", {}, {}, { "fields": { "a": true } }] })
    );
    assert_eq!(
        reached("deny contains k.pair[1] if { some k in input.kinds }"),
        json!({ "kinds": ["unit", {}, { "pair": [-3, "x"] }, {}] })
    );
    assert_eq!(
        reached("deny contains k.newtype if { some k in input.kinds }"),
        json!({ "kinds": ["unit", { "newtype": 7 }, {}, {}] })
    );
}

/// Policies that reach the input in roundabout ways (through a function's argument, a rule's
/// value, a chain of variables, a comprehension, a comparison of whole objects, a count of
/// members, a member's absence) decide on what they reach as on the whole input.
#[test]
fn roundabout_policies_decide_on_what_they_reach_as_on_the_whole_input() {
    let doc = reach_document();
    for rule in [
        "f(o) := o.after\n\ndeny contains sprintf(\"%v\", [f(op)]) if { some op in input.plan.operations }",
        "ops := input.plan.operations\n\ndeny contains sprintf(\"%v\", [ops[_].after])",
        "deny contains \"same\" if { some op in input.plan.operations; op.after == {\"email\": \"u@x\"} }",
        "deny contains sprintf(\"%d\", [n]) if { some op in input.plan.operations; n := count(op) }",
        "deny contains sprintf(\"%v\", [x]) if { x := [o.after | some o in input.plan.operations] }",
        "deny contains k if { some c in input.configuration.customers; some k, _ in c.labels }",
        "deny contains sprintf(\"%v\", [s]) if { some c in input.configuration.customers; s := c.services }",
        "deny contains v if { p := input.plan; o := p.operations; some x in o; v := sprintf(\"%v\", [x.after]) }",
        "deny contains sprintf(\"%v\", [object.keys(input.configuration.customers[0])])",
        "deny contains op.action if { some op in input.plan.operations; not op.before }",
        "deny contains sprintf(\"%v\", [c]) if { some i; c := input.configuration.customers[i].users[i] }",
        "deny contains c.key if { c := input.configuration.customers[input.plan.summary.creates - 1] }",
        "deny contains \"i\" if { some c in input.configuration.customers[input.plan.summary.creates - 1].users }",
    ] {
        let policies = policies(&[("p.rego", &format!("package partnerctl\n\n{rule}\n"))])
            .unwrap_or_else(|e| panic!("{rule}: {e}"));
        let on = |reach: &Reach| {
            policies
                .evaluate(&Input::of(&doc, reach), DEFAULT_TIMEOUT)
                .unwrap()
        };
        let reached = on(policies.reach());
        assert_eq!(reached, on(&Reach::everything()), "{rule}");
        assert!(!reached.denials.is_empty(), "{rule} decides nothing");
    }
}

/// What a policy reaches of any member is reached of each member it names too; and neither an
/// import nor a `with` that leaves the input alone makes the scan give up.
#[test]
fn what_any_member_reaches_each_named_member_reaches_and_other_imports_change_nothing() {
    let doc = reach_document();
    let policy = "package partnerctl\n\ndeny contains \"any\" if { some _, v in input.plan; v.creates }\n\ndeny contains \"named\" if input.plan.summary.missing\n";
    assert_eq!(
        reached(policy, &doc),
        json!({ "plan": { "operations": [{}, {}], "summary": { "creates": 1 } } })
    );
    let policy = "package partnerctl\n\nimport rego.v1\n\nlimit := 1\n\ndeny contains \"x\" if { input.plan.summary.creates > limit with limit as 0 }\n";
    assert_eq!(
        reached(policy, &doc),
        json!({ "plan": { "summary": { "creates": 1 } } })
    );
}
