//! Stage `config`, the service catalog: the service types an API offers, each with the JSON
//! Schema of its settings, and the settings check that `validate` (located, on the YAML tree)
//! and `plan` (on the merged model) share. Pure: a catalog file's text comes from the caller.
//!
//! A catalog file is JSON in one of two shapes: a list of service types (`[{"type",
//! "description", "settings_schema"}, ...]`, the `items` of `GET /v1/service-types`), or an
//! object with such a list in `items` (a saved response of `GET /v1/service-types`, or the
//! catalog a plan cached, which also says where it was read in `source`).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One service type of a catalog.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CatalogEntry {
    /// The type name used in configurations (`cards`, `mobile-id`, ...).
    #[serde(rename = "type")]
    pub name: String,
    /// What the service is, for people.
    #[serde(default)]
    pub description: String,
    /// JSON Schema (2020-12) the settings must satisfy.
    pub settings_schema: Value,
}

/// A catalog: service types by name, each with its settings schema (compiled on first use).
pub struct Catalog {
    types: BTreeMap<String, (CatalogEntry, OnceLock<Option<jsonschema::Validator>>)>,
}

impl fmt::Debug for Catalog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Catalog")
            .field("types", &self.types.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// Why settings were not accepted.
#[derive(Debug, Clone, PartialEq)]
pub enum SettingsError {
    /// The catalog has no such type.
    UnknownType,
    /// Every violation of the type's schema.
    Invalid(Vec<Violation>),
}

/// One violation of a settings schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Where in the settings, as a JSON pointer (`""` for the settings themselves).
    pub pointer: String,
    /// What is wrong, as the JSON Schema validator says it.
    pub message: String,
    /// Properties the schema does not allow at `pointer` (`additionalProperties: false`).
    pub unexpected: Vec<String>,
}

/// A catalog file that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogError {
    /// Not JSON at all.
    #[error("not valid JSON: {0}")]
    Json(String),
    /// JSON of another shape.
    #[error(
        "expected a list of service types (`[{{\"type\": ..., \"settings_schema\": ...}}]`) or an object with one in `items` (the response of GET /v1/service-types), found {0}"
    )]
    Shape(&'static str),
    /// One entry of the list is not a service type.
    #[error("service type {index} of the list: {message}")]
    Entry {
        /// 1-based position in the list.
        index: usize,
        /// What is wrong with it.
        message: String,
    },
    /// The same type twice.
    #[error("service type `{0}` is listed twice")]
    Duplicate(String),
    /// One page of a paginated response.
    #[error(
        "the file holds one page of GET /v1/service-types (it has a `next_page_token`); save every page's items in one list"
    )]
    Partial,
}

/// A catalog read from a file, with where the file says it was read (a cached catalog).
#[derive(Debug)]
pub struct CatalogFile {
    /// The catalog.
    pub catalog: Catalog,
    /// Where it was read (the cache's `source`), if the file says.
    pub source: Option<String>,
}

fn describe(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object without `items`",
    }
}

impl Catalog {
    /// A catalog of `entries` (a later entry of the same name replaces an earlier one).
    pub fn new(entries: impl IntoIterator<Item = CatalogEntry>) -> Catalog {
        Catalog {
            types: entries
                .into_iter()
                .map(|e| (e.name.clone(), (e, OnceLock::new())))
                .collect(),
        }
    }

    /// Reads a catalog file's text (either shape, see the module's documentation).
    pub fn from_json(text: &str) -> Result<CatalogFile, CatalogError> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| CatalogError::Json(e.to_string()))?;
        let (items, source) = match value {
            Value::Array(items) => (items, None),
            Value::Object(mut object) => {
                let Some(items) = object.remove("items") else {
                    return Err(CatalogError::Shape(describe(&Value::Object(object))));
                };
                if object
                    .get("next_page_token")
                    .is_some_and(|t| t.as_str().is_some_and(|t| !t.is_empty()))
                {
                    return Err(CatalogError::Partial);
                }
                let Value::Array(items) = items else {
                    return Err(CatalogError::Shape("an object whose `items` is not a list"));
                };
                let source = object
                    .get("source")
                    .and_then(Value::as_str)
                    .map(str::to_string);
                (items, source)
            }
            other => return Err(CatalogError::Shape(describe(&other))),
        };
        let mut entries = Vec::with_capacity(items.len());
        let mut seen = std::collections::HashSet::new();
        for (i, item) in items.into_iter().enumerate() {
            let entry: CatalogEntry =
                serde_json::from_value(item).map_err(|e| CatalogError::Entry {
                    index: i + 1,
                    message: e.to_string(),
                })?;
            if !seen.insert(entry.name.clone()) {
                return Err(CatalogError::Duplicate(entry.name));
            }
            entries.push(entry);
        }
        Ok(CatalogFile {
            catalog: Catalog::new(entries),
            source,
        })
    }

    /// The catalog as a file [`Catalog::from_json`] reads, saying where it was read
    /// (`{"source": ..., "items": [...]}`), pretty-printed with a trailing newline.
    pub fn to_json(&self, source: &str) -> String {
        let items: Vec<&CatalogEntry> = self.types.values().map(|(e, _)| e).collect();
        let file = serde_json::json!({ "source": source, "items": items });
        let mut text = serde_json::to_string_pretty(&file).expect("a JSON value always serializes");
        text.push('\n');
        text
    }

    /// How many types.
    pub fn len(&self) -> usize {
        self.types.len()
    }

    /// No type at all?
    pub fn is_empty(&self) -> bool {
        self.types.is_empty()
    }

    /// Does the catalog have this type?
    pub fn contains(&self, service_type: &str) -> bool {
        self.types.contains_key(service_type)
    }

    /// The type names, sorted.
    pub fn names(&self) -> Vec<String> {
        self.types.keys().cloned().collect()
    }

    /// The settings a type's schema names at its top level, in the schema's order.
    pub fn settings_names(&self, service_type: &str) -> Vec<String> {
        self.properties(service_type)
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default()
    }

    fn properties(&self, service_type: &str) -> Option<&Map<String, Value>> {
        self.types
            .get(service_type)
            .and_then(|(e, _)| e.settings_schema.get("properties"))
            .and_then(Value::as_object)
    }

    /// `settings` with the schema's top-level defaults added for the properties it leaves out
    /// (unchanged for a type the catalog does not have).
    pub fn with_defaults(
        &self,
        service_type: &str,
        settings: &Map<String, Value>,
    ) -> Map<String, Value> {
        let mut out = settings.clone();
        for (name, prop) in self.properties(service_type).into_iter().flatten() {
            if let Some(default) = prop.get("default") {
                if !out.contains_key(name) {
                    out.insert(name.clone(), default.clone());
                }
            }
        }
        out
    }

    /// The settings the service will have ([`Catalog::with_defaults`]), checked against the
    /// type's schema. A schema that does not compile checks nothing.
    pub fn effective(
        &self,
        service_type: &str,
        settings: &Map<String, Value>,
    ) -> Result<Map<String, Value>, SettingsError> {
        let (entry, validator) = self
            .types
            .get(service_type)
            .ok_or(SettingsError::UnknownType)?;
        let out = self.with_defaults(service_type, settings);
        let validator =
            validator.get_or_init(|| jsonschema::validator_for(&entry.settings_schema).ok());
        let Some(v) = validator else {
            return Ok(out);
        };
        let instance = Value::Object(out);
        let violations: Vec<Violation> = v.iter_errors(&instance).map(violation).collect();
        if !violations.is_empty() {
            return Err(SettingsError::Invalid(violations));
        }
        let Value::Object(out) = instance else {
            unreachable!("constructed as an object above")
        };
        Ok(out)
    }
}

fn violation(e: jsonschema::ValidationError<'_>) -> Violation {
    let unexpected = match e.kind() {
        jsonschema::error::ValidationErrorKind::AdditionalProperties { unexpected } => {
            unexpected.clone()
        }
        _ => Vec::new(),
    };
    Violation {
        pointer: e.instance_path().as_str().to_string(),
        message: e.to_string(),
        unexpected,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sandbox() -> Catalog {
        Catalog::from_json(include_str!("../sandbox/catalog.json"))
            .expect("the sandbox's catalog reads")
            .catalog
    }

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn both_file_shapes_read_and_the_cache_round_trips() {
        let catalog = sandbox();
        assert_eq!(
            catalog.names(),
            ["access-control", "cards", "mobile-id", "visitor-management"]
        );
        let page = json!({"items": [{"type": "cards", "settings_schema": {"type": "object"}}]});
        let file = Catalog::from_json(&page.to_string()).unwrap();
        assert_eq!(file.catalog.names(), ["cards"]);
        assert_eq!(file.source, None);
        let cached = Catalog::from_json(&catalog.to_json("http://127.0.0.1:9")).unwrap();
        assert_eq!(cached.source.as_deref(), Some("http://127.0.0.1:9"));
        assert_eq!(cached.catalog.names(), catalog.names());
        assert_eq!(
            cached.catalog.settings_names("cards"),
            catalog.settings_names("cards")
        );
    }

    #[test]
    fn unusable_files_say_why() {
        let err = |text: &str| Catalog::from_json(text).unwrap_err().to_string();
        assert!(err("{").starts_with("not valid JSON: "));
        assert!(err("{\"types\": []}").ends_with("found an object without `items`"));
        assert!(err("3").ends_with("found a number"));
        assert_eq!(
            err(r#"[{"type": "cards", "settings_schema": {}}, {"description": "x"}]"#),
            "service type 2 of the list: missing field `type`"
        );
        assert_eq!(
            err(r#"[{"type": "a", "settings_schema": {}}, {"type": "a", "settings_schema": {}}]"#),
            "service type `a` is listed twice"
        );
        assert!(err(r#"{"items": [], "next_page_token": "p2"}"#).contains("one page"));
    }

    #[test]
    fn settings_are_checked_with_defaults_filled_in() {
        let c = sandbox();
        let ok = c
            .effective("cards", &map(json!({"layout_approval": false})))
            .unwrap();
        assert_eq!(ok["card_format"], "cr80", "a default filled in");
        assert_eq!(
            c.effective("cardz", &Map::new()),
            Err(SettingsError::UnknownType)
        );
        let Err(SettingsError::Invalid(v)) = c.effective(
            "cards",
            &map(json!({"max_cards_per_user": 50, "colour": "red"})),
        ) else {
            panic!("invalid settings")
        };
        assert_eq!(v.len(), 2, "{v:?}");
        let extra = v.iter().find(|v| !v.unexpected.is_empty()).unwrap();
        assert_eq!(
            (extra.pointer.as_str(), extra.unexpected.clone()),
            ("", vec!["colour".to_string()])
        );
        let max = v.iter().find(|v| v.unexpected.is_empty()).unwrap();
        assert_eq!(max.pointer, "/max_cards_per_user");
        assert_eq!(max.message, "50 is greater than the maximum of 20");
    }
}
