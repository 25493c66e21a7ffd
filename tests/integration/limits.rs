//! The API's field limits are one table (`partnerctl::vocab::rules`): the OpenAPI document states
//! them, the sandbox enforces them, and `validate` catches every one of them first, located in
//! the file. A configuration exactly at every limit applies and converges.

use serde_json::{Value, json};

use crate::support::cli::{partnerctl, root};
use crate::support::{Api, Sandbox, customer_body};
use partnerctl::vocab::rules::{
    LABEL_KEY_MAX_CHARS, LABEL_VALUE_MAX_CHARS, LABELS_MAX, NAME_MAX_CHARS,
};

/// A component schema of the OpenAPI document.
fn component(name: &str) -> Value {
    let text = std::fs::read_to_string(root().join("schemas/openapi.yaml")).unwrap();
    let doc: Value = serde_yaml::from_str(&text).unwrap();
    doc["components"]["schemas"][name].clone()
}

#[test]
fn the_openapi_document_states_the_shared_limits() {
    let name = component("Name");
    assert_eq!(name["maxLength"], NAME_MAX_CHARS);
    assert_eq!(name["minLength"], 1);
    let labels = component("Labels");
    assert_eq!(labels["maxProperties"], LABELS_MAX);
    assert_eq!(labels["propertyNames"]["maxLength"], LABEL_KEY_MAX_CHARS);
    assert_eq!(
        labels["additionalProperties"]["maxLength"],
        LABEL_VALUE_MAX_CHARS
    );
    // Every request body's name is that one schema.
    for body in [
        "Contact",
        "AccountCreate",
        "AccountPatch",
        "UserInvite",
        "UserPatch",
    ] {
        assert_eq!(
            component(body)["properties"]["name"]["$ref"],
            "#/components/schemas/Name",
            "{body}"
        );
    }
}

/// The values of one configuration (and of the requests that would carry them).
#[derive(Clone)]
struct Values {
    name: String,
    contact_name: String,
    user_name: String,
    labels: Vec<(String, String)>,
    protect: bool,
}

impl Values {
    /// Every value exactly at its limit (counting characters, not bytes).
    fn at_the_limit() -> Values {
        let labels = (0..LABELS_MAX - 1)
            .map(|i| {
                let key = format!("k{i:02}{}", "x".repeat(LABEL_KEY_MAX_CHARS - 3));
                (key, "é".repeat(LABEL_VALUE_MAX_CHARS))
            })
            .collect();
        Values {
            name: "N".repeat(NAME_MAX_CHARS),
            contact_name: "ö".repeat(NAME_MAX_CHARS),
            user_name: "U".repeat(NAME_MAX_CHARS),
            labels,
            protect: true,
        }
    }

    fn yaml(&self) -> String {
        let labels: String = self
            .labels
            .iter()
            .map(|(k, v)| format!("      {k:?}: {v:?}\n"))
            .collect();
        format!(
            "customers:\n  - key: big\n    name: {:?}\n    contact: {{ name: {:?}, email: c@big.example }}\n    protect: {}\n    labels:\n{labels}    users:\n      - {{ email: u@big.example, name: {:?} }}\n",
            self.name, self.contact_name, self.protect, self.user_name
        )
    }

    fn account_body(&self, key: &str) -> Value {
        let mut body = customer_body(key);
        body["name"] = json!(self.name);
        body["contact"]["name"] = json!(self.contact_name);
        let mut labels: serde_json::Map<String, Value> = self
            .labels
            .iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        if self.protect {
            labels.insert(partnerctl::vocab::PROTECT_LABEL.into(), json!("true"));
        }
        body["labels"] = Value::Object(labels);
        body
    }
}

/// A configuration directory: the acme partner file (defaults without labels) and `values`.
fn config(values: &Values) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let partner = std::fs::read_to_string(root().join("examples/acme/partner.yaml")).unwrap();
    let partner: String = partner
        .lines()
        .filter(|l| !l.trim_start().starts_with("labels:"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(dir.path().join("partner.yaml"), partner).unwrap();
    std::fs::write(dir.path().join("big.yaml"), values.yaml()).unwrap();
    dir
}

/// One way past one limit: how to break the values, and what `validate` says.
struct Case {
    what: &'static str,
    breaks: fn(&mut Values),
    says: &'static str,
}

const CASES: &[Case] = &[
    Case {
        what: "a name one character too long",
        breaks: |v| v.name.push('N'),
        says: "name is 201 characters long; the API takes at most 200",
    },
    Case {
        what: "a name ending in a space",
        breaks: |v| v.name = "Big ".into(),
        says: "name must not start or end with spaces",
    },
    Case {
        what: "a contact name one character too long",
        breaks: |v| v.contact_name.push('ö'),
        says: "contact name is 201 characters long",
    },
    Case {
        what: "a user name one character too long",
        breaks: |v| v.user_name.push('U'),
        says: "user name is 201 characters long",
    },
    Case {
        what: "a user name starting with a space",
        breaks: |v| v.user_name = " U".into(),
        says: "user name must not start or end with spaces",
    },
    Case {
        what: "a label key one character too long",
        breaks: |v| v.labels[0].0.push('x'),
        says: "label keys are 1 to 63 characters",
    },
    Case {
        what: "a label value one character too long",
        breaks: |v| v.labels[0].1.push('é'),
        says: "label values are at most 255 characters",
    },
    Case {
        what: "one label too many",
        breaks: |v| v.labels.push(("one-more".into(), "x".into())),
        says: "would have 65 labels (with the one `protect` records); an account has at most 64",
    },
];

/// Sends `values` to the sandbox as the requests apply would make (the account as `key`, the
/// user into `account`); the status of the first that fails (or 201).
async fn sandbox_verdict(api: &Api, values: &Values, key: &str, account: &str) -> (u16, Value) {
    let r = api.post("/v1/accounts", values.account_body(key)).await;
    if r.status != 201 {
        return (r.status, r.body);
    }
    let user = json!({"email": "u@raw.example", "name": values.user_name});
    let r = api
        .post(&format!("/v1/accounts/{account}/users"), user)
        .await;
    (r.status, r.body)
}

#[tokio::test]
async fn every_limit_the_sandbox_enforces_is_caught_by_validate_first() {
    let sb = Sandbox::start();
    let token = sb.add_partner("Acme Partners", true);
    let api = Api::new(&sb.url, &token);
    let holder = api
        .post("/v1/accounts", customer_body("holder"))
        .await
        .status_ok(201, "Account");
    let holder = holder["id"].as_str().unwrap().to_string();
    for (i, case) in CASES.iter().enumerate() {
        let mut values = Values::at_the_limit();
        (case.breaks)(&mut values);
        let (status, body) = sandbox_verdict(&api, &values, &format!("raw-{i}"), &holder).await;
        assert_eq!(status, 400, "the sandbox takes {}: {body}", case.what);
        assert_eq!(body["code"], "validation-failed", "{}: {body}", case.what);
        let dir = config(&values);
        let run = partnerctl().arg("validate").arg(dir.path()).run().code(1);
        let file = dir.path().join("big.yaml").display().to_string();
        let line = run
            .stderr
            .lines()
            .find(|l| l.contains(case.says))
            .unwrap_or_else(|| panic!("{}: `{}` not in\n{}", case.what, case.says, run.stderr));
        assert!(
            line.starts_with(&format!("{file}:")),
            "{}: not located in the file: {line}",
            case.what
        );
    }
}

#[test]
fn a_configuration_at_every_limit_applies_and_converges() {
    let sb = Sandbox::start();
    let token = sb.add_partner("Acme Partners", true);
    let dir = config(&Values::at_the_limit());
    partnerctl().arg("validate").arg(dir.path()).run().success();
    let with = |cmd: &str| {
        partnerctl()
            .arg(cmd)
            .arg(dir.path())
            .env("PARTNERCTL_ENDPOINT", &sb.url)
            .env("PARTNERCTL_TOKEN", &token)
    };
    with("apply").arg("--auto-approve").run().success();
    let run = with("plan").args(["--format", "json"]).run().success();
    let plan: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(plan["operations"], json!([]), "{}", run.stdout);
}
