//! The shared vocabulary of every stage: the kinds of account, user roles, invitation states and
//! the label that records `protect`; and, in [`rules`], the field rules (account keys, countries,
//! time zones, emails, names, the characters no free text may hold) that config validation and
//! the sandbox both enforce, and how outputs escape those characters; and, in [`diagnostic`],
//! what every reported problem is (a message, a severity, and where to fix it). Pure data and pure
//! functions with no imports from the rest of the crate, so that config, live, plan, providers,
//! render and the sandbox can all speak it without depending on each other.

pub mod address;
pub mod diagnostic;
pub mod keys;
pub mod rules;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Label through which `protect: true` is recorded on a live account, so that an account removed
/// from the configuration is still known to be protected when pruning.
pub const PROTECT_LABEL: &str = "partnerctl.io/protect";

/// Kinds of account below a partner.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum AccountKind {
    /// Belongs to the partner.
    Customer,
    /// Belongs to a customer.
    Network,
    /// A location inside a network.
    SubAccount,
}

impl AccountKind {
    /// Every kind, top-down.
    pub const ALL: [AccountKind; 3] = [
        AccountKind::Customer,
        AccountKind::Network,
        AccountKind::SubAccount,
    ];

    /// Wire and display spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            AccountKind::Customer => "customer",
            AccountKind::Network => "network",
            AccountKind::SubAccount => "sub_account",
        }
    }

    /// Parses the wire spelling.
    pub fn parse(s: &str) -> Option<Self> {
        AccountKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The kind a parent of this kind must have (`None`: the partner).
    pub fn parent_kind(self) -> Option<AccountKind> {
        match self {
            AccountKind::Customer => None,
            AccountKind::Network => Some(AccountKind::Customer),
            AccountKind::SubAccount => Some(AccountKind::Network),
        }
    }

    /// Levels below the partner, minus one: customers 0, networks 1, sub-accounts 2.
    pub fn depth(self) -> usize {
        match self {
            AccountKind::Customer => 0,
            AccountKind::Network => 1,
            AccountKind::SubAccount => 2,
        }
    }
}

impl std::fmt::Display for AccountKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a user may do in the account.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Full control of the account and everything below it.
    Admin,
    /// Ordinary access.
    #[default]
    Member,
}

impl Role {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Member => "member",
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Invitation lifecycle of a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum UserStatus {
    /// Invited, not accepted yet.
    Invited,
    /// Accepted.
    Active,
    /// Not accepted in time.
    Expired,
}

impl UserStatus {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::Invited => "invited",
            UserStatus::Active => "active",
            UserStatus::Expired => "expired",
        }
    }
}

impl std::fmt::Display for UserStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_and_nest() {
        for k in AccountKind::ALL {
            assert_eq!(AccountKind::parse(k.as_str()), Some(k));
            assert_eq!(
                serde_json::to_value(k).unwrap(),
                serde_json::json!(k.as_str())
            );
            match k.parent_kind() {
                None => assert_eq!(k.depth(), 0),
                Some(p) => assert_eq!(p.depth() + 1, k.depth()),
            }
        }
        assert_eq!(AccountKind::parse("partner"), None);
    }

    #[test]
    fn roles_and_statuses_spell_as_on_the_wire() {
        assert_eq!(serde_json::to_value(Role::Admin).unwrap(), "admin");
        assert_eq!(Role::default(), Role::Member);
        for s in [UserStatus::Invited, UserStatus::Active, UserStatus::Expired] {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
    }
}
