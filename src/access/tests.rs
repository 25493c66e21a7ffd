//! Unit and property tests of the access computation.

use proptest::prelude::*;

use super::*;
use crate::config::{Source as ConfigSource, load_sources};

fn desired(yaml: &str) -> Desired {
    load_sources(&[ConfigSource {
        path: "t.yaml".into(),
        text: yaml.into(),
    }])
    .unwrap_or_else(|p| panic!("{p}"))
}

const ESTATE: &str = "version: 1
partner: { name: P, users: [{ email: ops@p.example, name: Ops, role: admin }] }
customers:
  - key: c
    name: C
    contact: { name: J, email: j@c.example }
    country: GB
    timezone: UTC
    users: [{ email: jane@c.example, name: Jane, role: admin }]
    networks:
      - key: n
        name: N
        users: [{ email: net@c.example, name: Net }]
        sub_accounts:
          - { key: s1, name: S1, users: [{ email: desk@c.example, name: Desk }] }
          - { key: s2, name: S2 }
  - { key: d, name: D, contact: { name: K, email: k@d.example }, country: GB, timezone: UTC }
";

fn reach_of(m: &Model, email: &str) -> Vec<String> {
    let mut v: Vec<String> = m
        .grants()
        .into_iter()
        .filter(|g| g.email == email)
        .map(|g| g.account)
        .collect();
    v.sort();
    v
}

#[test]
fn access_is_inherited_downward() {
    let m = Model::from_desired(&desired(ESTATE));
    assert_eq!(
        reach_of(&m, "ops@p.example"),
        [
            "customer.c",
            "customer.d",
            "network.n",
            "partner",
            "sub_account.s1",
            "sub_account.s2"
        ]
    );
    assert_eq!(
        reach_of(&m, "jane@c.example"),
        [
            "customer.c",
            "network.n",
            "sub_account.s1",
            "sub_account.s2"
        ]
    );
    assert_eq!(
        reach_of(&m, "net@c.example"),
        ["network.n", "sub_account.s1", "sub_account.s2"]
    );
    assert_eq!(reach_of(&m, "desk@c.example"), ["sub_account.s1"]);
    let s2: Vec<(String, Source)> = m
        .grants()
        .into_iter()
        .filter(|g| g.account == "sub_account.s2")
        .map(|g| (g.email, g.source))
        .collect();
    assert_eq!(
        s2,
        [
            (
                "jane@c.example".to_string(),
                Source::Inherited("customer.c".into())
            ),
            (
                "net@c.example".to_string(),
                Source::Inherited("network.n".into())
            ),
            (
                "ops@p.example".to_string(),
                Source::Inherited("partner".into())
            ),
        ]
    );
}

/// A random tree: up to 4 customers, each with up to 2 networks of up to 3 sub-accounts, and
/// members anywhere (emails may repeat across accounts).
fn model() -> impl Strategy<Value = Model> {
    let shape = proptest::collection::vec(proptest::collection::vec(0usize..4, 0..3), 1..5);
    let members = proptest::collection::vec((0usize..40, 0usize..6, any::<bool>()), 0..25);
    (shape, members).prop_map(|(shape, members)| {
        let mut m = Model::default();
        for (c, nets) in shape.iter().enumerate() {
            let ci = m.accounts.len();
            m.accounts.push(Account {
                address: format!("customer.c{c}"),
                name: format!("C{c}"),
                kind: AccountKind::Customer,
                parent: None,
            });
            for (n, subs) in nets.iter().enumerate() {
                let ni = m.accounts.len();
                m.accounts.push(Account {
                    address: format!("network.c{c}n{n}"),
                    name: String::new(),
                    kind: AccountKind::Network,
                    parent: Some(ci),
                });
                for s in 0..*subs {
                    m.accounts.push(Account {
                        address: format!("sub_account.c{c}n{n}s{s}"),
                        name: String::new(),
                        kind: AccountKind::SubAccount,
                        parent: Some(ni),
                    });
                }
            }
        }
        let n = m.accounts.len();
        let mut seen = std::collections::HashSet::new();
        for (at, who, admin) in members {
            // One user per email per account, as in a configuration.
            if !seen.insert((at.min(n), who)) {
                continue;
            }
            m.members.push(Member {
                account: (at < n).then_some(at),
                email: format!("u{who}@x.example"),
                name: String::new(),
                role: if admin { Role::Admin } else { Role::Member },
                status: None,
                unmanaged: false,
            });
        }
        m
    })
}

fn descendants(m: &Model, i: usize) -> usize {
    1 + (0..m.accounts.len())
        .filter(|&k| m.accounts[k].parent == Some(i))
        .map(|k| descendants(m, k))
        .sum::<usize>()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn grants_follow_the_tree(m in model()) {
        let grants = m.grants();
        for (k, u) in m.members.iter().enumerate() {
            let from = m.place(u.account);
            let mine = grants
                .iter()
                .filter(|g| g.email == u.email && match &g.source {
                    Source::Direct => g.account == from,
                    Source::Inherited(f) => *f == from,
                })
                .count();
            match u.account {
                // A partner user reaches every account, and the partner itself.
                None => prop_assert_eq!(mine, m.accounts.len() + 1, "member {}", k),
                Some(i) => {
                    let expected = descendants(&m, i);
                    prop_assert_eq!(mine, expected, "member {}", k);
                    if m.accounts[i].kind == AccountKind::SubAccount {
                        prop_assert_eq!(mine, 1);
                    }
                }
            }
        }
    }

    #[test]
    fn removing_a_user_removes_exactly_their_grants(m in model(), pick in any::<prop::sample::Index>()) {
        prop_assume!(!m.members.is_empty());
        let k = pick.index(m.members.len());
        let gone = m.members[k].clone();
        let from = m.place(gone.account);
        let mut fewer = m.clone();
        fewer.members.remove(k);
        let mut before = m.grants();
        let after = fewer.grants();
        // Take out one grant per account the removed member reached.
        for a in m.reach(gone.account).iter().map(|&i| m.accounts[i].address.clone())
            .chain(gone.account.is_none().then(|| "partner".to_string()))
        {
            let source = if a == from { Source::Direct } else { Source::Inherited(from.clone()) };
            let pos = before.iter().position(|g| g.account == a && g.email == gone.email && g.source == source && g.role == gone.role);
            prop_assert!(pos.is_some(), "no grant of {} on {}", gone.email, a);
            before.remove(pos.unwrap());
        }
        prop_assert_eq!(before, after);
    }
}

/// A person or an account the model does not know is an error naming the closest one, so an
/// empty answer always means "no access"; an account may be named by its key alone.
#[test]
fn selecting_an_unknown_person_or_account_is_an_error() {
    let m = Model::from_desired(&desired(ESTATE));
    assert_eq!(
        m.select(Some("JANE@c.example"), None).unwrap().len(),
        4,
        "any case"
    );
    assert_eq!(
        m.select(Some("jane@c.exampel"), None).unwrap_err(),
        QueryError::UnknownUser {
            given: "jane@c.exampel".into(),
            closest: Some("jane@c.example".into()),
        }
    );
    // Another domain: the same name before the `@`.
    let e = m.select(Some("desk@contoso.example"), None).unwrap_err();
    assert_eq!(
        e.to_string(),
        "--user desk@contoso.example: no user or invitation has this email, so it reaches no account; did you mean desk@c.example?"
    );
    let e = m.select(Some("zed@z.example"), None).unwrap_err();
    assert_eq!(
        e.to_string(),
        "--user zed@z.example: no user or invitation has this email, so it reaches no account; check the spelling (without --user, every person is listed)"
    );
    assert_eq!(
        m.select(None, Some("s1")).unwrap(),
        m.select(None, Some("sub_account.s1")).unwrap()
    );
    assert_eq!(
        m.select(None, Some("network.s1")).unwrap_err(),
        QueryError::UnknownAccount {
            given: "network.s1".into(),
            closest: Some("sub_account.s1".into()),
        }
    );
    // Known person, known account, no access: an empty answer.
    assert_eq!(m.select(Some("desk@c.example"), Some("s2")).unwrap(), []);
}

/// A live account without a key is named by its live id alone too.
#[test]
fn a_live_account_without_a_key_is_found_by_its_id() {
    let d = desired(ESTATE);
    let mut m = Model::from_desired(&d);
    m.accounts.push(Account {
        address: "customer[id=acc_9]".into(),
        name: "By hand".into(),
        kind: AccountKind::Customer,
        parent: None,
    });
    let grants = m.select(None, Some("acc_9")).unwrap();
    assert!(!grants.is_empty());
    assert!(grants.iter().all(|g| g.account == "customer[id=acc_9]"));
}
