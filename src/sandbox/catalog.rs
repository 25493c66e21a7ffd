//! The sandbox's service catalog: service types and the JSON Schema of their settings.

use std::sync::OnceLock;

use serde_json::{Value, json};

use crate::api::types::{FieldError, ServiceType};

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

/// The catalog, built once.
pub fn catalog() -> &'static [CatalogEntry] {
    static CATALOG: OnceLock<Vec<CatalogEntry>> = OnceLock::new();
    CATALOG.get_or_init(|| {
        definitions()
            .into_iter()
            .map(|(ty, description, schema)| CatalogEntry {
                validator: jsonschema::validator_for(&schema)
                    .unwrap_or_else(|e| panic!("built-in schema of {ty} is invalid: {e}")),
                info: ServiceType {
                    service_type: ty.to_string(),
                    description: description.to_string(),
                    settings_schema: schema,
                },
            })
            .collect()
    })
}

/// Looks up a service type by name.
pub fn find(ty: &str) -> Option<&'static CatalogEntry> {
    catalog().iter().find(|e| e.info.service_type == ty)
}

/// One catalog entry: type, description, settings schema.
type Definition = (&'static str, &'static str, Value);

/// The JSON Schema dialect of every settings schema.
const DRAFT: &str = "https://json-schema.org/draft/2020-12/schema";

fn definitions() -> Vec<Definition> {
    vec![cards(), mobile_id(), visitor_management(), access_control()]
}

fn cards() -> Definition {
    (
        "cards",
        "Printed and digital member cards (Nexus GO Cards).",
        json!({
            "$schema": DRAFT,
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "layout_approval": {"type": "boolean", "default": true,
                    "description": "Card layouts need an admin's approval before printing."},
                "card_format": {"enum": ["cr80", "cr79", "digital"], "default": "cr80"},
                "max_cards_per_user": {"type": "integer", "minimum": 1, "maximum": 20, "default": 2},
                "expiry_days": {"type": ["integer", "null"], "minimum": 1, "maximum": 3650, "default": null}
            }
        }),
    )
}

fn mobile_id() -> Definition {
    (
        "mobile-id",
        "Identity credentials in the vendor's mobile app.",
        json!({
            "$schema": DRAFT,
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "platforms": {"type": "array", "items": {"enum": ["ios", "android"]},
                    "uniqueItems": true, "minItems": 1, "default": ["ios", "android"]},
                "require_biometrics": {"type": "boolean", "default": false},
                "credential_ttl_hours": {"type": "integer", "minimum": 1, "maximum": 8760, "default": 720}
            }
        }),
    )
}

fn visitor_management() -> Definition {
    (
        "visitor-management",
        "Visitor pre-registration, check-in kiosks and host notifications.",
        json!({
            "$schema": DRAFT,
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "host_notifications": {"enum": ["email", "sms", "none"], "default": "email"},
                "badge_printing": {"type": "boolean", "default": false},
                "nda_required": {"type": "boolean", "default": false},
                "retention_days": {"type": "integer", "minimum": 1, "maximum": 3650, "default": 90}
            }
        }),
    )
}

fn access_control() -> Definition {
    (
        "access-control",
        "Door access control: readers, schedules and anti-passback.",
        json!({
            "$schema": DRAFT,
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "provider": {"enum": ["builtin", "salto", "brivo", "openpath"], "default": "builtin"},
                "anti_passback": {"type": "boolean", "default": false},
                "unlock_seconds": {"type": "integer", "minimum": 1, "maximum": 60, "default": 5},
                "schedules": {
                    "type": "array",
                    "default": [],
                    "items": {
                        "type": "object",
                        "additionalProperties": false,
                        "required": ["name", "days", "from", "to"],
                        "properties": {
                            "name": {"type": "string", "minLength": 1, "maxLength": 100},
                            "days": {"type": "array", "uniqueItems": true, "minItems": 1,
                                "items": {"enum": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]}},
                            "from": {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$"},
                            "to": {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$"}
                        }
                    }
                }
            }
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_compiles_and_validates_with_pointers() {
        assert!(catalog().len() >= 4);
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
