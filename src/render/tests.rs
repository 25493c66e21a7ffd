//! Snapshot tests (insta) of the three plan formats for the scenarios.

use super::*;
use crate::plan::testutil::{acme, applied_acme, empty_live, live_account, partner};
use crate::plan::{Options, plan};
use crate::vocab::{Role, UserStatus};

fn target() -> Target {
    Target {
        endpoint: "http://127.0.0.1:7878".into(),
        embedded: true,
    }
}

/// Renders all three formats of one scenario into snapshots named after it.
fn snapshot_all(name: &str, p: &Plan) {
    let refusals = p.check_safety().err();
    let r = refusals.as_ref();
    insta::assert_snapshot!(format!("{name}__text"), text(p, &target(), r, false));
    insta::assert_snapshot!(format!("{name}__json"), json(p, &target(), r));
    insta::assert_snapshot!(format!("{name}__markdown"), markdown(p, &target(), r));
}

#[test]
fn empty_partner_to_acme() {
    let p = plan(&acme(), &empty_live(), Options::default()).unwrap();
    snapshot_all("empty_to_acme", &p);
}

#[test]
fn no_changes() {
    let p = plan(&acme(), &applied_acme(), Options::default()).unwrap();
    snapshot_all("no_changes", &p);
}

#[test]
fn renamed_customer_and_changed_settings() {
    let mut d = acme();
    d.customers[1].name = "Fabrikam Incorporated".into();
    d.customers[0].services[0]
        .settings
        .insert("layout_approval".into(), serde_json::json!(true));
    let p = plan(&d, &applied_acme(), Options::default()).unwrap();
    snapshot_all("renamed_customer", &p);
}

#[test]
fn expired_invitation() {
    let mut live = applied_acme();
    for u in live
        .users
        .iter_mut()
        .filter(|u| u.email.starts_with("paris@"))
    {
        u.status = UserStatus::Expired;
    }
    let p = plan(&acme(), &live, Options::default()).unwrap();
    snapshot_all("expired_invitation", &p);
}

#[test]
fn removed_customer_with_and_without_prune_accounts() {
    let mut d = acme();
    d.customers.remove(1); // fabrikam: not protected
    let live = applied_acme();
    let p = plan(&d, &live, Options::default()).unwrap();
    snapshot_all("removed_customer", &p);
    let p = plan(
        &d,
        &live,
        Options {
            prune_accounts: true,
            prune: true,
            ..Options::default()
        },
    )
    .unwrap();
    snapshot_all("removed_customer_pruned", &p);
}

#[test]
fn protected_account_is_kept() {
    let mut d = acme();
    d.customers.remove(0); // contoso: protect: true
    let p = plan(
        &d,
        &applied_acme(),
        Options {
            prune_accounts: true,
            ..Options::default()
        },
    )
    .unwrap();
    snapshot_all("protected_account", &p);
}

#[test]
fn guard_delete_threshold() {
    let mut d = acme();
    for c in &mut d.customers {
        c.users.clear();
    }
    let p = plan(
        &d,
        &applied_acme(),
        Options {
            prune: true,
            ..Options::default()
        },
    )
    .unwrap();
    snapshot_all("guard_delete_threshold", &p);
}

/// Deleting two customers removes their users with them: the refusal names the accounts.
#[test]
fn guard_delete_cascade() {
    let mut d = acme();
    d.customers.truncate(1); // fabrikam and northwind go, with their users
    let p = plan(
        &d,
        &applied_acme(),
        Options {
            prune_accounts: true,
            prune: true,
            ..Options::default()
        },
    )
    .unwrap();
    snapshot_all("guard_delete_cascade", &p);
}

#[test]
fn guard_last_partner_admin() {
    let mut live = applied_acme();
    for u in &mut live.users {
        u.status = UserStatus::Active;
    }
    let mut d = acme();
    d.partner.users[0].role = Role::Member;
    let p = plan(&d, &live, Options::default()).unwrap();
    snapshot_all("guard_last_partner_admin", &p);
}

#[test]
fn guard_not_manageable() {
    let mut live = empty_live();
    live.partner = partner(false);
    let p = plan(&acme(), &live, Options::default()).unwrap();
    snapshot_all("guard_not_manageable", &p);
}

#[test]
fn colour_only_when_asked() {
    let p = plan(&acme(), &empty_live(), Options::default()).unwrap();
    assert!(!text(&p, &target(), None, false).contains('\u{1b}'));
    assert!(text(&p, &target(), None, true).contains("\u{1b}[32m+\u{1b}[0m"));
}

#[test]
fn json_is_parseable_and_complete() {
    let p = plan(&acme(), &empty_live(), Options::default()).unwrap();
    let v: serde_json::Value = serde_json::from_str(&json(&p, &target(), None)).unwrap();
    assert_eq!(v["format_version"], "1");
    assert_eq!(v["summary"]["writes"], 24);
    let ops = v["operations"].as_array().unwrap();
    assert_eq!(ops.len(), 24);
    for (i, op) in ops.iter().enumerate() {
        assert_eq!(op["index"], i);
        for d in op["depends_on"].as_array().unwrap() {
            assert!(d.as_u64().unwrap() < i as u64);
        }
    }
}

/// Acme applied, plus a hand-made customer and a hand-invited admin; the configuration adds the
/// hand-made customer again under a name with a doubled space.
fn near_miss_plan(refuse: bool) -> Plan {
    let mut live = applied_acme();
    let mut typo = live.accounts[0].clone();
    typo.id = "acc_89ed".into();
    typo.external_key = None;
    typo.name = "Typo Trading".into();
    typo.labels.clear();
    live.accounts.push(typo);
    let contoso = live_account(&mut live, "contoso").id.clone();
    live.users.push(crate::live::User {
        id: "usr_x".into(),
        account_id: contoso,
        email: "intruder@evil.example".into(),
        name: "Someone".into(),
        role: Role::Admin,
        status: UserStatus::Active,
        etag: "e1".into(),
    });
    let mut d = acme();
    let mut extra = d.customers[2].clone();
    extra.key = "typo-trading".into();
    extra.name = "Typo  Trading".into();
    extra.users.clear();
    d.customers.push(extra);
    let options = Options {
        refuse_near_misses: refuse,
        ..Options::default()
    };
    plan(&d, &live, options).unwrap()
}

#[test]
fn unmanaged_by_name_and_a_near_miss() {
    let p = near_miss_plan(false);
    assert_eq!(p.near_misses.len(), 1);
    assert!(p.check_safety().is_ok());
    snapshot_all("near_miss", &p);
    let refused = near_miss_plan(true);
    let r = refused.check_safety().unwrap_err();
    assert!(
        r.to_string().starts_with(
            "1 account(s) to create look like unmanaged live accounts (e.g. customer.typo-trading)"
        ),
        "{r}"
    );
}

#[test]
fn manual_steps_render_as_a_numbered_runbook() {
    let caps = crate::plan::Capabilities {
        create: vec![],
        ..crate::plan::Capabilities::full()
    };
    let words = |op: &crate::plan::Operation, _: Option<&str>| match &op.change {
        crate::plan::Change::Create { fields, .. } => (
            format!("Add {}", op.account.kind().unwrap()),
            vec![format!("Name: {}", fields.name)],
        ),
        _ => unreachable!("only creations are manual"),
    };
    let mut d = acme();
    d.customers.truncate(1);
    let p = crate::plan::with_capabilities(
        plan(&d, &empty_live(), Options::default()).unwrap(),
        &caps,
        words,
    );
    assert_eq!(p.manual.len(), 4);
    snapshot_all("manual_steps", &p);
}

#[test]
fn access_report_in_every_format() {
    let m = crate::access::Model::from_desired(&acme());
    let grants = m.select(None, Some("network.contoso-network")).unwrap();
    for (name, format) in [
        ("text", AccessFormat::Text),
        ("json", AccessFormat::Json),
        ("markdown", AccessFormat::Markdown),
        ("csv", AccessFormat::Csv),
    ] {
        insta::assert_snapshot!(
            format!("access__{name}"),
            access_report(&grants, "configuration", format)
        );
    }
}

#[test]
fn access_changes_with_escalations_first() {
    let mut live = applied_acme();
    for u in &mut live.users {
        u.status = UserStatus::Active;
    }
    let mut d = acme();
    // A new partner user, a member made admin, and a user removed.
    d.partner.users.push(crate::config::User {
        email: "new-ops@acme.example".into(),
        name: "New Ops".into(),
        role: Role::Member,
    });
    d.customers[0].users[1].role = Role::Admin;
    d.customers[0].networks[0].users.clear();
    let p = plan(
        &d,
        &live,
        Options {
            prune: true,
            ..Options::default()
        },
    )
    .unwrap();
    let who: Vec<(&str, usize, usize, bool)> = p
        .access
        .iter()
        .map(|c| (c.email.as_str(), c.gains, c.loses, c.escalation.is_some()))
        .collect();
    assert_eq!(
        who,
        [
            ("finance@contoso.example", 0, 0, true),
            ("new-ops@acme.example", 7, 0, true),
            ("network-admin@contoso.example", 0, 3, false),
        ]
    );
    snapshot_all("access_escalation", &p);
}

/// The end-of-apply advice follows the failures' remedies: "run again" only when a re-run can
/// help.
#[test]
fn apply_report_advises_by_remedy() {
    use crate::apply::{Failure, OpState, Report};
    use crate::provider::Remedy;
    let p = plan(&acme(), &empty_live(), Options::default()).unwrap();
    let report = |failures: &[Remedy]| {
        let mut states = vec![OpState::Done; p.operations.len()];
        for (i, r) in failures.iter().enumerate() {
            states[i] = OpState::Failed(Failure {
                message: "refused".into(),
                remedy: *r,
            });
        }
        apply_report(
            &p,
            &Report {
                states,
                ..Report::nothing()
            },
        )
    };
    let again = "Run `partnerctl apply` again";
    let fix = "The API refused the values of 1 operation(s): fix the configuration";
    let access = "The API refused 1 operation(s) for lack of access";
    let values = report(&[Remedy::FixConfiguration]);
    assert!(values.contains(fix) && !values.contains(again), "{values}");
    let denied = report(&[Remedy::FixAccess]);
    assert!(
        denied.contains(access) && !denied.contains(again),
        "{denied}"
    );
    let transient = report(&[Remedy::Rerun]);
    assert!(
        transient.contains(again) && !transient.contains(fix),
        "{transient}"
    );
    let both = report(&[Remedy::Rerun, Remedy::FixConfiguration]);
    assert!(both.contains(again) && both.contains(fix), "{both}");
    assert!(!report(&[]).contains(again));
}
