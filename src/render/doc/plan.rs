//! Stage `render`, the JSON plan as a typed document (`plan --format json`, `format_version`
//! "1"): the target, the options, a summary, every operation in the stable form saved plans
//! also hold (with its index and symbol), the unmanaged objects, the warnings, the guards'
//! refusals, the targets, the manual steps and the access changes. Pure.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use serde_json::json;

use super::common::{AccountRef, Action, ByAction, Contact, Target};
use crate::plan::{
    AccessChange as PlanAccessChange, AccountFields, Change, ManualStep as PlanManualStep,
    Membership as PlanMembership, NearMiss, Operation as PlanOperation, Person as PlanPerson, Plan,
    Settings, Unmanaged as PlanUnmanaged, UnmanagedObject as PlanObject,
};
use crate::policy::{Finding, Outcome};
use crate::provider::Target as ProviderTarget;
use crate::render::{JSON_FORMAT_VERSION, Verdict};
use crate::vocab::{AccountKind, Role, UserStatus};

/// A plan as `partnerctl plan --format json` writes it: what applying it would change, and
/// what it leaves alone.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "partnerctl plan")]
pub struct PlanDocument<'a> {
    /// The version of this format, bumped on incompatible changes.
    #[schemars(extend("const" = "1"))]
    pub format_version: &'static str,
    /// Where the plan was made, and for which partner.
    pub target: Target<'a>,
    /// The planning options, every guard's limit included.
    pub options: Options,
    /// Counts.
    pub summary: Summary,
    /// The operations, in tree order; `depends_on` makes them a graph.
    pub operations: Vec<Operation<'a>>,
    /// Live objects the configuration does not list, left alone.
    pub unmanaged: Vec<Unmanaged<'a>>,
    /// Creations that look like unmanaged live accounts (probable duplicates).
    pub warnings: Vec<Warning<'a>>,
    /// The messages of the guards that refuse this plan (empty when none refuses it).
    pub refusals: Vec<String>,
    /// The `--target` addresses the plan is restricted to (absent for the whole
    /// configuration).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<&'a str>,
    /// Operations the provider's API cannot perform: steps for a person at the vendor's
    /// dashboard, in order (absent when there are none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub manual_steps: Vec<ManualStep<'a>>,
    /// Who gains or loses access to how many accounts, escalations first.
    pub access_changes: Vec<AccessChange<'a>>,
    /// What the policies (`--policy`) said about the plan (absent when no policy was given).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Policy<'static>")]
    pub policy: Option<Policy<'a>>,
}

impl<'a> PlanDocument<'a> {
    /// The document of `plan`, made against `target`, judged as `verdict` says: refused for
    /// its refusals, with what its policies said.
    pub fn new(plan: &'a Plan, target: &'a ProviderTarget, verdict: Verdict<'a>) -> Self {
        let mut doc = PlanDocument::without_operations(plan, target, verdict);
        doc.operations = plan
            .operations
            .iter()
            .enumerate()
            .map(|(i, op)| Operation::new(i, op))
            .collect();
        doc
    }

    /// [`PlanDocument::new`] with `operations` left empty, for a reader that takes a large
    /// plan's operations apart, one at a time ([`PlanDocument::operations_of`]); the summary
    /// still counts them.
    pub fn without_operations(
        plan: &'a Plan,
        target: &'a ProviderTarget,
        verdict: Verdict<'a>,
    ) -> Self {
        let refusals = verdict.refusals;
        PlanDocument {
            format_version: JSON_FORMAT_VERSION,
            target: Target::new(target, &plan.partner),
            options: Options::new(&plan.options),
            summary: Summary::new(plan),
            operations: Vec::new(),
            unmanaged: plan.unmanaged.iter().map(Unmanaged::new).collect(),
            warnings: plan.near_misses.iter().map(Warning::new).collect(),
            refusals: refusals
                .map_or_else(Vec::new, |r| r.0.iter().map(ToString::to_string).collect()),
            targets: plan.targets.iter().map(String::as_str).collect(),
            manual_steps: plan.manual.iter().map(ManualStep::from).collect(),
            access_changes: plan.access.iter().map(AccessChange::from).collect(),
            policy: verdict.policy.map(Policy::new),
        }
    }

    /// The operations of `plan`, each serialized as its entry of `operations` is, made when
    /// it is serialized (and dropped after): no list of them all is kept.
    pub fn operations_of(plan: &'a Plan) -> Vec<OperationOf<'a>> {
        plan.operations
            .iter()
            .enumerate()
            .map(|(index, op)| OperationOf { index, op })
            .collect()
    }
}

/// One operation of a plan, serialized as its entry of [`PlanDocument::operations`].
#[derive(Debug, Clone, Copy)]
pub struct OperationOf<'a> {
    index: usize,
    op: &'a PlanOperation,
}

impl Serialize for OperationOf<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        Operation::new(self.index, self.op).serialize(s)
    }
}

/// What the policies said: the files evaluated, their denials and their warnings.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Policy<'a> {
    /// The policy files evaluated, each with the digest of its content.
    pub policies: Vec<PolicyFile<'a>>,
    /// The policies' denials (`deny`): a plan with any is refused, and never saved.
    pub denials: Vec<PolicyFinding<'a>>,
    /// The policies' warnings (`warn`).
    pub warnings: Vec<PolicyFinding<'a>>,
}

impl<'a> Policy<'a> {
    fn new(outcome: &'a Outcome) -> Self {
        let findings = |all: &'a [Finding]| {
            all.iter()
                .map(|f| PolicyFinding {
                    policy: &f.policy,
                    message: &f.message,
                    address: f.address.as_deref(),
                })
                .collect()
        };
        Policy {
            policies: outcome
                .policies
                .iter()
                .map(|d| PolicyFile {
                    path: &d.path,
                    sha256: &d.sha256,
                })
                .collect(),
            denials: findings(&outcome.denials),
            warnings: findings(&outcome.warnings),
        }
    }
}

/// A policy file evaluated.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyFile<'a> {
    /// Its path, as given (`policies/admins.rego`).
    pub path: &'a str,
    /// The SHA-256 of its content, in hex.
    pub sha256: &'a str,
}

/// One message of a policy.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyFinding<'a> {
    /// The policy file that says it.
    pub policy: &'a str,
    /// The message.
    pub message: &'a str,
    /// The operation or account it names (`customer.contoso`), when it names one.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub address: Option<&'a str>,
}

/// The planning switches.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Options {
    /// `--prune`: remove unmanaged users, invitations and services.
    pub prune: bool,
    /// `--prune-accounts`: also delete unmanaged accounts (children first; protected ones
    /// never).
    pub prune_accounts: bool,
    /// `--max-delete-percent`: the most of a class of live objects the plan may delete.
    pub max_delete_percent: u32,
    /// `--max-update-percent`: the most of a class of live objects the plan may update.
    pub max_update_percent: u32,
    /// `--force`: the delete and update guards overridden.
    pub force: bool,
    /// `--refuse-near-misses`: a creation that looks like an unmanaged live account refuses
    /// the plan (present only when set).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    #[schemars(extend("const" = true))]
    pub refuse_near_misses: bool,
}

impl Options {
    fn new(o: &crate::plan::Options) -> Self {
        Options {
            prune: o.prune,
            prune_accounts: o.prune_accounts,
            max_delete_percent: o.max_delete_percent,
            max_update_percent: o.max_update_percent,
            force: o.force,
            refuse_near_misses: o.refuse_near_misses,
        }
    }
}

/// What the plan amounts to.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Summary {
    /// Whether there is any operation.
    pub changes: bool,
    /// Write calls the apply makes (one per operation, manual steps aside).
    pub writes: usize,
    /// Operations per action (an action without any left out).
    pub by_action: ByAction,
    /// Matching invitations still pending (no change needed).
    pub pending_invitations: usize,
    /// Unmanaged live objects.
    pub unmanaged: usize,
    /// Unmanaged admins and admins' invitations: access the configuration does not grant.
    pub unmanaged_admins: usize,
    /// The API's write limit per minute (null when it reports none).
    pub writes_per_minute: Option<u32>,
    /// The least time the writes take under the API's limits, in seconds (null without a
    /// limit).
    pub min_seconds: Option<f64>,
}

impl Summary {
    fn new(plan: &Plan) -> Self {
        Summary {
            changes: !plan.is_empty(),
            writes: plan.writes(),
            by_action: ByAction(plan.counts()),
            pending_invitations: plan.pending_invitations,
            unmanaged: plan.unmanaged.len(),
            unmanaged_admins: plan.unmanaged_admins(),
            writes_per_minute: plan.limits.writes_per_minute,
            min_seconds: plan.min_seconds(),
        }
    }
}

/// The symbol plans show for an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
pub enum Symbol {
    /// Create, invite, add a service.
    #[serde(rename = "+")]
    Add,
    /// Update an account, a user or a service.
    #[serde(rename = "~")]
    Change,
    /// Remove a user or a service, revoke an invitation, delete an account.
    #[serde(rename = "-")]
    Remove,
    /// Adopt an account, re-send an invitation.
    #[serde(rename = ">")]
    Carry,
}

impl Symbol {
    fn of(action: crate::plan::Action) -> Self {
        match action.symbol() {
            '+' => Symbol::Add,
            '~' => Symbol::Change,
            '-' => Symbol::Remove,
            _ => Symbol::Carry,
        }
    }
}

/// One write the apply performs: the stable form of an operation (the one saved plans hold),
/// with its index and symbol.
#[derive(Debug, Clone, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(transform = per_action)]
pub struct Operation<'a> {
    /// What it does.
    pub action: Action,
    /// The object it acts on: `customer.contoso`, `customer.contoso.user[jane@contoso.example]`,
    /// `customer.contoso.service[cards]`.
    pub address: &'a str,
    /// The account it acts on (account actions) or in (users, services).
    pub account: AccountRef<'a>,
    /// The parent of the account it creates (creations only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "AccountRef<'static>")]
    pub parent: Option<AccountRef<'a>>,
    /// The live id of the user it acts on (re-sends, user updates and removals, revocations).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub user_id: Option<&'a str>,
    /// The service's catalog type (service actions).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub service_type: Option<&'a str>,
    /// The live entity tag it is sent with as `If-Match` (changes to existing objects).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub etag: Option<&'a str>,
    /// The object's relevant fields as they are (absent for creations, invitations and
    /// additions).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Fields<'static>")]
    pub before: Option<Fields<'a>>,
    /// The object's relevant fields as they will be (absent for removals and deletions).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Fields<'static>")]
    pub after: Option<Fields<'a>>,
    /// The indexes of the operations that must finish first.
    pub depends_on: &'a [usize],
    /// Its index in `operations`.
    pub index: usize,
    /// Its symbol.
    pub symbol: Symbol,
}

// In the order this format has always written: `depends_on` before `index` and `symbol` when
// the operation depends on others, after them when it is empty.
impl Serialize for Operation<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("action", &self.action)?;
        m.serialize_entry("address", self.address)?;
        m.serialize_entry("account", &self.account)?;
        if let Some(parent) = &self.parent {
            m.serialize_entry("parent", parent)?;
        }
        for (name, value) in [
            ("user_id", self.user_id),
            ("service_type", self.service_type),
            ("etag", self.etag),
        ] {
            if let Some(value) = value {
                m.serialize_entry(name, value)?;
            }
        }
        if let Some(before) = &self.before {
            m.serialize_entry("before", before)?;
        }
        if let Some(after) = &self.after {
            m.serialize_entry("after", after)?;
        }
        let depends_first = !self.depends_on.is_empty();
        if depends_first {
            m.serialize_entry("depends_on", self.depends_on)?;
        }
        m.serialize_entry("index", &self.index)?;
        m.serialize_entry("symbol", &self.symbol)?;
        if !depends_first {
            m.serialize_entry("depends_on", self.depends_on)?;
        }
        m.end()
    }
}

/// What an operation of each action holds: the fields it requires (`before` and `after` of
/// the shape given), and those it never has.
fn shapes() -> [(&'static [crate::plan::Action], Shape); 10] {
    use crate::plan::Action as A;
    let account = Some("AccountFieldsView");
    [
        (&[A::Create], Shape::new(&["parent"], None, account)),
        (
            &[A::Update, A::Adopt],
            Shape::new(&["etag"], account, account),
        ),
        (&[A::Delete], Shape::new(&["etag"], Some("Doomed"), None)),
        (&[A::Invite], Shape::new(&[], None, Some("Person"))),
        (
            &[A::Resend],
            Shape::new(&["user_id"], Some("Status"), Some("Status")),
        ),
        (
            &[A::UpdateUser],
            Shape::new(&["user_id", "etag"], Some("Membership"), Some("Membership")),
        ),
        (
            &[A::Revoke, A::RemoveUser],
            Shape::new(&["user_id", "etag"], Some("Former"), None),
        ),
        (
            &[A::AddService],
            Shape::new(&["service_type"], None, Some("ServiceSettings")),
        ),
        (
            &[A::UpdateService],
            Shape::new(
                &["service_type", "etag"],
                Some("ServiceSettings"),
                Some("ServiceSettings"),
            ),
        ),
        (
            &[A::RemoveService],
            Shape::new(&["service_type", "etag"], Some("ServiceSettings"), None),
        ),
    ]
}

/// The fields an operation of some actions holds.
struct Shape {
    required: &'static [&'static str],
    before: Option<&'static str>,
    after: Option<&'static str>,
}

impl Shape {
    fn new(
        required: &'static [&'static str],
        before: Option<&'static str>,
        after: Option<&'static str>,
    ) -> Self {
        Shape {
            required,
            before,
            after,
        }
    }
}

/// Adds to the schema of an operation what each action holds: an `if`/`then` per action
/// requiring its fields (`before` and `after` of its shape) and forbidding the others.
fn per_action(schema: &mut schemars::Schema) {
    let optional = [
        "parent",
        "user_id",
        "service_type",
        "etag",
        "before",
        "after",
    ];
    let rules: Vec<serde_json::Value> = shapes()
        .into_iter()
        .map(|(actions, shape)| {
            let names: Vec<&str> = actions.iter().map(|a| a.as_str()).collect();
            let mut required: Vec<&str> = shape.required.to_vec();
            let mut properties = serde_json::Map::new();
            for (field, def) in [("before", shape.before), ("after", shape.after)] {
                if let Some(def) = def {
                    required.push(field);
                    properties.insert(field.into(), json!({ "$ref": format!("#/$defs/{def}") }));
                }
            }
            for field in optional {
                if !required.contains(&field) {
                    properties.insert(field.into(), json!(false));
                }
            }
            json!({
                "if": { "properties": { "action": { "enum": names } } },
                "then": { "required": required, "properties": properties },
            })
        })
        .collect();
    schema.insert("allOf".into(), json!(rules));
}

impl<'a> Operation<'a> {
    fn new(index: usize, op: &'a PlanOperation) -> Self {
        let (before, after) = Fields::of(op);
        Operation {
            action: op.action().into(),
            address: &op.address,
            account: (&op.account).into(),
            parent: op.parent().map(AccountRef::from),
            user_id: op.change.user().map(|u| u.id.as_str()),
            service_type: op.change.service_type(),
            etag: op.change.etag(),
            before,
            after,
            depends_on: &op.depends_on,
            index,
            symbol: Symbol::of(op.action()),
        }
    }
}

/// An object's relevant fields, as the API names them: which ones depends on the action.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum Fields<'a> {
    /// An account (creations, updates, adoptions).
    Account(AccountFieldsView<'a>),
    /// A person invited (invitations).
    Person(Person<'a>),
    /// A user's name and role (user updates).
    Membership(Membership<'a>),
    /// The user removed or the invitation revoked (removals and revocations).
    Former(Former<'a>),
    /// An invitation's state (re-sends: `expired` before, `invited` after).
    Status(Status),
    /// A service's settings (service actions).
    Settings(ServiceSettings<'a>),
    /// The account deleted, and what goes with it (deletions).
    Doomed(Doomed<'a>),
}

/// An account's fields; those the configuration does not manage are left out.
#[derive(Debug, Clone, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountFieldsView<'a> {
    /// Its kind (creations).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "AccountKind")]
    pub kind: Option<AccountKind>,
    /// Its external key (creations and adoptions; `null` for none).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub external_key: Option<Option<&'a str>>,
    /// Its display name.
    pub name: &'a str,
    /// Its contact person (customers; `null` for none).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<Contact<'static>>")]
    pub contact: Option<Option<Contact<'a>>>,
    /// Its ISO 3166-1 alpha-2 country (`null` for none).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub country: Option<Option<&'a str>>,
    /// Its IANA time zone (`null` for none).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub timezone: Option<Option<&'a str>>,
    /// Its labels.
    pub labels: &'a BTreeMap<String, String>,
    /// Where `external_key` goes: last for adoptions.
    #[serde(skip)]
    pub key_last: bool,
}

// A creation writes `kind` and `external_key` first; an adoption writes `external_key` last.
impl Serialize for AccountFieldsView<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        if let Some(kind) = &self.kind {
            m.serialize_entry("kind", kind)?;
        }
        if let (Some(key), false) = (&self.external_key, self.key_last) {
            m.serialize_entry("external_key", key)?;
        }
        m.serialize_entry("name", self.name)?;
        if let Some(contact) = &self.contact {
            m.serialize_entry("contact", contact)?;
        }
        if let Some(country) = &self.country {
            m.serialize_entry("country", country)?;
        }
        if let Some(timezone) = &self.timezone {
            m.serialize_entry("timezone", timezone)?;
        }
        m.serialize_entry("labels", self.labels)?;
        if let (Some(key), true) = (&self.external_key, self.key_last) {
            m.serialize_entry("external_key", key)?;
        }
        m.end()
    }
}

impl<'a> AccountFieldsView<'a> {
    /// The fields of `fields` that `like` sets.
    fn new(fields: &'a AccountFields, like: &AccountFields) -> Self {
        AccountFieldsView {
            kind: None,
            external_key: None,
            name: &fields.name,
            contact: like
                .contact
                .as_ref()
                .map(|_| fields.contact.as_ref().map(Contact::from)),
            country: like.country.as_ref().map(|_| fields.country.as_deref()),
            timezone: like.timezone.as_ref().map(|_| fields.timezone.as_deref()),
            labels: &fields.labels,
            key_last: false,
        }
    }
}

/// A person invited.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Person<'a> {
    /// Email address.
    pub email: &'a str,
    /// Full name.
    pub name: &'a str,
    /// Role.
    pub role: Role,
}

impl<'a> From<&'a PlanPerson> for Person<'a> {
    fn from(p: &'a PlanPerson) -> Self {
        Person {
            email: &p.email,
            name: &p.name,
            role: p.role,
        }
    }
}

/// A user's name and role.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Membership<'a> {
    /// Full name.
    pub name: &'a str,
    /// Role.
    pub role: Role,
}

impl<'a> From<&'a PlanMembership> for Membership<'a> {
    fn from(m: &'a PlanMembership) -> Self {
        Membership {
            name: &m.name,
            role: m.role,
        }
    }
}

/// A user or invitation as it was before its removal.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Former<'a> {
    /// Email address.
    pub email: &'a str,
    /// Full name.
    pub name: &'a str,
    /// Role.
    pub role: Role,
    /// Its invitation state.
    pub status: UserStatus,
}

/// An invitation's state.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Status {
    /// The state.
    pub status: UserStatus,
}

/// A service's settings.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceSettings<'a> {
    /// The settings, valid against the service type's schema in the catalog.
    pub settings: &'a Settings,
}

/// An account to delete.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Doomed<'a> {
    /// Its display name.
    pub name: &'a str,
    /// Users and invitations it holds, deleted with it.
    pub users: usize,
    /// Services it holds, deleted with it.
    pub services: usize,
}

impl<'a> Fields<'a> {
    /// `before` and `after` of an operation.
    fn of(op: &'a PlanOperation) -> (Option<Self>, Option<Self>) {
        let key = op.account.key();
        let account = |fields, like| Some(Fields::Account(AccountFieldsView::new(fields, like)));
        match &op.change {
            Change::Create { fields, .. } => {
                let mut after = AccountFieldsView::new(fields, fields);
                if let Some(kind) = op.account.kind() {
                    after.kind = Some(kind);
                    after.external_key = Some(key);
                }
                (None, Some(Fields::Account(after)))
            }
            Change::Update { before, after, .. } => (account(before, after), account(after, after)),
            Change::Adopt { before, after, .. } => {
                let adopted = |fields, key| {
                    Some(Fields::Account(AccountFieldsView {
                        external_key: Some(key),
                        key_last: true,
                        ..AccountFieldsView::new(fields, after)
                    }))
                };
                (adopted(before, None), adopted(after, key))
            }
            Change::Delete {
                name,
                users,
                services,
                ..
            } => (
                Some(Fields::Doomed(Doomed {
                    name,
                    users: *users,
                    services: *services,
                })),
                None,
            ),
            Change::Invite(p) => (None, Some(Fields::Person(p.into()))),
            Change::Resend { .. } => (
                Some(Fields::Status(Status {
                    status: UserStatus::Expired,
                })),
                Some(Fields::Status(Status {
                    status: UserStatus::Invited,
                })),
            ),
            Change::UpdateUser { before, after, .. } => (
                Some(Fields::Membership(before.into())),
                Some(Fields::Membership(after.into())),
            ),
            Change::Revoke { was, status, .. } | Change::RemoveUser { was, status, .. } => (
                Some(Fields::Former(Former {
                    email: &was.email,
                    name: &was.name,
                    role: was.role,
                    status: *status,
                })),
                None,
            ),
            Change::AddService { settings, .. } => {
                (None, Some(Fields::Settings(ServiceSettings { settings })))
            }
            Change::UpdateService { before, after, .. } => (
                Some(Fields::Settings(ServiceSettings { settings: before })),
                Some(Fields::Settings(ServiceSettings { settings: after })),
            ),
            Change::RemoveService { settings, .. } => {
                (Some(Fields::Settings(ServiceSettings { settings })), None)
            }
        }
    }
}

/// A live object the configuration does not list, left alone.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(extend("unevaluatedProperties" = false))]
pub struct Unmanaged<'a> {
    /// Its address.
    pub address: &'a str,
    /// What it is.
    #[schemars(extend("enum" = ["account", "user", "invitation", "service"]))]
    pub class: &'a str,
    /// Why it is kept (not in the configuration, protected, ...).
    pub reason: &'a str,
    /// Which object it is.
    #[serde(flatten)]
    pub object: UnmanagedObject<'a>,
    /// An admin, or an admin's invitation, the configuration does not list (also inside
    /// unmanaged accounts): control of the account and everything below it (present only
    /// then).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    #[schemars(extend("const" = true))]
    pub access_risk: bool,
}

impl<'a> Unmanaged<'a> {
    fn new(u: &'a PlanUnmanaged) -> Self {
        Unmanaged {
            address: &u.address,
            class: u.class.as_str(),
            reason: u.reason.as_str(),
            object: (&u.object).into(),
            access_risk: u.is_admin(),
        }
    }
}

/// What an unmanaged object is.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum UnmanagedObject<'a> {
    /// A customer, network or sub-account.
    Account {
        /// Its kind.
        kind: AccountKind,
        /// Its display name.
        name: &'a str,
        /// Its external key (`null` for none).
        key: Option<&'a str>,
        /// Its live id.
        id: &'a str,
        /// The address of its parent.
        parent: &'a str,
    },
    /// A user or invitation.
    User {
        /// Email address.
        email: &'a str,
        /// Full name.
        name: &'a str,
        /// Role.
        role: Role,
        /// Invitation state.
        status: UserStatus,
        /// The address of its account.
        account: &'a str,
    },
    /// A service.
    Service {
        /// Its catalog type.
        #[serde(rename = "type")]
        service_type: &'a str,
        /// The address of its account.
        account: &'a str,
    },
}

impl<'a> From<&'a PlanObject> for UnmanagedObject<'a> {
    fn from(o: &'a PlanObject) -> Self {
        match o {
            PlanObject::Account {
                kind,
                name,
                key,
                id,
                parent,
            } => UnmanagedObject::Account {
                kind: *kind,
                name,
                key: key.as_deref(),
                id,
                parent,
            },
            PlanObject::User {
                email,
                name,
                role,
                status,
                account,
            } => UnmanagedObject::User {
                email,
                name,
                role: *role,
                status: *status,
                account,
            },
            PlanObject::Service {
                service_type,
                account,
            } => UnmanagedObject::Service {
                service_type,
                account,
            },
        }
    }
}

/// A creation whose name is close to that of an unmanaged live sibling: probably that account
/// under a mistyped name.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Warning<'a> {
    /// The account the plan creates.
    pub address: &'a str,
    /// Its kind.
    pub kind: AccountKind,
    /// The name it would be created with.
    pub name: &'a str,
    /// The unmanaged live account's id.
    pub live_id: &'a str,
    /// Its name.
    pub live_name: &'a str,
    /// Its external key (`null` for none).
    pub live_key: Option<&'a str>,
    /// The kind of warning.
    #[serde(rename = "type")]
    #[schemars(extend("const" = "near-miss"))]
    pub warning: &'static str,
    /// The warning as a sentence, with how to adopt the live account instead.
    pub message: String,
}

impl<'a> Warning<'a> {
    fn new(w: &'a NearMiss) -> Self {
        Warning {
            address: &w.address,
            kind: w.kind,
            name: &w.name,
            live_id: &w.live_id,
            live_name: &w.live_name,
            live_key: w.live_key.as_deref(),
            warning: "near-miss",
            message: w.to_string(),
        }
    }
}

/// A step for a person, in the vendor's words.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ManualStep<'a> {
    /// The index of the operation it stands for.
    pub operation: usize,
    /// What to do, in a few words.
    pub title: &'a str,
    /// How, with the values to type: one instruction a line.
    pub lines: &'a [String],
}

impl<'a> From<&'a PlanManualStep> for ManualStep<'a> {
    fn from(m: &'a PlanManualStep) -> Self {
        ManualStep {
            operation: m.operation,
            title: &m.title,
            lines: &m.lines,
        }
    }
}

/// What the plan changes for one person.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AccessChange<'a> {
    /// Their email, lower case.
    pub email: &'a str,
    /// Accounts they will reach that they do not reach now.
    pub gains: usize,
    /// Accounts they reach now and will not.
    pub loses: usize,
    /// Why this is an escalation of privilege (present only for one).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub escalation: Option<&'a str>,
}

impl<'a> From<&'a PlanAccessChange> for AccessChange<'a> {
    fn from(a: &'a PlanAccessChange) -> Self {
        AccessChange {
            email: &a.email,
            gains: a.gains,
            loses: a.loses,
            escalation: a.escalation.as_deref(),
        }
    }
}
