//! A saved plan against the live state of now: applied when the objects its operations need
//! are as they were (changes elsewhere counted), refused naming what changed otherwise, and
//! judged by the guards against the live state of now.

use super::*;

/// The plan of `d` against `live`, saved.
fn saved(d: &Desired, live: &Snapshot, options: Options) -> SavedPlan {
    let p = plan(d, live, options).unwrap();
    assert!(p.check_safety().is_ok(), "{:?}", p.check_safety());
    SavedPlan::new(&p, &d.sources, "http://127.0.0.1:1/", false, None, None)
}

/// The saved plan against `live`, its configuration planned again against it.
fn against(s: &SavedPlan, d: &Desired, live: &Snapshot) -> Result<Applicable, Stale> {
    let now = plan(d, live, s.options).unwrap();
    s.against(&now, live)
}

fn stale(s: &SavedPlan, d: &Desired, live: &Snapshot) -> Stale {
    match against(s, d, live) {
        Ok(a) => panic!("not stale: {:?}", a.elsewhere),
        Err(e) => e,
    }
}

/// Acme with Fabrikam renamed and a new user in Northwind: an update and an invitation.
fn acme_changed() -> Desired {
    let mut d = acme();
    let fabrikam = d
        .customers
        .iter_mut()
        .find(|c| c.key == "fabrikam")
        .unwrap();
    fabrikam.name = "Fabrikam Incorporated".into();
    let northwind = d
        .customers
        .iter_mut()
        .find(|c| c.key == "northwind")
        .unwrap();
    northwind.users.push(crate::config::User {
        email: "new@northwind.example".into(),
        name: "New Person".into(),
        role: Role::Member,
    });
    d
}

fn user<'s>(live: &'s mut Snapshot, email: &str) -> &'s mut crate::live::User {
    live.users.iter_mut().find(|u| u.email == email).unwrap()
}

#[test]
fn an_unchanged_live_state_applies_exactly_the_saved_operations() {
    let d = acme_changed();
    let live = applied_acme();
    let s = saved(&d, &live, Options::default());
    assert_eq!(s.operations.len(), 2);
    let a = against(&s, &d, &live).unwrap();
    assert_eq!(a.plan.operations, s.operations);
    assert!(a.elsewhere.is_empty());
    assert!(a.plan.check_safety().is_ok());
}

#[test]
fn changes_elsewhere_do_not_make_it_stale_and_are_counted() {
    let d = acme_changed();
    let mut live = applied_acme();
    let s = saved(&d, &live, Options::default());
    // An invitation in another customer expires; an account nobody manages appears; the
    // account the saved invitation goes to is renamed by hand (and its contact changed): the
    // invitation still goes to the same account.
    let jane = user(&mut live, "jane@contoso.example");
    (jane.status, jane.etag) = (UserStatus::Expired, "e-expired".into());
    let mut stray = live_account(&mut live, "northwind").clone();
    (stray.id, stray.external_key, stray.name) = ("acc_stray".into(), None, "Stray".into());
    live.accounts.push(stray);
    let northwind = live_account(&mut live, "northwind");
    northwind.name = "Northwind (renamed by hand)".into();
    northwind.contact.as_mut().unwrap().name = "Someone Else".into();
    northwind.etag = "e-renamed".into();

    let a = against(&s, &d, &live).unwrap();
    assert_eq!(a.plan.operations, s.operations);
    assert_eq!(
        a.elsewhere,
        [
            (
                "customer.contoso.user[jane@contoso.example]".to_string(),
                Action::Resend
            ),
            ("customer.northwind".to_string(), Action::Update),
        ]
    );
}

#[test]
fn the_field_that_changed_in_an_operations_object_is_named() {
    let d = acme_changed();
    let mut live = applied_acme();
    let s = saved(&d, &live, Options::default());
    let fabrikam = live_account(&mut live, "fabrikam");
    fabrikam.name = "Fabrikam\nby hand".into();
    fabrikam.etag = "e-renamed".into();
    let e = stale(&s, &d, &live);
    assert_eq!(
        e.changed,
        [StaleOperation {
            index: 0,
            address: "customer.fabrikam".into(),
            action: Action::Update,
            differences: vec![Difference::Field {
                address: "customer.fabrikam".into(),
                field: "name",
                saved: Recorded::Text("Fabrikam Inc".into()),
                now: Recorded::Text("Fabrikam\nby hand".into()),
            }],
        }]
    );
    assert_eq!(e.dependents, 0);
    // One line per operation: a name from the API starts no line of its own.
    assert_eq!(
        e.to_string(),
        "1 of its 2 operations needs objects that changed since the plan was made:\n  - customer.fabrikam (update): name \"Fabrikam Inc\" → \"Fabrikam\\nby hand\""
    );
    // Changed in a field the plan does not record: the etag says so.
    let mut live = applied_acme();
    live_account(&mut live, "fabrikam").etag = "e-other".into();
    let e = stale(&s, &d, &live);
    assert!(
        e.changed[0].to_string().starts_with(
            "customer.fabrikam (update): it changed in a field the plan does not show (etag "
        ),
        "{e}"
    );
}

#[test]
fn an_account_deleted_by_hand_that_operations_need() {
    let mut d = acme_changed();
    let mut network = d.customers[0].networks[0].clone();
    network.key = "northwind-network".into();
    network.sub_accounts.clear();
    network.users.clear();
    let northwind = d
        .customers
        .iter_mut()
        .find(|c| c.key == "northwind")
        .unwrap();
    northwind.networks.push(network);
    let mut live = applied_acme();
    let s = saved(&d, &live, Options::default());
    let id = live_account(&mut live, "northwind").id.clone();
    live.accounts.retain(|a| a.id != id);
    live.users.retain(|u| u.account_id != id);
    live.services.retain(|x| x.account_id != id);
    let e = stale(&s, &d, &live);
    let lines: Vec<String> = e.changed.iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        [
            "customer.northwind.user[new@northwind.example] (invite): customer.northwind was deleted since the plan was made",
            "network.northwind-network (create): customer.northwind was deleted since the plan was made",
        ]
    );
    // The network's service waits for the network's creation.
    assert_eq!(e.dependents, 1);
    assert!(
        e.to_string()
            .ends_with("\n  - and 1 operation that depends on them"),
        "{e}"
    );
}

#[test]
fn a_customer_created_by_hand_stops_its_creation_and_what_depends_on_it() {
    let d = acme();
    let mut live = empty_live();
    let s = saved(&d, &live, Options::default());
    live.accounts.push(crate::live::Account {
        id: "acc_by_hand".into(),
        kind: AccountKind::Customer,
        parent_id: live.partner.id.clone(),
        external_key: Some("contoso".into()),
        name: "Contoso by hand".into(),
        contact: None,
        country: None,
        timezone: None,
        labels: Default::default(),
        etag: "e1".into(),
        manageable: true,
    });
    let e = stale(&s, &d, &live);
    assert_eq!(
        e.to_string(),
        "1 of its 24 operations needs objects that changed since the plan was made:\n  - customer.contoso (create): it exists now (customer acc_by_hand, named \"Contoso by hand\")\n  - and 13 operations that depend on it"
    );

    // Without a key, named as configured: the configuration would now adopt it.
    let contoso = live.accounts.last_mut().unwrap();
    contoso.external_key = None;
    contoso.name = "Contoso Ltd".into();
    let e = stale(&s, &d, &live);
    assert_eq!(
        e.changed[0].to_string(),
        "customer.contoso (create): the configuration would now adopt customer acc_by_hand (named \"Contoso Ltd\") instead"
    );
}

#[test]
fn members_that_changed_by_hand() {
    // An invitation sent by hand; an expired invitation accepted; a service's settings
    // changed, and one removed.
    let mut d = acme_changed();
    let contoso = &mut d.customers[0];
    contoso.services.retain(|x| x.service_type != "mobile-id");
    let mut live = applied_acme();
    user(&mut live, "finance@contoso.example").status = UserStatus::Expired;
    let options = Options {
        prune: true,
        ..Options::default()
    };
    let s = saved(&d, &live, options);
    let addresses: Vec<(Action, &str)> = s
        .operations
        .iter()
        .map(|o| (o.action(), o.address.as_str()))
        .collect();
    assert_eq!(
        addresses,
        [
            (
                Action::Resend,
                "customer.contoso.user[finance@contoso.example]"
            ),
            (Action::RemoveService, "customer.contoso.service[mobile-id]"),
            (Action::Update, "customer.fabrikam"),
            (
                Action::Invite,
                "customer.northwind.user[new@northwind.example]"
            ),
        ]
    );
    let finance = user(&mut live, "finance@contoso.example");
    (finance.status, finance.etag) = (UserStatus::Active, "e-accepted".into());
    let mut invited = user(&mut live, "it@northwind.example").clone();
    (invited.id, invited.email) = ("usr_by_hand".into(), "New@Northwind.example".into());
    live.users.push(invited);
    let contoso_id = live_account(&mut live, "contoso").id.clone();
    let mobile = live
        .services
        .iter_mut()
        .find(|x| x.account_id == contoso_id && x.service_type == "mobile-id")
        .unwrap();
    mobile
        .settings
        .insert("pin".into(), serde_json::json!(true));
    mobile.etag = "e-settings".into();
    let e = stale(&s, &d, &live);
    let lines: Vec<String> = e.changed.iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        [
            "customer.contoso.user[finance@contoso.example] (resend): status expired → active",
            "customer.contoso.service[mobile-id] (remove-service): settings {} → {\"pin\":true}",
            "customer.northwind.user[new@northwind.example] (invite): it exists now (invited, member)",
        ]
    );
    // The service gone too.
    live.services
        .retain(|x| !(x.account_id == contoso_id && x.service_type == "mobile-id"));
    let e = stale(&s, &d, &live);
    assert_eq!(
        e.changed[1].to_string(),
        "customer.contoso.service[mobile-id] (remove-service): it was deleted since the plan was made"
    );
}

#[test]
fn what_a_deletion_takes_with_it_is_as_it_was() {
    let mut d = acme();
    d.customers.retain(|c| c.key != "northwind");
    let options = Options {
        prune_accounts: true,
        ..Options::default()
    };
    let live = applied_acme();
    let s = saved(&d, &live, options);
    assert_eq!(s.operations.len(), 1, "{:#?}", s.operations);
    let id = s.operations[0].account.id().unwrap().to_string();
    assert!(against(&s, &d, &live).is_ok());

    // A user invited into it by hand: the deletion would remove three users, not two.
    let mut more = live.clone();
    let mut extra = user(&mut more, "it@northwind.example").clone();
    (extra.id, extra.email) = ("usr_extra".into(), "extra@northwind.example".into());
    more.users.push(extra);
    assert_eq!(
        stale(&s, &d, &more).changed[0].to_string(),
        "customer.northwind (delete): users 2 → 3"
    );

    // A network created inside it by hand.
    let mut inside = live.clone();
    let mut network = live_account(&mut inside, "contoso-network").clone();
    (network.id, network.parent_id) = ("acc_net_by_hand".into(), id);
    network.external_key = Some("by-hand".into());
    inside.accounts.push(network);
    let e = stale(&s, &d, &inside);
    assert!(
        e.changed[0].to_string().starts_with(
            "customer.northwind (delete): network.by-hand exists now (inside customer.northwind, named \"Contoso Network\")"
        ),
        "{e}"
    );
}

#[test]
fn the_guards_judge_the_saved_operations_against_the_live_state_of_now() {
    // Twelve invitations; revoking 3 of them is the 25 % the deletion guard allows.
    let mut all = acme();
    for email in ["x1@fabrikam.example", "x2@fabrikam.example"] {
        all.customers[1].users.push(crate::config::User {
            email: email.into(),
            name: "Extra".into(),
            role: Role::Member,
        });
    }
    let live = simulate(
        &empty_live(),
        &plan(&all, &empty_live(), Options::default()).unwrap(),
    );
    assert_eq!(live.users.len(), 12);
    let revoked = [
        "finance@contoso.example",
        "it@northwind.example",
        "x1@fabrikam.example",
    ];
    let mut d = all.clone();
    for c in &mut d.customers {
        c.users.retain(|u| !revoked.contains(&u.email.as_str()));
    }
    let options = Options {
        prune: true,
        ..Options::default()
    };
    let s = saved(&d, &live, options);
    assert_eq!(s.operations.len(), 3, "{:#?}", s.operations);
    assert!(against(&s, &d, &live).unwrap().plan.check_safety().is_ok());
    // Another invitation revoked by hand meanwhile (the configuration would invite it again:
    // a change elsewhere): 3 of 11 is over 25 %.
    let mut fewer = live.clone();
    fewer.users.retain(|u| u.email != "jane@contoso.example");
    let a = against(&s, &d, &fewer).unwrap();
    assert_eq!(a.plan.operations, s.operations);
    assert_eq!(
        a.elsewhere,
        [(
            "customer.contoso.user[jane@contoso.example]".to_string(),
            Action::Invite
        )]
    );
    assert_eq!(a.plan.live.users, 11);
    assert_eq!(
        a.plan.check_safety().unwrap_err().to_string(),
        "deleting 3 of 11 users (28%) exceeds --max-delete-percent 25; check the configuration, or pass --force (or raise --max-delete-percent) if this is intended"
    );
}

#[test]
fn the_last_partner_admin_is_judged_against_the_live_state_of_now() {
    let d = acme();
    let mut live = applied_acme();
    for u in &mut live.users {
        u.status = UserStatus::Active;
    }
    // A second partner admin, not in the configuration: removed by the saved plan.
    let mut second = user(&mut live, "ops@acme.example").clone();
    (second.id, second.email) = ("usr_second".into(), "second@acme.example".into());
    live.users.push(second);
    let options = Options {
        prune: true,
        ..Options::default()
    };
    let s = saved(&d, &live, options);
    assert_eq!(s.operations.len(), 1);
    assert!(against(&s, &d, &live).unwrap().plan.check_safety().is_ok());
    // The other admin removed by hand meanwhile: the saved removal would leave none.
    live.users.retain(|u| u.email != "ops@acme.example");
    let a = against(&s, &d, &live).unwrap();
    assert_eq!(
        a.elsewhere,
        [("partner.user[ops@acme.example]".to_string(), Action::Invite)]
    );
    assert!(matches!(
        &a.plan.check_safety().unwrap_err().0[..],
        [Refusal::LastPartnerAdmin { emails }] if emails == &["second@acme.example"]
    ));
}

#[test]
fn a_customer_that_may_no_longer_be_managed_refuses_the_saved_changes_inside_it() {
    let d = acme_changed();
    let mut live = applied_acme();
    let s = saved(&d, &live, Options::default());
    live_account(&mut live, "northwind").manageable = false;
    let a = against(&s, &d, &live).unwrap();
    let refusals = a.plan.check_safety().unwrap_err();
    assert!(
        matches!(&refusals.0[..], [Refusal::CustomerNotManageable { count: 1, example, .. }] if example == "customer.northwind.user[new@northwind.example]"),
        "{refusals}"
    );
    // The partner, not manageable now.
    let mut live = applied_acme();
    live.partner.manageable = false;
    assert!(matches!(
        &against(&s, &d, &live)
            .unwrap()
            .plan
            .check_safety()
            .unwrap_err()
            .0[..],
        [Refusal::NotManageable { count: 1, .. }]
    ));
}

/// What a saved plan is applied with comes from the plan of now where it describes now: the
/// unsupported changes and near misses among the saved operations, the limits, the read's
/// cost, the provider's notes from the read and whether it closes customers' records.
#[test]
fn the_applicable_plan_carries_what_the_plan_of_now_knows() {
    use crate::live::{Limits, Private, ReadCost};
    let mut d = acme_changed();
    let mut tailspin = d.customers[1].clone();
    tailspin.key = "tailspin".into();
    tailspin.name = "Tailspin".into();
    tailspin.users.clear();
    tailspin.services.clear();
    tailspin.networks.clear();
    d.customers.push(tailspin);
    let live = applied_acme();
    let s = saved(&d, &live, Options::default());
    let mut now = plan(&d, &live, s.options).unwrap();
    now.unsupported = vec!["customer.fabrikam".into(), "customer.elsewhere".into()];
    let near = |address: &str| NearMiss {
        address: address.into(),
        kind: crate::vocab::AccountKind::Customer,
        name: "Tailspin".into(),
        live_id: "acc_x".into(),
        live_name: "Tailspin Toys".into(),
        live_key: None,
    };
    now.near_misses = vec![near("customer.tailspin"), near("customer.elsewhere")];
    now.limits = Limits {
        reads_per_minute: Some(7),
        writes_per_minute: Some(3),
        writes_per_day: Some(11),
        day_millis: Some(13),
    };
    now.read = Some(ReadCost {
        requests: 5,
        seconds: 0.5,
    });
    now.private = Private::new(42u32);
    now.closed_records = true;
    let a = s.against(&now, &live).unwrap();
    assert_eq!(a.plan.unsupported, ["customer.fabrikam"]);
    assert_eq!(a.plan.near_misses, [near("customer.tailspin")]);
    assert_eq!(a.plan.limits, now.limits);
    assert_eq!(a.plan.read, now.read);
    assert_eq!(a.plan.private.get::<u32>(), Some(&42));
    assert!(a.plan.closed_records);
}
