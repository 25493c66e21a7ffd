//! Stage `plan`, the ancestry of the accounts a plan changes: for each account an operation
//! acts on or in, and for each of its ancestors, its parent (the partner for customers; none
//! for an account the plan creates, whose creation names its parent), so that the renderers
//! show every change under the accounts it belongs to, unchanged ones included. Desired accounts take their parents from the configuration's tree; live accounts
//! the configuration does not list, from the live state. Pure.

use std::collections::{BTreeMap, HashMap};

use super::operation::AccountRef;
use super::planner::{Placed, Planner, live_ref};
use crate::live;

/// The parent of each account, by the account's address.
pub(super) type Parents = BTreeMap<String, AccountRef>;

impl<'l> Planner<'l> {
    /// Records the ancestry of desired account `i` (just placed, its ancestors before it):
    /// itself and each ancestor up to the first one already recorded. An account this plan
    /// creates is left out: its creation names its parent.
    pub(super) fn record_ancestry(&mut self, placed: &[Placed<'l>], mut i: usize) {
        loop {
            let p = &placed[i];
            if p.creator.is_none() {
                let parent = p
                    .parent
                    .map_or(AccountRef::Partner, |j| placed[j].account.clone());
                if self.parents.insert(p.account.address(), parent).is_some() {
                    return;
                }
            }
            match p.parent {
                Some(j) => i = j,
                None => return,
            }
        }
    }

    /// Records the ancestry of the live accounts operations act on or in that no desired
    /// account placed (deletions, memberships of unmanaged accounts): live parents up to the
    /// partner or to a desired account, whose own ancestry the configuration gives.
    pub(super) fn record_live_ancestry(&mut self, placed: &[Placed<'l>]) {
        let mut desired_by_id: Option<HashMap<&'l str, usize>> = None;
        for k in 0..self.ops.len() {
            let account = &self.ops[k].account;
            let (address, Some(id)) = (account.address(), account.id()) else {
                continue;
            };
            if self.parents.contains_key(&address) {
                continue;
            }
            let Some(mut a) = self.ix.by_id.get(id).copied() else {
                continue;
            };
            let mut address = address;
            loop {
                let parent: Option<&'l live::Account> =
                    self.ix.by_id.get(a.parent_id.as_str()).copied();
                let Some(parent) = parent else {
                    // The partner (or a parent the snapshot lacks: the top of what is known).
                    self.parents.insert(address, AccountRef::Partner);
                    break;
                };
                let by_id = desired_by_id.get_or_insert_with(|| {
                    placed
                        .iter()
                        .enumerate()
                        .filter_map(|(j, p)| p.live.map(|l| (l.id.as_str(), j)))
                        .collect()
                });
                if let Some(&j) = by_id.get(parent.id.as_str()) {
                    self.parents.insert(address, placed[j].account.clone());
                    self.record_ancestry(placed, j);
                    break;
                }
                let parent_ref = live_ref(parent);
                let next = parent_ref.address();
                if self.parents.insert(address, parent_ref).is_some() {
                    break;
                }
                address = next;
                if self.parents.contains_key(&address) {
                    break;
                }
                a = parent;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{acme, applied_acme, live_account, twins};
    use super::super::{Action, Options, Plan, plan};
    use crate::vocab::AccountKind;

    /// The parents the plan records, as `address → parent address`.
    fn parents(p: &Plan) -> Vec<(String, String)> {
        p.parents
            .iter()
            .map(|(a, parent)| (a.clone(), parent.address()))
            .collect()
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    /// A change deep in a sub-account records the sub-account, its network and its customer,
    /// and nothing else; a plan without changes records nothing.
    #[test]
    fn a_deep_change_records_every_ancestor_and_no_other_account() {
        let live = applied_acme();
        assert!(
            plan(&acme(), &live, Options::default())
                .unwrap()
                .parents
                .is_empty()
        );
        let mut d = acme();
        d.customers[0].networks[0].sub_accounts[1].users[0].name = "Lyon Front Desk".into();
        let p = plan(&d, &live, Options::default()).unwrap();
        assert_eq!(p.counts(), [(Action::UpdateUser, 1)]);
        assert_eq!(
            parents(&p),
            pairs(&[
                ("customer.contoso", "partner"),
                ("network.contoso-network", "customer.contoso"),
                ("sub_account.contoso-lyon", "network.contoso-network"),
            ])
        );
        // The ancestors are the live accounts, ids included.
        let network = &p.parents["sub_account.contoso-lyon"];
        assert_eq!(
            network.id(),
            Some(
                live.accounts
                    .iter()
                    .find(|a| a.external_key.as_deref() == Some("contoso-network"))
                    .unwrap()
                    .id
                    .as_str()
            )
        );
    }

    /// A sub-account created under a network that does not change: the network and its
    /// customer are recorded, the new sub-account is not (its creation names its parent).
    #[test]
    fn a_creation_records_the_live_ancestors_of_its_parent() {
        let mut d = acme();
        let network = &mut d.customers[0].networks[0];
        let mut nice = network.sub_accounts[1].clone();
        nice.key = "contoso-nice".into();
        nice.name = "Contoso Nice".into();
        nice.users.clear();
        nice.services.clear();
        network.sub_accounts.push(nice);
        let p = plan(&d, &applied_acme(), Options::default()).unwrap();
        assert_eq!(p.counts(), [(Action::Create, 1)]);
        assert_eq!(
            parents(&p),
            pairs(&[
                ("customer.contoso", "partner"),
                ("network.contoso-network", "customer.contoso"),
            ])
        );
    }

    /// Of two customers of the same name, a network's adoption is recorded under its own
    /// customer (the one that does not change), not under the other.
    #[test]
    fn a_network_is_recorded_under_its_own_customer_of_twins() {
        let (d, live) = twins();
        let p = plan(&d, &live, Options::default()).unwrap();
        let ops: Vec<(Action, &str)> = p
            .operations
            .iter()
            .map(|o| (o.action(), o.address.as_str()))
            .collect();
        assert_eq!(
            ops,
            [
                (Action::Update, "customer.twin-a"),
                (Action::Adopt, "network.twin-b-net")
            ]
        );
        assert_eq!(
            parents(&p),
            pairs(&[
                ("customer.twin-a", "partner"),
                ("customer.twin-b", "partner"),
                ("network.twin-b-net", "customer.twin-b"),
            ])
        );
    }

    /// Deleting an unmanaged network (without a key) and its sub-account under a managed
    /// customer: their parents come from the live state, up to the configuration's customer.
    #[test]
    fn deletions_of_unmanaged_accounts_record_their_live_parents() {
        let mut live = applied_acme();
        let contoso = live_account(&mut live, "contoso").clone();
        let mut network = contoso.clone();
        network.id = "acc_net".into();
        network.kind = AccountKind::Network;
        network.parent_id = contoso.id.clone();
        network.external_key = None;
        network.name = "Old Network".into();
        network.labels.clear();
        let mut site = network.clone();
        site.id = "acc_site".into();
        site.kind = AccountKind::SubAccount;
        site.parent_id = "acc_net".into();
        live.accounts.extend([network, site]);
        let options = Options {
            prune_accounts: true,
            ..Options::default()
        };
        let p = plan(&acme(), &live, options).unwrap();
        assert_eq!(p.counts(), [(Action::Delete, 2)]);
        assert_eq!(
            parents(&p),
            pairs(&[
                ("customer.contoso", "partner"),
                ("network[id=acc_net]", "customer.contoso"),
                ("sub_account[id=acc_site]", "network[id=acc_net]"),
            ])
        );
        assert_eq!(
            p.parents["network[id=acc_net]"].id(),
            Some(contoso.id.as_str())
        );
    }
}
