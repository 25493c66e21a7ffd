//! Stage `config`, one login per email: where a provider keeps a user's role and name on the
//! login (one for every account the person belongs to) rather than on each membership, every
//! place that lists an email must give it the same role and the same name. Each place that
//! differs from another is a problem located at that place, naming the others. Pure.

use std::collections::{BTreeMap, HashSet};

use super::Sink;
use crate::config::yaml::{Node, Pos};
use crate::config::{FileId, Location, LoginField, ProblemKind};
use crate::vocab::rules::email_key;

/// One listing of an email.
#[derive(Debug, Clone)]
struct Listing {
    file: FileId,
    pos: Pos,
    account: String,
    role: String,
    name: String,
}

/// The listings of the emails being checked, in file order.
#[derive(Debug, Default)]
pub(crate) struct Listings {
    wanted: HashSet<String>,
    by_email: BTreeMap<String, Vec<Listing>>,
}

impl Listings {
    /// Listings of the emails in `wanted` (lower case) only.
    pub(crate) fn of(wanted: HashSet<String>) -> Self {
        Listings {
            wanted,
            by_email: BTreeMap::new(),
        }
    }

    /// Records the users of one document (the partner's and every account's).
    pub(crate) fn collect(&mut self, file: FileId, doc: &Node) {
        if let Some(p) = doc.get("partner") {
            self.users(file, p, "partner".to_string());
        }
        for c in doc.list("customers") {
            self.account(file, c, "customer");
        }
        // A users table's rows: each names its account by key.
        for u in doc.list("users") {
            let account = u.get("account").and_then(Node::as_str).unwrap_or("?");
            let account = account.trim().to_lowercase();
            self.listed(file, std::slice::from_ref(u), account);
        }
    }

    fn account(&mut self, file: FileId, node: &Node, kind: &str) {
        let key = node
            .get("key")
            .and_then(Node::as_str)
            .or_else(|| node.get("name").and_then(Node::as_str))
            .unwrap_or("?");
        self.users(file, node, format!("{kind}.{key}"));
        for n in node.list("networks") {
            self.account(file, n, "network");
        }
        for s in node.list("sub_accounts") {
            self.account(file, s, "sub_account");
        }
    }

    fn users(&mut self, file: FileId, holder: &Node, account: String) {
        self.listed(file, holder.list("users"), account);
    }

    fn listed(&mut self, file: FileId, users: &[Node], account: String) {
        for u in users {
            let Some(email) = u.get("email") else {
                continue;
            };
            let Some(text) = email.as_str() else { continue };
            let lower = email_key(text.trim());
            if !self.wanted.contains(&lower) {
                continue;
            }
            let text_of = |field: &str, default: &str| {
                let text = u.get(field).and_then(Node::as_str).unwrap_or(default);
                let text = text.trim();
                if text.is_empty() { default } else { text }.to_string()
            };
            self.by_email.entry(lower).or_default().push(Listing {
                file,
                pos: email.pos,
                account: account.clone(),
                role: text_of("role", "member").to_lowercase(),
                name: text_of("name", ""),
            });
        }
    }

    /// One problem per listing that differs from another listing of its email (its role
    /// first, else its name), naming every listing it differs from.
    pub(crate) fn conflicts(&self, locate: &dyn Fn(FileId, Pos) -> Location, sink: &mut Sink) {
        for (email, listings) in &self.by_email {
            for l in listings {
                for field in [LoginField::Role, LoginField::Name] {
                    let value = |x: &Listing| match field {
                        LoginField::Role => x.role.clone(),
                        LoginField::Name => x.name.clone(),
                    };
                    let others: Vec<(String, String, Location)> = listings
                        .iter()
                        .filter(|o| value(o) != value(l))
                        .map(|o| (value(o), o.account.clone(), locate(o.file, o.pos)))
                        .collect();
                    if others.is_empty() {
                        continue;
                    }
                    sink.push((
                        l.file,
                        l.pos,
                        ProblemKind::LoginDiffers {
                            email: email.clone(),
                            field,
                            here: value(l),
                            account: l.account.clone(),
                            others,
                        },
                    ));
                    break;
                }
            }
        }
    }
}
