//! The safety guards: delete percentages, the last partner admin, the manageable gate.

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
        "customer \"Contoso Ltd\" may not be managed by the partner (the vendor's \"manage\" permission for it is off): 2 change(s) inside it cannot be made (deleting it is one), e.g. customer.contoso.user[new@contoso.example]; ask the customer or the vendor to allow it, or leave those changes out (what would be removed: keep it in the configuration, or plan without --prune and --prune-accounts)"
    );
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
            "1 change(s) inside it cannot be made (deleting it is one), e.g. network.contoso-annex"
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
    let r = plan(&d, &not_manageable, options)
        .unwrap()
        .check_safety()
        .unwrap_err();
    let [Refusal::NotManageable { count, example, .. }] = &r.0[..] else {
        panic!("{r}");
    };
    assert_eq!((*count, example.as_str()), (1, "customer.fabrikam"));

    let mut closed = live.clone();
    live_account(&mut closed, "fabrikam").manageable = false;
    let r = plan(&d, &closed, options)
        .unwrap()
        .check_safety()
        .unwrap_err();
    assert_eq!(
        r.to_string(),
        "customer \"Fabrikam Inc\" may not be managed by the partner (the vendor's \"manage\" permission for it is off): 1 change(s) inside it cannot be made (deleting it is one), e.g. customer.fabrikam; ask the customer or the vendor to allow it, or leave those changes out (what would be removed: keep it in the configuration, or plan without --prune and --prune-accounts)"
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
