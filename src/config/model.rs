//! Stage `config`, model: the desired-state file format (serde + schemars).
//! Pure data: no I/O. The doc comments here become the JSON Schema descriptions editors show.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::span::{AccountSpan, At, ServiceSpan};
use crate::vocab::Role;
use crate::vocab::rules::{COUNTRY_CODES, KEY_PATTERN, timezone_names};

/// One partnerctl configuration file (format version 1).
///
/// A configuration is one file or a directory of files; exactly one file declares `partner`,
/// `customers` of all files are concatenated, and `defaults` may appear once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "partnerctl configuration", extend("dependentRequired" = { "partner": ["version"] }))]
pub struct ConfigFile {
    /// Format version of this file. Must be 1. Required in the file that declares `partner`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("const" = 1))]
    pub version: Option<u32>,
    /// The partner account the API token belongs to. Declared in exactly one file.
    // Optional, but never null: a `partner:` left without a value is a mistake to point at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Partner")]
    pub partner: Option<Partner>,
    /// Values merged into every customer; a customer's own values win. May appear once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub defaults: Option<Defaults>,
    /// Customer accounts managed by this file.
    #[serde(
        default,
        deserialize_with = "empty_if_null",
        skip_serializing_if = "Vec::is_empty"
    )]
    #[schemars(with = "Option<Vec<Customer>>")]
    pub customers: Vec<Customer>,
}

/// The partner (reseller) account. It is created by the vendor, never by partnerctl.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Partner {
    /// Display name; must equal the name of the partner account the API token belongs to.
    #[schemars(length(min = 1))]
    pub name: String,
    /// Users of the partner account; they reach every customer.
    #[serde(
        default,
        deserialize_with = "empty_if_null",
        skip_serializing_if = "Vec::is_empty"
    )]
    #[schemars(with = "Option<Vec<User>>")]
    pub users: Vec<User>,
}

/// Values merged into every customer. A customer's own `country`/`timezone` win, its labels are
/// merged key by key, and its service of the same type replaces the default one.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    /// Default country (ISO 3166-1 alpha-2, e.g. `GB`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "CountryCode")]
    pub country: Option<String>,
    /// Default timezone (IANA name, e.g. `Europe/London`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "TimezoneName")]
    pub timezone: Option<String>,
    /// Default labels, merged key by key under the customer's own.
    #[serde(
        default,
        deserialize_with = "empty_if_null",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    #[schemars(with = "Option<BTreeMap<String, String>>")]
    pub labels: BTreeMap<String, String>,
    /// Default services; a customer's service of the same type replaces the default one.
    #[serde(
        default,
        deserialize_with = "empty_if_null",
        skip_serializing_if = "Vec::is_empty"
    )]
    #[schemars(with = "Option<Vec<Service>>")]
    pub services: Vec<Service>,
}

/// A customer account of the partner.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Customer {
    /// Stable identity (`[a-z0-9][a-z0-9-]{0,62}`), unique in the whole configuration. Stored as
    /// the account's external key; changing it means a different account.
    #[schemars(schema_with = "key_schema")]
    pub key: String,
    /// Live id of the account this one is (a string such as `acc_1`, or a number such as `6`),
    /// for adopting an account that has no key when its name alone cannot tell it apart (like
    /// Terraform's `import`). Once adopted, the key identifies it and this may stay or go; with
    /// a provider whose accounts carry no key (Nexudus), it is how every plan finds the account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "adopt_schema")]
    pub adopt: Option<AdoptId>,
    /// Display name; changing it is an update, not a re-create.
    #[schemars(length(min = 1))]
    pub name: String,
    /// The customer's main contact (full name and email). Required where the provider stores
    /// contacts (the partner API needs one to create a customer); a provider that carries none
    /// (Nexudus) does not need it, and its export leaves it out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Contact")]
    pub contact: Option<Contact>,
    /// Country (ISO 3166-1 alpha-2, e.g. `FR`); falls back to `defaults.country`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "CountryCode")]
    pub country: Option<String>,
    /// Timezone (IANA name, e.g. `Europe/Paris`); falls back to `defaults.timezone`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "TimezoneName")]
    pub timezone: Option<String>,
    /// Never delete this account, even with `--prune-accounts`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub protect: bool,
    /// Free-form string labels.
    #[serde(
        default,
        deserialize_with = "empty_if_null",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    #[schemars(with = "Option<BTreeMap<String, String>>")]
    pub labels: BTreeMap<String, String>,
    /// Users of this customer; they reach its networks and sub-accounts too.
    #[serde(
        default,
        deserialize_with = "empty_if_null",
        skip_serializing_if = "Vec::is_empty"
    )]
    #[schemars(with = "Option<Vec<User>>")]
    pub users: Vec<User>,
    /// Services of this customer, at most one per type.
    #[serde(
        default,
        deserialize_with = "empty_if_null",
        skip_serializing_if = "Vec::is_empty"
    )]
    #[schemars(with = "Option<Vec<Service>>")]
    pub services: Vec<Service>,
    /// Networks of this customer (one per additional location group).
    #[serde(
        default,
        deserialize_with = "empty_if_null",
        skip_serializing_if = "Vec::is_empty"
    )]
    #[schemars(with = "Option<Vec<Network>>")]
    pub networks: Vec<Network>,
    /// Where it is written, when read from a source (not part of the file format).
    #[serde(skip)]
    pub at: At<AccountSpan>,
}

/// A network account: created for a customer that opens further locations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Network {
    /// Stable identity (`[a-z0-9][a-z0-9-]{0,62}`), unique in the whole configuration.
    #[schemars(schema_with = "key_schema")]
    pub key: String,
    /// Live id of the account this one is (a string such as `acc_1`, or a number such as `6`),
    /// for adopting an account that has no key when its name alone cannot tell it apart (like
    /// Terraform's `import`). Once adopted, the key identifies it and this may stay or go; with
    /// a provider whose accounts carry no key (Nexudus), it is how every plan finds the account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "adopt_schema")]
    pub adopt: Option<AdoptId>,
    /// Display name.
    #[schemars(length(min = 1))]
    pub name: String,
    /// Country (ISO 3166-1 alpha-2); falls back to the customer's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "CountryCode")]
    pub country: Option<String>,
    /// Timezone (IANA name); falls back to the customer's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "TimezoneName")]
    pub timezone: Option<String>,
    /// Never delete this account, even with `--prune-accounts`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub protect: bool,
    /// Free-form string labels.
    #[serde(
        default,
        deserialize_with = "empty_if_null",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    #[schemars(with = "Option<BTreeMap<String, String>>")]
    pub labels: BTreeMap<String, String>,
    /// Users of this network; they reach its sub-accounts too.
    #[serde(
        default,
        deserialize_with = "empty_if_null",
        skip_serializing_if = "Vec::is_empty"
    )]
    #[schemars(with = "Option<Vec<User>>")]
    pub users: Vec<User>,
    /// Services of this network, at most one per type.
    #[serde(
        default,
        deserialize_with = "empty_if_null",
        skip_serializing_if = "Vec::is_empty"
    )]
    #[schemars(with = "Option<Vec<Service>>")]
    pub services: Vec<Service>,
    /// Sub-accounts (locations) of this network.
    #[serde(
        default,
        deserialize_with = "empty_if_null",
        skip_serializing_if = "Vec::is_empty"
    )]
    #[schemars(with = "Option<Vec<SubAccount>>")]
    pub sub_accounts: Vec<SubAccount>,
    /// Where it is written, when read from a source (not part of the file format).
    #[serde(skip)]
    pub at: At<AccountSpan>,
}

/// A sub-account: one location inside a network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SubAccount {
    /// Stable identity (`[a-z0-9][a-z0-9-]{0,62}`), unique in the whole configuration.
    #[schemars(schema_with = "key_schema")]
    pub key: String,
    /// Live id of the account this one is (a string such as `acc_1`, or a number such as `6`),
    /// for adopting an account that has no key when its name alone cannot tell it apart (like
    /// Terraform's `import`). Once adopted, the key identifies it and this may stay or go; with
    /// a provider whose accounts carry no key (Nexudus), it is how every plan finds the account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "adopt_schema")]
    pub adopt: Option<AdoptId>,
    /// Display name.
    #[schemars(length(min = 1))]
    pub name: String,
    /// Country (ISO 3166-1 alpha-2); falls back to the network's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "CountryCode")]
    pub country: Option<String>,
    /// Timezone (IANA name); falls back to the network's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "TimezoneName")]
    pub timezone: Option<String>,
    /// Never delete this account, even with `--prune-accounts`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub protect: bool,
    /// Free-form string labels.
    #[serde(
        default,
        deserialize_with = "empty_if_null",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    #[schemars(with = "Option<BTreeMap<String, String>>")]
    pub labels: BTreeMap<String, String>,
    /// Users of this sub-account; they reach only it.
    #[serde(
        default,
        deserialize_with = "empty_if_null",
        skip_serializing_if = "Vec::is_empty"
    )]
    #[schemars(with = "Option<Vec<User>>")]
    pub users: Vec<User>,
    /// Services of this sub-account, at most one per type.
    #[serde(
        default,
        deserialize_with = "empty_if_null",
        skip_serializing_if = "Vec::is_empty"
    )]
    #[schemars(with = "Option<Vec<Service>>")]
    pub services: Vec<Service>,
    /// Where it is written, when read from a source (not part of the file format).
    #[serde(skip)]
    pub at: At<AccountSpan>,
}

/// A person to reach about the customer account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    /// Full name.
    #[schemars(length(min = 1))]
    pub name: String,
    /// Email address.
    #[schemars(email)]
    pub email: String,
}

/// A user of an account, invited by email.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct User {
    /// Email address; the user's identity within the account (compared case-insensitively).
    #[schemars(email)]
    pub email: String,
    /// Full name shown in the invitation.
    #[schemars(length(min = 1))]
    pub name: String,
    /// `admin` or `member` (default).
    #[serde(default)]
    pub role: Role,
}

/// A service of a catalog type on an account (at most one per type).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Service {
    /// Catalog type, e.g. `cards`; the live catalog (`GET /v1/service-types`) lists them.
    #[serde(rename = "type")]
    #[schemars(length(min = 1))]
    pub service_type: String,
    /// Settings, validated against the type's settings schema of the service catalog (by plan,
    /// and by validate when it has a catalog).
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub settings: serde_json::Map<String, serde_json::Value>,
    /// Where it is written, when read from a source (not part of the file format).
    #[serde(skip)]
    pub at: At<ServiceSpan>,
}

/// The live id an `adopt` names: written as a string (`acc_1`) or, for a vendor whose ids are
/// numbers, as a number (`6`); either way it is the id's text. A number is written back as a
/// number, so an export of numeric ids reads as the vendor shows them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AdoptId(String);

impl AdoptId {
    /// The id's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The id as a number, when its text is exactly a number's (no sign, no leading zero, no
    /// more than `u64` holds), so that writing it as a number reads back as the same text.
    fn as_number(&self) -> Option<u64> {
        let canonical = !self.0.is_empty()
            && self.0.bytes().all(|b| b.is_ascii_digit())
            && (self.0 == "0" || !self.0.starts_with('0'));
        canonical.then(|| self.0.parse().ok()).flatten()
    }
}

impl From<String> for AdoptId {
    fn from(id: String) -> Self {
        AdoptId(id)
    }
}

impl From<&str> for AdoptId {
    fn from(id: &str) -> Self {
        AdoptId(id.to_string())
    }
}

impl std::fmt::Display for AdoptId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for AdoptId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.as_number() {
            Some(n) => s.serialize_u64(n),
            None => s.serialize_str(&self.0),
        }
    }
}

impl<'de> Deserialize<'de> for AdoptId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Id;
        impl serde::de::Visitor<'_> for Id {
            type Value = AdoptId;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a live account id: a string or a whole number")
            }

            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<AdoptId, E> {
                Ok(AdoptId(v.to_string()))
            }

            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<AdoptId, E> {
                Ok(AdoptId(v.to_string()))
            }

            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<AdoptId, E> {
                Ok(AdoptId(v.to_string()))
            }

            // `6.0` is the whole number the schema's `integer` accepts.
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<AdoptId, E> {
                if v.is_finite() && v.fract() == 0.0 && v.abs() < 2f64.powi(63) {
                    Ok(AdoptId((v as i64).to_string()))
                } else {
                    Err(E::invalid_value(serde::de::Unexpected::Float(v), &self))
                }
            }
        }
        d.deserialize_any(Id)
    }
}

fn adopt_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": ["string", "integer", "null"],
        "minLength": 1,
        "minimum": 0,
    })
}

/// A list or mapping written with no value reads as an empty one: `users:` left behind when
/// its last entry was deleted is null to YAML, and means "none".
fn empty_if_null<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn key_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "string",
        "pattern": KEY_PATTERN,
    })
}

/// Schema-only stand-in for an ISO 3166-1 alpha-2 country code: one `$defs` entry with the
/// list of codes, so editors complete them.
pub struct CountryCode;

impl JsonSchema for CountryCode {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "CountryCode".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "ISO 3166-1 alpha-2 country code, upper case (e.g. GB, FR, US).",
            "type": "string",
            "enum": COUNTRY_CODES,
        })
    }
}

/// Schema-only stand-in for an IANA timezone name: one `$defs` entry with the list of names.
pub struct TimezoneName;

impl JsonSchema for TimezoneName {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "TimezoneName".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let names = timezone_names();
        schemars::json_schema!({
            "description": "IANA time zone name (e.g. Europe/London, America/New_York, UTC).",
            "type": "string",
            "enum": names,
        })
    }
}
