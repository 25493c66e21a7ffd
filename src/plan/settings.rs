//! Stage `plan`, service settings: checks desired settings against the live catalog's JSON
//! Schemas. Settings are compared with the schema's top-level defaults filled in on both sides,
//! so `{}` and `{layout_approval: true}` (the default) are the same service, whether the server
//! stores settings as sent or completed with defaults. Pure.

use std::cell::RefCell;
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
    /// The last distinct settings [`Catalog::check`] accepted, with their type.
    accepted: RefCell<Vec<(String, Map<String, Value>)>>,
}

/// How many distinct settings [`Catalog::check`] remembers.
const MEMO_SIZE: usize = 32;

impl<'l> Catalog<'l> {
    pub(crate) fn new(types: &'l [ServiceType]) -> Self {
        Catalog {
            types: types
                .iter()
                .map(|t| (t.name.as_str(), (t, OnceLock::new())))
                .collect(),
            accepted: RefCell::new(Vec::new()),
        }
    }

    /// The type names, sorted.
    pub(crate) fn names(&self) -> Vec<String> {
        let mut v: Vec<String> = self.types.keys().map(|s| (*s).to_string()).collect();
        v.sort();
        v
    }

    /// `settings` with the schema's top-level defaults added for the properties it leaves out
    /// (unchanged for a type the catalog does not have).
    pub(crate) fn with_defaults(
        &self,
        service_type: &str,
        settings: &Map<String, Value>,
    ) -> Map<String, Value> {
        let mut out = settings.clone();
        let props = self
            .types
            .get(service_type)
            .and_then(|(ty, _)| ty.settings_schema.get("properties"))
            .and_then(Value::as_object);
        for (name, prop) in props.into_iter().flatten() {
            if let Some(default) = prop.get("default") {
                if !out.contains_key(name) {
                    out.insert(name.clone(), default.clone());
                }
            }
        }
        out
    }

    /// Whether [`Catalog::effective`] accepts the settings (`Ok`) or why not. Remembers the last
    /// distinct settings it accepted (a configuration's services mostly repeat a few); refusals
    /// are worked out every time.
    pub(crate) fn check(
        &self,
        service_type: &str,
        settings: &Map<String, Value>,
    ) -> Result<(), SettingsError> {
        let mut accepted = self.accepted.borrow_mut();
        if accepted
            .iter()
            .any(|(t, s)| t == service_type && s == settings)
        {
            return Ok(());
        }
        self.effective(service_type, settings)?;
        if accepted.len() == MEMO_SIZE {
            let _oldest = accepted.remove(0);
        }
        accepted.push((service_type.to_string(), settings.clone()));
        Ok(())
    }

    /// The settings the service will have ([`Catalog::with_defaults`]), checked against the
    /// type's schema.
    pub(crate) fn effective(
        &self,
        service_type: &str,
        settings: &Map<String, Value>,
    ) -> Result<Map<String, Value>, SettingsError> {
        let (ty, validator) = self
            .types
            .get(service_type)
            .ok_or(SettingsError::UnknownType)?;
        let out = self.with_defaults(service_type, settings);
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
