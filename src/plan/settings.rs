//! Stage `plan`, service settings: checks desired settings against the live catalog's JSON
//! Schemas and fills in the schema's top-level defaults, so that a service the server completed
//! with defaults does not show up as a perpetual change. Pure.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::{Map, Value};

use crate::live::ServiceType;

/// Why settings were not accepted.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum SettingsError {
    /// The catalog has no such type.
    UnknownType,
    /// `(JSON pointer, message)` for every violation.
    Invalid(Vec<(String, String)>),
}

/// The catalog with lazily compiled validators.
pub(crate) struct Catalog<'l> {
    types: HashMap<&'l str, (&'l ServiceType, OnceLock<Option<jsonschema::Validator>>)>,
}

impl<'l> Catalog<'l> {
    pub(crate) fn new(types: &'l [ServiceType]) -> Self {
        Catalog {
            types: types
                .iter()
                .map(|t| (t.name.as_str(), (t, OnceLock::new())))
                .collect(),
        }
    }

    /// The type names, sorted.
    pub(crate) fn names(&self) -> Vec<String> {
        let mut v: Vec<String> = self.types.keys().map(|s| (*s).to_string()).collect();
        v.sort();
        v
    }

    /// The settings the service will have: `settings` plus the schema's top-level defaults for
    /// properties it leaves out, checked against the schema.
    pub(crate) fn effective(
        &self,
        service_type: &str,
        settings: &Map<String, Value>,
    ) -> Result<Map<String, Value>, SettingsError> {
        let (ty, validator) = self
            .types
            .get(service_type)
            .ok_or(SettingsError::UnknownType)?;
        let mut out = settings.clone();
        if let Some(props) = ty
            .settings_schema
            .get("properties")
            .and_then(Value::as_object)
        {
            for (name, prop) in props {
                if let Some(default) = prop.get("default") {
                    if !out.contains_key(name) {
                        out.insert(name.clone(), default.clone());
                    }
                }
            }
        }
        let validator =
            validator.get_or_init(|| jsonschema::validator_for(&ty.settings_schema).ok());
        if let Some(v) = validator {
            let instance = Value::Object(out);
            let errors: Vec<(String, String)> = v
                .iter_errors(&instance)
                .map(|e| (e.instance_path().as_str().to_string(), e.to_string()))
                .collect();
            if !errors.is_empty() {
                return Err(SettingsError::Invalid(errors));
            }
            let Value::Object(out) = instance else {
                unreachable!("constructed as an object above")
            };
            return Ok(out);
        }
        Ok(out)
    }
}
