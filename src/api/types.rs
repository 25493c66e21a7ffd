//! Wire types of the partner API (SPEC §7), shared by the HTTP client and the sandbox.
//! Pure data: no I/O.
//!
//! Conventions:
//! - JSON field names are snake_case; enums use their wire spelling (`sub_account`). Service
//!   types (`cards`, `mobile-id`, ...) are plain strings, not an enum: the catalog is open.
//! - Response types are lenient (unknown fields are ignored, so the server may add fields);
//!   request bodies are strict (`deny_unknown_fields`), so a typo is a 400, not a silent no-op.
//! - `etag` fields hold the exact strong `ETag` header value, quotes included, so a client can
//!   send it back verbatim in `If-Match`.
//! - Timestamps are RFC 3339 strings in UTC (`2026-01-31T12:00:00.123Z`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Media type of every error body (RFC 9457).
pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";
/// Request header carrying the client's idempotency key on POST.
pub const IDEMPOTENCY_KEY_HEADER: &str = "idempotency-key";
/// Response header set (to `true`) when a POST was answered from the idempotency store.
pub const IDEMPOTENT_REPLAYED_HEADER: &str = "idempotent-replayed";
/// Largest accepted `page_size`.
pub const MAX_PAGE_SIZE: u32 = 1000;
/// `page_size` used when the request names none.
pub const DEFAULT_PAGE_SIZE: u32 = 100;

/// The three kinds of account below a partner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountKind {
    /// Belongs to the partner.
    Customer,
    /// Belongs to a customer (a second location).
    Network,
    /// One location inside a network.
    SubAccount,
}

impl AccountKind {
    /// The wire spelling (`customer`, `network`, `sub_account`).
    pub fn as_str(self) -> &'static str {
        match self {
            AccountKind::Customer => "customer",
            AccountKind::Network => "network",
            AccountKind::SubAccount => "sub_account",
        }
    }

    /// Parses the wire spelling.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "customer" => Some(AccountKind::Customer),
            "network" => Some(AccountKind::Network),
            "sub_account" => Some(AccountKind::SubAccount),
            _ => None,
        }
    }
}

impl std::fmt::Display for AccountKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A person to contact for an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    /// Full name.
    pub name: String,
    /// Email address.
    pub email: String,
}

/// The partner that owns the API token (`GET /v1/partner`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Partner {
    /// Opaque id. Customers' `parent_id` is this id; users can be invited on it.
    pub id: String,
    /// Display name (the config's `partner.name` must equal it).
    pub name: String,
    /// `false`: customers may be created, but nothing inside a customer may be changed.
    pub manageable: bool,
    /// The support level agreed with the vendor (`none` while not manageable).
    pub support_level: String,
}

/// Request and write limits reported by `GET /v1/limits` (`null`: not limited).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Read requests per minute, if limited.
    pub reads_per_minute: Option<u32>,
    /// Write requests (POST, PUT, PATCH, DELETE) per minute, if limited.
    pub writes_per_minute: Option<u32>,
}

/// A customer, network or sub-account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// Opaque id.
    pub id: String,
    /// Kind of account.
    pub kind: AccountKind,
    /// Customer: the partner's id. Network: its customer. Sub-account: its network.
    pub parent_id: String,
    /// The client's stable key (config `key`), unique per partner; `null` when unset.
    pub external_key: Option<String>,
    /// Display name.
    pub name: String,
    /// Contact person (always set on customers).
    pub contact: Option<Contact>,
    /// ISO 3166-1 alpha-2 country code (always set on customers).
    pub country: Option<String>,
    /// IANA time zone name (always set on customers).
    pub timezone: Option<String>,
    /// Free-form string labels.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Strong entity tag, quotes included.
    pub etag: String,
    /// Creation time (RFC 3339, UTC).
    pub created_at: String,
    /// Last change (RFC 3339, UTC).
    pub updated_at: String,
}

/// `POST /v1/accounts`.
///
/// Customers need `name`, `contact`, `country` and `timezone`; their `parent_id` may be omitted
/// (or `null`, or the partner's id). Networks and sub-accounts need `name` and `parent_id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountCreate {
    /// Kind of the new account.
    pub kind: AccountKind,
    /// Parent account id (see the type's documentation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    /// Stable key, `[a-z0-9][a-z0-9-]{0,62}`, unique per partner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_key: Option<String>,
    /// Display name.
    pub name: String,
    /// Contact person (required for customers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<Contact>,
    /// ISO 3166-1 alpha-2 (required for customers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// IANA time zone (required for customers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// Free-form string labels.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

/// `PATCH /v1/accounts/{id}` (merge semantics: absent fields are left alone).
///
/// `kind` and `parent_id` cannot change (an account cannot move); sending them is a 400.
/// `external_key: null` clears the key; `contact`, `country`, `timezone` cannot be cleared on a
/// customer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountPatch {
    /// New stable key; `Some(None)` (JSON `null`) clears it.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "double_option"
    )]
    pub external_key: Option<Option<String>>,
    /// New display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// New contact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<Contact>,
    /// New country.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// New time zone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// Replaces the whole label map.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
}

/// Role of a user on an account.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Full control of the account and everything below it.
    Admin,
    /// Regular access.
    #[default]
    Member,
}

impl Role {
    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Member => "member",
        }
    }
}

/// Lifecycle of a user: `invited` until accepted (`active`) or timed out (`expired`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UserStatus {
    /// Invitation sent, not accepted yet.
    Invited,
    /// Invitation accepted.
    Active,
    /// Invitation not accepted in time; can be re-sent.
    Expired,
}

impl UserStatus {
    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::Invited => "invited",
            UserStatus::Active => "active",
            UserStatus::Expired => "expired",
        }
    }
}

/// A user (or pending invitation) on an account or on the partner itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Opaque id.
    pub id: String,
    /// The account (or partner) id the user belongs to.
    pub account_id: String,
    /// Email as invited (compared case-insensitively).
    pub email: String,
    /// Full name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Lifecycle state.
    pub status: UserStatus,
    /// Strong entity tag, quotes included.
    pub etag: String,
}

/// `POST /v1/accounts/{id}/users`: invite someone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserInvite {
    /// Email to invite.
    pub email: String,
    /// Full name.
    pub name: String,
    /// Role (default `member`).
    #[serde(default)]
    pub role: Role,
}

/// `PATCH /v1/users/{id}` (merge semantics).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    /// New full name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// New role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
}

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

/// Every list response: one page of items and the cursor of the next page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    /// The items of this page, oldest first.
    pub items: Vec<T>,
    /// Cursor for the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

/// One problem with a request field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// JSON Pointer (RFC 6901) into the request body; `""` for the whole body.
    pub pointer: String,
    /// What is wrong.
    pub message: String,
}

/// An RFC 9457 problem document (`application/problem+json`), the body of every error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// URI naming the problem type (`urn:partnerctl:problem:{code}`).
    #[serde(rename = "type")]
    pub problem_type: String,
    /// Short summary of the problem type.
    pub title: String,
    /// HTTP status code.
    pub status: u16,
    /// What happened in this occurrence, and what to do.
    pub detail: String,
    /// Stable machine-readable code (e.g. `management-disabled`, `external-key-taken`).
    pub code: String,
    /// Field-level problems (may be empty).
    #[serde(default)]
    pub errors: Vec<FieldError>,
    /// On conflicts with an existing object (409): its id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub existing_id: Option<String>,
}

impl std::fmt::Display for Problem {
    /// `409 external-key-taken: <detail>` followed by one `  <pointer>: <message>` line per
    /// field error.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status, self.code, self.detail)?;
        for e in &self.errors {
            let at = if e.pointer.is_empty() {
                "(body)"
            } else {
                e.pointer.as_str()
            };
            write!(f, "\n  {at}: {}", e.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for Problem {}

/// Query parameters of `GET /v1/accounts`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountListQuery {
    /// Only accounts of this kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<AccountKind>,
    /// Only direct children of this account (or of the partner, for customers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    /// Only the account with this external key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_key: Option<String>,
    /// Items per page, 1..=1000 (default 100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_size: Option<u32>,
    /// Cursor from a previous page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_token: Option<String>,
}

/// Query parameters of `GET /v1/users`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserListQuery {
    /// Only users of this account (or of the partner).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// Only users with this email (case-insensitive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Only users in this state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<UserStatus>,
    /// Items per page, 1..=1000 (default 100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_size: Option<u32>,
    /// Cursor from a previous page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_token: Option<String>,
}

/// Query parameters of `GET /v1/services`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceListQuery {
    /// Only services of this account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// Only services of this type.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub service_type: Option<String>,
    /// Items per page, 1..=1000 (default 100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_size: Option<u32>,
    /// Cursor from a previous page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_token: Option<String>,
}

/// `GET /healthz`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    /// Always `ok` when the server answers.
    pub status: String,
}

/// Serde helper distinguishing an absent field (`None`) from an explicit `null` (`Some(None)`).
mod double_option {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer, T: Serialize>(
        v: &Option<Option<T>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match v {
            Some(inner) => inner.serialize(s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
        d: D,
    ) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(d).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patch_distinguishes_null_from_absent() {
        let p: AccountPatch = serde_json::from_str(r#"{"external_key": null}"#).unwrap();
        assert_eq!(p.external_key, Some(None));
        let p: AccountPatch = serde_json::from_str(r#"{}"#).unwrap();
        assert_eq!(p.external_key, None);
        assert!(serde_json::from_str::<AccountPatch>(r#"{"kind": "network"}"#).is_err());
    }

    #[test]
    fn kinds_use_wire_spelling() {
        assert_eq!(
            serde_json::to_string(&AccountKind::SubAccount).unwrap(),
            "\"sub_account\""
        );
        assert_eq!(
            AccountKind::parse("sub_account"),
            Some(AccountKind::SubAccount)
        );
        let inv: UserInvite = serde_json::from_str(r#"{"email":"a@b.c","name":"A"}"#).unwrap();
        assert_eq!(inv.role, Role::Member);
    }

    #[test]
    fn problem_displays_code_and_pointers() {
        let p = Problem {
            problem_type: "urn:partnerctl:problem:validation-failed".into(),
            title: "Bad Request".into(),
            status: 400,
            detail: "invalid request".into(),
            code: "validation-failed".into(),
            errors: vec![FieldError {
                pointer: "/country".into(),
                message: "bad".into(),
            }],
            existing_id: None,
        };
        assert_eq!(
            p.to_string(),
            "400 validation-failed: invalid request\n  /country: bad"
        );
    }

    #[test]
    fn page_omits_absent_token() {
        let p = Page::<u8> {
            items: vec![1],
            next_page_token: None,
        };
        assert_eq!(serde_json::to_string(&p).unwrap(), r#"{"items":[1]}"#);
    }
}
