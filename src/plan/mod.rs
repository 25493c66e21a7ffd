//! Stage `plan`: the pure diff of desired × live state into a DAG of operations.
//! No I/O: input is a [`Desired`] config and a [`Snapshot`]; output is a [`Plan`] or every
//! [`PlanError`] found. Safety guards are a separate step ([`Plan::check_safety`]), as in
//! octoDNS's plan → `raise_if_unsafe` → apply.
//!
//! Rooms: [`operation`] (typed changes), `format` (their stable JSON form), `planner` (matching
//! accounts), `members` (users and services), `prune` (unmanaged accounts), `guard` (refusals),
//! `saved` (plan files, and the policies they were evaluated with), `stale` (a saved plan against the live state of now), `settings`
//! (service settings against the catalog), `ancestry` (the parents of the accounts a plan
//! changes), `error`.
//! May import: `access`, `config`, `live`, `policy` (the policy digests and warnings a saved
//! plan records), `vocab`.

mod access;
mod action;
mod ancestry;
mod error;
mod format;
mod guard;
mod index;
mod manual;
mod members;
mod near;
pub mod operation;
mod planner;
mod prune;
mod saved;
mod settings;
mod stale;
mod target;

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::config::Desired;
use crate::live::{self, PartnerInfo, Snapshot};
use crate::vocab::{AccountKind, Role, UserStatus};

pub use access::AccessChange;
pub use error::{AdoptProblem, PlanError, PlanErrors};
pub use guard::{GuardClass, Refusal, Refusals};
pub use manual::{Capabilities, ManualStep, RoleScope, StoredFields, with_capabilities};
pub use near::NearMiss;
pub use operation::{
    AccountField, AccountFields, AccountRef, Action, Change, FieldChange, FieldValue, Membership,
    Operation, Person, Settings, UserRef,
};
pub use saved::{
    BindingError, Context as SavedContext, EMBEDDED_ENDPOINT, GUARD_OPTIONS, GuardOption,
    OptionError, PlanKey, PolicyDrift, SAVED_FORMAT_VERSION, SavedPlan, SavedPlanError,
    bound_endpoint, plan_digest,
};
pub use settings::catalog;
pub use stale::{Applicable, Difference, Found, Recorded, Replan, Stale, StaleOperation};
pub use target::restrict;

/// What kind of live object is left alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnmanagedClass {
    /// A customer, network or sub-account.
    Account,
    /// An active user.
    User,
    /// A pending or expired invitation.
    Invitation,
    /// A service.
    Service,
}

impl UnmanagedClass {
    /// Its name in outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            UnmanagedClass::Account => "account",
            UnmanagedClass::User => "user",
            UnmanagedClass::Invitation => "invitation",
            UnmanagedClass::Service => "service",
        }
    }

    /// A user's class by the status of the login: active users, else invitations.
    pub fn of_user(status: UserStatus) -> Self {
        match status {
            UserStatus::Active => UnmanagedClass::User,
            UserStatus::Invited | UserStatus::Expired => UnmanagedClass::Invitation,
        }
    }
}

impl std::fmt::Display for UnmanagedClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a live object is left alone. Its JSON form and display are the sentence people read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum UnmanagedReason {
    /// A user, invitation or service the configuration does not list, kept without `--prune`.
    #[serde(rename = "not in the configuration (--prune removes it)")]
    PruneRemoves,
    /// An account the configuration does not list, kept without `--prune-accounts`.
    #[serde(rename = "not in the configuration (--prune-accounts deletes it)")]
    PruneAccountsDeletes,
    /// An account marked protected.
    #[serde(rename = "protected (never deleted)")]
    Protected,
    /// An account above a protected or managed one.
    #[serde(rename = "holds a protected or managed account")]
    HoldsKept,
    /// An admin of an account the configuration does not list.
    #[serde(rename = "admin of an account not in the configuration")]
    AdminOfUnlisted,
}

impl UnmanagedReason {
    /// The sentence people read.
    pub fn as_str(self) -> &'static str {
        match self {
            UnmanagedReason::PruneRemoves => "not in the configuration (--prune removes it)",
            UnmanagedReason::PruneAccountsDeletes => {
                "not in the configuration (--prune-accounts deletes it)"
            }
            UnmanagedReason::Protected => "protected (never deleted)",
            UnmanagedReason::HoldsKept => "holds a protected or managed account",
            UnmanagedReason::AdminOfUnlisted => "admin of an account not in the configuration",
        }
    }
}

impl std::fmt::Display for UnmanagedReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A live object left alone because the configuration does not mention it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unmanaged {
    /// Its address.
    pub address: String,
    /// What it is.
    pub class: UnmanagedClass,
    /// Why it is kept.
    pub reason: UnmanagedReason,
    /// What it is, so that people can tell which object it is.
    #[serde(flatten)]
    pub object: UnmanagedObject,
}

impl Unmanaged {
    /// Is it an admin (or an admin's invitation) the configuration does not list? Such a
    /// person controls the account and everything below it: an access risk.
    pub fn is_admin(&self) -> bool {
        matches!(
            self.object,
            UnmanagedObject::User {
                role: Role::Admin,
                ..
            }
        )
    }

    /// The address of the account it is (an account) or belongs to (a user or a service).
    pub fn account_address(&self) -> &str {
        match &self.object {
            UnmanagedObject::Account { .. } => &self.address,
            UnmanagedObject::User { account, .. } | UnmanagedObject::Service { account, .. } => {
                account
            }
        }
    }
}

/// What an unmanaged object is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum UnmanagedObject {
    /// A customer, network or sub-account.
    Account {
        /// Its kind.
        kind: AccountKind,
        /// Its display name.
        name: String,
        /// Its external key, if it has one.
        key: Option<String>,
        /// Its live id.
        id: String,
        /// The address of its parent.
        parent: String,
    },
    /// A user or invitation.
    User {
        /// Email.
        email: String,
        /// Full name.
        name: String,
        /// Role.
        role: Role,
        /// Invitation state.
        status: UserStatus,
        /// The address of its account.
        account: String,
    },
    /// A service.
    Service {
        /// Catalog type.
        #[serde(rename = "type")]
        service_type: String,
        /// The address of its account.
        account: String,
    },
}

/// Which live objects the configuration does not list are accepted as no drift
/// (`plan --detailed-exitcode`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Accept {
    /// None: any unmanaged object is drift.
    #[default]
    Nothing,
    /// Unmanaged accounts (with what they hold) and members; not unmanaged admins of the
    /// partner or of the accounts the configuration manages.
    Unmanaged,
    /// Every unmanaged object, those admins included.
    UnmanagedAndAdmins,
}

/// Planning switches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Options {
    /// Remove unmanaged users, invitations and services.
    pub prune: bool,
    /// Also delete unmanaged accounts (children first; protected ones never).
    pub prune_accounts: bool,
    /// Refuse to delete more than this percentage of a class (with ≥ 10 live objects), what
    /// account deletions remove with them included.
    pub max_delete_percent: u32,
    /// Refuse to update more than this percentage of a class (with ≥ 10 live objects). Plans
    /// saved before it existed read as the default; the default is left out of saved plans,
    /// so that their digests stay what they were.
    #[serde(
        default = "default_max_update_percent",
        skip_serializing_if = "is_default_max_update_percent"
    )]
    pub max_update_percent: u32,
    /// Override the delete- and update-percentage guards.
    pub force: bool,
    /// Refuse a plan that creates an account looking like an unmanaged live one.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub refuse_near_misses: bool,
}

/// Default of `--max-delete-percent`.
pub const DEFAULT_MAX_DELETE_PERCENT: u32 = 25;

/// Default of `--max-update-percent`.
pub const DEFAULT_MAX_UPDATE_PERCENT: u32 = 30;

fn default_max_update_percent() -> u32 {
    DEFAULT_MAX_UPDATE_PERCENT
}

fn is_default_max_update_percent(n: &u32) -> bool {
    *n == DEFAULT_MAX_UPDATE_PERCENT
}

impl Default for Options {
    fn default() -> Self {
        Options {
            prune: false,
            prune_accounts: false,
            max_delete_percent: DEFAULT_MAX_DELETE_PERCENT,
            max_update_percent: DEFAULT_MAX_UPDATE_PERCENT,
            force: false,
            refuse_near_misses: false,
        }
    }
}

/// Live object counts per class, for the delete-percentage guard and the summary.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassCounts {
    /// Accounts.
    pub accounts: usize,
    /// Users and invitations.
    pub users: usize,
    /// Services.
    pub services: usize,
}

/// The result of planning.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// The partner planned against.
    pub partner: PartnerInfo,
    /// The options used.
    pub options: Options,
    /// The operations, in tree order; `depends_on` makes them a DAG.
    pub operations: Vec<Operation>,
    /// Live objects not in the configuration and left alone.
    pub unmanaged: Vec<Unmanaged>,
    /// Creations that look like unmanaged live accounts (probable duplicates).
    pub near_misses: Vec<NearMiss>,
    /// The `--target` addresses the plan is restricted to (empty: the whole configuration).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<String>,
    /// Who gains or loses access, escalations first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub access: Vec<AccessChange>,
    /// Operations the provider's API cannot perform: steps for a person, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub manual: Vec<ManualStep>,
    /// Addresses of changes of a kind the provider does not manage (the plan is refused).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unsupported: Vec<String>,
    /// Changes inside customers the vendor does not let the partner manage (the plan is
    /// refused): the customer's name and the change's address.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub closed: Vec<(String, String)>,
    /// Matching invitations still pending (no change needed).
    pub pending_invitations: usize,
    /// Live object counts.
    pub live: ClassCounts,
    /// Ids of the partner's active admins (for the last-admin guard).
    pub partner_admins: Vec<String>,
    /// API limits reported by the live side.
    pub limits: live::Limits,
    /// What reading the live state took, when measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read: Option<live::ReadCost>,
    /// The configuration's address of each live account a desired account matched, by live
    /// id (for the access changes of a plan restricted to targets). Not saved.
    #[serde(skip)]
    pub addresses: HashMap<String, String>,
    /// The parent of each account an operation acts on or in, and of each of its ancestors,
    /// by the account's address (the partner for customers; an account the plan creates is
    /// left out, its creation names its parent): what the text and markdown formats show above
    /// each change. Saved with the plan; not part of the JSON format.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub parents: BTreeMap<String, AccountRef>,
    /// What the provider's read noted for its own use, from the snapshot planned against,
    /// handed to the provider with each operation. Not saved.
    #[serde(skip)]
    pub private: live::Private,
    /// Whether the provider closes a customer that may not be managed to changes of its own
    /// record too ([`Capabilities::closed_records`]), for the manage gate. Not saved: a saved
    /// plan is judged against a plan of now, which has it.
    #[serde(skip)]
    pub closed_records: bool,
}

impl Plan {
    /// No operations?
    pub fn is_empty(&self) -> bool {
        self.operations.is_empty()
    }

    /// Unmanaged admins: people with access the configuration does not grant (inside
    /// unmanaged accounts too).
    pub fn unmanaged_admins(&self) -> usize {
        self.unmanaged.iter().filter(|u| u.is_admin()).count()
    }

    /// The unmanaged admins of the partner and of the accounts the configuration manages (not
    /// those inside an account it leaves unmanaged).
    pub fn unmanaged_admins_on_managed(&self) -> Vec<&Unmanaged> {
        let unmanaged_accounts: HashSet<&str> = self
            .unmanaged
            .iter()
            .filter(|u| matches!(u.object, UnmanagedObject::Account { .. }))
            .map(|u| u.address.as_str())
            .collect();
        self.unmanaged
            .iter()
            .filter(|u| u.is_admin() && !unmanaged_accounts.contains(u.account_address()))
            .collect()
    }

    /// Does the live state differ from the configuration: operations to perform, or live
    /// objects the configuration does not list that `accept` does not accept?
    pub fn has_drift(&self, accept: Accept) -> bool {
        !self.is_empty()
            || match accept {
                Accept::Nothing => !self.unmanaged.is_empty(),
                Accept::Unmanaged => !self.unmanaged_admins_on_managed().is_empty(),
                Accept::UnmanagedAndAdmins => false,
            }
    }

    /// Number of operations per action, in [`Action::ALL`] order, zeros left out.
    pub fn counts(&self) -> Vec<(Action, usize)> {
        Action::ALL
            .iter()
            .map(|a| {
                (
                    *a,
                    self.operations.iter().filter(|o| o.action() == *a).count(),
                )
            })
            .filter(|(_, n)| *n > 0)
            .collect()
    }

    /// Write calls the apply needs (one per operation, manual steps aside).
    pub fn writes(&self) -> usize {
        self.operations.len() - self.manual.len()
    }

    /// The least time the apply can take under the reported write limits, in seconds: a
    /// minute for each full minute's worth of writes after the first, and with a daily
    /// budget, a wait for each day's renewal.
    pub fn min_seconds(&self) -> Option<f64> {
        let per_minute = self.limits.writes_per_minute.filter(|m| *m > 0)? as usize;
        let writes = self.writes();
        let at_rate = |n: usize| (n.saturating_sub(1) / per_minute) as f64 * 60.0;
        let daily = self.limits.writes_per_day.filter(|d| *d > 0);
        Some(match (daily, self.limits.day_millis) {
            (Some(per_day), Some(day)) => {
                // Within one day's budget, no day to wait.
                let per_day = per_day as usize;
                let days = writes.saturating_sub(1) / per_day;
                days as f64 * day as f64 / 1000.0 + at_rate(writes - days * per_day)
            }
            _ => at_rate(writes),
        })
    }

    /// Checks the safety guards; `Err` lists every refusal.
    pub fn check_safety(&self) -> Result<(), Refusals> {
        guard::check(self)
    }
}

/// Computes the plan: every operation that makes the live state match the desired one.
pub fn plan(desired: &Desired, live: &Snapshot, options: Options) -> Result<Plan, PlanErrors> {
    plan_for(desired, live, options, &Capabilities::full())
}

/// [`plan`] for a provider that can do what `caps` says: fields it does not store are not
/// compared, and without keys accounts are matched by kind, parent and name on every plan.
/// (What it cannot do at all is left to [`with_capabilities`].)
pub fn plan_for(
    desired: &Desired,
    live: &Snapshot,
    options: Options,
    caps: &Capabilities,
) -> Result<Plan, PlanErrors> {
    planner::Planner::new(live, options, caps.clone()).run(desired)
}

/// The address each live account has in `desired` (its key's address), for the live accounts
/// a desired account matches: by key, or where accounts carry no key (see `caps`) by kind,
/// parent and name or an `adopt` id. Live accounts no desired account matches are left out.
pub fn live_addresses(
    desired: &Desired,
    live: &Snapshot,
    caps: &Capabilities,
) -> HashMap<String, String> {
    planner::Planner::new(live, Options::default(), caps.clone()).addresses(desired)
}

#[cfg(test)]
mod tests;
#[cfg(test)]
pub(crate) mod testutil;
