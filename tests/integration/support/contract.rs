//! The contract: response bodies, statuses and headers checked against `schemas/openapi.yaml`.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::{Value, json};

type Validators = Mutex<HashMap<String, Arc<jsonschema::Validator>>>;

fn openapi() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/openapi.yaml");
        let text = std::fs::read_to_string(&path).expect("read schemas/openapi.yaml");
        serde_yaml::from_str(&text).expect("openapi.yaml is YAML")
    })
}

fn validator(name: &str) -> Arc<jsonschema::Validator> {
    static CACHE: OnceLock<Validators> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(v) = cache.lock().unwrap().get(name) {
        return v.clone();
    }
    let doc = openapi();
    assert!(
        doc["components"]["schemas"].get(name).is_some(),
        "no component schema {name} in openapi.yaml"
    );
    let schema = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "components": doc["components"],
        "$ref": format!("#/components/schemas/{name}"),
    });
    let v = Arc::new(
        jsonschema::options()
            .should_validate_formats(true)
            .build(&schema)
            .unwrap_or_else(|e| panic!("schema {name}: {e}")),
    );
    cache.lock().unwrap().insert(name.to_string(), v.clone());
    v
}

/// Is `value` valid against `#/components/schemas/{name}` of the OpenAPI document?
pub fn is_valid(name: &str, value: &Value) -> bool {
    validator(name).is_valid(value)
}

/// The OpenAPI document, parsed.
pub fn document() -> &'static Value {
    openapi()
}

/// Asserts that `value` is valid against `#/components/schemas/{name}` of the OpenAPI document.
#[track_caller]
pub fn assert_valid(name: &str, value: &Value) {
    let v = validator(name);
    let errors: Vec<String> = v
        .iter_errors(value)
        .map(|e| format!("{} at {}", e, e.instance_path().as_str()))
        .collect();
    assert!(
        errors.is_empty(),
        "response is not a valid {name}: {errors:#?}\n{value}"
    );
}

/// Checks a response against the operation of `openapi.yaml` it belongs to: the status must be
/// declared for that method and path, the body must match the declared schema, and a declared
/// `ETag` (or, on 429, `Retry-After`) header must be present. Requests to undeclared paths or
/// methods must be 404 or 405 (their bodies were already checked as problems).
#[track_caller]
pub fn check_contract(
    method: &str,
    path: &str,
    status: u16,
    headers: &reqwest::header::HeaderMap,
    body: &Value,
) {
    let doc = openapi();
    let path_only = path.split('?').next().unwrap_or(path);
    let Some(op) = find_operation(doc, &method.to_ascii_lowercase(), path_only) else {
        assert!(
            status == 404 || status == 405,
            "{method} {path} is not in openapi.yaml but answered {status}"
        );
        return;
    };
    let Some(mut resp) = op["responses"].get(status.to_string()) else {
        panic!(
            "{method} {path} answered {status}, which openapi.yaml does not declare for it: {body}"
        )
    };
    if let Some(r) = resp.get("$ref").and_then(Value::as_str) {
        resp = &doc["components"]["responses"][r.rsplit('/').next().unwrap()];
    }
    for h in ["ETag", "Retry-After"] {
        let declared = resp.get("headers").and_then(|hs| hs.get(h)).is_some();
        if declared && (h == "ETag" || status == 429) {
            assert!(
                headers.contains_key(h),
                "{method} {path} -> {status}: missing declared header {h}"
            );
        }
    }
    match resp
        .get("content")
        .and_then(|c| c.as_object())
        .and_then(|c| c.values().next())
    {
        Some(media) => {
            let schema_ref = media["schema"]["$ref"].as_str().expect("schemas are $refs");
            assert_valid(schema_ref.rsplit('/').next().unwrap(), body);
        }
        None => assert!(
            body.is_null(),
            "{method} {path} -> {status} declares no body but got {body}"
        ),
    }
}

fn find_operation<'a>(doc: &'a Value, method: &str, path: &str) -> Option<&'a Value> {
    let segs: Vec<&str> = path.split('/').collect();
    doc["paths"]
        .as_object()?
        .iter()
        .find_map(|(template, item)| {
            let t: Vec<&str> = template.split('/').collect();
            let matches = t.len() == segs.len()
                && t.iter()
                    .zip(&segs)
                    .all(|(a, b)| (a.starts_with('{') && !b.is_empty()) || a == b);
            if matches { item.get(method) } else { None }
        })
}

#[test]
fn contract_checker_rejects_what_the_document_does_not_declare() {
    let h = reqwest::header::HeaderMap::new();
    let partner = json!({"id": "p", "name": "n", "manageable": true, "support_level": "none"});
    check_contract("GET", "/v1/partner", 200, &h, &partner);
    let undeclared =
        std::panic::catch_unwind(|| check_contract("GET", "/v1/partner", 418, &h, &partner));
    assert!(
        undeclared.is_err(),
        "a status the operation does not declare"
    );
    let bad_body = std::panic::catch_unwind(|| {
        check_contract("GET", "/v1/partner", 200, &h, &json!({"id": 1}))
    });
    assert!(bad_body.is_err(), "a body that does not match the schema");
    let no_etag =
        std::panic::catch_unwind(|| check_contract("GET", "/v1/accounts/x", 200, &h, &json!({})));
    assert!(no_etag.is_err(), "a declared ETag header missing");
    let unknown_route_ok =
        std::panic::catch_unwind(|| check_contract("GET", "/v2/zzz", 200, &h, &Value::Null));
    assert!(
        unknown_route_ok.is_err(),
        "an undeclared route answering 200"
    );
}
