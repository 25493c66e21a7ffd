//! Wire types, accounts: the account kinds, contacts, accounts and their create/patch bodies.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

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
    /// Customers only (absent on networks and sub-accounts): does the customer let its partner
    /// manage it? While `false`, nothing inside it can change and it cannot be deleted (403
    /// `management-disabled`); its own record can. The customer sets it at the vendor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manageable: Option<bool>,
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
    use crate::wire::partner::{Role, UserInvite};

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
}
