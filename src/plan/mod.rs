//! Stage `plan`: the pure diff of desired × live state into a DAG of operations (SPEC §5).
//! No I/O: input is a [`Desired`] config and a [`Snapshot`]; output is a [`Plan`] or every
//! [`PlanError`] found. Safety guards are a separate step ([`Plan::check_safety`]), as in
//! octoDNS's plan → `raise_if_unsafe` → apply.

mod guard;
mod saved;
mod settings;

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::config::{self, Desired};
use crate::live::{self, PartnerInfo, Snapshot};
use crate::vocab::{AccountKind, UserStatus};

pub use guard::{Refusal, Refusals};
pub use saved::{SavedPlan, SavedPlanError};

use crate::vocab::PROTECT_LABEL;

/// What an operation does (SPEC §5 actions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Create an account.
    Create,
    /// Change fields of an account.
    Update,
    /// Set the external key of a matching unkeyed live account (and any differing fields).
    Adopt,
    /// Invite a user.
    Invite,
    /// Re-send an expired invitation.
    Resend,
    /// Change a user's name or role.
    UpdateUser,
    /// Add a service.
    AddService,
    /// Change a service's settings.
    UpdateService,
    /// Revoke a pending or expired invitation (prune).
    Revoke,
    /// Remove an active user (prune).
    RemoveUser,
    /// Remove a service (prune).
    RemoveService,
    /// Delete an account (prune-accounts).
    Delete,
}

impl Action {
    /// Every action, in summary order.
    pub const ALL: [Action; 12] = [
        Action::Create,
        Action::Adopt,
        Action::Update,
        Action::Invite,
        Action::Resend,
        Action::UpdateUser,
        Action::AddService,
        Action::UpdateService,
        Action::Revoke,
        Action::RemoveUser,
        Action::RemoveService,
        Action::Delete,
    ];

    /// The wire/display name (`add-service`).
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Adopt => "adopt",
            Action::Invite => "invite",
            Action::Resend => "resend",
            Action::UpdateUser => "update-user",
            Action::AddService => "add-service",
            Action::UpdateService => "update-service",
            Action::Revoke => "revoke",
            Action::RemoveUser => "remove-user",
            Action::RemoveService => "remove-service",
            Action::Delete => "delete",
        }
    }

    /// Terraform-style symbol: `+` create/invite/add, `~` update, `-` remove/delete,
    /// `>` adopt/resend.
    pub fn symbol(self) -> char {
        match self {
            Action::Create | Action::Invite | Action::AddService => '+',
            Action::Update | Action::UpdateUser | Action::UpdateService => '~',
            Action::Adopt | Action::Resend => '>',
            Action::Revoke | Action::RemoveUser | Action::RemoveService | Action::Delete => '-',
        }
    }

    /// Does it remove something?
    pub fn is_removal(self) -> bool {
        self.symbol() == '-'
    }
}

/// The account an operation acts on or in.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AccountRef {
    /// The partner account itself (partner users).
    Partner,
    /// A customer, network or sub-account.
    Account {
        /// Its kind.
        kind: AccountKind,
        /// Its key (config key or live external key), when it has one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        key: Option<String>,
        /// Its live id; absent for an account this plan creates (resolved by key at apply).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
    },
}

impl AccountRef {
    /// The account's address: `partner`, `customer.contoso`, `network[id=acc_1]`.
    pub fn address(&self) -> String {
        match self {
            AccountRef::Partner => "partner".to_string(),
            AccountRef::Account { kind, key, id } => match (key, id) {
                (Some(k), _) => format!("{kind}.{k}"),
                (None, Some(id)) => format!("{kind}[id={id}]"),
                (None, None) => format!("{kind}[?]"),
            },
        }
    }

    /// The live id, if known at plan time.
    pub fn id(&self) -> Option<&str> {
        match self {
            AccountRef::Partner => None,
            AccountRef::Account { id, .. } => id.as_deref(),
        }
    }

    /// The key, if any.
    pub fn key(&self) -> Option<&str> {
        match self {
            AccountRef::Partner => None,
            AccountRef::Account { key, .. } => key.as_deref(),
        }
    }

    /// The kind (`None` for the partner).
    pub fn kind(&self) -> Option<AccountKind> {
        match self {
            AccountRef::Partner => None,
            AccountRef::Account { kind, .. } => Some(*kind),
        }
    }
}

/// One write the apply will perform, with what it changes (Terraform's `Change{Action, Before,
/// After}`) and the operations it must wait for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Operation {
    /// What it does.
    pub action: Action,
    /// Stable, unique-per-action address of the object: `customer.contoso`,
    /// `customer.contoso.user[jane@contoso.example]`, `customer.contoso.service[cards]`.
    pub address: String,
    /// The account the operation acts on (account actions) or in (users, services).
    pub account: AccountRef,
    /// For `create`: the parent account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<AccountRef>,
    /// For user actions on an existing user: its live id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// For service actions: the service type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_type: Option<String>,
    /// The live entity tag to send as `If-Match`, for changes to existing objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// The object's relevant fields before (absent for creations).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<Value>,
    /// The object's relevant fields after (absent for removals).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<Value>,
    /// Indexes (into [`Plan::operations`]) of the operations that must finish first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<usize>,
}

impl Operation {
    fn new(action: Action, address: String, account: AccountRef) -> Self {
        Operation {
            action,
            address,
            account,
            parent: None,
            user_id: None,
            service_type: None,
            etag: None,
            before: None,
            after: None,
            depends_on: Vec::new(),
        }
    }

    /// Fields whose values differ between `before` and `after` (for updates), in `after` order,
    /// then fields only `before` has.
    pub fn changed_fields(&self) -> Vec<(String, Option<Value>, Option<Value>)> {
        let field = |v: &Option<Value>, k: &str| v.as_ref().and_then(|o| o.get(k)).cloned();
        let keys = |v: &Option<Value>| -> Vec<String> {
            v.as_ref()
                .and_then(Value::as_object)
                .map(|o| o.keys().cloned().collect())
                .unwrap_or_default()
        };
        let after_keys = keys(&self.after);
        let mut out = Vec::new();
        for k in &after_keys {
            let (b, a) = (field(&self.before, k), field(&self.after, k));
            if b != a {
                out.push((k.clone(), b, a));
            }
        }
        for k in keys(&self.before) {
            if !after_keys.contains(&k) {
                let b = field(&self.before, &k);
                out.push((k, b, None));
            }
        }
        out
    }
}

/// A live object left alone because the configuration does not mention it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unmanaged {
    /// Its address.
    pub address: String,
    /// `account`, `user`, `invitation` or `service`.
    pub class: String,
    /// Why it is kept (`not in the configuration`, `protected`, ...).
    pub reason: String,
}

/// Planning switches (SPEC §4–§5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Options {
    /// Remove unmanaged users, invitations and services.
    pub prune: bool,
    /// Also delete unmanaged accounts (children first; protected ones never).
    pub prune_accounts: bool,
    /// Refuse to delete more than this percentage of a class (with ≥ 10 live objects).
    pub max_delete_percent: u32,
    /// Override the delete-percentage guard.
    pub force: bool,
}

/// Default of `--max-delete-percent`.
pub const DEFAULT_MAX_DELETE_PERCENT: u32 = 25;

impl Default for Options {
    fn default() -> Self {
        Options {
            prune: false,
            prune_accounts: false,
            max_delete_percent: DEFAULT_MAX_DELETE_PERCENT,
            force: false,
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
    /// Matching invitations still pending (no change needed).
    pub pending_invitations: usize,
    /// Live object counts.
    pub live: ClassCounts,
    /// Ids of the partner's active admins (for the last-admin guard).
    pub partner_admins: Vec<String>,
    /// API limits reported by the live side.
    pub limits: live::Limits,
}

impl Plan {
    /// No operations?
    pub fn is_empty(&self) -> bool {
        self.operations.is_empty()
    }

    /// Number of operations per action, in [`Action::ALL`] order, zeros left out.
    pub fn counts(&self) -> Vec<(Action, usize)> {
        Action::ALL
            .iter()
            .map(|a| {
                (
                    *a,
                    self.operations.iter().filter(|o| o.action == *a).count(),
                )
            })
            .filter(|(_, n)| *n > 0)
            .collect()
    }

    /// Write calls the apply needs (one per operation).
    pub fn writes(&self) -> usize {
        self.operations.len()
    }

    /// The least time the apply can take under the reported write limit, in seconds.
    pub fn min_seconds(&self) -> Option<f64> {
        let per_minute = self.limits.writes_per_minute?;
        (per_minute > 0).then(|| self.writes() as f64 * 60.0 / f64::from(per_minute))
    }

    /// Checks the guards of SPEC §5; `Err` lists every refusal.
    pub fn check_safety(&self) -> Result<(), Refusals> {
        guard::check(self)
    }
}

/// A reason the plan cannot be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlanError {
    /// The config's partner name differs from the token's partner.
    #[error(
        "the configuration is for partner `{config}`, but the token belongs to partner `{live}`; use the token of `{config}` or fix `partner.name`"
    )]
    PartnerName {
        /// Name in the config.
        config: String,
        /// Name of the token's partner.
        live: String,
    },
    /// An account exists under another parent; the API cannot move accounts.
    #[error(
        "{address} exists under {live_parent}, but the configuration puts it under {desired_parent}; the API cannot move accounts: move it back in the configuration, or delete and re-create it by changing its key"
    )]
    Moved {
        /// The account.
        address: String,
        /// Where it is.
        live_parent: String,
        /// Where the config wants it.
        desired_parent: String,
    },
    /// An account exists with another kind; the API cannot change kinds.
    #[error(
        "`{key}` is a {live_kind} in the live state but a {desired_kind} in the configuration; the API cannot change an account's kind: use another key for the {desired_kind}"
    )]
    KindChanged {
        /// The key.
        key: String,
        /// Live kind.
        live_kind: AccountKind,
        /// Desired kind.
        desired_kind: AccountKind,
    },
    /// Several unkeyed live accounts could be adopted.
    #[error("{address}: {} live accounts without a key have this kind, parent and name ({}); adopt one by setting its external key, or rename the others", ids.len(), ids.join(", "))]
    AmbiguousAdoption {
        /// The desired account.
        address: String,
        /// Candidate ids.
        ids: Vec<String>,
    },
    /// A service type the live catalog does not have.
    #[error("{address}: unknown service type `{service_type}`; the catalog has: {}", known.join(", "))]
    UnknownServiceType {
        /// The service address.
        address: String,
        /// The type.
        service_type: String,
        /// Types the catalog has.
        known: Vec<String>,
    },
    /// Settings that the type's schema rejects.
    #[error("{address}: invalid settings for `{service_type}`: {}", errors.iter().map(|(p, m)| format!("{} {m}", if p.is_empty() { "/" } else { p })).collect::<Vec<_>>().join("; "))]
    InvalidSettings {
        /// The service address.
        address: String,
        /// The type.
        service_type: String,
        /// `(JSON pointer, message)` pairs.
        errors: Vec<(String, String)>,
    },
}

/// Every planning error found.
#[derive(Debug, Clone, PartialEq, Default, thiserror::Error)]
pub struct PlanErrors(pub Vec<PlanError>);

impl std::fmt::Display for PlanErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

/// A desired account, flattened from the config tree.
struct Wanted<'d> {
    kind: AccountKind,
    key: &'d str,
    parent: Option<usize>,
    name: &'d str,
    contact: Option<&'d config::Contact>,
    country: Option<&'d str>,
    timezone: Option<&'d str>,
    labels: BTreeMap<String, String>,
    users: &'d [config::User],
    services: &'d [config::Service],
}

fn flatten(desired: &Desired) -> Vec<Wanted<'_>> {
    fn labels(own: &BTreeMap<String, String>, protect: bool) -> BTreeMap<String, String> {
        let mut l = own.clone();
        if protect {
            l.insert(PROTECT_LABEL.to_string(), "true".to_string());
        }
        l
    }
    let mut out = Vec::new();
    for c in &desired.customers {
        let ci = out.len();
        out.push(Wanted {
            kind: AccountKind::Customer,
            key: &c.key,
            parent: None,
            name: &c.name,
            contact: Some(&c.contact),
            country: c.country.as_deref(),
            timezone: c.timezone.as_deref(),
            labels: labels(&c.labels, c.protect),
            users: &c.users,
            services: &c.services,
        });
        for n in &c.networks {
            let ni = out.len();
            out.push(Wanted {
                kind: AccountKind::Network,
                key: &n.key,
                parent: Some(ci),
                name: &n.name,
                contact: None,
                country: n.country.as_deref(),
                timezone: n.timezone.as_deref(),
                labels: labels(&n.labels, n.protect),
                users: &n.users,
                services: &n.services,
            });
            for s in &n.sub_accounts {
                out.push(Wanted {
                    kind: AccountKind::SubAccount,
                    key: &s.key,
                    parent: Some(ni),
                    name: &s.name,
                    contact: None,
                    country: s.country.as_deref(),
                    timezone: s.timezone.as_deref(),
                    labels: labels(&s.labels, s.protect),
                    users: &s.users,
                    services: &s.services,
                });
            }
        }
    }
    out
}

fn contact_json(c: &config::Contact) -> Value {
    json!({ "name": c.name, "email": c.email })
}

fn live_contact_json(c: &live::Contact) -> Value {
    json!({ "name": c.name, "email": c.email })
}

/// The managed fields of a desired account, as JSON.
fn wanted_fields(w: &Wanted<'_>) -> serde_json::Map<String, Value> {
    let mut m = serde_json::Map::new();
    m.insert("name".into(), json!(w.name));
    if let Some(c) = w.contact {
        m.insert("contact".into(), contact_json(c));
    }
    if let Some(c) = w.country {
        m.insert("country".into(), json!(c));
    }
    if let Some(t) = w.timezone {
        m.insert("timezone".into(), json!(t));
    }
    m.insert("labels".into(), json!(w.labels));
    m
}

/// The same fields of a live account, for comparison.
fn live_fields(
    a: &live::Account,
    like: &serde_json::Map<String, Value>,
) -> serde_json::Map<String, Value> {
    let mut m = serde_json::Map::new();
    for k in like.keys() {
        let v = match k.as_str() {
            "name" => json!(a.name),
            "contact" => a.contact.as_ref().map_or(Value::Null, live_contact_json),
            "country" => a.country.as_ref().map_or(Value::Null, |c| json!(c)),
            "timezone" => a.timezone.as_ref().map_or(Value::Null, |c| json!(c)),
            "labels" => json!(a.labels),
            _ => continue,
        };
        m.insert(k.clone(), v);
    }
    m
}

fn user_address(account: &AccountRef, email: &str) -> String {
    format!("{}.user[{}]", account.address(), email.to_lowercase())
}

fn service_address(account: &AccountRef, service_type: &str) -> String {
    format!("{}.service[{service_type}]", account.address())
}

/// Computes the plan: every operation that makes the live state match the desired one.
pub fn plan(desired: &Desired, live: &Snapshot, options: Options) -> Result<Plan, PlanErrors> {
    Planner::new(live, options).run(desired)
}

struct Planner<'l> {
    live: &'l Snapshot,
    options: Options,
    by_id: HashMap<&'l str, &'l live::Account>,
    by_key: HashMap<&'l str, &'l live::Account>,
    children: HashMap<&'l str, Vec<&'l live::Account>>,
    users_by_account: HashMap<&'l str, Vec<&'l live::User>>,
    services_by_account: HashMap<&'l str, Vec<&'l live::Service>>,
    catalog: settings::Catalog<'l>,
    matched: HashSet<&'l str>,
    ops: Vec<Operation>,
    unmanaged: Vec<Unmanaged>,
    pending: usize,
    errors: Vec<PlanError>,
}

impl<'l> Planner<'l> {
    fn new(live: &'l Snapshot, options: Options) -> Self {
        let mut by_id = HashMap::new();
        let mut by_key = HashMap::new();
        let mut children: HashMap<&str, Vec<&live::Account>> = HashMap::new();
        for a in &live.accounts {
            by_id.insert(a.id.as_str(), a);
            if let Some(k) = &a.external_key {
                by_key.insert(k.as_str(), a);
            }
            children.entry(a.parent_id.as_str()).or_default().push(a);
        }
        let mut users_by_account: HashMap<&str, Vec<&live::User>> = HashMap::new();
        for u in &live.users {
            users_by_account
                .entry(u.account_id.as_str())
                .or_default()
                .push(u);
        }
        let mut services_by_account: HashMap<&str, Vec<&live::Service>> = HashMap::new();
        for s in &live.services {
            services_by_account
                .entry(s.account_id.as_str())
                .or_default()
                .push(s);
        }
        Planner {
            live,
            options,
            by_id,
            by_key,
            children,
            users_by_account,
            services_by_account,
            catalog: settings::Catalog::new(&live.catalog),
            matched: HashSet::new(),
            ops: Vec::new(),
            unmanaged: Vec::new(),
            pending: 0,
            errors: Vec::new(),
        }
    }

    fn push(&mut self, op: Operation) -> usize {
        self.ops.push(op);
        self.ops.len() - 1
    }

    fn run(mut self, desired: &Desired) -> Result<Plan, PlanErrors> {
        let live = self.live;
        if desired.partner.name != live.partner.name {
            self.errors.push(PlanError::PartnerName {
                config: desired.partner.name.clone(),
                live: live.partner.name.clone(),
            });
        }
        // Partner users first: they are at the top of the tree.
        self.members(
            &AccountRef::Partner,
            Some(live.partner.id.as_str()),
            &desired.partner.users,
            &[],
            None,
        );

        let wanted = flatten(desired);
        // For each wanted account: its reference and the op that creates it (if any).
        let mut refs: Vec<AccountRef> = Vec::with_capacity(wanted.len());
        let mut creators: Vec<Option<usize>> = Vec::with_capacity(wanted.len());
        for w in &wanted {
            let parent_ref = w.parent.map(|p| refs[p].clone());
            let parent_live_id: Option<&str> = match w.parent {
                None => Some(live.partner.id.as_str()),
                Some(p) => refs[p]
                    .id()
                    .and_then(|id| self.by_id.get(id).map(|a| a.id.as_str())),
            };
            let parent_creator = w.parent.and_then(|p| creators[p]);
            let fields = wanted_fields(w);

            let found = self.by_key.get(w.key).copied();
            let (account_ref, creator, live_account) = match found {
                Some(a) => {
                    self.matched.insert(a.id.as_str());
                    let r = AccountRef::Account {
                        kind: w.kind,
                        key: Some(w.key.to_string()),
                        id: Some(a.id.clone()),
                    };
                    if a.kind != w.kind {
                        self.errors.push(PlanError::KindChanged {
                            key: w.key.to_string(),
                            live_kind: a.kind,
                            desired_kind: w.kind,
                        });
                    } else if parent_live_id != Some(a.parent_id.as_str()) {
                        self.errors.push(PlanError::Moved {
                            address: r.address(),
                            live_parent: self.live_parent_address(&a.parent_id),
                            desired_parent: parent_ref
                                .as_ref()
                                .map_or_else(|| "partner".to_string(), AccountRef::address),
                        });
                    } else {
                        let before = live_fields(a, &fields);
                        if before != fields {
                            let mut op = Operation::new(Action::Update, r.address(), r.clone());
                            op.etag = Some(a.etag.clone());
                            op.before = Some(Value::Object(before));
                            op.after = Some(Value::Object(fields.clone()));
                            self.push(op);
                        }
                    }
                    (r, None, Some(a))
                }
                None => {
                    let candidates: Vec<&live::Account> = match parent_live_id {
                        Some(pid) => self
                            .children
                            .get(pid)
                            .map(|v| {
                                v.iter()
                                    .copied()
                                    .filter(|a| {
                                        a.external_key.is_none()
                                            && a.kind == w.kind
                                            && a.name == w.name
                                            && !self.matched.contains(a.id.as_str())
                                    })
                                    .collect()
                            })
                            .unwrap_or_default(),
                        None => Vec::new(),
                    };
                    match candidates.as_slice() {
                        [a] => {
                            self.matched.insert(a.id.as_str());
                            let r = AccountRef::Account {
                                kind: w.kind,
                                key: Some(w.key.to_string()),
                                id: Some(a.id.clone()),
                            };
                            let mut before = live_fields(a, &fields);
                            before.insert("external_key".into(), Value::Null);
                            let mut after = fields.clone();
                            after.insert("external_key".into(), json!(w.key));
                            let mut op = Operation::new(Action::Adopt, r.address(), r.clone());
                            op.etag = Some(a.etag.clone());
                            op.before = Some(Value::Object(before));
                            op.after = Some(Value::Object(after));
                            self.push(op);
                            (r, None, Some(*a))
                        }
                        [] => {
                            let r = AccountRef::Account {
                                kind: w.kind,
                                key: Some(w.key.to_string()),
                                id: None,
                            };
                            let mut after = serde_json::Map::new();
                            after.insert("kind".into(), json!(w.kind));
                            after.insert("external_key".into(), json!(w.key));
                            after.extend(fields);
                            let mut op = Operation::new(Action::Create, r.address(), r.clone());
                            op.parent = Some(parent_ref.clone().unwrap_or(AccountRef::Partner));
                            op.after = Some(Value::Object(after));
                            op.depends_on.extend(parent_creator);
                            let i = self.push(op);
                            (r, Some(i), None)
                        }
                        many => {
                            let r = AccountRef::Account {
                                kind: w.kind,
                                key: Some(w.key.to_string()),
                                id: None,
                            };
                            self.errors.push(PlanError::AmbiguousAdoption {
                                address: r.address(),
                                ids: many.iter().map(|a| a.id.clone()).collect(),
                            });
                            (r, None, None)
                        }
                    }
                }
            };
            let live_id = live_account.map(|a| a.id.as_str());
            self.members(&account_ref, live_id, w.users, w.services, creator);
            refs.push(account_ref);
            creators.push(creator);
        }
        self.prune_accounts();

        if !self.errors.is_empty() {
            return Err(PlanErrors(self.errors));
        }
        let live_counts = ClassCounts {
            accounts: live.accounts.len(),
            users: live.users.len(),
            services: live.services.len(),
        };
        Ok(Plan {
            partner: live.partner.clone(),
            options: self.options,
            operations: self.ops,
            unmanaged: self.unmanaged,
            pending_invitations: self.pending,
            live: live_counts,
            partner_admins: live
                .users
                .iter()
                .filter(|u| {
                    u.account_id == live.partner.id
                        && u.role == crate::vocab::Role::Admin
                        && u.status == UserStatus::Active
                })
                .map(|u| u.id.clone())
                .collect(),
            limits: live.limits,
        })
    }

    fn live_parent_address(&self, parent_id: &str) -> String {
        if parent_id == self.live.partner.id {
            return "partner".to_string();
        }
        match self.by_id.get(parent_id) {
            Some(p) => AccountRef::Account {
                kind: p.kind,
                key: p.external_key.clone(),
                id: Some(p.id.clone()),
            }
            .address(),
            None => format!("[id={parent_id}]"),
        }
    }

    /// Users and services of one account (the partner's services list is always empty).
    fn members(
        &mut self,
        account: &AccountRef,
        live_id: Option<&'l str>,
        users: &[config::User],
        services: &[config::Service],
        creator: Option<usize>,
    ) {
        let live_users: Vec<&'l live::User> = live_id
            .and_then(|id| self.users_by_account.get(id).cloned())
            .unwrap_or_default();
        let mut seen_users: HashSet<&str> = HashSet::new();
        for u in users {
            let address = user_address(account, &u.email);
            let found = live_users
                .iter()
                .find(|l| l.email.eq_ignore_ascii_case(&u.email));
            match found {
                None => {
                    let mut op = Operation::new(Action::Invite, address, account.clone());
                    op.after = Some(json!({ "email": u.email, "name": u.name, "role": u.role }));
                    op.depends_on.extend(creator);
                    self.push(op);
                }
                Some(l) => {
                    seen_users.insert(l.id.as_str());
                    // A name or role change goes first, with the snapshot's etag; a re-sent
                    // invitation then carries the new name (and needs no etag).
                    let mut update = None;
                    if l.name != u.name || l.role != u.role {
                        let mut op =
                            Operation::new(Action::UpdateUser, address.clone(), account.clone());
                        op.user_id = Some(l.id.clone());
                        op.etag = Some(l.etag.clone());
                        op.before = Some(json!({ "name": l.name, "role": l.role }));
                        op.after = Some(json!({ "name": u.name, "role": u.role }));
                        update = Some(self.push(op));
                    }
                    match l.status {
                        UserStatus::Expired => {
                            let mut op = Operation::new(Action::Resend, address, account.clone());
                            op.user_id = Some(l.id.clone());
                            op.before = Some(json!({ "status": "expired" }));
                            op.after = Some(json!({ "status": "invited" }));
                            op.depends_on.extend(update);
                            self.push(op);
                        }
                        UserStatus::Invited => self.pending += 1,
                        UserStatus::Active => {}
                    }
                }
            }
        }
        for l in live_users {
            if seen_users.contains(l.id.as_str()) {
                continue;
            }
            let address = user_address(account, &l.email);
            let (action, class) = match l.status {
                UserStatus::Active => (Action::RemoveUser, "user"),
                UserStatus::Invited | UserStatus::Expired => (Action::Revoke, "invitation"),
            };
            if self.options.prune {
                let mut op = Operation::new(action, address, account.clone());
                op.user_id = Some(l.id.clone());
                op.etag = Some(l.etag.clone());
                op.before = Some(json!({
                    "email": l.email, "name": l.name, "role": l.role, "status": l.status
                }));
                self.push(op);
            } else {
                self.unmanaged.push(Unmanaged {
                    address,
                    class: class.to_string(),
                    reason: "not in the configuration (--prune removes it)".to_string(),
                });
            }
        }

        let live_services: Vec<&'l live::Service> = live_id
            .and_then(|id| self.services_by_account.get(id).cloned())
            .unwrap_or_default();
        let mut seen_services: HashSet<&str> = HashSet::new();
        for s in services {
            let address = service_address(account, &s.service_type);
            let effective = match self.catalog.effective(&s.service_type, &s.settings) {
                Ok(v) => v,
                Err(settings::SettingsError::UnknownType) => {
                    self.errors.push(PlanError::UnknownServiceType {
                        address,
                        service_type: s.service_type.clone(),
                        known: self.catalog.names(),
                    });
                    continue;
                }
                Err(settings::SettingsError::Invalid(errors)) => {
                    self.errors.push(PlanError::InvalidSettings {
                        address,
                        service_type: s.service_type.clone(),
                        errors,
                    });
                    continue;
                }
            };
            let found = live_services
                .iter()
                .find(|l| l.service_type == s.service_type);
            match found {
                None => {
                    let mut op = Operation::new(Action::AddService, address, account.clone());
                    op.service_type = Some(s.service_type.clone());
                    op.after = Some(json!({ "settings": s.settings }));
                    op.depends_on.extend(creator);
                    self.push(op);
                }
                Some(l) => {
                    seen_services.insert(l.service_type.as_str());
                    if self.catalog.with_defaults(&l.service_type, &l.settings) != effective {
                        let mut op =
                            Operation::new(Action::UpdateService, address, account.clone());
                        op.service_type = Some(s.service_type.clone());
                        op.etag = Some(l.etag.clone());
                        op.before = Some(json!({ "settings": l.settings }));
                        op.after = Some(json!({ "settings": s.settings }));
                        self.push(op);
                    }
                }
            }
        }
        for l in live_services {
            if seen_services.contains(l.service_type.as_str()) {
                continue;
            }
            let address = service_address(account, &l.service_type);
            if self.options.prune {
                let mut op = Operation::new(Action::RemoveService, address, account.clone());
                op.service_type = Some(l.service_type.clone());
                op.etag = Some(l.etag.clone());
                op.before = Some(json!({ "settings": l.settings }));
                self.push(op);
            } else {
                self.unmanaged.push(Unmanaged {
                    address,
                    class: "service".to_string(),
                    reason: "not in the configuration (--prune removes it)".to_string(),
                });
            }
        }
    }

    /// Live accounts that no desired account matched: listed, or deleted children-first with
    /// `--prune-accounts` (never protected ones, nor their ancestors).
    fn prune_accounts(&mut self) {
        let live = self.live;
        let unmatched: Vec<&live::Account> = live
            .accounts
            .iter()
            .filter(|a| !self.matched.contains(a.id.as_str()))
            .collect();
        if unmatched.is_empty() {
            return;
        }
        // Accounts that must stay because they, or a descendant, are protected or matched.
        let mut keep: HashSet<&str> = HashSet::new();
        for a in &live.accounts {
            let protected = a.labels.get(PROTECT_LABEL).is_some_and(|v| v == "true");
            if protected || self.matched.contains(a.id.as_str()) {
                let mut cur = Some(a);
                while let Some(c) = cur {
                    if !keep.insert(c.id.as_str()) {
                        break;
                    }
                    cur = self.by_id.get(c.parent_id.as_str()).copied();
                }
            }
        }
        let account_ref = |a: &live::Account| AccountRef::Account {
            kind: a.kind,
            key: a.external_key.clone(),
            id: Some(a.id.clone()),
        };
        if !self.options.prune_accounts {
            for a in unmatched {
                self.unmanaged.push(Unmanaged {
                    address: account_ref(a).address(),
                    class: "account".to_string(),
                    reason: "not in the configuration (--prune-accounts deletes it)".to_string(),
                });
            }
            return;
        }
        // Children first: deepest kinds first, each delete waiting for its children's.
        let depth = |k: AccountKind| match k {
            AccountKind::SubAccount => 0,
            AccountKind::Network => 1,
            AccountKind::Customer => 2,
        };
        let mut order = unmatched;
        order.sort_by_key(|a| depth(a.kind));
        let mut delete_op: HashMap<&str, usize> = HashMap::new();
        for a in order {
            if keep.contains(a.id.as_str()) {
                let protected = a.labels.get(PROTECT_LABEL).is_some_and(|v| v == "true");
                self.unmanaged.push(Unmanaged {
                    address: account_ref(a).address(),
                    class: "account".to_string(),
                    reason: if protected {
                        "protected (never deleted)".to_string()
                    } else {
                        "holds a protected or managed account".to_string()
                    },
                });
                continue;
            }
            let mut op = Operation::new(Action::Delete, account_ref(a).address(), account_ref(a));
            op.etag = Some(a.etag.clone());
            let mut before = serde_json::Map::new();
            before.insert("name".into(), json!(a.name));
            let users = self.users_by_account.get(a.id.as_str()).map_or(0, Vec::len);
            let services = self
                .services_by_account
                .get(a.id.as_str())
                .map_or(0, Vec::len);
            before.insert("users".into(), json!(users));
            before.insert("services".into(), json!(services));
            op.before = Some(Value::Object(before));
            if let Some(kids) = self.children.get(a.id.as_str()) {
                op.depends_on.extend(
                    kids.iter()
                        .filter_map(|k| delete_op.get(k.id.as_str()).copied()),
                );
                op.depends_on.sort_unstable();
            }
            let i = self.push(op);
            delete_op.insert(a.id.as_str(), i);
        }
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
pub(crate) mod testutil;
