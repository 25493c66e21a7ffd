//! Checking the JSON outputs of the real binary against the committed JSON Schemas
//! (`schemas/plan.schema.json`, `schemas/apply-report.schema.json`,
//! `schemas/access-report.schema.json`), read from the files, not from the crate's types.

use std::collections::BTreeMap;
use std::sync::{Mutex, OnceLock};

use super::cli::root;

/// The validator of `schemas/{name}.schema.json`, compiled once.
fn validator(name: &str) -> &'static jsonschema::Validator {
    static CACHE: OnceLock<Mutex<BTreeMap<String, &'static jsonschema::Validator>>> =
        OnceLock::new();
    let mut cache = CACHE.get_or_init(Default::default).lock().unwrap();
    cache.entry(name.to_string()).or_insert_with(|| {
        let path = root().join(format!("schemas/{name}.schema.json"));
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
        let schema: serde_json::Value = serde_json::from_str(&text).expect("a schema is JSON");
        let v = jsonschema::validator_for(&schema)
            .unwrap_or_else(|e| panic!("{} is not a valid schema: {e}", path.display()));
        Box::leak(Box::new(v))
    })
}

/// Panics unless `text` is valid against `schemas/{name}.schema.json` (`plan`,
/// `apply-report`, `access-report`), naming each problem and where it is.
pub fn assert_matches_schema(name: &str, text: &str) {
    let value: serde_json::Value = serde_json::from_str(text)
        .unwrap_or_else(|e| panic!("not one JSON document ({e}):\n{text}"));
    let problems: Vec<String> = validator(name)
        .iter_errors(&value)
        .map(|e| format!("  {}: {e}", e.instance_path()))
        .collect();
    assert!(
        problems.is_empty(),
        "not valid against schemas/{name}.schema.json:\n{}\n{text}",
        problems.join("\n")
    );
}
