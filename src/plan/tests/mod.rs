//! Unit and property tests of the pure planner, with an in-memory executor: matching and
//! actions here, adoption in `adoption.rs`, access changes in `access.rs`, guards in
//! `guards.rs`, convergence properties in `convergence.rs`, the deletion guard's property in
//! `removals.rs`, saved plans against the live state of now in `stale.rs`, the stable JSON form
//! of operations in `wire.rs`.

mod access;
mod adoption;
mod convergence;
mod guards;
mod removals;
mod stale;
mod wire;

use std::collections::BTreeMap;

use serde_json::json;

use super::testutil::*;
use super::*;
use crate::config::{Source, load_sources};
use crate::live::{Account, Contact, Limits};
use crate::vocab::diagnostic::Diagnostic;
use crate::vocab::{AccountKind, Role, UserStatus};

pub(super) fn desired(yaml: &str) -> Desired {
    load_sources(&[Source {
        path: "t.yaml".into(),
        text: yaml.into(),
    }])
    .unwrap_or_else(|p| panic!("{p}"))
}

pub(super) fn actions(plan: &Plan) -> Vec<(Action, &str)> {
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
            field: AccountField::Name,
            before: FieldValue::Text("Fabrikam Inc"),
            after: FieldValue::Text("Fabrikam Incorporated"),
        }]
    );
    assert!(p.operations[0].change.etag().is_some());
}

/// Each managed field on its own is a change: an update of exactly that field (the planner's
/// shortcut for accounts that already match must not hide one).
#[test]
fn every_field_alone_is_one_update_of_that_field() {
    let live = applied_acme();
    type Edit = fn(&mut crate::config::Customer);
    let edits: [(&str, Edit); 4] = [
        ("contact", |c| {
            c.contact.as_mut().unwrap().email = "new@fabrikam.example".into()
        }),
        ("country", |c| c.country = Some("FR".into())),
        ("timezone", |c| c.timezone = Some("Europe/Paris".into())),
        ("labels", |c| {
            c.labels.insert("tier".into(), "gold".into());
        }),
    ];
    for (field, edit) in edits {
        let mut d = acme();
        edit(&mut d.customers[1]);
        let p = plan(&d, &live, Options::default()).unwrap();
        assert_eq!(
            actions(&p),
            [(Action::Update, "customer.fabrikam")],
            "{field}"
        );
        let changed: Vec<&str> = p.operations[0]
            .changed_fields()
            .iter()
            .map(|c| c.field.as_str())
            .collect();
        assert_eq!(changed, [field]);
    }
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

/// Drift (what `plan --detailed-exitcode` reports): operations, or live objects the
/// configuration does not list unless they are accepted.
#[test]
fn drift_is_operations_or_unmanaged_objects_unless_accepted() {
    let live = applied_acme();
    let drift = |p: &Plan| (p.has_drift(Accept::Nothing), p.has_drift(Accept::Unmanaged));
    let converged = plan(&acme(), &live, Options::default()).unwrap();
    assert_eq!(drift(&converged), (false, false));
    let mut d = acme();
    d.customers.remove(0);
    let unmanaged_only = plan(&d, &live, Options::default()).unwrap();
    assert!(unmanaged_only.is_empty() && !unmanaged_only.unmanaged.is_empty());
    assert_eq!(drift(&unmanaged_only), (true, false));
    let mut d = acme();
    d.customers[1].name = "Fabrikam Incorporated".into();
    let operations_only = plan(&d, &live, Options::default()).unwrap();
    assert!(!operations_only.is_empty() && operations_only.unmanaged.is_empty());
    assert_eq!(drift(&operations_only), (true, true));
}

/// A protected account keeps every account above it from `--prune-accounts`: a protected
/// sub-account keeps its network, while its unprotected sibling goes.
#[test]
fn a_protected_sub_account_keeps_its_network_from_pruning() {
    let mut live = applied_acme();
    let paris = live_account(&mut live, "contoso-paris");
    paris
        .labels
        .insert(crate::vocab::PROTECT_LABEL.into(), "true".into());
    let mut d = acme();
    d.customers.remove(0);
    let opts = Options {
        prune_accounts: true,
        ..Options::default()
    };
    let p = plan(&d, &live, opts).unwrap();
    assert_eq!(actions(&p), [(Action::Delete, "sub_account.contoso-lyon")]);
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
    // --prune-accounts, and so is everything above its protected descendants. Their admins
    // are listed after them.
    assert_eq!(
        unmanaged,
        [
            "customer.contoso",
            "customer.contoso.user[jane@contoso.example]",
            "network.contoso-network",
            "network.contoso-network.user[network-admin@contoso.example]",
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
    let kept: Vec<(&str, &str)> = p
        .unmanaged
        .iter()
        .map(|u| (u.address.as_str(), u.reason.as_str()))
        .collect();
    assert_eq!(
        kept,
        [
            ("customer.contoso", "protected (never deleted)"),
            (
                "customer.contoso.user[jane@contoso.example]",
                "admin of an account not in the configuration"
            )
        ]
    );
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
    // 4 of 6 accounts, but a class is guarded only from 10 live objects on; the users the
    // accounts hold go with them, and they are 10.
    let r = p.check_safety().unwrap_err();
    let refused: Vec<(&str, usize)> =
        r.0.iter()
            .filter_map(|r| match r {
                Refusal::DeleteThreshold { class, deletes, .. } => Some((class.as_str(), *deletes)),
                _ => None,
            })
            .collect();
    assert_eq!(refused, [("users", 5)], "{r}");
}

#[test]
fn moves_kind_changes_partner_name_and_services_are_errors() {
    let live = applied_acme();
    // Move contoso-lyon under a new network.
    let mut d = acme();
    let lyon = d.customers[0].networks[0].sub_accounts.remove(1);
    d.customers[0].networks.push(crate::config::Network {
        key: "contoso-south".into(),
        adopt: None,
        name: "South".into(),
        country: Some("FR".into()),
        timezone: Some("Europe/Paris".into()),
        protect: false,
        labels: BTreeMap::new(),
        users: vec![],
        services: vec![],
        sub_accounts: vec![lyon],
        at: Default::default(),
    });
    d.partner.name = "Other Partners".into();
    d.customers[1].services.push(crate::config::Service {
        service_type: "parking".into(),
        settings: serde_json::Map::new(),
        at: Default::default(),
    });
    d.customers[2].services[0]
        .settings
        .insert("layout_approval".into(), json!("yes"));
    let e = plan(&d, &live, Options::default()).unwrap_err();
    let msgs: Vec<String> = e.0.iter().map(ToString::to_string).collect();
    assert_eq!(msgs.len(), 4, "{msgs:#?}");
    // Services first, checked against the live catalog before planning, each where it is
    // written: northwind's cards are the partner file's defaults (whose settings were changed
    // here after loading), and the service added here by hand is written nowhere.
    let (at, settings) = msgs[0].split_once(": ").unwrap();
    assert!(at.starts_with("partner.yaml:"), "{}", msgs[0]);
    assert!(
        settings.starts_with("invalid settings for `cards`: /layout_approval: "),
        "{}",
        msgs[0]
    );
    assert_eq!(
        msgs[1],
        "(no files): unknown service type `parking`; known types: access-control, cards, mobile-id, visitor-management"
    );
    assert!(msgs[2].starts_with("the configuration is for partner `Other Partners`, but the token belongs to partner `Acme Partners`"));
    // Where the configuration declares it.
    let (at, moved) = msgs[3].split_once(": ").unwrap();
    assert!(at.starts_with("contoso.yaml:"), "{}", msgs[3]);
    assert!(moved.starts_with("sub_account.contoso-lyon exists under network.contoso-network, but the configuration puts it under network.contoso-south; the API cannot move accounts"));

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
        ..Limits::default()
    };
    let p = plan(&acme(), &live, Options::default()).unwrap();
    assert_eq!(p.writes(), 24);
    // 24 writes fit in one minute's window of 600: no wait.
    assert_eq!(p.min_seconds(), Some(0.0));
    let mut slow = live.clone();
    slow.limits.writes_per_minute = Some(10);
    let p = plan(&acme(), &slow, Options::default()).unwrap();
    assert_eq!(p.min_seconds(), Some(120.0));
    // A daily budget of 10: two waits for the budget to renew, then 4 writes in a minute.
    let mut daily = live.clone();
    daily.limits.writes_per_day = Some(10);
    daily.limits.day_millis = Some(86_400_000);
    let p = plan(&acme(), &daily, Options::default()).unwrap();
    assert_eq!(p.min_seconds(), Some(2.0 * 86_400.0));
    // 24 writes, 2 a minute and 10 a day: two days' waits, then 4 writes take a minute more.
    let mut both = daily.clone();
    both.limits.writes_per_minute = Some(2);
    let p = plan(&acme(), &both, Options::default()).unwrap();
    assert_eq!(p.min_seconds(), Some(2.0 * 86_400.0 + 60.0));
    // Two full days' budgets: one wait, the second day's writes go at once.
    daily.limits.writes_per_day = Some(12);
    let p = plan(&acme(), &daily, Options::default()).unwrap();
    assert_eq!(p.min_seconds(), Some(86_400.0));
    // Within the day's budget: no day to wait; a budget of zero is no budget to compute with.
    daily.limits.writes_per_day = Some(24);
    let p = plan(&acme(), &daily, Options::default()).unwrap();
    assert_eq!(p.min_seconds(), Some(0.0));
    daily.limits.writes_per_day = Some(0);
    let p = plan(&acme(), &daily, Options::default()).unwrap();
    assert_eq!(p.min_seconds(), Some(0.0));
    // Nothing to write, whatever the budget.
    daily.limits.writes_per_day = Some(10);
    let p = plan(&acme(), &simulate(&daily, &p), Options::default()).unwrap();
    assert_eq!(p.writes(), 0);
    assert_eq!(p.min_seconds(), Some(0.0));
    // A limit of zero writes is no limit to compute with (not an infinite wait).
    live.limits.writes_per_minute = Some(0);
    let p = plan(&acme(), &live, Options::default()).unwrap();
    assert_eq!(p.min_seconds(), None);
    live.limits.writes_per_minute = None;
    let p = plan(&acme(), &live, Options::default()).unwrap();
    assert_eq!(p.min_seconds(), None);
}

pub(super) fn unkeyed_customer(id: &str, name: &str) -> Account {
    Account {
        id: id.into(),
        kind: AccountKind::Customer,
        parent_id: "p1".into(),
        external_key: None,
        name: name.into(),
        contact: Some(Contact {
            name: "J".into(),
            email: "j@a.example".into(),
        }),
        country: Some("GB".into()),
        timezone: Some("UTC".into()),
        labels: BTreeMap::new(),
        etag: format!("\"{id}\""),
        manageable: true,
    }
}

pub(super) const TWINS: &str = "version: 1\npartner: { name: Acme Partners }\ncustomers:\n  - { key: twin-a, adopt: acc_2, name: Twin, contact: { name: J, email: j@a.example }, country: GB, timezone: UTC }\n  - { key: twin-b, adopt: acc_1, name: Twin, contact: { name: J, email: j@a.example }, country: GB, timezone: UTC }\n";

/// Settings are compared with the catalog's defaults filled in: spelling out a default is no
/// change, a value other than the default is one.
#[test]
fn a_default_spelled_out_is_no_change_of_settings() {
    let live = applied_acme();
    let with = |value: bool| {
        let mut d = acme();
        let mobile = d.customers[0]
            .services
            .iter_mut()
            .find(|s| s.service_type == "mobile-id")
            .unwrap();
        assert!(mobile.settings.is_empty());
        mobile
            .settings
            .insert("require_biometrics".into(), json!(value));
        plan(&d, &live, Options::default()).unwrap()
    };
    assert!(with(false).is_empty());
    let changed = with(true);
    assert_eq!(changed.counts(), [(Action::UpdateService, 1)]);
}

/// A customer without a contact: creating it is refused, located at the customer, when the
/// provider stores contacts (it needs one); when it stores none, the creation carries none;
/// an existing customer without one in the configuration is no change either way.
#[test]
fn creating_a_customer_without_a_contact_needs_a_provider_that_stores_none() {
    let yaml = "version: 1\npartner: { name: Acme Partners }\ncustomers:\n  - { key: a, name: A, country: GB, timezone: UTC }\n  - { key: b, name: B, country: GB, timezone: UTC }\n";
    let d = crate::config::load_sources_for(
        &[Source {
            path: "t.yaml".into(),
            text: yaml.into(),
        }],
        None,
        crate::config::Needs {
            contact: false,
            ..Default::default()
        },
    )
    .unwrap();
    let mut live = empty_live();
    let mut b = unkeyed_customer("acc_1", "B");
    b.parent_id.clone_from(&live.partner.id);
    b.external_key = Some("b".into());
    live.accounts.push(b);
    let stores_none = Capabilities {
        fields: StoredFields {
            contact: false,
            ..StoredFields::all()
        },
        ..Capabilities::full()
    };
    let p = plan_for(&d, &live, Options::default(), &stores_none).unwrap();
    assert_eq!(actions(&p), [(Action::Create, "customer.a")]);
    let Change::Create { fields, .. } = &p.operations[0].change else {
        panic!("{:?}", p.operations[0]);
    };
    assert_eq!(fields.contact, None);
    let errors = plan_for(&d, &live, Options::default(), &Capabilities::full()).unwrap_err();
    let errors: Vec<String> = errors.0.iter().map(ToString::to_string).collect();
    assert_eq!(
        errors,
        [
            "t.yaml:4:12: customer.a: creating this customer needs its contact, which the provider stores, and the configuration gives none: add `contact: { name: ..., email: ... }` to it"
        ]
    );
}

/// A live user whose email differs from the configured one only in case, any letter's case
/// (`Ö`, the Kelvin sign), is the same person: matched, not invited again, not pruned. The
/// long `ſ` lowercases to itself, so `ſam@` is another person than `sam@`, as the API has it.
#[test]
fn emails_match_whatever_the_case_of_any_letter() {
    let yaml = "version: 1\npartner:\n  name: Acme Partners\n  users:\n    - { email: jörg@firma.example, name: Jörg }\n    - { email: kim@firma.example, name: Kim }\n    - { email: sam@firma.example, name: Sam }\n";
    let mut live = empty_live();
    for (id, email, name) in [
        ("u1", "JÖRG@firma.example", "Jörg"),
        ("u2", "\u{212A}im@firma.example", "Kim"),
        ("u3", "ſam@firma.example", "Sam"),
    ] {
        live.users.push(crate::live::User {
            id: id.into(),
            account_id: live.partner.id.clone(),
            email: email.into(),
            name: name.into(),
            role: Role::Member,
            status: UserStatus::Active,
            etag: "t".into(),
        });
    }
    let prune = Options {
        prune: true,
        force: true,
        ..Options::default()
    };
    let p = plan(&desired(yaml), &live, prune).unwrap();
    assert_eq!(
        actions(&p),
        [
            (Action::Invite, "partner.user[sam@firma.example]"),
            (Action::RemoveUser, "partner.user[ſam@firma.example]"),
        ]
    );
}

/// A live account whose parent the read did not return names that parent by id alone, in an
/// address that reads back as one.
#[test]
fn a_parent_outside_the_read_is_named_by_its_id() {
    let mut live = applied_acme();
    let network = live
        .accounts
        .iter()
        .position(|a| a.external_key.as_deref() == Some("contoso-network"))
        .unwrap();
    let network = live.accounts.remove(network).id;
    let errors = plan(&acme(), &live, Options::default()).unwrap_err();
    let shown: Vec<String> = errors.0.iter().map(ToString::to_string).collect();
    let outside = format!("[id={network}]");
    assert!(
        shown.iter().any(|e| e.contains(&format!(
            ": sub_account.contoso-paris exists under {outside}, but the configuration puts it under network.contoso-network"
        ))),
        "{shown:#?}"
    );
    assert_eq!(
        outside.parse::<crate::vocab::address::AccountAddress>(),
        Ok(crate::vocab::address::AccountAddress::Outside { id: network })
    );
}

/// Planning errors about an account of the configuration are shown where it is declared, as
/// the configuration's own problems are.
#[test]
fn planning_errors_about_an_account_name_where_it_is_declared() {
    const HEAD: &str = "version: 1\npartner:\n  name: Acme Partners\n  users:\n    - { email: ops@acme.example, name: Ops, role: admin }\ndefaults: { country: GB, timezone: Europe/London }\n";
    let contact = "contact: { name: C, email: c@c.example }";
    let v1 = format!(
        "{HEAD}customers:\n  - key: c1\n    name: C1\n    {contact}\n    networks:\n      - key: n1\n        name: N1\n  - key: c2\n    name: C2\n    {contact}\n"
    );
    let mut live = empty_live();
    live.partner.name = "Acme Partners".into();
    let d = desired(&v1);
    let live = simulate(&live, &plan(&d, &live, Options::default()).unwrap());
    // n1 moved to c2: line 15 holds its key.
    let moved = format!(
        "{HEAD}customers:\n  - key: c1\n    name: C1\n    {contact}\n  - key: c2\n    name: C2\n    {contact}\n    networks:\n      - key: n1\n        name: N1\n"
    );
    let e = plan(&desired(&moved), &live, Options::default()).unwrap_err();
    let at = e.0.iter().map(|e| e.location().map(|l| l.to_string()));
    assert_eq!(at.collect::<Vec<_>>(), [Some("t.yaml:15:14".to_string())]);
    assert_eq!(
        e.to_string(),
        "t.yaml:15:14: network.n1 exists under customer.c1, but the configuration puts it under customer.c2; the API cannot move accounts: move it back in the configuration, or delete and re-create it by changing its key"
    );
    // n1 declared as a customer.
    let kind = format!("{HEAD}customers:\n  - key: n1\n    name: N1\n    {contact}\n");
    let e = plan(&desired(&kind), &live, Options::default()).unwrap_err();
    assert!(
        e.to_string().starts_with(
            "t.yaml:8:10: `n1` is a network in the live state but a customer in the configuration"
        ),
        "{e}"
    );
}
