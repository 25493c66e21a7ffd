//! Stage `plan`, safety guards: refusals that stop an apply before any write, each
//! naming its counts and the flag that overrides it (if any). Pure.

use std::collections::HashSet;

use super::{AccountRef, Action, Change, Plan};
use crate::vocab::{AccountKind, Role};

/// A reason to refuse the plan.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Too large a share of a class would be deleted.
    #[error(
        "deleting {deletes} of {live} {class} ({percent}%) exceeds --max-delete-percent {max}; check the configuration, or pass --force (or raise --max-delete-percent) if this is intended"
    )]
    DeleteThreshold {
        /// `accounts`, `users` or `services`.
        class: &'static str,
        /// Planned deletions.
        deletes: usize,
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
        "customer {customer} may not be managed by the partner (the vendor's \"manage\" permission for it is off): {count} change(s) inside it cannot be made (deleting it is one), e.g. {example}; ask the customer or the vendor to allow it, or leave those changes out (what would be removed: keep it in the configuration, or plan without --prune and --prune-accounts)"
    )]
    CustomerNotManageable {
        /// The customer's name, quoted.
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
const GUARD_MIN_LIVE: usize = 10;

pub(super) fn check(plan: &Plan) -> Result<(), Refusals> {
    let mut out = Vec::new();
    if !plan.options.force {
        let classes = [
            ("accounts", plan.live.accounts, &[Action::Delete][..]),
            (
                "users",
                plan.live.users,
                &[Action::RemoveUser, Action::Revoke][..],
            ),
            ("services", plan.live.services, &[Action::RemoveService][..]),
        ];
        for (class, live, actions) in classes {
            let deletes = plan
                .operations
                .iter()
                .filter(|o| actions.contains(&o.action()))
                .count();
            if live >= GUARD_MIN_LIVE
                && deletes * 100 > live * plan.options.max_delete_percent as usize
            {
                out.push(Refusal::DeleteThreshold {
                    class,
                    deletes,
                    live,
                    percent: (deletes * 100).div_ceil(live),
                    max: plan.options.max_delete_percent,
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
            .filter(|o| inside_customer(o.action(), &o.account))
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
pub(super) fn inside_customer(action: Action, account: &AccountRef) -> bool {
    match account {
        AccountRef::Partner => false,
        AccountRef::Account { kind, .. } => {
            !(*kind == AccountKind::Customer
                && matches!(action, Action::Create | Action::Update | Action::Adopt))
        }
    }
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
