//! The sandbox's service catalog: service types and the JSON Schema of their settings, read from
//! the data file `catalog.json` beside this one.

use std::sync::OnceLock;

use serde_json::Value;

use crate::wire::partner::{FieldError, ServiceType};

/// One catalog entry with its compiled settings validator.
pub struct CatalogEntry {
    /// The wire description.
    pub info: ServiceType,
    validator: jsonschema::Validator,
}

impl CatalogEntry {
    /// Validates `settings`; every problem is reported with a JSON pointer prefixed by
    /// `pointer_prefix` (e.g. `/settings`).
    pub fn validate(&self, settings: &Value, pointer_prefix: &str) -> Vec<FieldError> {
        self.validator
            .iter_errors(settings)
            .map(|e| FieldError {
                pointer: format!("{pointer_prefix}{}", e.instance_path().as_str()),
                message: e.to_string(),
            })
            .collect()
    }
}

/// The catalog data: the entries of `GET /v1/service-types`, in order. Plan's test helpers read
/// the same file, so plans are checked against the schemas this server enforces.
const CATALOG_JSON: &str = include_str!("catalog.json");

/// The catalog, built once.
pub fn catalog() -> &'static [CatalogEntry] {
    static CATALOG: OnceLock<Vec<CatalogEntry>> = OnceLock::new();
    CATALOG.get_or_init(|| {
        let types: Vec<ServiceType> =
            serde_json::from_str(CATALOG_JSON).expect("catalog.json is a list of service types");
        types
            .into_iter()
            .map(|info| CatalogEntry {
                validator: jsonschema::validator_for(&info.settings_schema).unwrap_or_else(|e| {
                    panic!("built-in schema of {} is invalid: {e}", info.service_type)
                }),
                info,
            })
            .collect()
    })
}

/// Looks up a service type by name.
pub fn find(ty: &str) -> Option<&'static CatalogEntry> {
    catalog().iter().find(|e| e.info.service_type == ty)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn catalog_compiles_and_validates_with_pointers() {
        let names: Vec<&str> = catalog()
            .iter()
            .map(|e| e.info.service_type.as_str())
            .collect();
        assert_eq!(
            names,
            ["cards", "mobile-id", "visitor-management", "access-control"]
        );
        let cards = find("cards").unwrap();
        assert!(
            cards
                .validate(&json!({"layout_approval": false}), "/settings")
                .is_empty()
        );
        let errs = cards.validate(&json!({"layout_approval": "yes"}), "/settings");
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].pointer, "/settings/layout_approval");
        let errs = find("access-control").unwrap().validate(
            &json!({"schedules": [{"name": "x", "days": ["mon"], "from": "25:00", "to": "10:00"}]}),
            "",
        );
        assert_eq!(errs[0].pointer, "/schedules/0/from");
        assert!(find("nope").is_none());
    }

    #[test]
    fn unknown_settings_are_rejected() {
        let errs = find("mobile-id")
            .unwrap()
            .validate(&json!({"colour": 1}), "/settings");
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].pointer, "/settings");
    }
}
