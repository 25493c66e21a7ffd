//! Stage `plan`, the live snapshot indexed for matching: accounts by id, by key and by
//! parent, users and services by account. Pure.

use std::collections::HashMap;

use crate::live::{self, Snapshot};

/// The live snapshot, indexed for matching.
pub(super) struct Index<'l> {
    pub(super) by_id: HashMap<&'l str, &'l live::Account>,
    pub(super) by_key: HashMap<&'l str, &'l live::Account>,
    pub(super) children: HashMap<&'l str, Vec<&'l live::Account>>,
    pub(super) users_by_account: HashMap<&'l str, Vec<&'l live::User>>,
    pub(super) services_by_account: HashMap<&'l str, Vec<&'l live::Service>>,
}

impl<'l> Index<'l> {
    pub(super) fn new(live: &'l Snapshot) -> Self {
        let accounts = live.accounts.len() + 1;
        let mut ix = Index {
            by_id: HashMap::with_capacity(accounts),
            by_key: HashMap::with_capacity(accounts),
            children: HashMap::new(),
            users_by_account: HashMap::with_capacity(accounts),
            services_by_account: HashMap::with_capacity(accounts),
        };
        for a in &live.accounts {
            ix.by_id.insert(a.id.as_str(), a);
            if let Some(k) = &a.external_key {
                ix.by_key.insert(k.as_str(), a);
            }
            ix.children.entry(a.parent_id.as_str()).or_default().push(a);
        }
        for u in &live.users {
            let e = ix.users_by_account.entry(u.account_id.as_str());
            e.or_default().push(u);
        }
        for s in &live.services {
            let e = ix.services_by_account.entry(s.account_id.as_str());
            e.or_default().push(s);
        }
        ix
    }
}
