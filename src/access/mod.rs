//! Stage `access`: who reaches which account, and why. Access is inherited downward: a user of
//! the partner reaches every account; a user of a customer reaches it, its networks and their
//! sub-accounts; a user of a network reaches it and its sub-accounts; a user of a sub-account
//! reaches only it. A [`Model`] is the account tree with its members, built from a configuration
//! or from the live state; [`Model::grants`] lists every (person, account) pair with its source;
//! [`address`] finds the account a command line names. Pure. May import: `config`, `live`,
//! `vocab`.

pub mod address;

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;

use crate::config::Desired;
use crate::live::Snapshot;
use crate::vocab::rules::email_key;
use crate::vocab::{AccountKind, Role, UserStatus};

/// An account of the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// Its address (`customer.contoso`, or `customer[id=acc_1]` for a live account without key).
    pub address: String,
    /// Display name.
    pub name: String,
    /// Kind.
    pub kind: AccountKind,
    /// Index of the parent account; `None` for a customer (its parent is the partner).
    pub parent: Option<usize>,
}

/// A user (or invitation) of an account or of the partner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// Index of the account; `None` for the partner.
    pub account: Option<usize>,
    /// Email, lower case.
    pub email: String,
    /// Full name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Invitation state (live only).
    pub status: Option<UserStatus>,
    /// A live user the configuration does not list.
    pub unmanaged: bool,
}

/// The account tree and its members.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Model {
    /// Accounts, parents before children.
    pub accounts: Vec<Account>,
    /// Members.
    pub members: Vec<Member>,
}

/// Where a grant comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "type", content = "from")]
pub enum Source {
    /// The person is a user of the account itself.
    Direct,
    /// The person is a user of this ancestor (an address, or `partner`).
    Inherited(String),
}

/// One person reaching one account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Grant {
    /// The account reached (`partner` for the partner account itself).
    pub account: String,
    /// Its display name.
    pub account_name: String,
    /// The person's email.
    pub email: String,
    /// Their full name.
    pub name: String,
    /// Their role where the grant comes from.
    pub role: Role,
    /// Direct, or inherited from which account.
    pub source: Source,
    /// Invitation state (live only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<UserStatus>,
    /// An admin: full control of the account.
    pub admin: bool,
    /// A live user the configuration does not list.
    pub unmanaged: bool,
}

fn address(kind: AccountKind, key: Option<&str>, id: &str) -> String {
    match key {
        Some(k) => format!("{kind}.{k}"),
        None => format!("{kind}[id={id}]"),
    }
}

impl Model {
    /// The tree the configuration describes.
    pub fn from_desired(d: &Desired) -> Model {
        let mut m = Model::default();
        let person = |account, u: &crate::config::User| Member {
            account,
            email: email_key(&u.email),
            name: u.name.clone(),
            role: u.role,
            status: None,
            unmanaged: false,
        };
        m.members
            .extend(d.partner.users.iter().map(|u| person(None, u)));
        for n in d.walk() {
            let i = m.accounts.len();
            m.accounts.push(Account {
                address: format!("{}.{}", n.kind, n.key),
                name: n.name.to_string(),
                kind: n.kind,
                parent: n.parent,
            });
            m.members.extend(n.users.iter().map(|u| person(Some(i), u)));
        }
        m
    }

    /// The live tree; with `desired`, live users it does not list are marked unmanaged.
    pub fn from_live(s: &Snapshot, desired: Option<&Desired>) -> Model {
        Model::from_live_named(s, desired, &HashMap::new())
    }

    /// [`Model::from_live`], the live accounts in `addresses` (by live id) named by the
    /// address given there (the configuration's, for accounts matched without a key).
    pub fn from_live_named(
        s: &Snapshot,
        desired: Option<&Desired>,
        addresses: &HashMap<String, String>,
    ) -> Model {
        let mut m = Model::default();
        let by_id: HashMap<&str, &crate::live::Account> =
            s.accounts.iter().map(|a| (a.id.as_str(), a)).collect();
        // Parents before children: customers, then networks, then sub-accounts.
        let mut order: Vec<&crate::live::Account> = s.accounts.iter().collect();
        order.sort_by_key(|a| a.kind.depth());
        let mut index: HashMap<&str, usize> = HashMap::new();
        for a in order {
            let parent = by_id
                .get(a.parent_id.as_str())
                .and_then(|p| index.get(p.id.as_str()).copied());
            index.insert(a.id.as_str(), m.accounts.len());
            m.accounts.push(Account {
                address: addresses
                    .get(&a.id)
                    .cloned()
                    .unwrap_or_else(|| address(a.kind, a.external_key.as_deref(), &a.id)),
                name: a.name.clone(),
                kind: a.kind,
                parent,
            });
        }
        let listed: HashSet<(String, String)> = desired
            .map(|d| {
                let dm = Model::from_desired(d);
                dm.members
                    .iter()
                    .map(|u| (dm.place(u.account), u.email.clone()))
                    .collect()
            })
            .unwrap_or_default();
        for u in &s.users {
            let account = index.get(u.account_id.as_str()).copied();
            if account.is_none() && u.account_id != s.partner.id {
                continue;
            }
            let email = email_key(&u.email);
            let unmanaged =
                desired.is_some() && !listed.contains(&(m.place(account), email.clone()));
            m.members.push(Member {
                account,
                email,
                name: u.name.clone(),
                role: u.role,
                status: Some(u.status),
                unmanaged,
            });
        }
        m
    }

    /// The address of an account index, or `partner`.
    pub fn place(&self, account: Option<usize>) -> String {
        account.map_or_else(
            || "partner".to_string(),
            |i| self.accounts[i].address.clone(),
        )
    }

    /// Children of every account, and the customers (children of the partner).
    fn children(&self) -> (Vec<Vec<usize>>, Vec<usize>) {
        let mut kids = vec![Vec::new(); self.accounts.len()];
        let mut top = Vec::new();
        for (i, a) in self.accounts.iter().enumerate() {
            match a.parent {
                Some(p) => kids[p].push(i),
                None => top.push(i),
            }
        }
        (kids, top)
    }

    /// The accounts a member of `account` reaches: it and everything below it (the partner:
    /// every account). For many questions, build a [`Reach`] once instead.
    pub fn reach(&self, account: Option<usize>) -> Vec<usize> {
        Reach::new(self).of(account)
    }

    /// Every grant, in tree order of the account reached (the partner first), direct grants
    /// before inherited ones, then by email.
    pub fn grants(&self) -> Vec<Grant> {
        let (kids, top) = self.children();
        let mut by_account: BTreeMap<usize, Vec<Grant>> = BTreeMap::new();
        let mut partner = Vec::new();
        for u in &self.members {
            let grant = |account: String, account_name: String, source: Source| Grant {
                account,
                account_name,
                email: u.email.clone(),
                name: u.name.clone(),
                role: u.role,
                source,
                status: u.status,
                admin: u.role == Role::Admin,
                unmanaged: u.unmanaged,
            };
            let from = self.place(u.account);
            let mut stack: Vec<usize> = match u.account {
                None => {
                    partner.push(grant("partner".into(), String::new(), Source::Direct));
                    top.clone()
                }
                Some(i) => vec![i],
            };
            while let Some(i) = stack.pop() {
                let a = &self.accounts[i];
                let source = if Some(i) == u.account {
                    Source::Direct
                } else {
                    Source::Inherited(from.clone())
                };
                by_account.entry(i).or_default().push(grant(
                    a.address.clone(),
                    a.name.clone(),
                    source,
                ));
                stack.extend(kids[i].iter());
            }
        }
        let key = |g: &Grant| (g.source != Source::Direct, g.email.clone());
        partner.sort_by_key(key);
        let mut out = partner;
        for (_, mut gs) in by_account {
            gs.sort_by_key(key);
            out.extend(gs);
        }
        out
    }
}

/// The tree's children, computed once, to answer "what does a member of X reach" quickly.
pub struct Reach {
    kids: Vec<Vec<usize>>,
    top: Vec<usize>,
}

impl Reach {
    /// The children of every account of `m`.
    pub fn new(m: &Model) -> Self {
        let (kids, top) = m.children();
        Reach { kids, top }
    }

    /// The accounts a member of `account` reaches (`None`: the partner, every account).
    pub fn of(&self, account: Option<usize>) -> Vec<usize> {
        let mut out = Vec::new();
        let mut stack: Vec<usize> = match account {
            None => self.top.clone(),
            Some(i) => vec![i],
        };
        while let Some(i) = stack.pop() {
            out.push(i);
            stack.extend(self.kids[i].iter().rev());
        }
        out
    }
}

/// Why a query of the access report names nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// No account has this address, key or id.
    #[error("--account {given}: no such account{}", match closest {
        Some(c) => format!("; did you mean {c}?"),
        None => "; give an address such as customer.KEY or sub_account.KEY, a key, or `partner` (without --account, every account is listed)".to_string(),
    })]
    UnknownAccount {
        /// The address given.
        given: String,
        /// The closest address known.
        closest: Option<String>,
    },
    /// Several accounts have this key or id.
    #[error("--account {given}: several accounts have this key or id ({}); give the full address of one", .addresses.join(", "))]
    AmbiguousAccount {
        /// The key or id given.
        given: String,
        /// The addresses of the accounts that have it.
        addresses: Vec<String>,
    },
    /// Nobody with this email is a user (or invited) of the partner or of any account.
    #[error("--user {given}: no user or invitation has this email, so it reaches no account{}", match closest {
        Some(c) => format!("; did you mean {c}?"),
        None => "; check the spelling (without --user, every person is listed)".to_string(),
    })]
    UnknownUser {
        /// The email given.
        given: String,
        /// The closest email known.
        closest: Option<String>,
    },
}

/// The email of `known` closest to `given` (lower case): within a few typos (at most 3, and
/// at most one character in 5), else one with the same name before the `@` (another domain).
fn closest_email<'a>(given: &str, known: impl Iterator<Item = &'a str> + Clone) -> Option<String> {
    let near = known
        .clone()
        .map(|e| (strsim::levenshtein(given, e), e))
        .filter(|(d, _)| *d <= 3 && d * 5 <= given.chars().count())
        .min()
        .map(|(_, e)| e);
    let local = |e: &str| e.split_once('@').map(|(l, _)| l.to_string());
    near.or_else(|| {
        let mine = local(given)?;
        known.filter(|e| local(e).as_ref() == Some(&mine)).min()
    })
    .map(str::to_string)
}

impl Model {
    /// The grants on `account` (an address, a key, the live id of an account known only by
    /// it, or `partner`) and/or of the person `user` (an email, any case); all of them when
    /// neither is given. A person or an account it does not know is an error naming the
    /// closest one: an empty answer is "no access", never a typo.
    pub fn select(
        &self,
        user: Option<&str>,
        account: Option<&str>,
    ) -> Result<Vec<Grant>, QueryError> {
        let account = match account {
            None => None,
            Some("partner") => Some("partner".to_string()),
            Some(a) => {
                let known = self.accounts.iter().map(|x| x.address.as_str());
                match address::lookup(a, known) {
                    address::Lookup::Found(found) => Some(found),
                    address::Lookup::Ambiguous(addresses) => {
                        return Err(QueryError::AmbiguousAccount {
                            given: a.to_string(),
                            addresses,
                        });
                    }
                    address::Lookup::Unknown(closest) => {
                        return Err(QueryError::UnknownAccount {
                            given: a.to_string(),
                            closest,
                        });
                    }
                }
            }
        };
        let user = user.map(email_key);
        if let Some(u) = &user {
            if !self.members.iter().any(|m| m.email == *u) {
                let mut emails: Vec<&str> = self.members.iter().map(|m| m.email.as_str()).collect();
                emails.sort_unstable();
                emails.dedup();
                return Err(QueryError::UnknownUser {
                    given: u.clone(),
                    closest: closest_email(u, emails.iter().copied()),
                });
            }
        }
        Ok(self
            .grants()
            .into_iter()
            .filter(|g| user.as_ref().is_none_or(|u| g.email == *u))
            .filter(|g| account.as_ref().is_none_or(|a| g.account == *a))
            .collect())
    }
}

#[cfg(test)]
mod tests;
