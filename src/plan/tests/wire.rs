//! The stable JSON form of operations: a golden file covering every action, and a round trip.

use std::collections::HashSet;

use super::*;

/// One plan with every action, from the acme estate with drift on both sides.
fn every_action_plan() -> Plan {
    let mut live = applied_acme();
    // Adopt: northwind loses its key in the live state.
    let nw = live_account(&mut live, "northwind");
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
    let fabrikam = live_account(&mut live, "fabrikam").id.clone();
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
        manageable: true,
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
