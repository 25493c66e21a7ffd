//! Stage `plan`, the planner: walks the desired tree top-down and matches each desired account
//! to a live one (by key, else by adoption) through the live index (`index.rs`), emitting
//! account operations; users and services are `members.rs`, unmatched live accounts
//! `prune.rs`. Pure.

use std::collections::{HashMap, HashSet};

use super::ancestry::Parents;
use super::index::Index;
use super::near::NearMiss;
use super::operation::{AccountFields, AccountRef, Change, Operation};
use super::settings;
use super::{
    AdoptProblem, Capabilities, ClassCounts, Options, Plan, PlanError, PlanErrors, RoleScope,
    Unmanaged,
};
use crate::config::{self, Desired};
use crate::live::{self, Snapshot};
use crate::vocab::address::AccountAddress;
use crate::vocab::rules::{email_key, valid_key};
use crate::vocab::{AccountKind, PROTECT_LABEL, Role, UserStatus};

/// A desired account, flattened from the config tree.
pub(super) struct Wanted<'d> {
    kind: AccountKind,
    key: &'d str,
    adopt: Option<&'d str>,
    parent: Option<usize>,
    fields: AccountFields,
    users: &'d [config::User],
    services: &'d [config::Service],
    /// Where the account is written, when known: where its problems are shown.
    at: Option<&'d config::AccountSpan>,
    /// The configuration it is part of (for the places its spans name).
    desired: &'d Desired,
}

impl Wanted<'_> {
    /// Where the account is declared (its `key`), when known.
    fn declared(&self) -> Option<config::Location> {
        self.at.map(|at| self.desired.location(at.file, at.key))
    }

    /// Where its `adopt` is written, when known.
    fn adopt_written(&self) -> Option<config::Location> {
        let at = self.at?;
        Some(self.desired.location(at.file, at.adopt?))
    }
}

fn flatten(desired: &Desired) -> Vec<Wanted<'_>> {
    desired
        .walk()
        .map(|n| {
            let mut labels = n.labels.clone();
            if n.protect {
                labels.insert(PROTECT_LABEL.to_string(), "true".to_string());
            }
            Wanted {
                kind: n.kind,
                key: n.key,
                adopt: n.adopt,
                parent: n.parent,
                fields: AccountFields {
                    name: n.name.to_string(),
                    contact: n.contact.map(|c| live::Contact {
                        name: c.name.clone(),
                        email: c.email.clone(),
                    }),
                    country: n.country.map(str::to_string),
                    timezone: n.timezone.map(str::to_string),
                    labels,
                },
                users: n.users,
                services: n.services,
                at: n.at,
                desired,
            }
        })
        .collect()
}

/// A live account's values of the fields planning manages.
pub(super) fn live_fields(a: &live::Account) -> AccountFields {
    AccountFields {
        name: a.name.clone(),
        contact: a.contact.clone(),
        country: a.country.clone(),
        timezone: a.timezone.clone(),
        labels: a.labels.clone(),
    }
}

/// Are the live account's values of the fields planning manages those desired (what
/// `live_fields(a) == *desired` says, without copying them)?
fn same_fields(a: &live::Account, desired: &AccountFields) -> bool {
    let AccountFields {
        name,
        contact,
        country,
        timezone,
        labels,
    } = desired;
    a.name == *name
        && a.contact == *contact
        && a.country == *country
        && a.timezone == *timezone
        && a.labels == *labels
}

/// The planner's working state: the indexed snapshot and what it has produced so far.
pub(super) struct Planner<'l> {
    pub(super) live: &'l Snapshot,
    pub(super) options: Options,
    /// What the provider can store and do.
    pub(super) caps: Capabilities,
    pub(super) ix: Index<'l>,
    pub(super) catalog: crate::config::Catalog,
    pub(super) matched: HashSet<&'l str>,
    /// Live ids named by `adopt`: never adopted by name by another account.
    reserved: HashSet<String>,
    pub(super) ops: Vec<Operation>,
    pub(super) unmanaged: Vec<Unmanaged>,
    /// Creations that look like unmanaged live accounts.
    pub(super) near: Vec<NearMiss>,
    pub(super) pending: usize,
    pub(super) errors: Vec<PlanError>,
    /// Where the provider keeps one role and one name per login: each configured email's
    /// (lower case) role and name, which its live memberships the configuration does not list
    /// get too.
    pub(super) logins: HashMap<String, (Role, String)>,
    /// The address of each live account a desired account matched (by its key, or by name or
    /// `adopt` id where accounts carry no key), for the access model.
    pub(super) addresses: HashMap<String, String>,
    /// The parent of each account the operations act on or in, and of their ancestors.
    pub(super) parents: Parents,
}

/// How a desired account was placed: its reference, the operation creating it (if any), the
/// live account it matched (if any) and its parent (an index of the placed accounts; `None`:
/// the partner).
pub(super) struct Placed<'l> {
    pub(super) account: AccountRef,
    pub(super) creator: Option<usize>,
    pub(super) live: Option<&'l live::Account>,
    pub(super) parent: Option<usize>,
}

impl<'l> Planner<'l> {
    pub(super) fn new(live: &'l Snapshot, options: Options, caps: Capabilities) -> Self {
        Planner {
            live,
            options,
            caps,
            ix: Index::new(live),
            catalog: settings::catalog(&live.catalog),
            matched: HashSet::new(),
            reserved: HashSet::new(),
            ops: Vec::new(),
            unmanaged: Vec::new(),
            near: Vec::new(),
            pending: 0,
            errors: Vec::new(),
            logins: HashMap::new(),
            addresses: HashMap::new(),
            parents: Parents::new(),
        }
    }

    pub(super) fn push(&mut self, op: Operation) -> usize {
        self.ops.push(op);
        self.ops.len() - 1
    }

    pub(super) fn run(mut self, desired: &Desired) -> Result<Plan, PlanErrors> {
        // Services against the live catalog first, each problem where the service is written;
        // planning goes on, for the problems it finds too.
        if self.caps.services {
            let services = config::check_services(desired, &self.catalog);
            self.errors
                .extend(services.0.into_iter().map(PlanError::Configuration));
        }
        self.walk(desired);
        if !self.errors.is_empty() {
            return Err(PlanErrors(self.errors));
        }
        Ok(self.finish())
    }

    /// The address of each live account a desired account matches, whatever else the plan
    /// would say (errors included).
    pub(super) fn addresses(mut self, desired: &Desired) -> HashMap<String, String> {
        self.walk(desired);
        self.addresses
    }

    /// Matches the desired tree to the live one, emitting operations and collecting errors.
    fn walk(&mut self, desired: &Desired) {
        let live = self.live;
        if desired.partner.name != live.partner.name {
            self.errors.push(PlanError::PartnerName {
                config: desired.partner.name.clone(),
                live: live.partner.name.clone(),
            });
        }
        if self.caps.role_scope == RoleScope::Login {
            self.logins = logins(desired);
        }
        // Partner users first: they are at the top of the tree.
        let partner_id = Some(live.partner.id.as_str());
        self.members(
            &AccountRef::Partner,
            partner_id,
            &desired.partner.users,
            &[],
            None,
        );
        let wanted = flatten(desired);
        self.reserved = wanted
            .iter()
            .filter_map(|w| w.adopt.map(str::to_string))
            .collect();
        let mut placed: Vec<Placed<'l>> = Vec::with_capacity(wanted.len());
        for w in &wanted {
            let parent = w.parent.map(|p| &placed[p]);
            let before = self.ops.len();
            let mut p = self.place(w, parent);
            p.parent = w.parent;
            if let Some(a) = p.live {
                self.addresses.insert(a.id.clone(), p.account.address());
            }
            let live_id = p.live.map(|a| a.id.as_str());
            self.members(&p.account, live_id, w.users, w.services, p.creator);
            placed.push(p);
            if self.ops.len() > before {
                self.record_ancestry(&placed, placed.len() - 1);
            }
        }
        self.prune_accounts();
        self.record_live_ancestry(&placed);
        self.near_misses();
    }

    /// The live customer `op` acts on or in, by the ids it names.
    fn customer_of(&self, op: &Operation) -> Option<&'l live::Account> {
        let mut id = match (&op.account, &op.change) {
            (AccountRef::Account { id: Some(id), .. }, _) => id.as_str(),
            (
                _,
                Change::Create {
                    parent: AccountRef::Account { id: Some(id), .. },
                    ..
                },
            ) => id.as_str(),
            _ => return None,
        };
        loop {
            let a = self.ix.by_id.get(id).copied()?;
            if a.kind == AccountKind::Customer {
                return Some(a);
            }
            id = a.parent_id.as_str();
        }
    }

    /// Changes inside customers the partner may not manage, deleting them included, and of
    /// their own records where the provider closes those too: (customer name, change address).
    fn closed(&self) -> Vec<(String, String)> {
        self.ops
            .iter()
            .filter(|o| super::guard::gated(o, self.caps.closed_records))
            .filter_map(|o| {
                let c = self.customer_of(o).filter(|c| !c.manageable)?;
                Some((c.name.clone(), o.address.clone()))
            })
            .collect()
    }

    fn finish(self) -> Plan {
        let closed = self.closed();
        let live = self.live;
        let access = super::access::changes(live, &self.ops, &self.addresses);
        let partner_admins = live
            .users
            .iter()
            .filter(|u| {
                u.account_id == live.partner.id
                    && u.role == Role::Admin
                    && u.status == UserStatus::Active
            })
            .map(|u| u.id.clone())
            .collect();
        Plan {
            partner: live.partner.clone(),
            options: self.options,
            operations: self.ops,
            unmanaged: self.unmanaged,
            near_misses: self.near,
            targets: Vec::new(),
            access,
            manual: Vec::new(),
            unsupported: Vec::new(),
            closed,
            pending_invitations: self.pending,
            live: ClassCounts {
                accounts: live.accounts.len(),
                users: live.users.len(),
                services: live.services.len(),
            },
            partner_admins,
            limits: live.limits,
            read: live.read,
            addresses: self.addresses,
            parents: self.parents,
            private: live.private.clone(),
            closed_records: self.caps.closed_records,
        }
    }

    /// Matches one desired account (its parent already placed) and emits its operation: by
    /// key, else by its `adopt` id, else by adoption of the one unkeyed sibling with its kind
    /// and name, else a creation.
    fn place(&mut self, w: &Wanted<'_>, parent: Option<&Placed<'l>>) -> Placed<'l> {
        let parent_live_id: Option<&'l str> = match parent {
            None => Some(self.live.partner.id.as_str()),
            Some(p) => p.live.map(|a| a.id.as_str()),
        };
        let account = |id: Option<&str>| AccountRef::Account {
            kind: w.kind,
            key: Some(w.key.to_string()),
            id: id.map(str::to_string),
        };
        let unplaced = || Placed {
            account: account(None),
            creator: None,
            live: None,
            parent: None,
        };
        if let Some(a) = self.ix.by_key.get(w.key).copied() {
            if let Some(id) = w.adopt.filter(|id| *id != a.id) {
                let problem = AdoptProblem::KeyElsewhere {
                    id: id.to_string(),
                    owner: a.id.clone(),
                };
                self.adopt_error(w, problem);
                return unplaced();
            }
            self.matched.insert(a.id.as_str());
            let r = account(Some(&a.id));
            self.keyed(w, a, &r, parent_live_id, parent);
            return Placed {
                account: r,
                creator: None,
                live: Some(a),
                parent: None,
            };
        }
        let candidates = match w.adopt {
            Some(id) => match self.pinned(w, id, parent_live_id, parent) {
                Ok(a) => vec![a],
                Err(problem) => {
                    self.adopt_error(w, problem);
                    return unplaced();
                }
            },
            None => self.candidates(w, parent_live_id),
        };
        let placed = self.adopt_or_create(w, parent, &candidates);
        if placed.creator.is_some() {
            self.creatable(w);
        }
        placed
    }

    /// A creation of `w` lacks nothing the provider needs: a provider that stores contacts
    /// needs a customer's contact to create it (one that stores none is told nothing of it,
    /// and a person creating the customer by hand types one of their choosing).
    fn creatable(&mut self, w: &Wanted<'_>) {
        if w.kind == AccountKind::Customer && w.fields.contact.is_none() && self.caps.fields.contact
        {
            self.errors.push(PlanError::NoContact {
                location: w.declared(),
                address: AccountAddress::key(w.kind, w.key).to_string(),
            });
        }
    }

    /// A desired account not found by key: adopts the one candidate, creates it when there is
    /// none, and reports an ambiguity when there are several.
    fn adopt_or_create(
        &mut self,
        w: &Wanted<'_>,
        parent: Option<&Placed<'l>>,
        candidates: &[&'l live::Account],
    ) -> Placed<'l> {
        let account = |id: Option<&str>| AccountRef::Account {
            kind: w.kind,
            key: Some(w.key.to_string()),
            id: id.map(str::to_string),
        };
        match candidates {
            [a] => {
                let a = *a;
                self.matched.insert(a.id.as_str());
                let r = account(Some(&a.id));
                if !self.caps.keys {
                    // Nothing to write: the match is made again by every plan.
                    self.update_if_changed(w, a, &r);
                    return Placed {
                        account: r,
                        creator: None,
                        live: Some(a),
                        parent: None,
                    };
                }
                let change = Change::Adopt {
                    etag: a.etag.clone(),
                    before: live_fields(a).managed_by(&w.fields),
                    after: w.fields.clone(),
                };
                self.push(Operation::new(r.clone(), change));
                Placed {
                    account: r,
                    creator: None,
                    live: Some(a),
                    parent: None,
                }
            }
            [] => {
                let r = account(None);
                let change = Change::Create {
                    parent: parent.map_or(AccountRef::Partner, |p| p.account.clone()),
                    fields: w.fields.clone(),
                };
                let mut op = Operation::new(r.clone(), change);
                op.depends_on.extend(parent.and_then(|p| p.creator));
                Placed {
                    account: r,
                    creator: Some(self.push(op)),
                    live: None,
                    parent: None,
                }
            }
            many => {
                let r = account(None);
                self.errors.push(PlanError::AmbiguousAdoption {
                    location: w.declared(),
                    address: r.address(),
                    ids: many.iter().map(|a| a.id.clone()).collect(),
                });
                Placed {
                    account: r,
                    creator: None,
                    live: None,
                    parent: None,
                }
            }
        }
    }

    /// The live account an `adopt` id names, if it can be this desired account.
    fn pinned(
        &self,
        w: &Wanted<'_>,
        id: &str,
        parent_live_id: Option<&str>,
        parent: Option<&Placed<'_>>,
    ) -> Result<&'l live::Account, AdoptProblem> {
        let id_owned = || id.to_string();
        let a = *self
            .ix
            .by_id
            .get(id)
            .ok_or_else(|| AdoptProblem::NotFound { id: id_owned() })?;
        if a.kind != w.kind {
            return Err(AdoptProblem::Kind {
                id: id_owned(),
                live: a.kind,
                desired: w.kind,
            });
        }
        // A live key that is not a valid configuration key matches no configuration: the
        // account is adopted (its key replaced) like one without a key.
        if let Some(key) = a.external_key.as_ref().filter(|k| valid_key(k)) {
            return Err(AdoptProblem::Keyed {
                id: id_owned(),
                key: key.clone(),
            });
        }
        if parent_live_id.is_some_and(|p| p != a.parent_id) || parent_live_id.is_none() {
            return Err(AdoptProblem::Parent {
                id: id_owned(),
                live_parent: self.live_parent_address(&a.parent_id),
                desired_parent: parent.map_or_else(|| "partner".into(), |p| p.account.address()),
            });
        }
        if self.matched.contains(a.id.as_str()) {
            return Err(AdoptProblem::Twice { id: id_owned() });
        }
        Ok(a)
    }

    fn adopt_error(&mut self, w: &Wanted<'_>, problem: AdoptProblem) {
        self.errors.push(PlanError::Adopt {
            location: w.adopt_written(),
            address: AccountAddress::key(w.kind, w.key).to_string(),
            problem,
        });
    }

    /// A desired account found by key: an error if it moved or changed kind, else an update
    /// of the fields that differ.
    fn keyed(
        &mut self,
        w: &Wanted<'_>,
        a: &live::Account,
        r: &AccountRef,
        parent_live_id: Option<&str>,
        parent: Option<&Placed<'_>>,
    ) {
        if a.kind != w.kind {
            self.errors.push(PlanError::KindChanged {
                location: w.declared(),
                key: w.key.to_string(),
                live_kind: a.kind,
                desired_kind: w.kind,
            });
        } else if parent_live_id != Some(a.parent_id.as_str()) {
            self.errors.push(PlanError::Moved {
                location: w.declared(),
                address: r.address(),
                live_parent: self.live_parent_address(&a.parent_id),
                desired_parent: parent.map_or_else(|| "partner".into(), |p| p.account.address()),
            });
        } else {
            self.update_if_changed(w, a, r);
        }
    }

    /// An update of the fields of `a` that differ from the desired ones (of those the provider
    /// stores).
    fn update_if_changed(&mut self, w: &Wanted<'_>, a: &live::Account, r: &AccountRef) {
        if same_fields(a, &w.fields) {
            // Live and desired alike: nothing differs, whatever the provider stores.
            return;
        }
        let stored = self.caps.fields;
        let before = stored.project(&live_fields(a).managed_by(&w.fields));
        let after = stored.project(&w.fields);
        if before != after {
            let change = Change::Update {
                etag: a.etag.clone(),
                before,
                after,
            };
            self.push(Operation::new(r.clone(), change));
        }
    }

    /// Unkeyed, unmatched live accounts with the desired kind, parent and name.
    fn candidates(&self, w: &Wanted<'_>, parent_live_id: Option<&str>) -> Vec<&'l live::Account> {
        let Some(siblings) = parent_live_id.and_then(|pid| self.ix.children.get(pid)) else {
            return Vec::new();
        };
        siblings
            .iter()
            .copied()
            .filter(|a| {
                a.external_key.is_none()
                    && a.kind == w.kind
                    && a.name == w.fields.name
                    && !self.matched.contains(a.id.as_str())
                    && !self.reserved.contains(&a.id)
            })
            .collect()
    }

    /// The address of a live account's parent: the partner, one of its accounts, or (not
    /// expected) an account outside them, by id.
    pub(super) fn live_parent_address(&self, parent_id: &str) -> String {
        let parent = if parent_id == self.live.partner.id {
            AccountAddress::Partner
        } else {
            match self.ix.by_id.get(parent_id) {
                Some(p) => return live_ref(p).address(),
                None => AccountAddress::Outside {
                    id: parent_id.to_string(),
                },
            }
        };
        parent.to_string()
    }
}

/// Each configured email's (lower case) role and name, as first listed (one per login, which
/// the configuration's checks ensure for providers that keep them so).
fn logins(desired: &Desired) -> HashMap<String, (Role, String)> {
    let mut out = HashMap::new();
    for u in desired.users() {
        out.entry(email_key(&u.email))
            .or_insert_with(|| (u.role, u.name.clone()));
    }
    out
}

/// The reference of a live account, by its external key if it has one.
pub(super) fn live_ref(a: &live::Account) -> AccountRef {
    AccountRef::Account {
        kind: a.kind,
        key: a.external_key.clone(),
        id: Some(a.id.clone()),
    }
}
