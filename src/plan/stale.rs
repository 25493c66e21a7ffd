//! Stage `plan`, a saved plan against the live state of now (`apply --plan`): its operations
//! are still the reviewed ones when the object each acts on (and the accounts it acts in) is
//! as it was when the plan was made; changes elsewhere leave them alone and are counted for
//! the report. Pure: it compares the saved operations with the live snapshot of now and with
//! the plan the same configuration makes against it.
//!
//! An operation's object is compared by its entity tag where the operation carries one (an
//! update, an adoption, a deletion, a change or removal of a user or service), else by what
//! the operation needs of it: an account, user or service it creates is still absent, an
//! expired invitation it re-sends is still expired. The accounts it acts in, and a parent it
//! creates an account under, are still there, the same accounts (same id and key). What a
//! guard judged is compared too: what a deletion removes with the account (its users,
//! services and child accounts), and the guards are checked again against the live state of
//! now (class sizes, the partner's active admins, what may be managed). Every operation must
//! moreover be the one the configuration plans now at its address, with the same
//! dependencies, so that nothing the planner decides from other objects (an unkeyed account
//! that would now be adopted, say) slips through.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use super::index::Index;
use super::operation::{
    AccountField, AccountFields, AccountRef, Change, FieldValue, Membership, Operation,
};
use super::planner::{live_fields, live_ref};
use super::{Action, Plan, SavedPlan};
use crate::live::Contact;
use crate::live::{self, Snapshot};
use crate::vocab::rules::{escape_hidden, same_email, valid_key};
use crate::vocab::{AccountKind, Role, UserStatus};

/// At most this many stale operations are listed in a message; the rest are counted.
const LISTED: usize = 100;

/// What changed, since the plan was made, in an object a saved operation needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Difference {
    /// A field of the object at `address`: its value when the plan was made, and now.
    Field {
        /// The object's address.
        address: String,
        /// The field (`name`, `role`, `status`, `settings`, `users`, ...).
        field: &'static str,
        /// Its value when the plan was made.
        saved: Recorded,
        /// Its value now.
        now: Recorded,
    },
    /// The object changed in a field the plan does not record: only its entity tag tells.
    Tag {
        /// The object's address.
        address: String,
        /// The entity tag when the plan was made.
        saved: String,
        /// The entity tag now.
        now: String,
    },
    /// The object (or the account it is in) is no longer there.
    Gone {
        /// Its address.
        address: String,
    },
    /// An object that was not there exists now.
    Appeared {
        /// Its address.
        address: String,
        /// What it is.
        what: Found,
    },
    /// Nothing the plan recorded differs, and the configuration now plans something else at
    /// the operation's address.
    Replanned {
        /// What is planned there now.
        now: Replan,
    },
}

/// A value a saved plan recorded, or the live state's value of the same field now; shown as
/// messages quote values (texts in JSON string syntax: nothing in them starts a line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    /// Not set.
    None,
    /// A text (a name, a key, a country...).
    Text(String),
    /// A contact person.
    Contact(Contact),
    /// Labels.
    Labels(BTreeMap<String, String>),
    /// A service's settings.
    Settings(serde_json::Map<String, serde_json::Value>),
    /// How many (users or services of an account).
    Count(usize),
    /// A user's role.
    Role(Role),
    /// A user's invitation state.
    Status(UserStatus),
}

impl Recorded {
    fn key(key: Option<&str>) -> Self {
        key.map_or(Recorded::None, |k| Recorded::Text(k.to_string()))
    }
}

impl From<FieldValue<'_>> for Recorded {
    fn from(v: FieldValue<'_>) -> Self {
        match v {
            FieldValue::None => Recorded::None,
            FieldValue::Text(s) => Recorded::Text(s.to_string()),
            FieldValue::Contact(c) => Recorded::Contact(c.clone()),
            FieldValue::Labels(l) => Recorded::Labels(l.clone()),
        }
    }
}

impl std::fmt::Display for Recorded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Recorded::None => f.write_str("none"),
            Recorded::Text(s) => f.write_str(&quoted(s)),
            Recorded::Contact(c) => write!(f, "{} <{}>", quoted(&c.name), escape_hidden(&c.email)),
            Recorded::Labels(l) => {
                f.write_str(&serde_json::to_string(l).expect("labels serialize"))
            }
            Recorded::Settings(m) => f.write_str(&settings(m)),
            Recorded::Count(n) => write!(f, "{n}"),
            Recorded::Role(r) => write!(f, "{r}"),
            Recorded::Status(s) => write!(f, "{s}"),
        }
    }
}

/// An object found where a saved operation expected none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// An account with the key a saved creation gives.
    Account {
        /// Its kind.
        kind: AccountKind,
        /// Its live id.
        id: String,
        /// Its name.
        name: String,
    },
    /// An account inside one a saved deletion removes, which the plan does not delete first.
    Inside {
        /// The deleted account's address.
        parent: String,
        /// The account's name.
        name: String,
    },
    /// A user with the email a saved invitation invites.
    User {
        /// Its invitation state.
        status: UserStatus,
        /// Its role.
        role: Role,
    },
    /// A service of the type a saved operation adds.
    Service {
        /// Its settings.
        settings: serde_json::Map<String, serde_json::Value>,
    },
}

impl std::fmt::Display for Found {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Found::Account { kind, id, name } => {
                write!(f, "{kind} {}, named {}", escape_hidden(id), quoted(name))
            }
            Found::Inside { parent, name } => write!(f, "inside {parent}, named {}", quoted(name)),
            Found::User { status, role } => write!(f, "{status}, {role}"),
            Found::Service { settings } => {
                write!(f, "settings {}", self::settings(settings))
            }
        }
    }
}

/// What the configuration plans now at a saved operation's address, when nothing the plan
/// recorded differs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Replan {
    /// The adoption of another live account.
    Adopt {
        /// Its kind, if known.
        kind: Option<AccountKind>,
        /// Its live id, if known.
        id: Option<String>,
        /// Its name.
        name: String,
    },
    /// No change.
    Nothing,
    /// Other operations.
    Actions(Vec<Action>),
}

impl std::fmt::Display for Replan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Replan::Adopt { kind, id, name } => write!(
                f,
                "the configuration would now adopt {} {} (named {}) instead",
                kind.map_or("account", |k| k.as_str()),
                escape_hidden(id.as_deref().unwrap_or("?")),
                quoted(name)
            ),
            Replan::Nothing => f.write_str("the configuration needs no change here now"),
            Replan::Actions(actions) => {
                let actions: Vec<&str> = actions.iter().map(|a| a.as_str()).collect();
                write!(
                    f,
                    "the configuration now plans {} here instead",
                    actions.join(" and ")
                )
            }
        }
    }
}

impl Difference {
    /// The difference as the line of the operation at `op_address` shows it (an object's
    /// address is left out where it is the operation's own).
    pub fn describe(&self, op_address: &str) -> String {
        let own = |address: &str| address == op_address;
        match self {
            Difference::Field {
                address,
                field,
                saved,
                now,
            } if own(address) => format!("{field} {saved} → {now}"),
            Difference::Field {
                address,
                field,
                saved,
                now,
            } => format!("{address}: {field} {saved} → {now}"),
            Difference::Tag {
                address,
                saved,
                now,
            } => {
                let what = if own(address) { "it" } else { address.as_str() };
                format!(
                    "{what} changed in a field the plan does not show (etag {} → {})",
                    escape_hidden(saved),
                    escape_hidden(now)
                )
            }
            Difference::Gone { address } if own(address) => {
                "it was deleted since the plan was made".to_string()
            }
            Difference::Gone { address } => {
                format!("{address} was deleted since the plan was made")
            }
            Difference::Appeared { address, what } if own(address) => {
                format!("it exists now ({what})")
            }
            Difference::Appeared { address, what } => format!("{address} exists now ({what})"),
            Difference::Replanned { now } => now.to_string(),
        }
    }
}

/// A saved operation that no longer applies as reviewed, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaleOperation {
    /// Its index in the saved plan.
    pub index: usize,
    /// Its address.
    pub address: String,
    /// Its action.
    pub action: Action,
    /// What changed.
    pub differences: Vec<Difference>,
}

impl std::fmt::Display for StaleOperation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what: Vec<String> = self
            .differences
            .iter()
            .map(|d| d.describe(&self.address))
            .collect();
        write!(
            f,
            "{} ({}): {}",
            self.address,
            self.action.as_str(),
            what.join("; ")
        )
    }
}

/// Why a saved plan is stale: the saved operations whose objects changed since the plan was
/// made, each with what changed, and how many more depend on them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct Stale {
    /// The saved operations.
    pub saved: usize,
    /// The operations whose objects changed, in plan order.
    pub changed: Vec<StaleOperation>,
    /// The operations that are stale only because they depend on one of those.
    pub dependents: usize,
}

impl std::fmt::Display for Stale {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.changed.len();
        if self.saved == 1 {
            write!(f, "its one operation needs")?;
        } else {
            let verb = if n == 1 { "needs" } else { "need" };
            write!(f, "{n} of its {} operations {verb}", self.saved)?;
        }
        write!(f, " objects that changed since the plan was made:")?;
        for op in self.changed.iter().take(LISTED) {
            write!(f, "\n  - {op}")?;
        }
        if n > LISTED {
            write!(f, "\n  - and {} more", n - LISTED)?;
        }
        if self.dependents > 0 {
            write!(
                f,
                "\n  - and {} operation{} that depend{} on {}",
                self.dependents,
                if self.dependents == 1 { "" } else { "s" },
                if self.dependents == 1 { "s" } else { "" },
                if n == 1 { "it" } else { "them" }
            )?;
        }
        Ok(())
    }
}

/// A saved plan that still applies: the plan to execute (the saved operations, with what the
/// guards judge taken from the live state of now) and the changes the configuration needs
/// now that it does not include.
#[derive(Debug, Clone, PartialEq)]
pub struct Applicable {
    /// The saved operations and what the plan showed besides, with the partner, the class
    /// sizes, the partner's active admins, the manage gate, near misses and limits of now.
    /// Its guards are to be checked ([`Plan::check_safety`]) before it is executed.
    pub plan: Plan,
    /// The operations the configuration needs now that the saved plan does not include:
    /// address and action, in plan order.
    pub elsewhere: Vec<(String, Action)>,
}

impl SavedPlan {
    /// The saved plan against the live state of now: `now` is the plan its configuration and
    /// options make against `live`. `Err` lists every saved operation whose object changed.
    pub fn against(&self, now: &Plan, live: &Snapshot) -> Result<Applicable, Stale> {
        let check = Check::new(live);
        let mut fresh: HashMap<(&str, Action), Vec<usize>> = HashMap::new();
        for (j, op) in now.operations.iter().enumerate() {
            fresh
                .entry((op.address.as_str(), op.action()))
                .or_default()
                .push(j);
        }
        let mut matched = vec![false; now.operations.len()];
        let mut stale = vec![false; self.operations.len()];
        let mut changed = Vec::new();
        let mut dependents = 0;
        for (i, op) in self.operations.iter().enumerate() {
            let counterpart = fresh
                .get(&(op.address.as_str(), op.action()))
                .into_iter()
                .flatten()
                .copied()
                .find(|&j| !matched[j] && same(&self.operations, i, &now.operations, j));
            if let Some(j) = counterpart {
                matched[j] = true;
            }
            let mut differences = check.operation(op, &self.operations);
            // Dependencies come first in a plan: their staleness is known.
            let after_stale = op.depends_on.iter().any(|&d| stale.get(d) == Some(&true));
            let own = !differences.is_empty() || (counterpart.is_none() && !after_stale);
            stale[i] = own || after_stale;
            if !own {
                dependents += usize::from(after_stale);
                continue;
            }
            if differences.is_empty() {
                differences.push(Difference::Replanned {
                    now: replanned(op, now),
                });
            }
            changed.push(StaleOperation {
                index: i,
                address: op.address.clone(),
                action: op.action(),
                differences,
            });
        }
        if !changed.is_empty() || dependents > 0 {
            return Err(Stale {
                saved: self.operations.len(),
                changed,
                dependents,
            });
        }
        let elsewhere = now
            .operations
            .iter()
            .zip(&matched)
            .filter(|(_, m)| !**m)
            .map(|(o, _)| (o.address.clone(), o.action()))
            .collect();
        Ok(Applicable {
            plan: self.judged_now(now),
            elsewhere,
        })
    }

    /// The saved plan, with what the guards judge taken from `now`, for the saved operations.
    fn judged_now(&self, now: &Plan) -> Plan {
        let saved: HashSet<&str> = self.operations.iter().map(|o| o.address.as_str()).collect();
        let created: HashSet<&str> = self
            .operations
            .iter()
            .filter(|o| o.action() == Action::Create)
            .map(|o| o.address.as_str())
            .collect();
        Plan {
            partner: now.partner.clone(),
            live: now.live,
            partner_admins: now.partner_admins.clone(),
            closed: now
                .closed
                .iter()
                .filter(|(_, address)| saved.contains(address.as_str()))
                .cloned()
                .collect(),
            unsupported: now
                .unsupported
                .iter()
                .filter(|address| saved.contains(address.as_str()))
                .cloned()
                .collect(),
            near_misses: now
                .near_misses
                .iter()
                .filter(|n| created.contains(n.address.as_str()))
                .cloned()
                .collect(),
            limits: now.limits,
            read: now.read,
            private: now.private.clone(),
            closed_records: now.closed_records,
            ..self.plan()
        }
    }
}

/// The dependencies of `ops[i]` by address and action (indexes differ between plans).
fn dependencies(ops: &[Operation], i: usize) -> BTreeSet<(&str, Action)> {
    ops[i]
        .depends_on
        .iter()
        .filter_map(|&d| ops.get(d))
        .map(|o| (o.address.as_str(), o.action()))
        .collect()
}

/// Is `a[i]` the operation `b[j]`: the same object, change and dependencies?
fn same(a: &[Operation], i: usize, b: &[Operation], j: usize) -> bool {
    let (x, y) = (&a[i], &b[j]);
    x.address == y.address
        && x.account == y.account
        && x.change == y.change
        && dependencies(a, i) == dependencies(b, j)
}

/// What the configuration plans now at the address of `op`, for a stale operation nothing
/// else explains.
fn replanned(op: &Operation, now: &Plan) -> Replan {
    let there: Vec<&Operation> = now
        .operations
        .iter()
        .filter(|o| o.address == op.address)
        .collect();
    let adoption = there.iter().find_map(|o| match &o.change {
        Change::Adopt { before, .. } => Some((o, before)),
        _ => None,
    });
    if let Some((o, before)) = adoption {
        return Replan::Adopt {
            kind: o.account.kind(),
            id: o.account.id().map(str::to_string),
            name: before.name.clone(),
        };
    }
    if there.is_empty() {
        return Replan::Nothing;
    }
    Replan::Actions(there.iter().map(|o| o.action()).collect())
}

/// Settings as messages show them: their JSON, on one line.
fn settings(m: &serde_json::Map<String, serde_json::Value>) -> String {
    serde_json::to_string(m).expect("settings serialize")
}

/// A text as messages quote it (JSON string syntax: nothing in it starts a line).
fn quoted(text: &str) -> String {
    serde_json::to_string(text).expect("strings serialize")
}

/// The live state of now, indexed for the comparisons.
struct Check<'l> {
    live: &'l Snapshot,
    ix: Index<'l>,
    users: HashMap<&'l str, &'l live::User>,
}

impl<'l> Check<'l> {
    fn new(live: &'l Snapshot) -> Self {
        Check {
            live,
            ix: Index::new(live),
            users: live.users.iter().map(|u| (u.id.as_str(), u)).collect(),
        }
    }

    /// The live id of the account (or the partner) an operation acts in, as [`Check::account_in`]
    /// finds it.
    fn account_id(&self, account: &AccountRef, out: &mut Vec<Difference>) -> Option<&'l str> {
        match account {
            AccountRef::Partner => Some(self.live.partner.id.as_str()),
            other => self.account_in(other, out).map(|a| a.id.as_str()),
        }
    }

    /// The account an operation acts in (or creates an account under) as it is now: still
    /// there, with the same key. Records what differs; `None` when it is gone (or created by
    /// the plan, or the partner).
    fn account_in(
        &self,
        account: &AccountRef,
        out: &mut Vec<Difference>,
    ) -> Option<&'l live::Account> {
        let AccountRef::Account {
            key, id: Some(id), ..
        } = account
        else {
            return None;
        };
        let Some(a) = self.ix.by_id.get(id.as_str()).copied() else {
            out.push(Difference::Gone {
                address: account.address(),
            });
            return None;
        };
        if a.external_key.as_deref() != key.as_deref() {
            out.push(Difference::Field {
                address: account.address(),
                field: AccountField::ExternalKey.as_str(),
                saved: Recorded::key(key.as_deref()),
                now: Recorded::key(a.external_key.as_deref()),
            });
        }
        Some(a)
    }

    /// What changed in the objects `op` needs (`ops`: the saved plan's operations).
    fn operation(&self, op: &Operation, ops: &[Operation]) -> Vec<Difference> {
        let mut out = Vec::new();
        match &op.change {
            Change::Create { parent, .. } => {
                self.account_in(parent, &mut out);
                if let Some(a) = op.account.key().and_then(|k| self.ix.by_key.get(k)) {
                    out.push(Difference::Appeared {
                        address: op.address.clone(),
                        what: Found::Account {
                            kind: a.kind,
                            id: a.id.clone(),
                            name: a.name.clone(),
                        },
                    });
                }
            }
            Change::Update {
                etag,
                before,
                after,
            }
            | Change::Adopt {
                etag,
                before,
                after,
            } => {
                if let Some(a) = self.account(op, &mut out) {
                    self.fields(op, etag, a, before, after, &mut out);
                }
            }
            Change::Delete {
                etag,
                name,
                users,
                services,
            } => {
                if let Some(a) = self.account(op, &mut out) {
                    self.deletion(op, ops, a, (etag, name), (*users, *services), &mut out);
                }
            }
            Change::Invite(person) => {
                let account = self.account_id(&op.account, &mut out);
                let users = account.and_then(|id| self.ix.users_by_account.get(id));
                let found = users
                    .into_iter()
                    .flatten()
                    .find(|u| same_email(&u.email, &person.email));
                if let Some(u) = found {
                    out.push(Difference::Appeared {
                        address: op.address.clone(),
                        what: Found::User {
                            status: u.status,
                            role: u.role,
                        },
                    });
                }
            }
            Change::Resend { user } => {
                if let Some(u) = self.user(op, &user.id, &mut out)
                    && u.status != UserStatus::Expired
                {
                    out.push(Difference::Field {
                        address: op.address.clone(),
                        field: "status",
                        saved: Recorded::Status(UserStatus::Expired),
                        now: Recorded::Status(u.status),
                    });
                }
            }
            Change::UpdateUser {
                user, etag, before, ..
            } => {
                if let Some(u) = self.user(op, &user.id, &mut out) {
                    self.membership(op, etag, u, before, None, &mut out);
                }
            }
            Change::Revoke {
                user,
                etag,
                was,
                status,
            }
            | Change::RemoveUser {
                user,
                etag,
                was,
                status,
            } => {
                if let Some(u) = self.user(op, &user.id, &mut out) {
                    let before = Membership {
                        name: was.name.clone(),
                        role: was.role,
                    };
                    self.membership(op, etag, u, &before, Some(*status), &mut out);
                }
            }
            Change::AddService { service_type, .. } => {
                let account = self.account_in(&op.account, &mut out);
                let found = account.and_then(|a| self.service(&a.id, service_type));
                if let Some(s) = found {
                    out.push(Difference::Appeared {
                        address: op.address.clone(),
                        what: Found::Service {
                            settings: s.settings.clone(),
                        },
                    });
                }
            }
            Change::UpdateService {
                service_type,
                etag,
                before: settings,
                ..
            }
            | Change::RemoveService {
                service_type,
                etag,
                settings,
            } => {
                let account = self.account_in(&op.account, &mut out);
                match account.and_then(|a| self.service(&a.id, service_type)) {
                    None if account.is_some() => out.push(Difference::Gone {
                        address: op.address.clone(),
                    }),
                    None => {}
                    Some(s) if s.etag == *etag => {}
                    Some(s) if s.settings != *settings => out.push(Difference::Field {
                        address: op.address.clone(),
                        field: "settings",
                        saved: Recorded::Settings(settings.clone()),
                        now: Recorded::Settings(s.settings.clone()),
                    }),
                    Some(s) => out.push(Difference::Tag {
                        address: op.address.clone(),
                        saved: etag.clone(),
                        now: s.etag.clone(),
                    }),
                }
            }
        }
        out
    }

    /// The account an account operation acts on, as it is now; records its deletion.
    fn account(&self, op: &Operation, out: &mut Vec<Difference>) -> Option<&'l live::Account> {
        let id = op.account.id()?;
        let found = self.ix.by_id.get(id).copied();
        if found.is_none() {
            out.push(Difference::Gone {
                address: op.address.clone(),
            });
        }
        found
    }

    /// An updated or adopted account: by its entity tag, and where that differs, what
    /// differs of the fields the plan recorded (and of its key).
    fn fields(
        &self,
        op: &Operation,
        etag: &str,
        a: &live::Account,
        before: &AccountFields,
        after: &AccountFields,
        out: &mut Vec<Difference>,
    ) {
        if a.etag == etag {
            return;
        }
        let now = live_fields(a);
        let start = out.len();
        for ((field, saved), (_, now)) in before.entries(after).into_iter().zip(now.entries(after))
        {
            if saved != now {
                out.push(Difference::Field {
                    address: op.address.clone(),
                    field: field.as_str(),
                    saved: saved.into(),
                    now: now.into(),
                });
            }
        }
        // An update found the account by its key; an adoption found it without one (or with
        // one that is not a valid key, which it replaces).
        let now_key = a.external_key.as_deref();
        let (key, differs) = match op.action() {
            Action::Adopt => (None, now_key.is_some_and(valid_key)),
            _ => (op.account.key(), now_key != op.account.key()),
        };
        if differs {
            out.push(Difference::Field {
                address: op.address.clone(),
                field: AccountField::ExternalKey.as_str(),
                saved: Recorded::key(key),
                now: Recorded::key(a.external_key.as_deref()),
            });
        }
        if out.len() == start {
            out.push(Difference::Tag {
                address: op.address.clone(),
                saved: etag.to_string(),
                now: a.etag.clone(),
            });
        }
    }

    /// A deleted account: by its entity tag, and by what the deletion removes with it (its
    /// users and services, which the deletion guard counted, and its child accounts, each of
    /// which the plan must delete first).
    fn deletion(
        &self,
        op: &Operation,
        ops: &[Operation],
        a: &live::Account,
        (etag, name): (&str, &str),
        (users, services): (usize, usize),
        out: &mut Vec<Difference>,
    ) {
        let address = || op.address.clone();
        if a.etag != etag {
            let start = out.len();
            if a.name != name {
                out.push(Difference::Field {
                    address: address(),
                    field: "name",
                    saved: Recorded::Text(name.to_string()),
                    now: Recorded::Text(a.name.clone()),
                });
            }
            if a.external_key.as_deref() != op.account.key() {
                out.push(Difference::Field {
                    address: address(),
                    field: AccountField::ExternalKey.as_str(),
                    saved: Recorded::key(op.account.key()),
                    now: Recorded::key(a.external_key.as_deref()),
                });
            }
            if out.len() == start {
                out.push(Difference::Tag {
                    address: address(),
                    saved: etag.to_string(),
                    now: a.etag.clone(),
                });
            }
        }
        let count = |n: Option<usize>| n.unwrap_or(0);
        let id = a.id.as_str();
        for (field, saved, now) in [
            (
                "users",
                users,
                count(self.ix.users_by_account.get(id).map(Vec::len)),
            ),
            (
                "services",
                services,
                count(self.ix.services_by_account.get(id).map(Vec::len)),
            ),
        ] {
            if saved != now {
                out.push(Difference::Field {
                    address: address(),
                    field,
                    saved: Recorded::Count(saved),
                    now: Recorded::Count(now),
                });
            }
        }
        let deleted: HashSet<&str> = op
            .depends_on
            .iter()
            .filter_map(|&d| ops.get(d))
            .filter(|o| o.action() == Action::Delete)
            .filter_map(|o| o.account.id())
            .collect();
        for child in self.ix.children.get(id).into_iter().flatten() {
            if !deleted.contains(child.id.as_str()) {
                out.push(Difference::Appeared {
                    address: live_ref(child).address(),
                    what: Found::Inside {
                        parent: op.address.clone(),
                        name: child.name.clone(),
                    },
                });
            }
        }
    }

    /// The user a user operation acts on, as it is now, in the account the operation acts in;
    /// records its removal (or the account's).
    fn user(&self, op: &Operation, id: &str, out: &mut Vec<Difference>) -> Option<&'l live::User> {
        let start = out.len();
        let account = self.account_id(&op.account, out);
        if out.len() > start && account.is_none() {
            return None;
        }
        let found = self
            .users
            .get(id)
            .copied()
            .filter(|u| Some(u.account_id.as_str()) == account);
        if found.is_none() {
            out.push(Difference::Gone {
                address: op.address.clone(),
            });
        }
        found
    }

    /// A user changed or removed: by its entity tag, and where that differs, its name, role
    /// and (`status`: where the plan recorded it) invitation state.
    fn membership(
        &self,
        op: &Operation,
        etag: &str,
        u: &live::User,
        before: &Membership,
        status: Option<UserStatus>,
        out: &mut Vec<Difference>,
    ) {
        if u.etag == etag {
            return;
        }
        let start = out.len();
        let mut field = |field, saved: Recorded, now: Recorded| {
            if saved != now {
                out.push(Difference::Field {
                    address: op.address.clone(),
                    field,
                    saved,
                    now,
                });
            }
        };
        field(
            "name",
            Recorded::Text(before.name.clone()),
            Recorded::Text(u.name.clone()),
        );
        field("role", Recorded::Role(before.role), Recorded::Role(u.role));
        if let Some(status) = status {
            field(
                "status",
                Recorded::Status(status),
                Recorded::Status(u.status),
            );
        }
        if out.len() == start {
            out.push(Difference::Tag {
                address: op.address.clone(),
                saved: etag.to_string(),
                now: u.etag.clone(),
            });
        }
    }

    fn service(&self, account_id: &str, service_type: &str) -> Option<&'l live::Service> {
        self.ix
            .services_by_account
            .get(account_id)?
            .iter()
            .copied()
            .find(|s| s.service_type == service_type)
    }
}
