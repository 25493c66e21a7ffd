//! Integration tests of the sandbox server (the partner API and its rules) against the real binary.
//! Every rule is exercised with a passing and a failing case; every response body of the
//! partner API is validated against `schemas/openapi.yaml` by the harness; `nexudus` tests the
//! Nexudus dialect.

mod accounts;
mod admin;
mod concurrency;
mod durability;
mod files;
mod http;
mod idempotency;
mod knobs;
mod nexudus;
mod services;
mod tenancy;
mod users;

use serde_json::Value;

/// A JSON string's value (panics on anything else).
fn s(v: &Value) -> String {
    v.as_str()
        .unwrap_or_else(|| panic!("not a string: {v}"))
        .to_string()
}
