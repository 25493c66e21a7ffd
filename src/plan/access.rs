//! Stage `plan`, access changes: who gains or loses access to how many accounts if the plan is
//! applied, computed on the access model of the live state before and after the plan's
//! operations. Escalations (a new partner-level user, who reaches every account; a member made
//! admin) come first. Only the people an operation can affect are computed. Pure.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use serde::{Deserialize, Serialize};

use super::operation::{AccountRef, Change, Operation};
use crate::access::{Account, Member, Model, Reach};
use crate::live::Snapshot;
use crate::vocab::rules::email_key;
use crate::vocab::{Role, UserStatus};

/// What the plan changes for one person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessChange {
    /// Email, lower case.
    pub email: String,
    /// Accounts they will reach that they do not reach now.
    pub gains: usize,
    /// Accounts they reach now and will not.
    pub loses: usize,
    /// Why this is an escalation of privilege, if it is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escalation: Option<String>,
}

fn place(account: &AccountRef) -> String {
    account.address()
}

/// The model with `op` applied.
fn apply(m: &mut Model, index: &mut HashMap<String, usize>, op: &Operation) {
    let at = |index: &HashMap<String, usize>, r: &AccountRef| match r {
        AccountRef::Partner => None,
        other => index.get(&place(other)).copied(),
    };
    match &op.change {
        Change::Create { parent, fields } => {
            let parent = at(index, parent);
            index.insert(place(&op.account), m.accounts.len());
            m.accounts.push(Account {
                address: place(&op.account),
                name: fields.name.clone(),
                kind: op.account.kind().expect("a created account has a kind"),
                parent,
            });
        }
        Change::Delete { .. } => {
            if let Some(i) = at(index, &op.account) {
                m.members.retain(|u| u.account != Some(i));
                // Kept in the tree (children are deleted first) but reached by nobody.
                m.accounts[i].address.insert_str(0, "deleted:");
            }
        }
        Change::Invite(p) => {
            let account = at(index, &op.account);
            m.members.push(Member {
                account,
                email: email_key(&p.email),
                name: p.name.clone(),
                role: p.role,
                status: Some(UserStatus::Invited),
                unmanaged: false,
            });
        }
        Change::Revoke { user, .. } | Change::RemoveUser { user, .. } => {
            let account = at(index, &op.account);
            m.members
                .retain(|u| !(u.account == account && u.email == user.email));
        }
        // An adoption moves no access (the model before the plan already names the adopted
        // account by its key: the planner's addresses), nor does a role change (what a person
        // reaches depends on where they are a member, not on their role; escalations are read
        // from the operations), a service or a re-sent invitation.
        _ => {}
    }
}

/// Who reaches what in one model: the tree's children and each person's memberships, indexed
/// once.
struct Index<'m> {
    model: &'m Model,
    reach: Reach,
    places: HashMap<&'m str, Vec<Option<usize>>>,
}

impl<'m> Index<'m> {
    fn new(model: &'m Model) -> Self {
        let mut places: HashMap<&str, Vec<Option<usize>>> = HashMap::new();
        for u in &model.members {
            places.entry(u.email.as_str()).or_default().push(u.account);
        }
        Index {
            model,
            reach: Reach::new(model),
            places,
        }
    }

    /// The accounts `email` reaches (`None`: the partner), by their place in the model: the
    /// model after the plan extends the one before, so places compare across the two even when
    /// an adoption gives an account its key's address.
    fn of(&self, email: &str) -> BTreeSet<Option<usize>> {
        let mut out = BTreeSet::new();
        for &account in self
            .places
            .get(email)
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            if account.is_none() {
                out.insert(None);
            }
            for i in self.reach.of(account) {
                if !self.model.accounts[i].address.starts_with("deleted:") {
                    out.insert(Some(i));
                }
            }
        }
        out
    }
}

/// People an operation can change the access of: those it names, and for an account created,
/// adopted or deleted, the members of it and of its ancestors.
fn affected(m: &Model, index: &HashMap<String, usize>, ops: &[Operation]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut accounts: HashSet<Option<usize>> = HashSet::new();
    for op in ops {
        if let Some(e) = op.change.email() {
            out.insert(email_key(e));
        }
        if op.action().is_account_action() {
            // The index also holds the accounts the plan creates, which `m` may not have.
            let known = |i: &usize| *i < m.accounts.len();
            let parent = op.parent().and_then(|p| index.get(&place(p)).copied());
            let own = index.get(&place(&op.account)).copied();
            let mut cur = own.filter(known).or(parent.filter(known));
            accounts.insert(None);
            while let Some(i) = cur {
                accounts.insert(Some(i));
                cur = m.accounts[i].parent;
            }
        }
    }
    out.extend(
        m.members
            .iter()
            .filter(|u| accounts.contains(&u.account))
            .map(|u| u.email.clone()),
    );
    out
}

/// Why each person's access escalates: a new partner-level user, or a member made admin on
/// the accounts listed (every membership of the login, where the provider keeps one role per
/// login: the plan changes each of them).
fn escalations(ops: &[Operation]) -> HashMap<String, String> {
    let mut partner_level = HashMap::new();
    let mut promoted: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for op in ops {
        match &op.change {
            Change::Invite(p) if op.account == AccountRef::Partner => {
                let why = format!("new partner-level {}: reaches every account", p.role);
                partner_level.insert(email_key(&p.email), why);
            }
            Change::UpdateUser {
                user,
                before,
                after,
                ..
            } if before.role == Role::Member && after.role == Role::Admin => {
                promoted
                    .entry(user.email.clone())
                    .or_default()
                    .push(op.account.address());
            }
            _ => {}
        }
    }
    let mut out: HashMap<String, String> = promoted
        .into_iter()
        .map(|(email, on)| (email, format!("member → admin on {}", on.join(", "))))
        .collect();
    out.extend(partner_level);
    out
}

/// The access changes of applying `ops` to `live` (its accounts named as `addresses` says):
/// escalations first, then by email.
pub(super) fn changes(
    live: &Snapshot,
    ops: &[Operation],
    addresses: &HashMap<String, String>,
) -> Vec<AccessChange> {
    if ops.is_empty() {
        return Vec::new();
    }
    let before = Model::from_live_named(live, None, addresses);
    let mut index: HashMap<String, usize> = before
        .accounts
        .iter()
        .enumerate()
        .map(|(i, a)| (a.address.clone(), i))
        .collect();
    let mut after = before.clone();
    for op in ops {
        apply(&mut after, &mut index, op);
    }
    let mut people = affected(&before, &index, ops);
    people.extend(affected(&after, &index, ops));
    let escalations = escalations(ops);
    let (before_ix, after_ix) = (Index::new(&before), Index::new(&after));
    let mut out: Vec<AccessChange> = people
        .into_iter()
        .filter_map(|email| {
            let (b, a) = (before_ix.of(&email), after_ix.of(&email));
            let gains = a.difference(&b).count();
            let loses = b.difference(&a).count();
            let escalation = escalations.get(&email).cloned();
            (gains + loses > 0 || escalation.is_some()).then_some(AccessChange {
                email,
                gains,
                loses,
                escalation,
            })
        })
        .collect();
    out.sort_by_key(|c| (c.escalation.is_none(), c.email.clone()));
    out
}
