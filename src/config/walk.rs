//! Stage `config`, the desired-tree walk: [`Desired::walk`] yields every account of the merged
//! tree as a [`Node`], parents before children. Pure.

use std::collections::BTreeMap;

use super::{AccountSpan, AdoptId, Contact, Customer, Desired, Network, Service, SubAccount, User};
use crate::vocab::AccountKind;

/// One account of the desired tree, as [`Desired::walk`] yields it (`defaults` applied).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Node<'a> {
    /// Customer, network or sub-account.
    pub kind: AccountKind,
    /// Position in the walk.
    pub index: usize,
    /// Position of the parent account in the walk; `None` for a customer (its parent is the
    /// partner).
    pub parent: Option<usize>,
    /// Stable identity (the external key).
    pub key: &'a str,
    /// The live id to adopt, if given.
    pub adopt: Option<&'a str>,
    /// Display name.
    pub name: &'a str,
    /// The main contact (customers only).
    pub contact: Option<&'a Contact>,
    /// Country, inherited where unset.
    pub country: Option<&'a str>,
    /// Timezone, inherited where unset.
    pub timezone: Option<&'a str>,
    /// The account's own labels (defaults merged), without the label that records `protect`.
    pub labels: &'a BTreeMap<String, String>,
    /// Never delete this account.
    pub protect: bool,
    /// Users of the account itself.
    pub users: &'a [User],
    /// Services of the account itself.
    pub services: &'a [Service],
    /// Where the account is written, when it was read from a source.
    pub at: Option<&'a AccountSpan>,
}

impl Desired {
    /// Every account of the tree, parents before children: each customer, followed by each of
    /// its networks, each followed by its sub-accounts (files' order). The one walk over the tree
    /// for whoever needs every account.
    pub fn walk(&self) -> Walk<'_> {
        Walk {
            customers: self.customers.iter(),
            networks: [].iter(),
            sub_accounts: [].iter(),
            next: 0,
            customer: 0,
            network: 0,
        }
    }

    /// Every user of the configuration: the partner's, then each account's in [`walk`] order.
    ///
    /// [`walk`]: Desired::walk
    pub fn users(&self) -> impl Iterator<Item = &User> {
        self.partner
            .users
            .iter()
            .chain(self.walk().flat_map(|n| n.users.iter()))
    }
}

/// The iterator of [`Desired::walk`].
#[derive(Debug, Clone)]
pub struct Walk<'a> {
    customers: std::slice::Iter<'a, Customer>,
    networks: std::slice::Iter<'a, Network>,
    sub_accounts: std::slice::Iter<'a, SubAccount>,
    next: usize,
    /// Index of the customer whose networks are being walked.
    customer: usize,
    /// Index of the network whose sub-accounts are being walked.
    network: usize,
}

impl<'a> Iterator for Walk<'a> {
    type Item = Node<'a>;

    fn next(&mut self) -> Option<Node<'a>> {
        let index = self.next;
        let node = if let Some(s) = self.sub_accounts.next() {
            Node {
                kind: AccountKind::SubAccount,
                index,
                parent: Some(self.network),
                key: &s.key,
                adopt: s.adopt.as_ref().map(AdoptId::as_str),
                name: &s.name,
                contact: None,
                country: s.country.as_deref(),
                timezone: s.timezone.as_deref(),
                labels: &s.labels,
                protect: s.protect,
                users: &s.users,
                services: &s.services,
                at: s.at.get(),
            }
        } else if let Some(n) = self.networks.next() {
            self.network = index;
            self.sub_accounts = n.sub_accounts.iter();
            Node {
                kind: AccountKind::Network,
                index,
                parent: Some(self.customer),
                key: &n.key,
                adopt: n.adopt.as_ref().map(AdoptId::as_str),
                name: &n.name,
                contact: None,
                country: n.country.as_deref(),
                timezone: n.timezone.as_deref(),
                labels: &n.labels,
                protect: n.protect,
                users: &n.users,
                services: &n.services,
                at: n.at.get(),
            }
        } else {
            let c = self.customers.next()?;
            self.customer = index;
            self.networks = c.networks.iter();
            Node {
                kind: AccountKind::Customer,
                index,
                parent: None,
                key: &c.key,
                adopt: c.adopt.as_ref().map(AdoptId::as_str),
                name: &c.name,
                contact: c.contact.as_ref(),
                country: c.country.as_deref(),
                timezone: c.timezone.as_deref(),
                labels: &c.labels,
                protect: c.protect,
                users: &c.users,
                services: &c.services,
                at: c.at.get(),
            }
        };
        self.next += 1;
        Some(node)
    }
}
