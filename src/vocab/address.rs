//! Addresses: how plans, outputs and command lines name an account, a user of an account or a
//! service of an account. This type owns the format; nothing else builds or splits an address
//! string.
//!
//! - `partner`; an account by key, `customer.contoso`; a live account without a (valid) key,
//!   `network[id=acc_1]`; an account not yet known, `customer[?]`; a live parent outside the
//!   partner's accounts (the read did not return it), `[id=acc_9]`;
//! - a user, `customer.contoso.user[jane@contoso.example]` (the email folded as emails are
//!   compared);
//! - a service, `customer.contoso.service[cards]`.

use std::fmt;
use std::str::FromStr;

use super::AccountKind;
use super::rules::email_key;

/// Where an account is.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AccountAddress {
    /// The partner itself.
    Partner,
    /// An account by its key.
    Key {
        /// Its kind.
        kind: AccountKind,
        /// Its key.
        key: String,
    },
    /// A live account without a key, by its live id.
    Id {
        /// Its kind.
        kind: AccountKind,
        /// Its live id.
        id: String,
    },
    /// An account neither keyed nor live (not expected in a valid plan).
    Unknown {
        /// Its kind.
        kind: AccountKind,
    },
    /// A live account outside the partner's accounts (a parent the read did not return),
    /// known only by its id: its kind is not known either.
    Outside {
        /// Its live id.
        id: String,
    },
}

impl AccountAddress {
    /// An account by key when it has one, else by live id.
    pub fn of(kind: AccountKind, key: Option<&str>, id: Option<&str>) -> Self {
        match (key, id) {
            (Some(key), _) => AccountAddress::Key {
                kind,
                key: key.to_string(),
            },
            (None, Some(id)) => AccountAddress::Id {
                kind,
                id: id.to_string(),
            },
            (None, None) => AccountAddress::Unknown { kind },
        }
    }

    /// An account by its key.
    pub fn key(kind: AccountKind, key: &str) -> Self {
        AccountAddress::Key {
            kind,
            key: key.to_string(),
        }
    }

    /// The address of a user of this account.
    pub fn user(&self, email: &str) -> Address {
        Address::User {
            account: self.clone(),
            email: email_key(email),
        }
    }

    /// The address of a service of this account.
    pub fn service(&self, service_type: &str) -> Address {
        Address::Service {
            account: self.clone(),
            service_type: service_type.to_string(),
        }
    }
}

impl fmt::Display for AccountAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AccountAddress::Partner => f.write_str("partner"),
            AccountAddress::Key { kind, key } => write!(f, "{kind}.{key}"),
            AccountAddress::Id { kind, id } => write!(f, "{kind}[id={id}]"),
            AccountAddress::Unknown { kind } => write!(f, "{kind}[?]"),
            AccountAddress::Outside { id } => write!(f, "[id={id}]"),
        }
    }
}

/// What an address names: an account, a user of one, or a service of one.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Address {
    /// An account (or the partner).
    Account(AccountAddress),
    /// A user of an account, by email.
    User {
        /// The account.
        account: AccountAddress,
        /// The email, folded.
        email: String,
    },
    /// A service of an account, by type.
    Service {
        /// The account.
        account: AccountAddress,
        /// The service type.
        service_type: String,
    },
}

impl Address {
    /// The account the address is in (or is).
    pub fn account(&self) -> &AccountAddress {
        match self {
            Address::Account(a) | Address::User { account: a, .. } => a,
            Address::Service { account, .. } => account,
        }
    }

    /// The email of a user's address.
    pub fn email(&self) -> Option<&str> {
        match self {
            Address::User { email, .. } => Some(email),
            _ => None,
        }
    }
}

impl From<AccountAddress> for Address {
    fn from(a: AccountAddress) -> Self {
        Address::Account(a)
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Address::Account(a) => a.fmt(f),
            Address::User { account, email } => write!(f, "{account}.user[{email}]"),
            Address::Service {
                account,
                service_type,
            } => write!(f, "{account}.service[{service_type}]"),
        }
    }
}

/// Why a text is not an address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not an address (partner, KIND.KEY, KIND[id=ID], with .user[EMAIL] or .service[TYPE])"
)]
pub struct NotAnAddress(pub String);

impl FromStr for AccountAddress {
    type Err = NotAnAddress;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || NotAnAddress(s.to_string());
        if s == "partner" {
            return Ok(AccountAddress::Partner);
        }
        let kind_of = |k: &str| AccountKind::parse(k).ok_or_else(bad);
        if let Some(id) = s.strip_prefix("[id=").and_then(|r| r.strip_suffix(']')) {
            return match id {
                "" => Err(bad()),
                id => Ok(AccountAddress::Outside { id: id.to_string() }),
            };
        }
        if let Some((kind, rest)) = s.split_once('[') {
            let kind = kind_of(kind)?;
            let inner = rest.strip_suffix(']').ok_or_else(bad)?;
            if inner == "?" {
                return Ok(AccountAddress::Unknown { kind });
            }
            let id = inner.strip_prefix("id=").filter(|i| !i.is_empty());
            return id.map_or_else(
                || Err(bad()),
                |id| {
                    Ok(AccountAddress::Id {
                        kind,
                        id: id.to_string(),
                    })
                },
            );
        }
        let (kind, key) = s.split_once('.').ok_or_else(bad)?;
        if key.is_empty() || key.contains(['.', '[', ']']) {
            return Err(bad());
        }
        Ok(AccountAddress::Key {
            kind: kind_of(kind)?,
            key: key.to_string(),
        })
    }
}

impl FromStr for Address {
    type Err = NotAnAddress;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || NotAnAddress(s.to_string());
        fn inner(rest: &str) -> Option<&str> {
            rest.strip_suffix(']').filter(|v| !v.is_empty())
        }
        // A user's or service's bracket is the last one; an email or type holds no `[`.
        if let Some(i) = s.rfind(".user[") {
            let email = inner(&s[i + ".user[".len()..]).ok_or_else(bad)?;
            return Ok(Address::User {
                account: s[..i].parse().map_err(|_| bad())?,
                email: email.to_string(),
            });
        }
        if let Some(i) = s.rfind(".service[") {
            let service_type = inner(&s[i + ".service[".len()..]).ok_or_else(bad)?;
            return Ok(Address::Service {
                account: s[..i].parse().map_err(|_| bad())?,
                service_type: service_type.to_string(),
            });
        }
        s.parse().map(Address::Account)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_read_back_as_written() {
        let net = AccountAddress::key(AccountKind::Network, "contoso-network");
        let cases: Vec<(Address, &str)> = vec![
            (AccountAddress::Partner.into(), "partner"),
            (net.clone().into(), "network.contoso-network"),
            (
                AccountAddress::of(AccountKind::SubAccount, None, Some("acc_1")).into(),
                "sub_account[id=acc_1]",
            ),
            (
                AccountAddress::of(AccountKind::Customer, None, None).into(),
                "customer[?]",
            ),
            (
                net.user("Jane@Contoso.example"),
                "network.contoso-network.user[jane@contoso.example]",
            ),
            (
                AccountAddress::Partner.user("ops@acme.example"),
                "partner.user[ops@acme.example]",
            ),
            (
                AccountAddress::of(AccountKind::Customer, None, Some("7")).service("cards"),
                "customer[id=7].service[cards]",
            ),
            (
                AccountAddress::Outside { id: "acc_9".into() }.into(),
                "[id=acc_9]",
            ),
        ];
        for (address, text) in cases {
            assert_eq!(address.to_string(), text);
            assert_eq!(text.parse::<Address>(), Ok(address), "{text}");
        }
    }

    #[test]
    fn a_user_address_keeps_its_email_and_account() {
        let a: Address = "customer.contoso.user[a.b@c.example]".parse().unwrap();
        assert_eq!(a.email(), Some("a.b@c.example"));
        assert_eq!(
            a.account(),
            &AccountAddress::key(AccountKind::Customer, "contoso")
        );
        let s: Address = "customer.contoso.service[cards]".parse().unwrap();
        assert_eq!(s.email(), None);
        assert_eq!(s.account(), a.account());
    }

    #[test]
    fn what_is_not_an_address_is_refused() {
        for text in [
            "",
            "partners",
            "customer",
            "customer.",
            "planet.contoso",
            "customer.a.b",
            "customer[id=]",
            "customer[id=7",
            "customer[7]",
            "[id=]",
            "[id=7",
            "[7]",
            "customer.contoso.user[]",
            "customer.contoso.user[a@b.example",
            "customer.contoso.service[]",
            "nothing.user[a@b.example]",
        ] {
            assert!(text.parse::<Address>().is_err(), "{text:?} was accepted");
        }
    }
}
