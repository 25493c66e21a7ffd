//! The safety guards: delete and update percentages, the last partner admin, the manageable
//! gate.

use super::*;

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
fn removing_a_partner_member_while_the_admin_stays_is_allowed() {
    let mut live = applied_acme();
    for u in &mut live.users {
        u.status = UserStatus::Active;
    }
    let mut d = acme();
    d.partner.users.retain(|u| u.role == Role::Admin);
    let options = Options {
        prune: true,
        force: true,
        ..Options::default()
    };
    let p = plan(&d, &live, options).unwrap();
    assert_eq!(
        actions(&p),
        [(Action::RemoveUser, "partner.user[support@acme.example]")]
    );
    assert_eq!(p.partner_admins.len(), 1);
    assert!(p.check_safety().is_ok(), "{:?}", p.check_safety());
}

#[test]
fn several_refusals_are_one_per_line() {
    let a = Refusal::LastPartnerAdmin {
        emails: vec!["ops@acme.example".into()],
    };
    let b = Refusal::NotManageable {
        partner: "Acme".into(),
        support_level: "none".into(),
        count: 2,
        example: "customer.a.user[x@a.example]".into(),
    };
    let both = Refusals(vec![a.clone(), b.clone()]);
    assert_eq!(both.to_string(), format!("{a}\n{b}"));
    assert_eq!(Refusals(vec![a.clone()]).to_string(), a.to_string());
    let e1 = PlanError::PartnerName {
        config: "A".into(),
        live: "B".into(),
    };
    let e2 = PlanError::AmbiguousAdoption {
        location: None,
        address: "customer.a".into(),
        ids: vec!["acc_1".into(), "acc_2".into()],
    };
    let errors = PlanErrors(vec![e1.clone(), e2.clone()]);
    assert_eq!(errors.to_string(), format!("{e1}\n{e2}"));
}

/// The applied acme estate, its customer contoso not manageable by the partner.
fn acme_with_contoso_closed() -> Snapshot {
    let mut live = applied_acme();
    let contoso = live_account(&mut live, "contoso");
    contoso.manageable = false;
    live
}

/// A customer the vendor does not let the partner manage: changes inside it (in it, in its
/// networks and sub-accounts, new accounts below it) refuse the plan, naming the customer;
/// renaming the customer itself and changes in other customers do not.
#[test]
fn changes_inside_a_customer_that_may_not_be_managed_are_refused() {
    let live = acme_with_contoso_closed();
    let mut d = acme();
    d.customers[0].name = "Contoso Renamed".into();
    let p = plan(&d, &live, Options::default()).unwrap();
    assert!(p.check_safety().is_ok(), "renaming the customer is allowed");
    let person = |email: &str| crate::config::User {
        email: email.into(),
        name: "New".into(),
        role: Role::Member,
    };
    d.customers[0].users.push(person("new@contoso.example"));
    d.customers[0].networks[0].sub_accounts[0]
        .users
        .push(person("desk@contoso.example"));
    d.customers[1].users.push(person("new@other.example"));
    let p = plan(&d, &live, Options::default()).unwrap();
    let r = p.check_safety().unwrap_err();
    assert_eq!(
        r.to_string(),
        "customer \"Contoso Ltd\" may not be managed by the partner (the vendor's \"manage\" permission for it is off): 2 change(s) to it or inside it cannot be made (deleting it is one), e.g. customer.contoso.user[new@contoso.example]; ask the customer or the vendor to allow it, or leave those changes out (what would be removed: keep it in the configuration, or plan without --prune and --prune-accounts)"
    );
}

/// A provider that closes a customer it may not manage to changes of its own record too:
/// renaming that customer refuses the plan, naming it; other customers' records stay open.
#[test]
fn a_provider_that_closes_records_refuses_renaming_a_customer_it_may_not_manage() {
    let live = acme_with_contoso_closed();
    let caps = Capabilities {
        closed_records: true,
        ..Capabilities::full()
    };
    let mut d = acme();
    d.customers[1].name = "Fabrikam Renamed".into();
    let p = plan_for(&d, &live, Options::default(), &caps).unwrap();
    assert!(p.check_safety().is_ok(), "{:?}", p.check_safety());
    d.customers[0].name = "Contoso Renamed".into();
    let p = plan_for(&d, &live, Options::default(), &caps).unwrap();
    assert_eq!(
        p.closed,
        [("Contoso Ltd".to_string(), "customer.contoso".to_string())]
    );
    let r = p.check_safety().unwrap_err();
    assert!(
        r.to_string().contains(
            "1 change(s) to it or inside it cannot be made (deleting it is one), e.g. customer.contoso;"
        ),
        "{r}"
    );
    // The partner API's own capabilities leave the record open.
    let p = plan_for(&d, &live, Options::default(), &Capabilities::full()).unwrap();
    assert!(p.closed.is_empty() && p.check_safety().is_ok());
    // A partner that may not manage its customers: renaming any of them is refused with it;
    // creating a customer and inviting a partner user are still not.
    let mut live = applied_acme();
    live.partner = partner(false);
    let mut d = acme();
    d.customers[1].name = "Fabrikam Renamed".into();
    let mut new = d.customers[1].clone();
    new.key = "tailspin".into();
    new.name = "Tailspin".into();
    new.users.clear();
    new.services.clear();
    new.networks.clear();
    d.customers.push(new);
    d.partner.users.push(crate::config::User {
        email: "new@acme.example".into(),
        name: "New".into(),
        role: Role::Member,
    });
    let p = plan_for(&d, &live, Options::default(), &caps).unwrap();
    not_manageable_once(&p, "customer.fabrikam");
    let p = plan_for(&d, &live, Options::default(), &Capabilities::full()).unwrap();
    assert!(p.check_safety().is_ok(), "{:?}", p.check_safety());
}

/// `p` is refused by the partner's manage gate alone, for one change: `example`.
fn not_manageable_once(p: &Plan, example: &str) {
    let r = p.check_safety().unwrap_err();
    let [
        Refusal::NotManageable {
            count, example: e, ..
        },
    ] = &r.0[..]
    else {
        panic!("{r}");
    };
    assert_eq!((*count, e.as_str()), (1, example));
}

/// A new network under a live customer that may not be managed is a change inside it.
#[test]
fn a_new_account_under_a_customer_that_may_not_be_managed_is_refused() {
    let live = acme_with_contoso_closed();
    let mut d = acme();
    let mut network = d.customers[0].networks[0].clone();
    network.key = "contoso-annex".into();
    network.name = "Contoso Annex".into();
    network.users.clear();
    network.sub_accounts.clear();
    d.customers[0].networks.push(network);
    let p = plan(&d, &live, Options::default()).unwrap();
    let r = p.check_safety().unwrap_err();
    assert!(
        r.to_string().contains(
            "1 change(s) to it or inside it cannot be made (deleting it is one), e.g. network.contoso-annex"
        ),
        "{r}"
    );
}

/// Deleting a customer deletes everything inside it: `--prune-accounts` may not delete a
/// customer of a partner that is not manageable, nor one that does not let its partner
/// manage it.
#[test]
fn deleting_a_customer_that_may_not_be_managed_is_refused() {
    let mut d = acme();
    d.customers.retain(|c| c.key != "fabrikam");
    let options = Options {
        prune: true,
        prune_accounts: true,
        force: true,
        ..Options::default()
    };
    let live = applied_acme();
    let p = plan(&d, &live, options).unwrap();
    assert_eq!(actions(&p), [(Action::Delete, "customer.fabrikam")]);
    assert!(p.check_safety().is_ok(), "{:?}", p.check_safety());

    let mut not_manageable = live.clone();
    not_manageable.partner = partner(false);
    not_manageable_once(
        &plan(&d, &not_manageable, options).unwrap(),
        "customer.fabrikam",
    );

    let mut closed = live.clone();
    live_account(&mut closed, "fabrikam").manageable = false;
    let r = plan(&d, &closed, options)
        .unwrap()
        .check_safety()
        .unwrap_err();
    assert_eq!(
        r.to_string(),
        "customer \"Fabrikam Inc\" may not be managed by the partner (the vendor's \"manage\" permission for it is off): 1 change(s) to it or inside it cannot be made (deleting it is one), e.g. customer.fabrikam; ask the customer or the vendor to allow it, or leave those changes out (what would be removed: keep it in the configuration, or plan without --prune and --prune-accounts)"
    );
}

/// Where a role belongs to the login, the partner's only admin listed only as a member of a
/// customer is demoted on the partner too: the plan says so (an update of the partner's user)
/// and the last-admin guard refuses it, even without --prune.
#[test]
fn a_login_role_set_elsewhere_cannot_demote_the_last_partner_admin() {
    let mut live = applied_acme();
    for u in &mut live.users {
        u.status = UserStatus::Active;
    }
    let caps = Capabilities {
        role_scope: RoleScope::Login,
        ..Capabilities::full()
    };
    let mut d = acme();
    d.partner.users.retain(|u| u.role != Role::Admin);
    d.customers[0].users.push(crate::config::User {
        email: "ops@acme.example".into(),
        name: "Acme Ops".into(),
        role: Role::Member,
    });
    let p = plan_for(&d, &live, Options::default(), &caps).unwrap();
    assert!(
        actions(&p).contains(&(Action::UpdateUser, "partner.user[ops@acme.example]")),
        "{:?}",
        actions(&p)
    );
    let r = p.check_safety().unwrap_err();
    assert!(
        matches!(&r.0[..], [Refusal::LastPartnerAdmin { emails }] if emails == &["ops@acme.example"]),
        "{r}"
    );
    // Per account, the same configuration leaves the partner's admin alone.
    let p = plan(&d, &live, Options::default()).unwrap();
    assert!(p.check_safety().is_ok(), "{:?}", p.check_safety());
}

/// What one customer of [`estate`] holds: users and services of its own, and a network with
/// users of its own and sub-accounts with theirs.
#[derive(Default, Clone)]
struct Holds {
    users: usize,
    services: usize,
    network: Option<(usize, Vec<usize>)>,
}

/// `n` users of `account` in YAML flow style, indented by `indent`.
fn users_yaml(account: &str, n: usize, indent: &str) -> String {
    if n == 0 {
        return String::new();
    }
    let mut out = format!("{indent}users:\n");
    for i in 0..n {
        out += &format!("{indent}  - {{ email: u{i}@{account}.example, name: User {i} }}\n");
    }
    out
}

/// A configuration of the partner (an admin and a member) and customers `c0`, `c1`, ...
/// holding what `customers` says (networks `n{i}`, sub-accounts `s{i}-{j}`).
fn estate(customers: &[Holds]) -> Desired {
    let mut y = String::from(
        "version: 1\npartner:\n  name: Acme Partners\n  users:\n    - { email: ops@acme.example, name: Ops, role: admin }\n    - { email: support@acme.example, name: Support }\ncustomers:\n",
    );
    for (i, c) in customers.iter().enumerate() {
        y += &format!(
            "  - key: c{i}\n    name: Customer {i}\n    contact: {{ name: C, email: c{i}@x.example }}\n    country: GB\n    timezone: UTC\n"
        );
        y += &users_yaml(&format!("c{i}"), c.users, "    ");
        if c.services > 0 {
            y += "    services:\n";
            for t in &["cards", "mobile-id", "visitor-management", "access-control"][..c.services] {
                y += &format!("      - {{ type: {t} }}\n");
            }
        }
        if let Some((users, subs)) = &c.network {
            y += &format!("    networks:\n      - key: n{i}\n        name: Network {i}\n");
            y += &users_yaml(&format!("n{i}"), *users, "        ");
            if !subs.is_empty() {
                y += "        sub_accounts:\n";
            }
            for (j, users) in subs.iter().enumerate() {
                y += &format!("          - key: s{i}-{j}\n            name: Site {j}\n");
                y += &users_yaml(&format!("s{i}-{j}"), *users, "            ");
            }
        }
    }
    desired(&y)
}

/// `d` applied to an empty partner.
fn applied(d: &Desired) -> Snapshot {
    let empty = empty_live();
    simulate(&empty, &plan(d, &empty, Options::default()).unwrap())
}

/// `--prune --prune-accounts`.
fn prune_all() -> Options {
    Options {
        prune: true,
        prune_accounts: true,
        ..Options::default()
    }
}

/// Deleting a customer removes its users, invitations and services: they count against the
/// limit as much as removing them one by one would.
#[test]
fn what_a_deleted_customer_holds_counts_against_the_delete_limit() {
    let big = Holds {
        users: 40,
        services: 4,
        network: None,
    };
    let small = Holds {
        users: 5,
        services: 4,
        network: None,
    };
    let d = estate(&[big, small.clone(), small]);
    let live = applied(&d);
    assert_eq!((live.users.len(), live.services.len()), (52, 12));
    let mut without = d.clone();
    without.customers.remove(0);
    let p = plan(&without, &live, prune_all()).unwrap();
    assert_eq!(actions(&p), [(Action::Delete, "customer.c0")]);
    let r = p.check_safety().unwrap_err();
    assert_eq!(
        r.to_string(),
        "deleting customer.c0 removes 40 of 52 users (77%), which exceeds --max-delete-percent 25; check the configuration, or pass --force (or raise --max-delete-percent) if this is intended\n\
         deleting customer.c0 removes 4 of 12 services (34%), which exceeds --max-delete-percent 25; check the configuration, or pass --force (or raise --max-delete-percent) if this is intended"
    );
    let forced = Options {
        force: true,
        ..prune_all()
    };
    assert!(
        plan(&without, &live, forced)
            .unwrap()
            .check_safety()
            .is_ok()
    );
    let raised = Options {
        max_delete_percent: 77,
        ..prune_all()
    };
    assert!(
        plan(&without, &live, raised)
            .unwrap()
            .check_safety()
            .is_ok()
    );
}

/// Every object a plan removes counts once: each deleted account (children are deletions of
/// their own), what each one holds, and removals elsewhere; the refusal names the accounts
/// whose deletion removes most, and what is removed directly.
#[test]
fn a_deleted_tree_counts_each_object_once_and_is_named() {
    let tree = Holds {
        users: 6,
        services: 2,
        network: Some((3, vec![2, 1, 0])),
    };
    let other = Holds {
        users: 2,
        services: 1,
        network: None,
    };
    let mut customers = vec![tree];
    customers.extend(std::iter::repeat_n(other, 8));
    let d = estate(&customers);
    let mut live = applied(&d);
    for u in &mut live.users {
        u.status = UserStatus::Active;
    }
    let mut without = d.clone();
    without.customers.remove(0);
    without.partner.users.retain(|u| u.role == Role::Admin);
    without.customers[0].services.clear();
    let zero = Options {
        max_delete_percent: 0,
        ..prune_all()
    };
    let p = plan(&without, &live, zero).unwrap();
    let after = simulate(&live, &p);
    let gone = |before: usize, after: usize| before - after;
    let removed = [
        ("accounts", gone(live.accounts.len(), after.accounts.len())),
        ("users", gone(live.users.len(), after.users.len())),
        ("services", gone(live.services.len(), after.services.len())),
    ];
    // c0, n0 and its three sites; 6 + 3 + 2 + 1 users and the partner's member; c0's two
    // services and c1's.
    assert_eq!(removed, [("accounts", 5), ("users", 13), ("services", 3)]);
    let refused: Vec<(&str, usize)> = p
        .check_safety()
        .unwrap_err()
        .0
        .iter()
        .filter_map(|r| match r {
            Refusal::DeleteThreshold { class, deletes, .. } => Some((class.as_str(), *deletes)),
            _ => None,
        })
        .collect();
    assert_eq!(refused, removed);
    let r = plan(&without, &live, prune_all())
        .unwrap()
        .check_safety()
        .unwrap_err();
    let texts: Vec<String> = r.0.iter().map(ToString::to_string).collect();
    assert_eq!(
        texts,
        [
            "deleting 5 of 13 accounts (39%) exceeds --max-delete-percent 25; check the configuration, or pass --force (or raise --max-delete-percent) if this is intended",
            "deleting customer.c0 (6), network.n0 (3), sub_account.s0-0 (2) and 1 more account(s) (1), plus 1 removed directly, removes 13 of 30 users (44%), which exceeds --max-delete-percent 25; check the configuration, or pass --force (or raise --max-delete-percent) if this is intended",
            "deleting customer.c0 (2), plus 1 removed directly, removes 3 of 10 services (30%), which exceeds --max-delete-percent 25; check the configuration, or pass --force (or raise --max-delete-percent) if this is intended",
        ]
    );
}

/// `n` customers with one user and the cards service each.
fn twelve_alike() -> (Desired, Snapshot) {
    let one = Holds {
        users: 1,
        services: 1,
        network: None,
    };
    let d = estate(&vec![one; 12]);
    let live = applied(&d);
    assert_eq!(
        (live.accounts.len(), live.users.len(), live.services.len()),
        (12, 14, 12)
    );
    (d, live)
}

/// The messages of the update-threshold refusals of `p`.
fn update_refusals(p: &Plan) -> Vec<String> {
    p.check_safety()
        .err()
        .unwrap_or_default()
        .0
        .iter()
        .filter(|r| matches!(r, Refusal::UpdateThreshold { .. }))
        .map(ToString::to_string)
        .collect()
}

/// Updating more than --max-update-percent of a class of at least 10 is refused: users' names
/// and roles, accounts' fields, services' settings; --force or a higher limit lets it through.
#[test]
fn updating_more_than_the_limit_of_a_class_is_refused() {
    let live = applied_acme();
    let renamed = |n: usize| {
        let mut d = acme();
        let users = d
            .partner
            .users
            .iter_mut()
            .chain(d.customers.iter_mut().flat_map(|c| c.users.iter_mut()));
        for u in users.take(n) {
            u.name.push_str(" Jr");
        }
        d
    };
    let p = plan(&renamed(4), &live, Options::default()).unwrap();
    assert_eq!(p.counts(), [(Action::UpdateUser, 4)]);
    assert_eq!(
        update_refusals(&p),
        [
            "updating 4 of 10 users (40%) exceeds --max-update-percent 30; check the configuration, or pass --force (or raise --max-update-percent) if this is intended"
        ]
    );
    // 30% is not more than 30%.
    let p = plan(&renamed(3), &live, Options::default()).unwrap();
    assert!(p.check_safety().is_ok(), "{:?}", p.check_safety());
    for options in [
        Options {
            force: true,
            ..Options::default()
        },
        Options {
            max_update_percent: 40,
            ..Options::default()
        },
    ] {
        let p = plan(&renamed(4), &live, options).unwrap();
        assert!(p.check_safety().is_ok(), "{:?}", p.check_safety());
    }

    let (d, live) = twelve_alike();
    let mut accounts = d.clone();
    for c in &mut accounts.customers[..4] {
        c.name.push_str(" Ltd");
    }
    let mut services = d.clone();
    for c in &mut services.customers[..4] {
        c.services[0]
            .settings
            .insert("layout_approval".into(), json!(false));
    }
    let p = plan(&accounts, &live, Options::default()).unwrap();
    assert_eq!(
        update_refusals(&p),
        [
            "updating 4 of 12 accounts (34%) exceeds --max-update-percent 30; check the configuration, or pass --force (or raise --max-update-percent) if this is intended"
        ]
    );
    let p = plan(&services, &live, Options::default()).unwrap();
    assert_eq!(p.counts(), [(Action::UpdateService, 4)]);
    assert_eq!(
        update_refusals(&p),
        [
            "updating 4 of 12 services (34%) exceeds --max-update-percent 30; check the configuration, or pass --force (or raise --max-update-percent) if this is intended"
        ]
    );
}

/// Adopting accounts as they are (only their key is set) is no update; an adoption that
/// changes fields is one.
#[test]
fn adoptions_count_as_updates_only_when_they_change_fields() {
    let (d, mut live) = twelve_alike();
    for a in &mut live.accounts {
        a.external_key = None;
    }
    let p = plan(&d, &live, Options::default()).unwrap();
    assert_eq!(p.counts(), [(Action::Adopt, 12)]);
    assert!(p.check_safety().is_ok(), "{:?}", p.check_safety());
    let mut moved = d.clone();
    for c in &mut moved.customers[..4] {
        c.country = Some("FR".into());
    }
    let p = plan(&moved, &live, Options::default()).unwrap();
    assert_eq!(p.counts(), [(Action::Adopt, 12)]);
    assert_eq!(
        update_refusals(&p),
        [
            "updating 4 of 12 accounts (34%) exceeds --max-update-percent 30; check the configuration, or pass --force (or raise --max-update-percent) if this is intended"
        ]
    );
}

/// A plan saved with the default update limit carries no such field, as plans saved before
/// the limit existed: such a file reads with the default and its digest holds. Another limit
/// is saved, and under the digest.
#[test]
fn saved_plans_carry_the_update_limit_only_when_it_is_not_the_default() {
    let save = |options: Options| {
        let p = plan(&acme(), &empty_live(), options).unwrap();
        SavedPlan::new(&p, &acme().sources, "http://127.0.0.1:1", true, None, None).to_json()
    };
    let default = save(Options::default());
    assert!(!default.contains("max_update_percent"), "{default}");
    let read = SavedPlan::from_json(&default, None).unwrap();
    assert_eq!(read.options.max_update_percent, DEFAULT_MAX_UPDATE_PERCENT);
    let fifty = save(Options {
        max_update_percent: 50,
        ..Options::default()
    });
    assert!(fifty.contains("\"max_update_percent\": 50"), "{fifty}");
    assert_eq!(
        SavedPlan::from_json(&fifty, None)
            .unwrap()
            .options
            .max_update_percent,
        50
    );
    let raised = fifty.replace("\"max_update_percent\": 50", "\"max_update_percent\": 100");
    assert!(matches!(
        SavedPlan::from_json(&raised, None),
        Err(SavedPlanError::Digest)
    ));
}

/// A person invited by hand into `account_id` (a live id).
fn by_hand(account_id: &str, email: &str, role: Role) -> crate::live::User {
    crate::live::User {
        id: format!("usr_{email}"),
        account_id: account_id.into(),
        email: email.into(),
        name: "By Hand".into(),
        role,
        status: UserStatus::Active,
        etag: format!("\"{email}\""),
    }
}

/// `--accept-unmanaged` accepts unlisted accounts, the admins inside them included (still
/// counted and listed as access risks), and unlisted members; never an unmanaged admin of the
/// partner or of a managed account, which takes accepting admins too.
#[test]
fn accepting_unmanaged_objects_never_accepts_an_admin_of_a_managed_account_silently() {
    let mut live = applied_acme();
    let fabrikam = live_account(&mut live, "fabrikam").id.clone();
    let contoso = live_account(&mut live, "contoso").id.clone();
    for i in 0..5 {
        let email = format!("admin{i}@fabrikam.example");
        live.users.push(by_hand(&fabrikam, &email, Role::Admin));
    }
    live.users
        .push(by_hand(&fabrikam, "desk@fabrikam.example", Role::Member));
    live.users
        .push(by_hand(&contoso, "temp@contoso.example", Role::Member));
    let mut d = acme();
    d.customers.remove(1); // fabrikam, with its admin Ravi and the five above
    let p = plan(&d, &live, Options::default()).unwrap();
    assert!(p.is_empty());
    assert_eq!(p.unmanaged_admins(), 6);
    let risks: Vec<&str> = p
        .unmanaged
        .iter()
        .filter(|u| u.is_admin())
        .map(|u| u.account_address())
        .collect();
    assert_eq!(risks, ["customer.fabrikam"; 6]);
    assert!(p.unmanaged_admins_on_managed().is_empty());
    let drift = |p: &Plan| {
        [
            Accept::Nothing,
            Accept::Unmanaged,
            Accept::UnmanagedAndAdmins,
        ]
        .map(|a| p.has_drift(a))
    };
    assert_eq!(drift(&p), [true, false, false]);

    for (account, email) in [
        (live.partner.id.clone(), "root@acme.example"),
        (contoso, "intruder@evil.example"),
    ] {
        let mut live = live.clone();
        live.users.push(by_hand(&account, email, Role::Admin));
        let p = plan(&d, &live, Options::default()).unwrap();
        assert!(p.is_empty());
        assert_eq!(p.unmanaged_admins(), 7);
        let on_managed: Vec<&str> = p
            .unmanaged_admins_on_managed()
            .iter()
            .map(|u| u.address.as_str())
            .collect();
        let address = if email == "root@acme.example" {
            "partner.user[root@acme.example]"
        } else {
            "customer.contoso.user[intruder@evil.example]"
        };
        assert_eq!(on_managed, [address]);
        assert_eq!(drift(&p), [true, true, false], "{email}");
    }
}
