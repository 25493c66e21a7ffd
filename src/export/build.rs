//! Stage `export`, the estate: a live snapshot as the configuration model, in a stable order
//! (accounts by key, users by email, services by type), with values the configuration would
//! inherit anyway left out, what the vendor does not carry (a contact) left out, and what every
//! customer shares moved to `defaults` (keeping those of the export it replaces while they
//! fit). Accounts without a key are pinned to their live id with
//! `adopt` where names repeat, and all of them when the provider carries no keys. A live key
//! that is not a valid configuration key (the API's answer names files: `../../x` must not) is
//! treated as no key, and that account always pinned. Pure.

use std::collections::{BTreeMap, HashMap};

use crate::config::{
    AdoptId, At, Contact, Customer, Defaults, Network, Partner, Service, SubAccount, User,
};
use crate::live::{self, Snapshot};
use crate::vocab::keys::KeyMaker;
use crate::vocab::rules::{email_key, valid_key};
use crate::vocab::{AccountKind, PROTECT_LABEL, UserStatus};

/// What an export holds, counted for its summary.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    /// Customer accounts.
    pub customers: usize,
    /// Network accounts.
    pub networks: usize,
    /// Sub-accounts.
    pub sub_accounts: usize,
    /// Users and invitations, partner users included.
    pub users: usize,
    /// Invitations not accepted yet (no change on the first apply).
    pub pending: usize,
    /// Expired invitations (the first apply re-sends them).
    pub expired: usize,
    /// Services.
    pub services: usize,
    /// Accounts without a key, given one derived from their name (adopted by the first apply,
    /// where the provider carries keys).
    pub derived_keys: usize,
    /// Of those, accounts pinned by live id: those whose name is shared with a sibling, or
    /// every one when the provider carries no keys.
    pub pinned: usize,
}

/// What the provider the live state comes from carries, as far as an export is concerned (the
/// edge fills it in from the provider's capabilities).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Carries {
    /// Whether an account can carry its configuration key. Without, every account is pinned to
    /// its live id with `adopt`, so that every plan finds it by id, also after its name was
    /// changed at the vendor.
    pub keys: bool,
}

impl Default for Carries {
    /// What the partner API carries.
    fn default() -> Self {
        Carries { keys: true }
    }
}

/// The live estate as configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Estate {
    /// The partner and its users.
    pub partner: Partner,
    /// What every customer shares, if that shortens the output.
    pub defaults: Option<Defaults>,
    /// The customers, by key.
    pub customers: Vec<Customer>,
    /// Counts.
    pub summary: Summary,
    /// The accounts whose live key is not a valid configuration key, exported under a key
    /// derived from their name and pinned to their live id, by live id.
    pub invalid_keys: Vec<InvalidKey>,
}

/// An account whose live key is not a valid configuration key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidKey {
    /// Customer, network or sub-account.
    pub kind: AccountKind,
    /// The live id (what the export pins it to).
    pub id: String,
    /// The live name.
    pub name: String,
    /// The key the API gave, as it gave it.
    pub live_key: String,
    /// The key the export gave it instead.
    pub key: String,
}

/// Keys, adoption pins and children of the live accounts.
struct Tree<'l> {
    key: HashMap<&'l str, String>,
    pin: HashMap<&'l str, AdoptId>,
    children: HashMap<&'l str, Vec<&'l live::Account>>,
    users: HashMap<&'l str, Vec<&'l live::User>>,
    services: HashMap<&'l str, Vec<&'l live::Service>>,
}

/// The live key of `a` when it is a valid configuration key (only such a key becomes a key of
/// the configuration and a file name).
fn live_key(a: &live::Account) -> Option<&str> {
    a.external_key.as_deref().filter(|k| valid_key(k))
}

impl<'l> Tree<'l> {
    fn new(
        live: &'l Snapshot,
        carries: Carries,
        summary: &mut Summary,
        invalid: &mut Vec<InvalidKey>,
    ) -> Self {
        let mut maker = KeyMaker::new(
            live.accounts
                .iter()
                .filter_map(|a| Some(live_key(a)?.to_string())),
        );
        let mut unkeyed: Vec<&live::Account> = live
            .accounts
            .iter()
            .filter(|a| live_key(a).is_none())
            .collect();
        unkeyed.sort_by(|a, b| {
            (a.kind.depth(), &a.name, &a.id).cmp(&(b.kind.depth(), &b.name, &b.id))
        });
        // Name matching considers live accounts without a key only: one with an invalid key
        // is pinned anyway, and no twin of a keyless one.
        let mut same_name: HashMap<(AccountKind, &str, &str), usize> = HashMap::new();
        for a in unkeyed.iter().filter(|a| a.external_key.is_none()) {
            *same_name
                .entry((a.kind, &a.parent_id, &a.name))
                .or_default() += 1;
        }
        let mut key = HashMap::new();
        let mut pin = HashMap::new();
        for a in &live.accounts {
            if let Some(k) = live_key(a) {
                key.insert(a.id.as_str(), k.to_string());
            }
        }
        for a in unkeyed {
            let derived = maker.key_for(&a.name, &a.id);
            key.insert(a.id.as_str(), derived.clone());
            if let Some(live_key) = &a.external_key {
                pin.insert(a.id.as_str(), AdoptId::from(a.id.as_str()));
                invalid.push(InvalidKey {
                    kind: a.kind,
                    id: a.id.clone(),
                    name: a.name.clone(),
                    live_key: live_key.clone(),
                    key: derived,
                });
                continue;
            }
            summary.derived_keys += 1;
            if !carries.keys || same_name[&(a.kind, a.parent_id.as_str(), a.name.as_str())] > 1 {
                pin.insert(a.id.as_str(), AdoptId::from(a.id.as_str()));
                summary.pinned += 1;
            }
        }
        invalid.sort_by(|a, b| a.id.cmp(&b.id));
        let mut tree = Tree {
            key,
            pin,
            children: HashMap::new(),
            users: HashMap::new(),
            services: HashMap::new(),
        };
        for a in &live.accounts {
            tree.children
                .entry(a.parent_id.as_str())
                .or_default()
                .push(a);
        }
        for kids in tree.children.values_mut() {
            kids.sort_by(|a, b| tree.key[a.id.as_str()].cmp(&tree.key[b.id.as_str()]));
        }
        for u in &live.users {
            tree.users.entry(u.account_id.as_str()).or_default().push(u);
        }
        for s in &live.services {
            tree.services
                .entry(s.account_id.as_str())
                .or_default()
                .push(s);
        }
        tree
    }

    fn kids(&self, id: &str, kind: AccountKind) -> impl Iterator<Item = &'l live::Account> + '_ {
        let kids = self.children.get(id).map(Vec::as_slice).unwrap_or_default();
        kids.iter().copied().filter(move |a| a.kind == kind)
    }

    fn users(&self, id: &str, summary: &mut Summary) -> Vec<User> {
        let mut live: Vec<&live::User> = self.users.get(id).cloned().unwrap_or_default();
        live.sort_by_key(|u| email_key(&u.email));
        for u in &live {
            summary.users += 1;
            match u.status {
                UserStatus::Invited => summary.pending += 1,
                UserStatus::Expired => summary.expired += 1,
                UserStatus::Active => {}
            }
        }
        live.into_iter()
            .map(|u| User {
                email: u.email.clone(),
                name: u.name.clone(),
                role: u.role,
            })
            .collect()
    }

    fn services(&self, id: &str, summary: &mut Summary) -> Vec<Service> {
        let mut live: Vec<&live::Service> = self.services.get(id).cloned().unwrap_or_default();
        live.sort_by(|a, b| a.service_type.cmp(&b.service_type));
        summary.services += live.len();
        live.into_iter()
            .map(|s| Service {
                service_type: s.service_type.clone(),
                settings: s.settings.clone(),
                at: At::default(),
            })
            .collect()
    }
}

/// Labels without the protect label, and whether it was set.
fn labels(a: &live::Account) -> (BTreeMap<String, String>, bool) {
    let mut l = a.labels.clone();
    let protect = l.get(PROTECT_LABEL).is_some_and(|v| v == "true");
    if protect {
        l.remove(PROTECT_LABEL);
    }
    (l, protect)
}

/// `own` unless it equals what the account inherits.
fn unless_inherited(own: &Option<String>, inherited: &Option<String>) -> Option<String> {
    if own == inherited { None } else { own.clone() }
}

/// Country and timezone an account hands down to its children (its own, else its parent's).
#[derive(Clone)]
struct Place {
    country: Option<String>,
    timezone: Option<String>,
}

impl Place {
    fn of(a: &live::Account, inherited: &Place) -> Place {
        Place {
            country: a.country.clone().or_else(|| inherited.country.clone()),
            timezone: a.timezone.clone().or_else(|| inherited.timezone.clone()),
        }
    }
}

/// The fields networks and sub-accounts share (a sub-account is exactly those).
fn below_customer(t: &Tree<'_>, a: &live::Account, parent: &Place, s: &mut Summary) -> SubAccount {
    let (labels, protect) = labels(a);
    SubAccount {
        key: t.key[a.id.as_str()].clone(),
        adopt: t.pin.get(a.id.as_str()).cloned(),
        name: a.name.clone(),
        country: unless_inherited(&a.country, &parent.country),
        timezone: unless_inherited(&a.timezone, &parent.timezone),
        protect,
        labels,
        users: t.users(&a.id, s),
        services: t.services(&a.id, s),
        at: At::default(),
    }
}

fn sub_account(t: &Tree<'_>, a: &live::Account, parent: &Place, s: &mut Summary) -> SubAccount {
    s.sub_accounts += 1;
    below_customer(t, a, parent, s)
}

fn network(t: &Tree<'_>, a: &live::Account, parent: &Place, s: &mut Summary) -> Network {
    s.networks += 1;
    let place = Place::of(a, parent);
    let base = below_customer(t, a, parent, s);
    Network {
        key: base.key,
        adopt: base.adopt,
        name: base.name,
        country: base.country,
        timezone: base.timezone,
        protect: base.protect,
        labels: base.labels,
        users: base.users,
        services: base.services,
        sub_accounts: t
            .kids(&a.id, AccountKind::SubAccount)
            .map(|x| sub_account(t, x, &place, s))
            .collect(),
        at: At::default(),
    }
}

fn customer(t: &Tree<'_>, a: &live::Account, s: &mut Summary) -> Customer {
    let (labels, protect) = labels(a);
    s.customers += 1;
    // A vendor that carries no contact leaves it out (never an empty one, which no check
    // accepts).
    let contact = a.contact.as_ref().map(|c| Contact {
        name: c.name.clone(),
        email: c.email.clone(),
    });
    let place = Place::of(
        a,
        &Place {
            country: None,
            timezone: None,
        },
    );
    Customer {
        key: t.key[a.id.as_str()].clone(),
        adopt: t.pin.get(a.id.as_str()).cloned(),
        name: a.name.clone(),
        contact,
        country: a.country.clone(),
        timezone: a.timezone.clone(),
        protect,
        labels,
        users: t.users(&a.id, s),
        services: t.services(&a.id, s),
        networks: t
            .kids(&a.id, AccountKind::Network)
            .map(|x| network(t, x, &place, s))
            .collect(),
        at: At::default(),
    }
}

/// The live estate of `live`, from a provider that carries what `carries` says, as
/// configuration.
pub fn estate(live: &Snapshot, carries: Carries) -> Estate {
    estate_keeping(live, carries, None)
}

/// [`estate`], keeping the defaults of the export it replaces (`previous`, from its partner
/// file) while they still fit the customers, so that a re-export moves no default without need.
pub fn estate_keeping(live: &Snapshot, carries: Carries, previous: Option<&Defaults>) -> Estate {
    let mut summary = Summary::default();
    let mut invalid_keys = Vec::new();
    let tree = Tree::new(live, carries, &mut summary, &mut invalid_keys);
    let partner = Partner {
        name: live.partner.name.clone(),
        users: tree.users(&live.partner.id, &mut summary),
    };
    let mut customers: Vec<Customer> = tree
        .kids(&live.partner.id, AccountKind::Customer)
        .map(|a| customer(&tree, a, &mut summary))
        .collect();
    let defaults = super::defaults::extract(&mut customers, previous);
    Estate {
        partner,
        defaults,
        customers,
        summary,
        invalid_keys,
    }
}
