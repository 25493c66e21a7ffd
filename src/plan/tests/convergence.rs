//! Property: for random desired D and live L, applying plan(D, L) gives L' with an empty
//! plan(D, L'), and no operation is a no-op on an object that already matched; for a vendor
//! with every capability, for one like Nexudus (no keys, only names stored, no services,
//! accounts created and deleted by a person following the runbook, roles and names kept once
//! per login), and for any mix of capabilities a provider may declare.

use super::*;
use crate::config::{Customer, Network, Service as CService, SubAccount, User as CUser};
use proptest::prelude::*;

fn user() -> impl Strategy<Value = CUser> {
    (0usize..4, 0usize..2, any::<bool>()).prop_map(|(e, n, admin)| CUser {
        email: format!("u{e}@x.example"),
        name: format!("Name {n}"),
        role: if admin { Role::Admin } else { Role::Member },
    })
}

fn users() -> impl Strategy<Value = Vec<CUser>> {
    proptest::collection::vec(user(), 0..3).prop_map(|mut v| {
        v.sort_by(|a, b| a.email.cmp(&b.email));
        v.dedup_by(|a, b| a.email == b.email);
        v
    })
}

fn services() -> impl Strategy<Value = Vec<CService>> {
    proptest::collection::vec((0usize..4, proptest::option::of(any::<bool>())), 0..3).prop_map(
        |v| {
            let mut out: Vec<CService> = Vec::new();
            for (t, flag) in v {
                let ty = ["cards", "mobile-id", "visitor-management", "access-control"][t];
                if out.iter().any(|s| s.service_type == ty) {
                    continue;
                }
                let mut settings = serde_json::Map::new();
                if let (Some(f), "cards") = (flag, ty) {
                    settings.insert("layout_approval".into(), json!(f));
                }
                out.push(CService {
                    service_type: ty.into(),
                    settings,
                    at: Default::default(),
                });
            }
            out
        },
    )
}

/// Customer `c{i}` may have network `n{i}` with sub-accounts `s{i}-{j}`: keys never change
/// kind or parent, so the generated pairs are always plannable.
fn customer(i: usize) -> impl Strategy<Value = Customer> {
    (
        0usize..2,
        users(),
        services(),
        proptest::option::of((
            users(),
            proptest::collection::vec((any::<bool>(), users()), 0..3),
        )),
        any::<bool>(),
    )
        .prop_map(move |(name, users, services, network, tz)| Customer {
            key: format!("c{i}"),
            adopt: None,
            name: format!("Customer {i}{}", if name == 1 { " Ltd" } else { "" }),
            contact: Some(crate::config::Contact {
                name: "C".into(),
                email: format!("c{i}@x.example"),
            }),
            country: Some("GB".into()),
            timezone: Some(if tz { "UTC" } else { "Europe/London" }.into()),
            protect: false,
            labels: BTreeMap::new(),
            users,
            services,
            networks: network
                .into_iter()
                .map(|(nu, subs)| Network {
                    key: format!("n{i}"),
                    adopt: None,
                    name: format!("Network {i}"),
                    country: Some("GB".into()),
                    timezone: Some("UTC".into()),
                    protect: false,
                    labels: BTreeMap::new(),
                    users: nu,
                    services: vec![],
                    sub_accounts: subs
                        .into_iter()
                        .enumerate()
                        .map(|(j, (keep, su))| SubAccount {
                            key: format!("s{i}-{j}"),
                            adopt: None,
                            name: format!("Site {j}{}", if keep { "" } else { "!" }),
                            country: Some("GB".into()),
                            timezone: Some("UTC".into()),
                            protect: false,
                            labels: BTreeMap::new(),
                            users: su,
                            services: vec![],
                            at: Default::default(),
                        })
                        .collect(),
                    at: Default::default(),
                })
                .collect(),
            at: Default::default(),
        })
}

pub(super) fn desired_state() -> impl Strategy<Value = Desired> {
    (
        users(),
        proptest::collection::vec(any::<bool>(), 4),
        customer(0),
        customer(1),
        customer(2),
        customer(3),
    )
        .prop_map(|(pu, keep, c0, c1, c2, c3)| Desired {
            partner: crate::config::Partner {
                name: "Acme Partners".into(),
                users: pu,
            },
            customers: [c0, c1, c2, c3]
                .into_iter()
                .zip(keep)
                .filter_map(|(c, k)| k.then_some(c))
                .collect(),
            sources: vec![],
            headers: Vec::new(),
            warnings: Vec::new(),
        })
}

/// A live state: some other desired state applied, then drift (expired or accepted
/// invitations, keys dropped from leaf accounts so adoption happens).
pub(super) fn live_state() -> impl Strategy<Value = Snapshot> {
    (desired_state(), proptest::collection::vec(0u8..4, 0..40)).prop_map(|(d, drift)| {
        let empty = empty_live();
        let p = plan(&d, &empty, Options::default()).expect("plannable");
        let mut live = simulate(&empty, &p);
        for (i, k) in drift.into_iter().enumerate() {
            match k {
                0 if !live.users.is_empty() => {
                    let n = i % live.users.len();
                    live.users[n].status = UserStatus::Expired;
                }
                1 if !live.users.is_empty() => {
                    let n = i % live.users.len();
                    live.users[n].status = UserStatus::Active;
                }
                // Only leaves lose keys: a keyed child under an unkeyed parent that
                // cannot be adopted would be a (correctly reported) move.
                2 if !live.accounts.is_empty() => {
                    let n = i % live.accounts.len();
                    let id = live.accounts[n].id.clone();
                    if !live.accounts.iter().any(|a| a.parent_id == id) {
                        live.accounts[n].external_key = None;
                    }
                }
                _ => {}
            }
        }
        live
    })
}

/// What a vendor like Nexudus can do.
fn login_vendor() -> Capabilities {
    Capabilities {
        role_scope: RoleScope::Login,
        ..Capabilities::users_only()
    }
}

/// Any capabilities a provider may declare: which kinds it creates and deletes, services,
/// keys, stored fields, the scope of a role, closed customers' own records.
fn any_capabilities() -> impl Strategy<Value = Capabilities> {
    let kinds =
        proptest::sample::subsequence(AccountKind::ALL.to_vec(), 0..=AccountKind::ALL.len());
    (
        kinds.clone(),
        kinds,
        any::<bool>(),
        any::<bool>(),
        any::<[bool; 4]>(),
        any::<[bool; 2]>(),
    )
        .prop_map(
            |(create, delete, services, keys, f, [login, closed])| Capabilities {
                create,
                delete,
                services,
                keys,
                fields: StoredFields {
                    contact: f[0],
                    country: f[1],
                    timezone: f[2],
                    labels: f[3],
                },
                role_scope: if login {
                    RoleScope::Login
                } else {
                    RoleScope::Account
                },
                closed_records: closed,
            },
        )
}

/// `d` as a configuration for a vendor with `caps` must be: no services where it keeps none,
/// and every email with the role and name it is first listed with where a role belongs to the
/// login.
fn for_capabilities(mut d: Desired, caps: &Capabilities) -> Desired {
    if !caps.services {
        for c in &mut d.customers {
            c.services.clear();
        }
    }
    if caps.role_scope == RoleScope::Login {
        d = for_login_vendor(d);
    }
    d
}

/// `d` as a configuration for [`login_vendor`] must be: no services, and every email with the
/// role and name it is first listed with.
fn for_login_vendor(mut d: Desired) -> Desired {
    let mut first: BTreeMap<String, (Role, String)> = BTreeMap::new();
    let mut same = |users: &mut Vec<CUser>| {
        for u in users {
            let (role, name) = first
                .entry(u.email.clone())
                .or_insert_with(|| (u.role, u.name.clone()));
            (u.role, u.name) = (*role, name.clone());
        }
    };
    same(&mut d.partner.users);
    for c in &mut d.customers {
        c.services.clear();
        same(&mut c.users);
        for n in &mut c.networks {
            same(&mut n.users);
            for s in &mut n.sub_accounts {
                same(&mut s.users);
            }
        }
    }
    d
}

/// A live state of [`login_vendor`]: some other desired state applied through it, then
/// invitations expired or accepted.
fn login_vendor_live() -> impl Strategy<Value = Snapshot> {
    (desired_state(), proptest::collection::vec(0u8..3, 0..40)).prop_map(|(d, drift)| {
        let (empty, caps) = (empty_live(), login_vendor());
        let d = for_login_vendor(d);
        let p = plan_for(&d, &empty, Options::default(), &caps).expect("plannable");
        let mut live = simulate_with(&empty, &p, &caps);
        for (i, k) in drift.into_iter().enumerate() {
            if live.users.is_empty() {
                break;
            }
            let n = i % live.users.len();
            match k {
                0 => live.users[n].status = UserStatus::Expired,
                1 => live.users[n].status = UserStatus::Active,
                _ => {}
            }
        }
        live
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn apply_then_plan_is_empty_for_any_capabilities(
        caps in any_capabilities(),
        before in desired_state(),
        d in desired_state(),
        prune in any::<bool>(),
    ) {
        // The live state: another configuration applied through the same vendor.
        let empty = empty_live();
        let before = for_capabilities(before, &caps);
        let Ok(first) = plan_for(&before, &empty, Options::default(), &caps) else {
            return Ok(());
        };
        let live = simulate_with(&empty, &first, &caps);
        let d = for_capabilities(d, &caps);
        let opts = Options { prune, prune_accounts: prune, force: true, ..Options::default() };
        let p = match plan_for(&d, &live, opts, &caps) {
            Ok(p) => p,
            Err(e) if e.0.iter().all(|x| matches!(x, PlanError::AmbiguousAdoption { .. } | PlanError::NoContact { .. })) => {
                return Ok(());
            }
            Err(e) => panic!("{e}"),
        };
        let after = simulate_with(&live, &p, &caps);
        let again = plan_for(&d, &after, opts, &caps).unwrap();
        prop_assert!(again.is_empty(), "not converged with {:?}: {:#?}", caps, again.operations);
    }

    #[test]
    fn apply_then_plan_is_empty_for_a_vendor_without_keys_and_with_login_roles(
        d in desired_state(), live in login_vendor_live(), prune in any::<bool>()
    ) {
        let caps = login_vendor();
        let d = for_login_vendor(d);
        let opts = Options { prune, prune_accounts: prune, force: true, ..Options::default() };
        let p = match plan_for(&d, &live, opts, &caps) {
            Ok(p) => p,
            Err(e) if e.0.iter().all(|x| matches!(x, PlanError::AmbiguousAdoption { .. })) => {
                return Ok(());
            }
            Err(e) => panic!("{e}"),
        };
        prop_assert!(!p.operations.iter().any(|o| o.action() == Action::Adopt));
        let after = simulate_with(&live, &p, &caps);
        let again = plan_for(&d, &after, opts, &caps).unwrap();
        prop_assert!(again.is_empty(), "not converged: {:#?}", again.operations);
        // Every login has one name and one role, on every account it belongs to.
        for u in &after.users {
            let other = after.users.iter().find(|x| x.email.eq_ignore_ascii_case(&u.email)
                && (x.name != u.name || x.role != u.role));
            prop_assert!(other.is_none(), "{} differs: {:?} / {:?}", u.email, u, other);
        }
        // A membership changed only by an operation on it.
        for u in &live.users {
            let touched = p.operations.iter().any(|o| o.change.user().is_some_and(|x| x.id == u.id)
                || (o.action() == Action::Delete && o.account.id() == Some(u.account_id.as_str())));
            if !touched {
                prop_assert!(after.users.iter().any(|x| x == u), "user {} changed without an operation", u.email);
            }
        }
    }

    #[test]
    fn apply_then_plan_is_empty(d in desired_state(), live in live_state(), prune in any::<bool>()) {
        let opts = Options { prune, prune_accounts: prune, force: true, ..Options::default() };
        let p = match plan(&d, &live, opts) {
            Ok(p) => p,
            // Two unkeyed live accounts that both fit: a real ambiguity, reported.
            Err(e) if e.0.iter().all(|x| matches!(x, PlanError::AmbiguousAdoption { .. })) => {
                return Ok(());
            }
            Err(e) => panic!("{e}"),
        };
        // No operation is a no-op: each one changes the state on its own.
        for (i, op) in p.operations.iter().enumerate() {
            let changes = match &op.change {
                Change::Update { .. } => !op.changed_fields().is_empty(),
                Change::UpdateUser { before, after, .. } => before != after,
                Change::UpdateService { before, after, .. } => before != after,
                _ => true,
            };
            prop_assert!(changes, "op {i} changes nothing: {op:?}");
        }
        let after = simulate(&live, &p);
        let again = plan(&d, &after, opts).unwrap();
        prop_assert!(again.is_empty(), "not converged: {:#?}", again.operations);
        if prune {
            prop_assert!(again.unmanaged.is_empty(), "{:#?}", again.unmanaged);
        }
        // Every object that matched and needed nothing is untouched.
        for u in &live.users {
            let touched = p.operations.iter().any(|o| o.change.user().is_some_and(|x| x.id == u.id)
                || (o.action() == Action::Delete && o.account.id() == Some(u.account_id.as_str())));
            if !touched {
                prop_assert!(after.users.iter().any(|x| x == u), "user {} changed without an operation", u.email);
            }
        }
        for a in &live.accounts {
            let touched = p.operations.iter().any(|o| o.account.id() == Some(a.id.as_str())
                && matches!(o.action(), Action::Update | Action::Adopt | Action::Delete));
            if !touched {
                prop_assert!(after.accounts.iter().any(|x| x == a), "account {} changed without an operation", a.id);
            }
        }
    }
}
