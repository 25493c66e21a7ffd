//! Stage `plan`, targeting (like Terraform's `-target`): a plan restricted to the named
//! accounts, what they contain (users, services, networks, sub-accounts) and the operations
//! those depend on (the creation of a parent). Nothing outside the target is planned, so never
//! a prune outside it. `partner` targets the partner's own users. Pure.

use std::collections::{HashMap, HashSet};

use super::{Operation, Plan, PlanError, PlanErrors};
use crate::access::address::{Lookup, lookup};
use crate::config::Desired;
use crate::live::Snapshot;

/// The parent address of every account address the configuration or the live state knows.
fn parents(desired: &Desired, live: &Snapshot) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let nodes: Vec<_> = desired.walk().collect();
    for n in &nodes {
        let parent = n.parent.map_or_else(
            || "partner".to_string(),
            |p| format!("{}.{}", nodes[p].kind, nodes[p].key),
        );
        out.insert(format!("{}.{}", n.kind, n.key), parent);
    }
    let address = |id: &str| -> String {
        match live.accounts.iter().find(|a| a.id == id) {
            Some(a) => match &a.external_key {
                Some(k) => format!("{}.{k}", a.kind),
                None => format!("{}[id={}]", a.kind, a.id),
            },
            None => "partner".to_string(),
        }
    };
    for a in &live.accounts {
        out.entry(address(&a.id))
            .or_insert_with(|| address(&a.parent_id));
    }
    out
}

/// Is `address` (an account address) one of `targets` or below one?
fn contained(address: &str, targets: &HashSet<&str>, parents: &HashMap<String, String>) -> bool {
    let mut cur = Some(address);
    while let Some(a) = cur {
        // The partner as a target means its own users, not every account below it.
        if a == "partner" {
            return false;
        }
        if targets.contains(a) {
            return true;
        }
        cur = parents.get(a).map(String::as_str);
    }
    false
}

/// `plan` restricted to `targets` (account addresses, keys, live ids of accounts known only by
/// them, or `partner`; the plan records their full addresses); one that names no account is an
/// error naming the closest known address, one that names several an error naming them.
pub fn restrict(
    plan: Plan,
    desired: &Desired,
    live: &Snapshot,
    targets: &[String],
) -> Result<Plan, PlanErrors> {
    if targets.is_empty() {
        return Ok(plan);
    }
    let parents = parents(desired, live);
    let (targets, errors) = resolve(targets, &parents);
    if !errors.is_empty() {
        return Err(PlanErrors(errors));
    }
    let set: HashSet<&str> = targets.iter().map(String::as_str).collect();
    let inside = |address: &str| -> bool {
        if address == "partner" {
            return set.contains("partner");
        }
        contained(address, &set, &parents)
    };
    let keep: Vec<bool> = plan
        .operations
        .iter()
        .map(|o| inside(&o.account.address()))
        .collect();
    let operations = with_dependencies(plan.operations, keep);
    let unmanaged = plan
        .unmanaged
        .into_iter()
        .filter(|u| inside(u.account_address()))
        .collect();
    let near_misses = plan
        .near_misses
        .into_iter()
        .filter(|n| inside(&n.address))
        .collect();
    let access = super::access::changes(live, &operations, &plan.addresses);
    // The manage gate refuses the changes the targeted plan still makes, no others.
    let kept: HashSet<&str> = operations.iter().map(|o| o.address.as_str()).collect();
    let closed = plan
        .closed
        .iter()
        .filter(|(_, change)| kept.contains(change.as_str()))
        .cloned()
        .collect();
    Ok(Plan {
        access,
        operations,
        unmanaged,
        near_misses,
        closed,
        targets,
        ..plan
    })
}

/// The operations marked `keep` and every operation they depend on (transitively), in plan
/// order, with their dependency indexes renumbered.
fn with_dependencies(ops: Vec<Operation>, mut keep: Vec<bool>) -> Vec<Operation> {
    let mut stack: Vec<usize> = (0..keep.len()).filter(|&i| keep[i]).collect();
    while let Some(i) = stack.pop() {
        for &d in &ops[i].depends_on {
            if !keep[d] {
                keep[d] = true;
                stack.push(d);
            }
        }
    }
    let mut new_index = vec![usize::MAX; keep.len()];
    let mut out = Vec::new();
    for (i, op) in ops.into_iter().enumerate() {
        if keep[i] {
            new_index[i] = out.len();
            out.push(op);
        }
    }
    for op in &mut out {
        for d in &mut op.depends_on {
            *d = new_index[*d];
        }
    }
    out
}

/// The full address of every target (a full address, a key, or the live id of an account
/// known only by it; `partner`), in the order given, and an error for each that names no
/// account or several.
fn resolve(targets: &[String], parents: &HashMap<String, String>) -> (Vec<String>, Vec<PlanError>) {
    let mut resolved = Vec::new();
    let mut errors = Vec::new();
    for t in targets {
        if t == "partner" {
            resolved.push(t.clone());
            continue;
        }
        match lookup(t, parents.keys().map(String::as_str)) {
            Lookup::Found(address) => resolved.push(address),
            Lookup::Ambiguous(addresses) => errors.push(PlanError::AmbiguousTarget {
                target: t.clone(),
                addresses,
            }),
            Lookup::Unknown(closest) => errors.push(PlanError::UnknownTarget {
                target: t.clone(),
                closest,
            }),
        }
    }
    (resolved, errors)
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{acme, applied_acme, empty_live, live_account};
    use super::super::{Action, Options, plan};
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn a_target_keeps_its_subtree_and_what_it_depends_on() {
        let d = acme();
        let live = empty_live();
        let full = plan(&d, &live, Options::default()).unwrap();
        let only = |targets: &[&str]| {
            let t: Vec<String> = targets.iter().map(|s| s.to_string()).collect();
            restrict(full.clone(), &d, &live, &t).unwrap()
        };
        let p = only(&["sub_account.contoso-paris"]);
        assert_eq!(p.targets, ["sub_account.contoso-paris"]);
        // Access changes of the targeted operations only.
        let emails: Vec<&str> = p.access.iter().map(|a| a.email.as_str()).collect();
        assert_eq!(emails, ["paris@contoso.example"]);
        assert!(full.access.len() > 1);
        let addresses: Vec<(Action, &str)> = p
            .operations
            .iter()
            .map(|o| (o.action(), o.address.as_str()))
            .collect();
        assert_eq!(
            addresses,
            [
                (Action::Create, "customer.contoso"),
                (Action::Create, "network.contoso-network"),
                (Action::Create, "sub_account.contoso-paris"),
                (
                    Action::Invite,
                    "sub_account.contoso-paris.user[paris@contoso.example]"
                ),
                (
                    Action::AddService,
                    "sub_account.contoso-paris.service[visitor-management]"
                ),
            ]
        );
        assert_eq!(p.operations[1].depends_on, vec![0]);
        assert_eq!(p.operations[4].depends_on, vec![2]);
        // A customer: all of it, nothing of the others.
        let p = only(&["customer.contoso"]);
        assert!(p.operations.iter().all(|o| o.address.contains("contoso")));
        assert_eq!(p.operations.len(), 14);
        // The partner: its users only.
        let p = only(&["partner"]);
        assert!(
            p.operations
                .iter()
                .all(|o| o.address.starts_with("partner.user["))
        );
        assert_eq!(p.operations.len(), 2);
        let e = restrict(full.clone(), &d, &live, &["customer.contso".to_string()]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "--target customer.contso: no such account in the configuration or the live state; did you mean customer.contoso?"
        );
    }

    /// A target may be a key alone, or the live id alone of an account known only by it; the
    /// plan records the full address. A bare key no account has is answered with the closest
    /// full address.
    #[test]
    fn a_target_may_be_a_key_or_the_live_id_of_an_account_without_one() {
        let d = acme();
        let mut live = applied_acme();
        let mut by_hand = live_account(&mut live, "fabrikam").clone();
        by_hand.id = "acc_by_hand".into();
        by_hand.external_key = None;
        by_hand.name = "Made By Hand".into();
        live.accounts.push(by_hand);
        let full = pruning(&d, &live);
        let only = |target: &str| restrict(full.clone(), &d, &live, &[target.to_string()]);
        let by_key = only("contoso-paris").unwrap();
        assert_eq!(by_key.targets, ["sub_account.contoso-paris"]);
        assert_eq!(
            by_key.operations,
            only("sub_account.contoso-paris").unwrap().operations
        );
        let by_id = only("acc_by_hand").unwrap();
        assert_eq!(by_id.targets, ["customer[id=acc_by_hand]"]);
        let ops: Vec<(Action, &str)> = by_id
            .operations
            .iter()
            .map(|o| (o.action(), o.address.as_str()))
            .collect();
        assert_eq!(ops, [(Action::Delete, "customer[id=acc_by_hand]")]);
        assert_eq!(
            only("contoso-pari").unwrap_err().to_string(),
            "--target contoso-pari: no such account in the configuration or the live state; did you mean sub_account.contoso-paris?"
        );
        assert_eq!(
            only("customer.contoso-paris").unwrap_err().to_string(),
            "--target customer.contoso-paris: no such account in the configuration or the live state; did you mean sub_account.contoso-paris?"
        );
    }

    /// A customer that may not be managed refuses the changes inside it, and a plan targeted
    /// elsewhere makes none of them: it is not refused for them.
    #[test]
    fn a_target_elsewhere_is_not_refused_for_a_customer_that_may_not_be_managed() {
        let mut d = acme();
        let mut live = applied_acme();
        for c in &mut d.customers {
            c.users.push(crate::config::User {
                email: format!("new@{}.example", c.key),
                name: "New".into(),
                role: crate::vocab::Role::Member,
            });
        }
        live.accounts
            .iter_mut()
            .find(|a| a.external_key.as_deref() == Some("contoso"))
            .unwrap()
            .manageable = false;
        let full = plan(&d, &live, Options::default()).unwrap();
        assert!(full.check_safety().is_err());
        let only = |target: &str| restrict(full.clone(), &d, &live, &[target.to_string()]).unwrap();
        let elsewhere = only("customer.fabrikam");
        assert!(!elsewhere.operations.is_empty());
        assert!(
            elsewhere.check_safety().is_ok(),
            "{:?}",
            elsewhere.check_safety()
        );
        assert!(only("customer.contoso").check_safety().is_err());
    }

    /// The plan of `d` against `live` with every kind of pruning allowed.
    fn pruning(d: &Desired, live: &Snapshot) -> Plan {
        let options = Options {
            prune: true,
            prune_accounts: true,
            force: true,
            ..Options::default()
        };
        plan(d, live, options).unwrap()
    }

    /// An account only the live state still knows (removed from the configuration) is a
    /// target too, with what is below it there.
    #[test]
    fn a_target_only_the_live_state_knows() {
        let d = acme();
        let applied = applied_acme();
        let mut smaller = d.clone();
        for c in &mut smaller.customers {
            c.networks.clear();
        }
        let full = pruning(&smaller, &applied);
        let only = |target: &str| {
            restrict(full.clone(), &smaller, &applied, &[target.to_string()]).unwrap()
        };
        let deleted = |p: &Plan| -> Vec<String> {
            let mut a: Vec<String> = p
                .operations
                .iter()
                .filter(|o| o.action() == Action::Delete && !o.address.contains('['))
                .map(|o| o.address.clone())
                .collect();
            a.sort();
            a
        };
        assert_eq!(
            deleted(&only("network.contoso-network")),
            [
                "network.contoso-network",
                "sub_account.contoso-lyon",
                "sub_account.contoso-paris"
            ]
        );
        assert_eq!(
            deleted(&only("sub_account.contoso-lyon")),
            ["sub_account.contoso-lyon"]
        );
        assert_eq!(deleted(&only("customer.contoso")), deleted(&full));
        assert!(only("customer.fabrikam").operations.is_empty());
    }

    /// Unmanaged objects are reported for the target's accounts only, users of accounts deep
    /// below it included.
    #[test]
    fn unmanaged_objects_of_the_target_only() {
        let d = acme();
        let mut applied = applied_acme();
        // Accounts made by hand: a network inside the target, a customer outside it.
        let made_by_hand = |live: &mut Snapshot, key: &str, id: &str| {
            let mut a = live_account(live, key).clone();
            a.id = id.into();
            a.external_key = None;
            a.name = format!("{} by hand", a.name);
            a
        };
        let network = made_by_hand(&mut applied, "contoso-network", "acc_net_by_hand");
        let customer = made_by_hand(&mut applied, "fabrikam", "acc_customer_by_hand");
        applied.accounts.extend([network, customer]);
        let mut fewer = d.clone();
        for c in &mut fewer.customers {
            c.users.clear();
            for n in &mut c.networks {
                for s in &mut n.sub_accounts {
                    s.users.clear();
                }
            }
        }
        let full = plan(&fewer, &applied, Options::default()).unwrap();
        let accounts = |p: &Plan| -> BTreeSet<String> {
            p.unmanaged
                .iter()
                .map(|u| u.account_address().to_string())
                .collect()
        };
        assert!(
            accounts(&full).contains("customer[id=acc_customer_by_hand]"),
            "{:?}",
            accounts(&full)
        );
        let only = restrict(full, &fewer, &applied, &["customer.contoso".to_string()]).unwrap();
        assert_eq!(
            accounts(&only),
            BTreeSet::from([
                "customer.contoso".to_string(),
                "network[id=acc_net_by_hand]".to_string(),
                "sub_account.contoso-lyon".to_string(),
                "sub_account.contoso-paris".to_string()
            ])
        );
    }

    #[test]
    fn never_a_prune_outside_the_target() {
        let d = acme();
        let applied = applied_acme();
        let mut smaller = d.clone();
        smaller.customers.retain(|c| c.key == "contoso");
        let full = pruning(&smaller, &applied);
        assert!(full.operations.iter().any(|o| o.action() == Action::Delete));
        let p = restrict(full, &smaller, &applied, &["customer.contoso".to_string()]).unwrap();
        assert!(p.operations.is_empty(), "{:#?}", p.operations);
        assert!(p.unmanaged.is_empty());
    }
}
