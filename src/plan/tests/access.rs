//! The plan's access changes: who gains or loses reach to which accounts, and which
//! changes escalate.

use super::*;
use crate::vocab::{Role, UserStatus};

/// Access changes through an adoption: the adopted account's people keep what they reach
/// (an adoption moves no access), and a person invited to the adopted account reaches that
/// account, not the partner's whole estate.
#[test]
fn access_changes_through_an_adoption() {
    let mut live = empty_live();
    live.accounts.push(unkeyed_customer("acc_1", "Twin"));
    live.accounts.push(unkeyed_customer("acc_2", "Twin"));
    live.users.push(crate::live::User {
        id: "u1".into(),
        account_id: "acc_1".into(),
        email: "j@a.example".into(),
        name: "J".into(),
        role: Role::Admin,
        status: UserStatus::Active,
        etag: "\"u1\"".into(),
    });
    let yaml = TWINS.replace(
        "key: twin-b, adopt: acc_1,",
        "key: twin-b, adopt: acc_1, users: [{ email: j@a.example, name: J, role: admin }, { email: new@a.example, name: New }],",
    );
    let p = plan(&desired(&yaml), &live, Options::default()).unwrap();
    assert_eq!(
        p.access,
        [AccessChange {
            email: "new@a.example".into(),
            gains: 1,
            loses: 0,
            escalation: None,
        }]
    );
}

/// Removing a person from one account takes away what that membership gave, and only that:
/// their membership elsewhere stays.
#[test]
fn access_changes_of_a_removal_from_one_of_two_accounts() {
    let it = || crate::config::User {
        email: "it@northwind.example".into(),
        name: "Northwind IT".into(),
        role: Role::Member,
    };
    let mut both = acme();
    both.customers[1].users.push(it());
    let live = simulate(
        &empty_live(),
        &plan(&both, &empty_live(), Options::default()).unwrap(),
    );
    let mut d = both.clone();
    d.customers[2]
        .users
        .retain(|u| u.email != "it@northwind.example");
    let prune = Options {
        prune: true,
        ..Options::default()
    };
    let p = plan(&d, &live, prune).unwrap();
    assert_eq!(
        p.access,
        [AccessChange {
            email: "it@northwind.example".into(),
            gains: 0,
            loses: 1,
            escalation: None,
        }]
    );
}

/// Only a member made admin is an escalation: renaming a member, or an admin made member, is
/// not, and moves no access.
#[test]
fn only_member_to_admin_is_an_escalation() {
    let live = applied_acme();
    let edit = |email: &str, f: &dyn Fn(&mut crate::config::User)| {
        let mut d = acme();
        let users = d.customers.iter_mut().flat_map(|c| c.users.iter_mut());
        users.filter(|u| u.email == email).for_each(f);
        plan(&d, &live, Options::default()).unwrap()
    };
    let renamed = edit("it@northwind.example", &|u| u.name = "IT Desk".into());
    assert_eq!(
        actions(&renamed),
        [(
            Action::UpdateUser,
            "customer.northwind.user[it@northwind.example]"
        )]
    );
    assert_eq!(renamed.access, []);
    let demoted = edit("ana@northwind.example", &|u| u.role = Role::Member);
    assert_eq!(demoted.operations.len(), 1);
    assert_eq!(demoted.access, []);
    let promoted = edit("it@northwind.example", &|u| u.role = Role::Admin);
    let why: Vec<Option<&str>> = promoted
        .access
        .iter()
        .map(|a| a.escalation.as_deref())
        .collect();
    assert_eq!(why, [Some("member → admin on customer.northwind")]);
}

/// Where accounts carry no key and a role belongs to the login: a person invited to one
/// sub-account of a customer matched by name gains that sub-account only; a member of one
/// customer made admin is promoted on every account of the login, and the escalation names
/// each of them (the unlisted one too).
#[test]
fn access_changes_without_keys_and_with_login_roles() {
    let caps = Capabilities {
        keys: false,
        services: false,
        role_scope: RoleScope::Login,
        ..Capabilities::full()
    };
    let yaml = "version: 1\npartner: { name: Acme Partners }\ncustomers:\n  - key: contoso\n    name: Contoso\n    contact: { name: J, email: j@a.example }\n    country: GB\n    timezone: UTC\n    users: [{ email: kim@a.example, name: Kim }]\n    networks:\n      - key: net\n        name: Net\n        sub_accounts:\n          - { key: paris, name: Paris, users: [{ email: new@a.example, name: New }] }\n          - { key: lyon, name: Lyon }\n";
    let mut live = empty_live();
    live.accounts.push(unkeyed_customer("b1", "Contoso"));
    live.accounts.push(unkeyed_customer("b9", "Elsewhere"));
    for (id, kind, parent, name) in [
        ("b2", AccountKind::Network, "b1", "Net"),
        ("b3", AccountKind::SubAccount, "b2", "Paris"),
        ("b4", AccountKind::SubAccount, "b2", "Lyon"),
    ] {
        let mut a = unkeyed_customer(id, name);
        (a.kind, a.parent_id) = (kind, parent.into());
        live.accounts.push(a);
    }
    for (id, account) in [("1/b1", "b1"), ("1/b9", "b9")] {
        live.users.push(crate::live::User {
            id: id.into(),
            account_id: account.into(),
            email: "kim@a.example".into(),
            name: "Kim".into(),
            role: Role::Member,
            status: UserStatus::Active,
            etag: "t".into(),
        });
    }
    let p = plan_for(&desired(yaml), &live, Options::default(), &caps).unwrap();
    assert_eq!(
        p.access,
        [AccessChange {
            email: "new@a.example".into(),
            gains: 1,
            loses: 0,
            escalation: None,
        }]
    );
    let promoted = yaml.replace("name: Kim }", "name: Kim, role: admin }");
    let p = plan_for(&desired(&promoted), &live, Options::default(), &caps).unwrap();
    assert_eq!(
        actions(&p),
        [
            (Action::UpdateUser, "customer.contoso.user[kim@a.example]"),
            (Action::Invite, "sub_account.paris.user[new@a.example]"),
            (Action::UpdateUser, "customer[id=b9].user[kim@a.example]"),
        ]
    );
    let why: Vec<Option<&str>> = p.access.iter().map(|a| a.escalation.as_deref()).collect();
    assert_eq!(
        why,
        [
            Some("member → admin on customer.contoso, customer[id=b9]"),
            None
        ]
    );
}

/// The configuration's address of each live account a desired account matches, by key or
/// (without keys) by name; a live account nothing matches is left out.
#[test]
fn live_accounts_get_the_configurations_addresses() {
    let yaml = "version: 1\npartner: { name: Acme Partners }\ncustomers:\n  - key: contoso\n    name: Contoso\n    contact: { name: J, email: j@a.example }\n    country: GB\n    timezone: UTC\n";
    let mut live = empty_live();
    live.accounts.push(unkeyed_customer("b1", "Contoso"));
    live.accounts.push(unkeyed_customer("b9", "Elsewhere"));
    let by_name = live_addresses(&desired(yaml), &live, &Capabilities::users_only());
    assert_eq!(
        by_name.into_iter().collect::<Vec<_>>(),
        [("b1".to_string(), "customer.contoso".to_string())]
    );
    live.accounts[0].external_key = Some("contoso".into());
    let by_key = live_addresses(&desired(yaml), &live, &Capabilities::full());
    assert_eq!(
        by_key.get("b1").map(String::as_str),
        Some("customer.contoso")
    );
    assert_eq!(by_key.len(), 1);
}
