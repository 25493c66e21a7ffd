//! Stage `render`, the JSON documents: the JSON plan, the JSON apply report and the JSON access
//! report as typed values that serialize to exactly what those formats write, and whose JSON
//! Schemas (`schemas/plan.schema.json`, `schemas/apply-report.schema.json`,
//! `schemas/access-report.schema.json`) are generated from the same types, their doc comments
//! becoming the schemas' descriptions. Built from the plan, the apply's report and the access
//! grants; the pure data those stages hold keeps its own shape. Pure.
//!
//! Rooms: `plan`, `report`, `access` (one document each), `common` (what they share) and
//! `fields` (a schema's fields as a markdown table, for the README).

mod access;
mod common;
mod fields;
mod plan;
mod report;

use schemars::JsonSchema;
use schemars::generate::SchemaSettings;

pub use access::AccessReport;
pub use fields::fields_table;
pub use plan::{OperationOf, PlanDocument};
pub use report::ApplyReport;

/// A JSON document partnerctl writes, by the name `partnerctl schema` takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Document {
    /// `plan --format json`.
    Plan,
    /// `apply --format json` and `apply --report FILE`.
    ApplyReport,
    /// `access --format json`.
    AccessReport,
}

impl Document {
    /// Its name (`apply-report`), which is also its schema file's stem.
    pub fn name(self) -> &'static str {
        match self {
            Document::Plan => "plan",
            Document::ApplyReport => "apply-report",
            Document::AccessReport => "access-report",
        }
    }

    /// Its JSON Schema (draft 2020-12), describing what partnerctl writes: every field it
    /// always writes is required, and no other field is allowed.
    pub fn schema(self) -> serde_json::Value {
        match self {
            Document::Plan => schema_of::<PlanDocument<'static>>(),
            Document::ApplyReport => schema_of::<ApplyReport<'static>>(),
            Document::AccessReport => schema_of::<AccessReport<'static>>(),
        }
    }

    /// [`Document::schema`] as pretty-printed text with a trailing newline (what `partnerctl
    /// schema NAME` prints and the committed file holds).
    pub fn schema_json(self) -> String {
        let mut text =
            serde_json::to_string_pretty(&self.schema()).expect("a JSON value always serializes");
        text.push('\n');
        text
    }
}

fn schema_of<T: JsonSchema>() -> serde_json::Value {
    SchemaSettings::draft2020_12()
        .for_serialize()
        .into_generator()
        .into_root_schema_for::<T>()
        .to_value()
}

/// Panics unless `text` is a valid `document`, naming each problem.
#[cfg(test)]
pub(crate) fn assert_valid(document: Document, text: &str) {
    let schema = document.schema();
    let validator = jsonschema::validator_for(&schema).expect("the schema is valid");
    let value: serde_json::Value = serde_json::from_str(text).expect("the document is JSON");
    let problems: Vec<String> = validator
        .iter_errors(&value)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        problems.is_empty(),
        "not a valid {}:\n{}\n{text}",
        document.name(),
        problems.join("\n")
    );
}

#[cfg(test)]
mod tests;
