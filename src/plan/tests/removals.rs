//! Property: for random desired D and live L (the convergence generators, with services added
//! by hand to the live accounts), a plan the guards pass without --force removes no more than
//! --max-delete-percent of any guarded class, counted by executing it: the accounts, users and
//! services of L that are gone afterwards, what deleted accounts held included.

use std::collections::HashSet;

use super::convergence::{desired_state, live_state};
use super::*;
use crate::plan::guard::GUARD_MIN_LIVE;
use proptest::prelude::*;

const TYPES: [&str; 4] = ["cards", "mobile-id", "visitor-management", "access-control"];

/// A live state with services nobody configured: `(account, type)` picks, by index.
fn with_services() -> impl Strategy<Value = Snapshot> {
    (
        live_state(),
        proptest::collection::vec((0usize..64, 0usize..4), 0..24),
    )
        .prop_map(|(mut live, picks)| {
            if live.accounts.is_empty() {
                return live;
            }
            for (i, (a, t)) in picks.into_iter().enumerate() {
                let account_id = live.accounts[a % live.accounts.len()].id.clone();
                let taken = live
                    .services
                    .iter()
                    .any(|s| s.account_id == account_id && s.service_type == TYPES[t]);
                if !taken {
                    live.services.push(crate::live::Service {
                        account_id,
                        service_type: TYPES[t].into(),
                        settings: serde_json::Map::new(),
                        etag: format!("\"byhand{i}\""),
                    });
                }
            }
            live
        })
}

/// Each class of `before`: its name, its size, and how many of its objects are gone in
/// `after` (accounts and users by id, services by account and type).
fn removed(before: &Snapshot, after: &Snapshot) -> [(&'static str, usize, usize); 3] {
    let accounts: HashSet<&str> = after.accounts.iter().map(|a| a.id.as_str()).collect();
    let users: HashSet<&str> = after.users.iter().map(|u| u.id.as_str()).collect();
    let services: HashSet<(&str, &str)> = after
        .services
        .iter()
        .map(|s| (s.account_id.as_str(), s.service_type.as_str()))
        .collect();
    let gone_accounts = before
        .accounts
        .iter()
        .filter(|a| !accounts.contains(a.id.as_str()));
    let gone_users = before
        .users
        .iter()
        .filter(|u| !users.contains(u.id.as_str()));
    let gone_services = before
        .services
        .iter()
        .filter(|s| !services.contains(&(s.account_id.as_str(), s.service_type.as_str())));
    [
        ("accounts", before.accounts.len(), gone_accounts.count()),
        ("users", before.users.len(), gone_users.count()),
        ("services", before.services.len(), gone_services.count()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn a_plan_the_guards_pass_removes_at_most_the_limit_of_each_class(
        d in desired_state(),
        live in with_services(),
        prune in any::<bool>(),
        prune_accounts in any::<bool>(),
        max in 0u32..=100,
    ) {
        let opts = Options {
            prune: prune || prune_accounts,
            prune_accounts,
            max_delete_percent: max,
            ..Options::default()
        };
        let p = match plan(&d, &live, opts) {
            Ok(p) => p,
            Err(e) if e.0.iter().all(|x| matches!(x, PlanError::AmbiguousAdoption { .. })) => {
                return Ok(());
            }
            Err(e) => panic!("{e}"),
        };
        prop_assume!(p.check_safety().is_ok());
        let after = simulate(&live, &p);
        for (class, before, gone) in removed(&live, &after) {
            if before >= GUARD_MIN_LIVE {
                prop_assert!(
                    gone * 100 <= before * max as usize,
                    "{gone} of {before} {class} removed, more than {max}%: {:#?}",
                    p.operations
                );
            }
        }
    }
}
