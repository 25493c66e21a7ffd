//! Snapshot tests (insta) of the three plan formats for the scenarios of SPEC §5.

use super::*;
use crate::live::Snapshot;
use crate::plan::testutil::{acme, empty_live, partner, simulate};
use crate::plan::{Options, plan};
use crate::vocab::{Role, UserStatus};

fn target() -> Target {
    Target {
        endpoint: "http://127.0.0.1:7878".into(),
        embedded: true,
    }
}

fn applied() -> Snapshot {
    let live = empty_live();
    simulate(&live, &plan(&acme(), &live, Options::default()).unwrap())
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
    let p = plan(&acme(), &applied(), Options::default()).unwrap();
    snapshot_all("no_changes", &p);
}

#[test]
fn renamed_customer_and_changed_settings() {
    let mut d = acme();
    d.customers[1].name = "Fabrikam Incorporated".into();
    d.customers[0].services[0]
        .settings
        .insert("layout_approval".into(), serde_json::json!(true));
    let p = plan(&d, &applied(), Options::default()).unwrap();
    snapshot_all("renamed_customer", &p);
}

#[test]
fn expired_invitation() {
    let mut live = applied();
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
    let live = applied();
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
        &applied(),
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
        &applied(),
        Options {
            prune: true,
            ..Options::default()
        },
    )
    .unwrap();
    snapshot_all("guard_delete_threshold", &p);
}

#[test]
fn guard_last_partner_admin() {
    let mut live = applied();
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
