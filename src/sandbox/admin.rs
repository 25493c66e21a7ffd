//! Admin functions that play the person at a vendor's dashboard (they open the database
//! directly, no HTTP): give a partner a dialect login, revoke the tokens its logins were
//! granted (`sandbox partner revoke-tokens`), add an account the vendor's API cannot create
//! (`sandbox accounts add`), and set whether a customer lets its partner manage it
//! (`sandbox accounts set-manageable`).

use std::path::Path;

use super::error::{Error, RequestError};
use super::store::{self, PartnerRow, Store};
use crate::wire::partner::{Account, AccountCreate, AccountKind, Contact};

/// A dialect login to create with a partner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLogin {
    /// The login (an email).
    pub login: String,
    /// Its password.
    pub password: String,
    /// Whether the token grant needs a one-time code.
    pub totp: bool,
}

/// An account to add, as the person at the dashboard types it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAccount {
    /// The partner (needed when the database holds several).
    pub partner: Option<String>,
    /// Its kind.
    pub kind: AccountKind,
    /// Its name.
    pub name: String,
    /// The parent's name: a customer's for a network, a network's for a sub-account.
    pub parent: Option<String>,
    /// The contact.
    pub contact: Option<Contact>,
    /// ISO 3166-1 alpha-2.
    pub country: Option<String>,
    /// IANA time zone.
    pub timezone: Option<String>,
    /// A customer that lets its partner manage it (the default).
    pub manageable: bool,
}

/// An added account and its numbers (its business id, and a customer's reseller account id,
/// in the Nexudus dialect).
#[derive(Debug, Clone, PartialEq)]
pub struct AddedAccount {
    /// The account.
    pub account: Account,
    /// Its number.
    pub number: i64,
    /// A customer's link number.
    pub link_number: Option<i64>,
}

/// Admin: creates a partner (with a dialect login when `login` is given) and returns its
/// first API token.
pub fn add_partner(
    db: &Path,
    name: &str,
    manageable: bool,
    login: Option<NewLogin>,
) -> Result<String, Error> {
    let store = Store::open(db)?;
    let name = name.to_string();
    let (_, token) = store.write(move |tx| {
        let (p, token) = store::add_partner(tx, &name, manageable)?;
        if let Some(l) = login {
            store::add_credential(tx, &p.id, &l.login, &l.password, l.totp)?;
        }
        Ok((p, token))
    })?;
    Ok(token)
}

/// Which partner an admin command means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PartnerRef {
    /// By name (an error when several have it).
    Name(String),
    /// By id.
    Id(String),
}

/// Admin: revokes every token granted to a login of the partner (`POST /api/token` of a
/// dialect); its API tokens stay. Returns the partner and how many tokens were revoked.
pub fn revoke_tokens(db: &Path, which: PartnerRef) -> Result<(PartnerRow, usize), Error> {
    let store = Store::open(db)?;
    let p = store.read(move |c| {
        Ok(match which {
            PartnerRef::Id(id) => store::partner_by_id(c, &id)?
                .ok_or_else(|| Error::from(RequestError::not_found("partner", &id))),
            PartnerRef::Name(name) => {
                let mut found = store::partners_named(c, &name)?;
                match found.len() {
                    0 => Err(Error::UnknownPartner {
                        name,
                        existing: store::list_partners(c)?
                            .into_iter()
                            .map(|p| p.name)
                            .collect(),
                    }),
                    1 => Ok(found.remove(0)),
                    _ => Err(Error::AmbiguousPartner {
                        name,
                        ids: found.into_iter().map(|p| p.id).collect(),
                    }),
                }
            }
        })
    })??;
    let id = p.id.clone();
    let n = store.write(move |tx| store::revoke_granted_tokens(tx, &id))?;
    Ok((p, n))
}

/// The partner named `name`, or the only one when no name is given.
fn pick_partner(conn: &rusqlite::Connection, name: Option<&str>) -> Result<PartnerRow, Error> {
    let all = store::list_partners(conn)?;
    let names = || all.iter().map(|p| p.name.clone()).collect::<Vec<_>>();
    let id = match (name, all.as_slice()) {
        (_, []) => return Err(Error::NoPartner),
        (None, [one]) => one.id.clone(),
        (None, _) => return Err(Error::WhichPartner { existing: names() }),
        (Some(n), _) => match all.iter().find(|p| p.name == n) {
            Some(p) => p.id.clone(),
            None => {
                return Err(Error::OtherPartner {
                    wanted: n.to_string(),
                    existing: names(),
                });
            }
        },
    };
    store::partner_by_id(conn, &id)?.ok_or(Error::NoPartner)
}

/// The partner's one account of `kind` named `name`.
fn one_account(
    conn: &rusqlite::Connection,
    p: &PartnerRow,
    kind: AccountKind,
    name: &str,
) -> Result<Account, Error> {
    let mut found = store::accounts_named(conn, &p.id, kind, name)?;
    match found.len() {
        0 => Err(Error::NoAccount {
            kind,
            name: name.to_string(),
        }),
        1 => Ok(found.remove(0)),
        _ => Err(Error::AmbiguousAccount {
            kind,
            name: name.to_string(),
            ids: found.into_iter().map(|a| a.id).collect(),
        }),
    }
}

/// Admin: adds an account as the vendor's dashboard would (validated like the API does, but
/// not behind the partner's manageable gate: the person at the dashboard may).
pub fn add_account(db: &Path, spec: NewAccount) -> Result<AddedAccount, Error> {
    let parent_kind = match spec.kind {
        AccountKind::Customer => None,
        AccountKind::Network => Some(AccountKind::Customer),
        AccountKind::SubAccount => Some(AccountKind::Network),
    };
    match (parent_kind, &spec.parent) {
        (None, Some(_)) => return Err(Error::CustomerParent),
        (Some(parent), None) => {
            return Err(Error::ParentRequired {
                kind: spec.kind,
                parent,
            });
        }
        _ => {}
    }
    if !spec.manageable && spec.kind != AccountKind::Customer {
        return Err(Error::ManageableIsForCustomers);
    }
    let store = Store::open(db)?;
    let partner = spec.partner.clone();
    let p = store.read(move |c| Ok(pick_partner(c, partner.as_deref())))??;
    let parent_id = match (parent_kind, &spec.parent) {
        (Some(kind), Some(name)) => {
            let pp = p.clone();
            let name = name.clone();
            Some(
                store
                    .read(move |c| Ok(one_account(c, &pp, kind, &name)))??
                    .id,
            )
        }
        _ => None,
    };
    let req = AccountCreate {
        kind: spec.kind,
        parent_id,
        external_key: None,
        name: spec.name,
        contact: spec.contact,
        country: spec.country,
        timezone: spec.timezone,
        labels: Default::default(),
    };
    let manageable = spec.manageable;
    Ok(store.write(move |tx| {
        let account = store::create_account_at_dashboard(tx, &p, req)?;
        if !manageable {
            store::set_customer_manageable(tx, &account.id, false)?;
        }
        let (number, link_number) = store::account_numbers(tx, &account.id)?
            .ok_or_else(|| RequestError::internal("the new account vanished"))?;
        Ok(AddedAccount {
            account,
            number,
            link_number,
        })
    })?)
}

/// Admin: sets whether the customer named `name` lets its partner manage it; returns it.
pub fn set_manageable(
    db: &Path,
    partner: Option<&str>,
    name: &str,
    manageable: bool,
) -> Result<Account, Error> {
    let store = Store::open(db)?;
    let (partner, name) = (partner.map(str::to_string), name.to_string());
    let found = store.read(move |c| {
        Ok(pick_partner(c, partner.as_deref())
            .and_then(|p| one_account(c, &p, AccountKind::Customer, &name)))
    })??;
    let id = found.id.clone();
    store.write(move |tx| store::set_customer_manageable(tx, &id, manageable))?;
    Ok(found)
}
