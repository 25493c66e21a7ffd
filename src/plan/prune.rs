//! Stage `plan`, unmanaged accounts: live accounts no desired account matched are listed (with
//! their admins, an access risk), or with `--prune-accounts` deleted children-first (never
//! protected ones, nor their ancestors, nor the ancestors of managed accounts). Pure.

use std::collections::{HashMap, HashSet};

use super::operation::{Change, Operation, UserRef};
use super::planner::{Planner, live_ref};
use super::{Unmanaged, UnmanagedClass, UnmanagedObject, UnmanagedReason};
use crate::live;
use crate::vocab::rules::email_key;
use crate::vocab::{PROTECT_LABEL, Role};

fn is_protected(a: &live::Account) -> bool {
    a.labels.get(PROTECT_LABEL).is_some_and(|v| v == "true")
}

impl<'l> Planner<'l> {
    fn unmanaged_account(&self, a: &live::Account, reason: UnmanagedReason) -> Unmanaged {
        Unmanaged {
            address: live_ref(a).address(),
            class: UnmanagedClass::Account,
            reason,
            object: UnmanagedObject::Account {
                kind: a.kind,
                name: a.name.clone(),
                key: a.external_key.clone(),
                id: a.id.clone(),
                parent: self.live_parent_address(&a.parent_id),
            },
        }
    }
}

impl<'l> Planner<'l> {
    /// Live accounts no desired account matched.
    pub(super) fn unmatched(&self) -> Vec<&'l live::Account> {
        let live = self.live;
        live.accounts
            .iter()
            .filter(|a| !self.matched.contains(a.id.as_str()))
            .collect()
    }

    pub(super) fn prune_accounts(&mut self) {
        let unmatched = self.unmatched();
        if unmatched.is_empty() {
            return;
        }
        if !self.options.prune_accounts {
            let reason = UnmanagedReason::PruneAccountsDeletes;
            for a in unmatched {
                let u = self.unmanaged_account(a, reason);
                self.unmanaged.push(u);
                self.admins_of_unmanaged(a);
                self.logins_follow(a);
            }
            return;
        }
        let keep = self.kept();
        // Children first: deepest kinds first, each delete waiting for its children's.
        let mut order = unmatched;
        order.sort_by_key(|a| std::cmp::Reverse(a.kind.depth()));
        let mut delete_op: HashMap<&str, usize> = HashMap::new();
        for a in order {
            if keep.contains(a.id.as_str()) {
                let reason = if is_protected(a) {
                    UnmanagedReason::Protected
                } else {
                    UnmanagedReason::HoldsKept
                };
                let u = self.unmanaged_account(a, reason);
                self.unmanaged.push(u);
                self.admins_of_unmanaged(a);
                self.logins_follow(a);
                continue;
            }
            let i = self.delete(a, &delete_op);
            delete_op.insert(a.id.as_str(), i);
        }
    }

    /// The admins (and admins' invitations) of an account that stays unmanaged, listed after
    /// it: people with access the configuration does not grant, as an admin invited by hand
    /// into a managed account is.
    fn admins_of_unmanaged(&mut self, a: &live::Account) {
        let account = live_ref(a);
        let admins = self.ix.users_by_account.get(a.id.as_str());
        for u in admins
            .into_iter()
            .flatten()
            .filter(|u| u.role == Role::Admin)
        {
            let class = UnmanagedClass::of_user(u.status);
            self.unmanaged.push(Unmanaged {
                address: account.user_address(&u.email),
                class,
                reason: UnmanagedReason::AdminOfUnlisted,
                object: UnmanagedObject::User {
                    email: u.email.clone(),
                    name: u.name.clone(),
                    role: u.role,
                    status: u.status,
                    account: account.address(),
                },
            });
        }
    }

    /// The memberships of an account that stays unmanaged, where the login's name and role
    /// reach them (see `login_follows`).
    fn logins_follow(&mut self, a: &'l live::Account) {
        let users = self.ix.users_by_account.get(a.id.as_str()).cloned();
        for u in users.unwrap_or_default() {
            let user = UserRef {
                id: u.id.clone(),
                email: email_key(&u.email),
            };
            self.login_follows(&live_ref(a), u, &user);
        }
    }

    /// Accounts that must stay because they, or a descendant, are protected or matched.
    fn kept(&self) -> HashSet<&'l str> {
        let mut keep: HashSet<&str> = HashSet::new();
        for a in &self.live.accounts {
            if is_protected(a) || self.matched.contains(a.id.as_str()) {
                let mut cur = Some(a);
                while let Some(c) = cur {
                    if !keep.insert(c.id.as_str()) {
                        break;
                    }
                    cur = self.ix.by_id.get(c.parent_id.as_str()).copied();
                }
            }
        }
        keep
    }

    /// Emits the delete of `a`, after the deletes of its children.
    fn delete(&mut self, a: &live::Account, delete_op: &HashMap<&str, usize>) -> usize {
        let count = |m: Option<usize>| m.unwrap_or(0);
        let change = Change::Delete {
            etag: a.etag.clone(),
            name: a.name.clone(),
            users: count(self.ix.users_by_account.get(a.id.as_str()).map(Vec::len)),
            services: count(self.ix.services_by_account.get(a.id.as_str()).map(Vec::len)),
        };
        let mut op = Operation::new(live_ref(a), change);
        if let Some(kids) = self.ix.children.get(a.id.as_str()) {
            let deps = kids
                .iter()
                .filter_map(|k| delete_op.get(k.id.as_str()).copied());
            op.depends_on.extend(deps);
            op.depends_on.sort_unstable();
        }
        self.push(op)
    }
}
