//! Unit and property tests of the pure planner, with an in-memory executor.

use std::collections::{BTreeMap, HashSet};

use serde_json::json;

use super::testutil::*;
use super::*;
use crate::config::{Source, load_sources};
use crate::live::{Account, Contact, Limits};
use crate::vocab::{AccountKind, Role, UserStatus};

fn desired(yaml: &str) -> Desired {
    load_sources(&[Source {
        path: "t.yaml".into(),
        text: yaml.into(),
    }])
    .unwrap_or_else(|p| panic!("{p}"))
}

fn actions(plan: &Plan) -> Vec<(Action, &str)> {
    plan.operations
        .iter()
        .map(|o| (o.action(), o.address.as_str()))
        .collect()
}

#[test]
fn empty_partner_to_acme_then_converged() {
    let d = acme();
    let live = empty_live();
    let p = plan(&d, &live, Options::default()).unwrap();
    let counts: BTreeMap<&str, usize> = p.counts().iter().map(|(a, n)| (a.as_str(), *n)).collect();
    assert_eq!(
        counts,
        BTreeMap::from([("create", 6), ("invite", 10), ("add-service", 8)])
    );
    assert_eq!(p.writes(), 24);
    // A sub-account waits for its network, which waits for its customer.
    let idx = |addr: &str, action: Action| {
        p.operations
            .iter()
            .position(|o| o.address == addr && o.action() == action)
            .unwrap()
    };
    let customer = idx("customer.contoso", Action::Create);
    let network = idx("network.contoso-network", Action::Create);
    let paris = idx("sub_account.contoso-paris", Action::Create);
    assert_eq!(p.operations[network].depends_on, vec![customer]);
    assert_eq!(p.operations[paris].depends_on, vec![network]);
    let invite = idx(
        "sub_account.contoso-paris.user[paris@contoso.example]",
        Action::Invite,
    );
    assert_eq!(p.operations[invite].depends_on, vec![paris]);
    // Partner users need nothing.
    let ops = idx("partner.user[ops@acme.example]", Action::Invite);
    assert!(p.operations[ops].depends_on.is_empty());
    // Settings are sent as written (the default's from `defaults.services`).
    let cards = idx("customer.fabrikam.service[cards]", Action::AddService);
    let settings = |i: usize| match &p.operations[i].change {
        Change::AddService { settings, .. } => serde_json::Value::Object(settings.clone()),
        other => panic!("not an add-service: {other:?}"),
    };
    assert_eq!(settings(cards), json!({ "layout_approval": true }));
    let mobile = idx("customer.contoso.service[mobile-id]", Action::AddService);
    assert_eq!(settings(mobile), json!({}));
    let live2 = simulate(&live, &p);
    let again = plan(&d, &live2, Options::default()).unwrap();
    assert!(again.is_empty(), "{:#?}", again.operations);
    assert_eq!(again.pending_invitations, 10);
    assert!(again.check_safety().is_ok());
}

fn applied_acme() -> Snapshot {
    let live = empty_live();
    let p = plan(&acme(), &live, Options::default()).unwrap();
    simulate(&live, &p)
}

#[test]
fn rename_is_one_update_with_before_and_after() {
    let live = applied_acme();
    let mut d = acme();
    d.customers[1].name = "Fabrikam Incorporated".into();
    let p = plan(&d, &live, Options::default()).unwrap();
    assert_eq!(actions(&p), [(Action::Update, "customer.fabrikam")]);
    let changed = p.operations[0].changed_fields();
    assert_eq!(
        changed,
        [FieldChange {
            field: "name",
            before: FieldValue::Text("Fabrikam Inc"),
            after: FieldValue::Text("Fabrikam Incorporated"),
        }]
    );
    assert!(p.operations[0].change.etag().is_some());
}

#[test]
fn expired_invitation_is_resent_after_a_role_change() {
    let mut live = applied_acme();
    let jane = live
        .users
        .iter_mut()
        .find(|u| u.email == "jane@contoso.example")
        .unwrap();
    jane.status = UserStatus::Expired;
    jane.role = Role::Member;
    let p = plan(&acme(), &live, Options::default()).unwrap();
    let addr = "customer.contoso.user[jane@contoso.example]";
    assert_eq!(
        actions(&p),
        [(Action::UpdateUser, addr), (Action::Resend, addr)]
    );
    assert_eq!(p.operations[1].depends_on, vec![0]);
    let converged = simulate(&live, &p);
    assert!(
        plan(&acme(), &converged, Options::default())
            .unwrap()
            .is_empty()
    );
}

#[test]
fn removed_customer_is_unmanaged_unless_pruned_children_first() {
    let live = applied_acme();
    let mut d = acme();
    d.customers.remove(0); // contoso, with its network and two sub-accounts
    d.customers[0].protect = false;
    let p = plan(&d, &live, Options::default()).unwrap();
    assert!(p.is_empty());
    let unmanaged: Vec<&str> = p.unmanaged.iter().map(|u| u.address.as_str()).collect();
    // contoso is protected in acme (label recorded on create), so it is kept even from
    // --prune-accounts, and so is everything above its protected descendants.
    assert_eq!(
        unmanaged,
        [
            "customer.contoso",
            "network.contoso-network",
            "sub_account.contoso-paris",
            "sub_account.contoso-lyon"
        ]
    );
    let opts = Options {
        prune_accounts: true,
        ..Options::default()
    };
    let p = plan(&d, &live, opts).unwrap();
    // contoso is protected: sub-accounts and network go, the customer stays.
    assert_eq!(
        actions(&p),
        [
            (Action::Delete, "sub_account.contoso-paris"),
            (Action::Delete, "sub_account.contoso-lyon"),
            (Action::Delete, "network.contoso-network"),
        ]
    );
    assert_eq!(p.operations[2].depends_on, vec![0, 1]);
    assert_eq!(p.unmanaged.len(), 1);
    assert_eq!(p.unmanaged[0].reason, "protected (never deleted)");
}

#[test]
fn unprotected_removed_customer_is_deleted_with_prune_accounts() {
    let mut d0 = acme();
    d0.customers[0].protect = false;
    let live0 = empty_live();
    let live = simulate(&live0, &plan(&d0, &live0, Options::default()).unwrap());
    let mut d = d0.clone();
    d.customers.remove(0);
    let opts = Options {
        prune_accounts: true,
        force: true,
        ..Options::default()
    };
    let p = plan(&d, &live, opts).unwrap();
    assert_eq!(p.operations.last().unwrap().address, "customer.contoso");
    assert_eq!(p.operations.last().unwrap().depends_on, vec![2]);
    let after = simulate(&live, &p);
    assert!(plan(&d, &after, opts).unwrap().is_empty());
    let p = plan(
        &d,
        &live,
        Options {
            force: false,
            ..opts
        },
    )
    .unwrap();
    // 4 of 6 accounts, but a class is guarded only from 10 live objects on.
    assert!(p.check_safety().is_ok());
}

#[test]
fn prune_removes_users_and_services_and_guards_percentages() {
    let live = applied_acme();
    let mut d = acme();
    for c in &mut d.customers {
        c.users.clear();
        c.services.clear();
    }
    let opts = Options {
        prune: true,
        ..Options::default()
    };
    let p = plan(&d, &live, opts).unwrap();
    let removals = p
        .operations
        .iter()
        .filter(|o| o.action() == Action::Revoke)
        .count();
    assert_eq!(removals, 5);
    let refusals = p.check_safety().unwrap_err();
    assert_eq!(
        refusals.to_string(),
        "deleting 5 of 10 users (50%) exceeds --max-delete-percent 25; check the configuration, or pass --force (or raise --max-delete-percent) if this is intended"
    );
    assert!(
        plan(
            &d,
            &live,
            Options {
                force: true,
                ..opts
            }
        )
        .unwrap()
        .check_safety()
        .is_ok()
    );
    assert!(
        plan(
            &d,
            &live,
            Options {
                max_delete_percent: 50,
                ..opts
            }
        )
        .unwrap()
        .check_safety()
        .is_ok()
    );
}

#[test]
fn last_partner_admin_cannot_be_removed_or_demoted() {
    let mut live = applied_acme();
    for u in &mut live.users {
        u.status = UserStatus::Active;
    }
    let mut d = acme();
    d.partner.users.retain(|u| u.role != Role::Admin);
    let p = plan(
        &d,
        &live,
        Options {
            prune: true,
            force: true,
            ..Options::default()
        },
    )
    .unwrap();
    assert_eq!(
        actions(&p),
        [(Action::RemoveUser, "partner.user[ops@acme.example]")]
    );
    let r = p.check_safety().unwrap_err();
    assert!(
        matches!(&r.0[..], [Refusal::LastPartnerAdmin { emails }] if emails == &["ops@acme.example"])
    );
    let mut d = acme();
    d.partner.users[0].role = Role::Member;
    let p = plan(&d, &live, Options::default()).unwrap();
    assert_eq!(
        actions(&p),
        [(Action::UpdateUser, "partner.user[ops@acme.example]")]
    );
    assert!(p.check_safety().is_err());
    // With a second active admin, demoting one is fine.
    let mut d2 = d.clone();
    d2.partner.users[1].role = Role::Admin;
    live.users
        .iter_mut()
        .find(|u| u.email == "support@acme.example")
        .unwrap()
        .role = Role::Admin;
    assert!(
        plan(&d2, &live, Options::default())
            .unwrap()
            .check_safety()
            .is_ok()
    );
}

#[test]
fn not_manageable_partner_may_only_touch_customer_accounts() {
    let mut live = empty_live();
    live.partner = partner(false);
    let p = plan(&acme(), &live, Options::default()).unwrap();
    let r = p.check_safety().unwrap_err();
    let [Refusal::NotManageable { count, example, .. }] = &r.0[..] else {
        panic!("{r}");
    };
    // 24 writes: 2 partner invites and 3 customer creates are allowed.
    assert_eq!(*count, 19);
    assert_eq!(example, "customer.contoso.user[jane@contoso.example]");
    let d = desired(
        "version: 1\npartner: { name: Acme Partners }\ncustomers:\n  - { key: a, name: A, contact: { name: J, email: j@a.example }, country: GB, timezone: UTC }\n",
    );
    let p = plan(&d, &live, Options::default()).unwrap();
    assert!(p.check_safety().is_ok());
}

#[test]
fn adoption_of_unkeyed_accounts() {
    let mut live = empty_live();
    let d = desired(
        "version: 1\npartner: { name: Acme Partners }\ncustomers:\n  - { key: a, name: A, contact: { name: J, email: j@a.example }, country: GB, timezone: UTC }\n",
    );
    live.accounts.push(Account {
        id: "acc_1".into(),
        kind: AccountKind::Customer,
        parent_id: "p1".into(),
        external_key: None,
        name: "A".into(),
        contact: Some(Contact {
            name: "J".into(),
            email: "j@a.example".into(),
        }),
        country: Some("GB".into()),
        timezone: Some("Europe/London".into()),
        labels: BTreeMap::new(),
        etag: "\"1\"".into(),
    });
    let p = plan(&d, &live, Options::default()).unwrap();
    assert_eq!(actions(&p), [(Action::Adopt, "customer.a")]);
    let changed: Vec<String> = p.operations[0]
        .changed_fields()
        .into_iter()
        .map(|c| c.field.to_string())
        .collect();
    assert_eq!(changed, ["timezone", "external_key"]);
    assert!(
        plan(&d, &simulate(&live, &p), Options::default())
            .unwrap()
            .is_empty()
    );
    let mut twice = live.clone();
    let mut other = twice.accounts[0].clone();
    other.id = "acc_2".into();
    twice.accounts.push(other);
    let e = plan(&d, &twice, Options::default()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "customer.a: 2 live accounts without a key have this kind, parent and name (acc_1, acc_2); adopt one by setting its external key, or rename the others"
    );
}

#[test]
fn moves_kind_changes_partner_name_and_services_are_errors() {
    let live = applied_acme();
    // Move contoso-lyon under a new network.
    let mut d = acme();
    let lyon = d.customers[0].networks[0].sub_accounts.remove(1);
    d.customers[0].networks.push(crate::config::Network {
        key: "contoso-south".into(),
        name: "South".into(),
        country: Some("FR".into()),
        timezone: Some("Europe/Paris".into()),
        protect: false,
        labels: BTreeMap::new(),
        users: vec![],
        services: vec![],
        sub_accounts: vec![lyon],
    });
    d.partner.name = "Other Partners".into();
    d.customers[1].services.push(crate::config::Service {
        service_type: "parking".into(),
        settings: serde_json::Map::new(),
    });
    d.customers[2].services[0]
        .settings
        .insert("layout_approval".into(), json!("yes"));
    let e = plan(&d, &live, Options::default()).unwrap_err();
    let msgs: Vec<String> = e.0.iter().map(ToString::to_string).collect();
    assert_eq!(msgs.len(), 4, "{msgs:#?}");
    assert!(msgs[0].starts_with("the configuration is for partner `Other Partners`, but the token belongs to partner `Acme Partners`"));
    assert!(msgs[1].starts_with("sub_account.contoso-lyon exists under network.contoso-network, but the configuration puts it under network.contoso-south; the API cannot move accounts"));
    assert_eq!(
        msgs[2],
        "customer.fabrikam.service[parking]: unknown service type `parking`; the catalog has: access-control, cards, mobile-id, visitor-management"
    );
    assert!(
        msgs[3].starts_with(
            "customer.northwind.service[cards]: invalid settings for `cards`: /layout_approval "
        ),
        "{}",
        msgs[3]
    );

    let mut d = acme();
    let net = d.customers[0].networks.remove(0);
    d.customers[1].networks.push(net);
    d.customers[0].key = "contoso-network".into();
    let e = plan(&d, &live, Options::default()).unwrap_err();
    assert!(
        e.0.iter()
            .any(|x| matches!(x, PlanError::KindChanged { .. })),
        "{e}"
    );
}

#[test]
fn cost_line_inputs() {
    let mut live = empty_live();
    live.limits = Limits {
        reads_per_minute: None,
        writes_per_minute: Some(600),
    };
    let p = plan(&acme(), &live, Options::default()).unwrap();
    assert_eq!(p.writes(), 24);
    assert_eq!(p.min_seconds(), Some(2.4));
}

mod convergence {
    //! Property: for random desired D and live L, applying plan(D, L) gives L' with an empty
    //! plan(D, L'), and no operation is a no-op on an object that already matched.
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
                name: format!("Customer {i}{}", if name == 1 { " Ltd" } else { "" }),
                contact: crate::config::Contact {
                    name: "C".into(),
                    email: format!("c{i}@x.example"),
                },
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
                                name: format!("Site {j}{}", if keep { "" } else { "!" }),
                                country: Some("GB".into()),
                                timezone: Some("UTC".into()),
                                protect: false,
                                labels: BTreeMap::new(),
                                users: su,
                                services: vec![],
                            })
                            .collect(),
                    })
                    .collect(),
            })
    }

    fn desired_state() -> impl Strategy<Value = Desired> {
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
            })
    }

    /// A live state: some other desired state applied, then drift (expired or accepted
    /// invitations, keys dropped from leaf accounts so adoption happens).
    fn live_state() -> impl Strategy<Value = Snapshot> {
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

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

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
}

/// One plan with every action, from the acme estate with drift on both sides.
fn every_action_plan() -> Plan {
    let mut live = applied_acme();
    // Adopt: northwind loses its key in the live state.
    let nw = live
        .accounts
        .iter_mut()
        .find(|a| a.external_key.as_deref() == Some("northwind"))
        .unwrap();
    nw.external_key = None;
    nw.timezone = Some("America/Chicago".into());
    let nw_id = nw.id.clone();
    // Resend and update-user.
    for u in live.users.iter_mut() {
        if u.email.starts_with("paris@") {
            u.status = UserStatus::Expired;
        }
        if u.email.starts_with("jane@") {
            u.role = Role::Member;
        }
    }
    let fabrikam = live
        .accounts
        .iter()
        .find(|a| a.external_key.as_deref() == Some("fabrikam"))
        .unwrap()
        .id
        .clone();
    // Remove-user, revoke, remove-service on fabrikam; delete of an unkeyed stray customer.
    for (id, email, status) in [
        ("usr_9001", "old@fabrikam.example", UserStatus::Active),
        ("usr_9002", "gone@fabrikam.example", UserStatus::Invited),
    ] {
        live.users.push(crate::live::User {
            id: id.into(),
            account_id: fabrikam.clone(),
            email: email.into(),
            name: "Former".into(),
            role: Role::Member,
            status,
            etag: format!("e{id}"),
        });
    }
    live.services.push(crate::live::Service {
        account_id: nw_id,
        service_type: "mobile-id".into(),
        settings: serde_json::Map::new(),
        etag: "e9003".into(),
    });
    live.accounts.push(Account {
        id: "acc_9004".into(),
        kind: AccountKind::Customer,
        parent_id: "p1".into(),
        external_key: None,
        name: "Stray".into(),
        contact: None,
        country: None,
        timezone: None,
        labels: BTreeMap::new(),
        etag: "e9004".into(),
    });
    let mut d = acme();
    d.customers[1].name = "Fabrikam Incorporated".into();
    d.customers[0].services[0]
        .settings
        .insert("layout_approval".into(), json!(true));
    let mut zeta = d.customers[1].clone();
    zeta.key = "zeta".into();
    zeta.name = "Zeta".into();
    zeta.users[0].email = "z@zeta.example".into();
    d.customers.push(zeta);
    let options = Options {
        prune: true,
        prune_accounts: true,
        force: true,
        ..Options::default()
    };
    plan(&d, &live, options).unwrap()
}

#[test]
fn operations_keep_their_wire_format_and_round_trip() {
    let p = every_action_plan();
    let seen: HashSet<Action> = p.operations.iter().map(|o| o.action()).collect();
    assert_eq!(seen.len(), Action::ALL.len(), "{seen:?}");
    let text = serde_json::to_string_pretty(&p.operations).unwrap();
    insta::assert_snapshot!("every_action_operations", text);
    let back: Vec<Operation> = serde_json::from_str(&text).unwrap();
    assert_eq!(back, p.operations);
}
