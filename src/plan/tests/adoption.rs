//! Adoption: accounts made by hand taken under management, by name or by `adopt` id, and
//! the errors of a wrong id or parent.

use super::*;
use crate::vocab::AccountKind;

#[test]
fn adoption_of_unkeyed_accounts() {
    let mut live = empty_live();
    let d = desired(
        "version: 1\npartner: { name: Acme Partners }\ncustomers:\n  - { key: a, name: A, contact: { name: J, email: j@a.example }, country: GB, timezone: UTC }\n",
    );
    let mut a = unkeyed_customer("acc_1", "A");
    a.timezone = Some("Europe/London".into());
    live.accounts.push(a);
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
        "t.yaml:4:12: customer.a: 2 live accounts without a key have this kind, parent and name (acc_1, acc_2); say which one this is with `adopt: <id>` on the account in the configuration"
    );
}

#[test]
fn adopt_by_id_tells_twins_apart() {
    let mut live = empty_live();
    live.accounts.push(unkeyed_customer("acc_1", "Twin"));
    live.accounts.push(unkeyed_customer("acc_2", "Twin"));
    let d = desired(TWINS);
    let p = plan(&d, &live, Options::default()).unwrap();
    let adopted: Vec<(&str, Option<&str>)> = p
        .operations
        .iter()
        .map(|o| (o.address.as_str(), o.account.id()))
        .collect();
    assert_eq!(
        adopted,
        [
            ("customer.twin-a", Some("acc_2")),
            ("customer.twin-b", Some("acc_1"))
        ]
    );
    assert!(p.operations.iter().all(|o| o.action() == Action::Adopt));
    let after = simulate(&live, &p);
    assert!(plan(&d, &after, Options::default()).unwrap().is_empty());
    // A pinned id is never taken by name matching of another account.
    let mut live = empty_live();
    live.accounts.push(unkeyed_customer("acc_1", "Twin"));
    let d = desired(
        "version: 1\npartner: { name: Acme Partners }\ncustomers:\n  - { key: first, name: Twin, contact: { name: J, email: j@a.example }, country: GB, timezone: UTC }\n  - { key: second, adopt: acc_1, name: Twin, contact: { name: J, email: j@a.example }, country: GB, timezone: UTC }\n",
    );
    let p = plan(&d, &live, Options::default()).unwrap();
    assert_eq!(
        actions(&p),
        [
            (Action::Create, "customer.first"),
            (Action::Adopt, "customer.second")
        ]
    );
}

/// `adopt` of a live network under another customer than the configuration's, or under a
/// customer that does not exist yet, is an error naming both places.
#[test]
fn adopting_an_account_under_another_parent_is_an_error() {
    let mut live = empty_live();
    for (id, key) in [("acc_1", "c1"), ("acc_2", "c2")] {
        let mut c = unkeyed_customer(id, key);
        c.external_key = Some(key.into());
        live.accounts.push(c);
    }
    let mut network = unkeyed_customer("acc_3", "Net");
    network.kind = AccountKind::Network;
    network.parent_id = "acc_2".into();
    live.accounts.push(network);
    let customer = |key: &str, networks: &str| {
        format!(
            "  - {{ key: {key}, name: {key}, contact: {{ name: J, email: j@a.example }}, country: GB, timezone: UTC, networks: [{networks}] }}\n"
        )
    };
    let net = "{ key: n, adopt: acc_3, name: Net }";
    let head = "version: 1\npartner: { name: Acme Partners }\ncustomers:\n";
    for (yaml, parent) in [
        (
            format!("{head}{}{}", customer("c1", net), customer("c2", "")),
            "customer.c1",
        ),
        (
            format!(
                "{head}{}{}{}",
                customer("c1", ""),
                customer("c2", ""),
                customer("c3", net)
            ),
            "customer.c3",
        ),
    ] {
        let e = plan(&desired(&yaml), &live, Options::default()).unwrap_err();
        let want = format!("adopt: live account `acc_3` is under customer.c2, not under {parent}");
        assert!(e.to_string().contains(&want), "{e}");
    }
}

/// A creation is a near miss only next to an unmanaged live account of its kind and parent
/// whose name is close: an unrelated unmanaged customer is not one.
#[test]
fn near_misses_need_a_close_name() {
    let mut live = empty_live();
    live.accounts
        .push(unkeyed_customer("acc_1", "Totally Different Co"));
    let yaml = "version: 1\npartner: { name: Acme Partners }\ncustomers:\n  - { key: twin, name: Twin, contact: { name: J, email: j@a.example }, country: GB, timezone: UTC }\n";
    let p = plan(&desired(yaml), &live, Options::default()).unwrap();
    assert_eq!(p.near_misses, []);
    live.accounts[0].name = "Twin.".into();
    let p = plan(&desired(yaml), &live, Options::default()).unwrap();
    let near: Vec<&str> = p.near_misses.iter().map(|n| n.live_id.as_str()).collect();
    assert_eq!(near, ["acc_1"]);
}

#[test]
fn wrong_adopt_ids_are_located_errors() {
    let mut live = empty_live();
    live.accounts.push(unkeyed_customer("acc_1", "Twin"));
    let mut keyed = unkeyed_customer("acc_2", "Other");
    keyed.external_key = Some("other".into());
    live.accounts.push(keyed);
    let mut network = unkeyed_customer("acc_3", "Net");
    network.kind = AccountKind::Network;
    network.parent_id = "acc_2".into();
    live.accounts.push(network);
    let errors = |adopt: &str| -> String {
        let yaml = TWINS.replace("adopt: acc_2", &format!("adopt: {adopt}"));
        plan(&desired(&yaml), &live, Options::default())
            .unwrap_err()
            .0
            .iter()
            .find(|e| matches!(e, PlanError::Adopt { .. }))
            .map(ToString::to_string)
            .unwrap()
    };
    assert_eq!(
        errors("acc_9"),
        "t.yaml:4:27: customer.twin-a: adopt: the partner has no live account `acc_9`; copy the id from `partnerctl export` or the vendor's dashboard"
    );
    assert_eq!(
        errors("acc_3"),
        "t.yaml:4:27: customer.twin-a: adopt: live account `acc_3` is a network, not a customer"
    );
    assert_eq!(
        errors("acc_2"),
        "t.yaml:4:27: customer.twin-a: adopt: live account `acc_2` is already managed as `other`; use that key, or remove `adopt`"
    );
    assert!(
        errors("acc_1").contains("adopted by another account"),
        "{}",
        errors("acc_1")
    );
    // The key already names another live account than `adopt` does.
    let yaml = TWINS.replace("key: twin-a, adopt: acc_2", "key: other, adopt: acc_1");
    let e = plan(&desired(&yaml), &live, Options::default()).unwrap_err();
    assert!(
        e.to_string().contains(
            "customer.other: adopt: the key is already on live account `acc_2`, not on `acc_1`"
        ),
        "{e}"
    );
}

/// A live key that is not a valid configuration key (a vendor's answer: a path, an upper-case
/// word) matches no configuration account: `adopt` takes that account over and sets a valid
/// key on it, where a valid live key is "already managed".
#[test]
fn adopt_takes_over_an_account_whose_live_key_is_not_a_valid_key() {
    let d = desired(
        "version: 1\npartner: { name: Acme Partners }\ncustomers:\n  - { key: a, adopt: acc_1, name: A, contact: { name: J, email: j@a.example }, country: GB, timezone: UTC }\n",
    );
    for bad in ["../../x", "/abs/path", "Bad_Key", ""] {
        let mut live = empty_live();
        let mut a = unkeyed_customer("acc_1", "A");
        a.external_key = Some(bad.into());
        live.accounts.push(a);
        let p = plan(&d, &live, Options::default()).unwrap_or_else(|e| panic!("{bad:?}: {e}"));
        assert_eq!(actions(&p), [(Action::Adopt, "customer.a")], "{bad:?}");
        assert!(
            plan(&d, &simulate(&live, &p), Options::default())
                .unwrap()
                .is_empty()
        );
    }
}
