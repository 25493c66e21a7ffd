//! Stage `plan`, safety guards: refusals that stop an apply before any write (the share of a
//! class deleted or updated, the last partner admin, what may not be managed), each
//! naming its counts and the flag that overrides it (if any). Pure.

use std::collections::HashSet;

use super::{AccountFields, AccountRef, Action, Change, Plan};
use crate::vocab::{AccountKind, Role};

/// A class of live objects the mass-change guards count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum GuardClass {
    /// Customers, networks and sub-accounts.
    Accounts,
    /// Users and invitations.
    Users,
    /// Services.
    Services,
}

impl GuardClass {
    /// Its name in refusals.
    pub fn as_str(self) -> &'static str {
        match self {
            GuardClass::Accounts => "accounts",
            GuardClass::Users => "users",
            GuardClass::Services => "services",
        }
    }
}

impl std::fmt::Display for GuardClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A reason to refuse the plan.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Too large a share of a class would be deleted, what account deletions remove with them
    /// included.
    #[error(
        "{}; check the configuration, or pass --force (or raise --max-delete-percent) if this is intended",
        deleting(.class, *.deletes, *.live, *.percent, *.max, .cascades)
    )]
    DeleteThreshold {
        /// The class.
        class: GuardClass,
        /// Objects of the class the plan removes: by removals, and with the accounts it
        /// deletes.
        deletes: usize,
        /// Live objects of the class.
        live: usize,
        /// Rounded-up percentage.
        percent: usize,
        /// The limit in force.
        max: u32,
        /// The account deletions that remove objects of the class with them: each account's
        /// address and how many, most first (empty for the accounts themselves: each deleted
        /// account is its own operation).
        cascades: Vec<(String, usize)>,
    },
    /// Too large a share of a class would be updated.
    #[error(
        "updating {updates} of {live} {class} ({percent}%) exceeds --max-update-percent {max}; check the configuration, or pass --force (or raise --max-update-percent) if this is intended"
    )]
    UpdateThreshold {
        /// The class.
        class: GuardClass,
        /// Planned updates.
        updates: usize,
        /// Live objects of the class.
        live: usize,
        /// Rounded-up percentage.
        percent: usize,
        /// The limit in force.
        max: u32,
    },
    /// The partner would be left without an active admin.
    #[error("the plan removes or demotes the last active admin of the partner account ({}); keep at least one active admin in `partner.users` (no flag overrides this)", emails.join(", "))]
    LastPartnerAdmin {
        /// The admins being removed or demoted.
        emails: Vec<String>,
    },
    /// The partner is not manageable, and the plan changes things inside customers.
    #[error(
        "partner `{partner}` is not manageable (support level `{support_level}`): {count} change(s) inside customers cannot be made (deleting a customer is one), e.g. {example}; confirm a support level with the vendor, or leave those changes out (what would be removed: keep it in the configuration, or plan without --prune and --prune-accounts)"
    )]
    NotManageable {
        /// Partner name.
        partner: String,
        /// Its support level.
        support_level: String,
        /// Blocked operations.
        count: usize,
        /// One of them, for the message.
        example: String,
    },
    /// The plan changes things inside a customer the vendor does not let the partner manage.
    #[error(
        "customer \"{customer}\" may not be managed by the partner (the vendor's \"manage\" permission for it is off): {count} change(s) to it or inside it cannot be made (deleting it is one), e.g. {example}; ask the customer or the vendor to allow it, or leave those changes out (what would be removed: keep it in the configuration, or plan without --prune and --prune-accounts)"
    )]
    CustomerNotManageable {
        /// The customer's name.
        customer: String,
        /// Blocked operations.
        count: usize,
        /// One of them, for the message.
        example: String,
    },
    /// The plan changes things the provider does not manage.
    #[error(
        "the vendor's API does not manage services, and the configuration has {count} service change(s) (e.g. {example}); remove the services from the configuration for this vendor"
    )]
    Unsupported {
        /// How many changes.
        count: usize,
        /// One of them.
        example: String,
    },
    /// The plan creates accounts that look like unmanaged live ones, and the user asked to
    /// refuse that.
    #[error(
        "{count} account(s) to create look like unmanaged live accounts (e.g. {example}); adopt them or correct the names, or drop --refuse-near-misses if they are new"
    )]
    NearMisses {
        /// How many.
        count: usize,
        /// One of them.
        example: String,
    },
}

/// Every refusal of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Default, thiserror::Error)]
pub struct Refusals(pub Vec<Refusal>);

impl std::fmt::Display for Refusals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        super::error::one_per_line(f, &self.0)
    }
}

/// Classes are guarded once they have this many live objects.
pub(super) const GUARD_MIN_LIVE: usize = 10;

/// The first words of a delete-threshold refusal: how many objects of `class` go, and, when
/// account deletions take some with them, which accounts.
fn deleting(
    class: &GuardClass,
    deletes: usize,
    live: usize,
    percent: usize,
    max: u32,
    cascades: &[(String, usize)],
) -> String {
    const NAMED: usize = 3;
    let share = format!("{deletes} of {live} {class} ({percent}%)");
    let direct = deletes.saturating_sub(cascades.iter().map(|(_, n)| n).sum());
    match cascades {
        [] => return format!("deleting {share} exceeds --max-delete-percent {max}"),
        [(address, _)] if direct == 0 => {
            return format!(
                "deleting {address} removes {share}, which exceeds --max-delete-percent {max}"
            );
        }
        _ => {}
    }
    let mut accounts: Vec<String> = cascades
        .iter()
        .take(NAMED)
        .map(|(address, n)| format!("{address} ({n})"))
        .collect();
    if let Some(rest) = cascades.get(NAMED..).filter(|r| !r.is_empty()) {
        let n: usize = rest.iter().map(|(_, n)| n).sum();
        accounts.push(format!("{} more account(s) ({n})", rest.len()));
    }
    let accounts = match accounts.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, init)) => format!("{} and {last}", init.join(", ")),
        None => String::new(),
    };
    let plus = if direct > 0 {
        format!(", plus {direct} removed directly,")
    } else {
        String::new()
    };
    format!("deleting {accounts}{plus} removes {share}, which exceeds --max-delete-percent {max}")
}

/// How many objects of a class a plan removes (or updates), of how many live ones.
struct Tally {
    class: GuardClass,
    live: usize,
    count: usize,
    /// The account deletions that remove objects of the class with them, as in
    /// [`Refusal::DeleteThreshold`].
    cascades: Vec<(String, usize)>,
}

impl Tally {
    fn new(class: GuardClass, live: usize) -> Self {
        Tally {
            class,
            live,
            count: 0,
            cascades: Vec::new(),
        }
    }

    /// Counts `n` objects deleted with the account at `address`.
    fn cascade(&mut self, address: &str, n: usize) {
        if n > 0 {
            self.count += n;
            self.cascades.push((address.to_string(), n));
        }
    }

    /// Is the count more than `max` percent of a guarded class?
    fn exceeds(&self, max: u32) -> bool {
        self.live >= GUARD_MIN_LIVE && self.count * 100 > self.live * max as usize
    }

    fn percent(&self) -> usize {
        (self.count * 100).div_ceil(self.live)
    }
}

/// What the plan removes of accounts, users and services. Deleting an account removes its
/// users, invitations and services with it (its child accounts are deletions of their own);
/// the planner lists no removal of a user or service of an account it deletes, so nothing
/// counts twice.
fn removals(plan: &Plan) -> [Tally; 3] {
    let mut accounts = Tally::new(GuardClass::Accounts, plan.live.accounts);
    let mut users = Tally::new(GuardClass::Users, plan.live.users);
    let mut services = Tally::new(GuardClass::Services, plan.live.services);
    for o in &plan.operations {
        match &o.change {
            Change::Delete {
                users: u,
                services: s,
                ..
            } => {
                accounts.count += 1;
                users.cascade(&o.address, *u);
                services.cascade(&o.address, *s);
            }
            Change::RemoveUser { .. } | Change::Revoke { .. } => users.count += 1,
            Change::RemoveService { .. } => services.count += 1,
            _ => {}
        }
    }
    for t in [&mut users, &mut services] {
        t.cascades
            .sort_by(|(a, m), (b, n)| n.cmp(m).then_with(|| a.cmp(b)));
    }
    [accounts, users, services]
}

/// What the plan updates of accounts (their fields), users (name or role) and services
/// (settings). An adoption counts when it changes fields besides setting the key: adopting
/// accounts as they are changes nothing people see. Re-sending an invitation is no update.
fn updates(plan: &Plan) -> [Tally; 3] {
    let mut accounts = Tally::new(GuardClass::Accounts, plan.live.accounts);
    let mut users = Tally::new(GuardClass::Users, plan.live.users);
    let mut services = Tally::new(GuardClass::Services, plan.live.services);
    for o in &plan.operations {
        match &o.change {
            Change::Update { .. } => accounts.count += 1,
            Change::Adopt { before, after, .. }
                if !AccountFields::diff(before, after).is_empty() =>
            {
                accounts.count += 1;
            }
            Change::UpdateUser { .. } => users.count += 1,
            Change::UpdateService { .. } => services.count += 1,
            _ => {}
        }
    }
    [accounts, users, services]
}

pub(super) fn check(plan: &Plan) -> Result<(), Refusals> {
    let mut out = Vec::new();
    if !plan.options.force {
        let max = plan.options.max_delete_percent;
        for t in removals(plan) {
            if t.exceeds(max) {
                out.push(Refusal::DeleteThreshold {
                    class: t.class,
                    deletes: t.count,
                    live: t.live,
                    percent: t.percent(),
                    max,
                    cascades: t.cascades,
                });
            }
        }
        let max = plan.options.max_update_percent;
        for t in updates(plan) {
            if t.exceeds(max) {
                out.push(Refusal::UpdateThreshold {
                    class: t.class,
                    updates: t.count,
                    live: t.live,
                    percent: t.percent(),
                    max,
                });
            }
        }
    }
    if let Some(r) = last_partner_admin(plan) {
        out.push(r);
    }
    if let Some(first) = plan.unsupported.first() {
        out.push(Refusal::Unsupported {
            count: plan.unsupported.len(),
            example: first.clone(),
        });
    }
    if let (true, Some(first)) = (plan.options.refuse_near_misses, plan.near_misses.first()) {
        out.push(Refusal::NearMisses {
            count: plan.near_misses.len(),
            example: first.address.clone(),
        });
    }
    if !plan.partner.manageable {
        let blocked: Vec<&str> = plan
            .operations
            .iter()
            .filter(|o| gated(o, plan.closed_records))
            .map(|o| o.address.as_str())
            .collect();
        if let Some(first) = blocked.first() {
            out.push(Refusal::NotManageable {
                partner: plan.partner.name.clone(),
                support_level: plan.partner.support_level.clone(),
                count: blocked.len(),
                example: (*first).to_string(),
            });
        }
    }
    let mut closed: Vec<(&str, Vec<&str>)> = Vec::new();
    for (customer, address) in &plan.closed {
        match closed.iter_mut().find(|(c, _)| c == customer) {
            Some((_, list)) => list.push(address),
            None => closed.push((customer, vec![address])),
        }
    }
    for (customer, list) in closed {
        out.push(Refusal::CustomerNotManageable {
            customer: customer.to_string(),
            count: list.len(),
            example: list[0].to_string(),
        });
    }
    if out.is_empty() {
        Ok(())
    } else {
        Err(Refusals(out))
    }
}

/// Is this a change inside a customer (blocked where the customer may not be managed: the
/// partner is not manageable, or the customer's own flag is off)? Anything in the customer or
/// below it is, and so is deleting the customer, which deletes everything inside it. Creating
/// a customer is not (a partner that may not manage customers may still create them), nor is
/// changing the customer's own record (renaming it, its contact, country, time zone, labels,
/// or adopting it): that changes nothing inside it.
fn inside_customer(action: Action, account: &AccountRef) -> bool {
    match account {
        AccountRef::Partner => false,
        AccountRef::Account { kind, .. } => {
            !(*kind == AccountKind::Customer
                && matches!(action, Action::Create | Action::Update | Action::Adopt))
        }
    }
}

/// Is this a change of a customer's own record (its fields, an adoption)? Blocked where the
/// customer may not be managed only when the provider says so
/// ([`super::Capabilities::closed_records`]).
fn own_record(action: Action, account: &AccountRef) -> bool {
    matches!(
        account,
        AccountRef::Account {
            kind: AccountKind::Customer,
            ..
        }
    ) && matches!(action, Action::Update | Action::Adopt)
}

/// Does the manage gate stop `op` where its customer may not be managed: a change inside the
/// customer, or (`closed_records`) of its own record?
pub(super) fn gated(op: &super::Operation, closed_records: bool) -> bool {
    inside_customer(op.action(), &op.account)
        || (closed_records && own_record(op.action(), &op.account))
}

fn last_partner_admin(plan: &Plan) -> Option<Refusal> {
    let admins: HashSet<&str> = plan.partner_admins.iter().map(String::as_str).collect();
    let mut losing: Vec<String> = Vec::new();
    for o in &plan.operations {
        let Some(user) = o.change.user() else {
            continue;
        };
        if o.account != AccountRef::Partner || !admins.contains(user.id.as_str()) {
            continue;
        }
        let loses = match &o.change {
            Change::RemoveUser { .. } | Change::Revoke { .. } => true,
            Change::UpdateUser { after, .. } => after.role != Role::Admin,
            _ => false,
        };
        if loses {
            losing.push(user.email.clone());
        }
    }
    (!losing.is_empty() && losing.len() >= admins.len())
        .then_some(Refusal::LastPartnerAdmin { emails: losing })
}
