//! Wire types, services: services on accounts, their put body and the service-type catalog.

use serde::{Deserialize, Serialize};

/// A service of a catalog type on an account (at most one per type per account).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Service {
    /// The account the service belongs to.
    pub account_id: String,
    /// Catalog type (see `GET /v1/service-types`).
    #[serde(rename = "type")]
    pub service_type: String,
    /// Settings, valid against the type's `settings_schema`, stored as sent.
    pub settings: serde_json::Value,
    /// Strong entity tag, quotes included.
    pub etag: String,
}

/// `PUT /v1/accounts/{id}/services/{type}`: create or replace a service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServicePut {
    /// Settings object (default `{}`).
    #[serde(default = "empty_object")]
    pub settings: serde_json::Value,
}

fn empty_object() -> serde_json::Value {
    serde_json::Value::Object(serde_json::Map::new())
}

/// A catalog entry of `GET /v1/service-types`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceType {
    /// Type name used in paths and configs (`cards`, `mobile-id`, ...).
    #[serde(rename = "type")]
    pub service_type: String,
    /// Human description.
    pub description: String,
    /// JSON Schema (2020-12) the settings must satisfy.
    pub settings_schema: serde_json::Value,
}
