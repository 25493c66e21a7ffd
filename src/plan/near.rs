//! Stage `plan`, near misses: an account the plan creates whose name is that of an unmanaged
//! live sibling up to case and spacing, or within a small edit distance, is probably that
//! account under a mistyped name; creating it would duplicate it at the vendor. Such creations
//! carry a warning naming the live account and how to adopt it instead. Pure.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use super::operation::{AccountRef, Change};
use super::planner::Planner;
use crate::vocab::AccountKind;

/// A creation that looks like an unmanaged live account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error(
    "{address} would be created as {name:?}, but the live {kind} {live_name:?} ({}id {live_id}) is not managed; if it is the same {kind}, {} instead of creating a duplicate; if not, ignore this warning",
    live_key.as_ref().map(|k| format!("key {k}, ")).unwrap_or_else(|| "no key, ".into()),
    match live_key {
        Some(k) => format!("use the key `{k}` for it"),
        None => format!("adopt it with `adopt: {live_id}` on {address} (or correct the name)"),
    }
)]
pub struct NearMiss {
    /// The account the plan creates.
    pub address: String,
    /// Its kind.
    pub kind: AccountKind,
    /// The name it would be created with.
    pub name: String,
    /// The unmanaged live account's id.
    pub live_id: String,
    /// Its name.
    pub live_name: String,
    /// Its external key, if it has one.
    pub live_key: Option<String>,
}

/// Lower case, runs of white space as one space, none at either end.
fn normalized(name: &str) -> String {
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Equal up to case and spacing, or within a small edit distance (1 for short names, 2 from
/// eight characters on).
pub fn close(a: &str, b: &str) -> bool {
    let (a, b) = (normalized(a), normalized(b));
    if a == b {
        return true;
    }
    let shorter = a.chars().count().min(b.chars().count());
    let allowed = if shorter >= 8 { 2 } else { 1 };
    shorter >= 3 && strsim::levenshtein(&a, &b) <= allowed
}

impl<'l> Planner<'l> {
    /// Warns about creations close to an unmanaged live sibling of the same kind.
    pub(super) fn near_misses(&mut self) {
        let unmatched = self.unmatched();
        if unmatched.is_empty() {
            return;
        }
        let mut warned: HashSet<&str> = HashSet::new();
        let mut found = Vec::new();
        for op in &self.ops {
            let Change::Create { parent, fields } = &op.change else {
                continue;
            };
            let parent_id = match parent {
                AccountRef::Partner => Some(self.live.partner.id.as_str()),
                other => other.id(),
            };
            let Some(parent_id) = parent_id else { continue };
            let kind = op.account.kind();
            let hit = unmatched.iter().find(|a| {
                Some(a.kind) == kind
                    && a.parent_id == parent_id
                    && !warned.contains(a.id.as_str())
                    && close(&fields.name, &a.name)
            });
            if let (Some(a), Some(kind)) = (hit, kind) {
                warned.insert(a.id.as_str());
                found.push(NearMiss {
                    address: op.address.clone(),
                    kind,
                    name: fields.name.clone(),
                    live_id: a.id.clone(),
                    live_name: a.name.clone(),
                    live_key: a.external_key.clone(),
                });
            }
        }
        self.near.extend(found);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closeness() {
        assert!(close("Typo  Trading", "Typo Trading"));
        assert!(close("ACME ltd", "Acme Ltd"));
        assert!(close("Contoso Ltd", "Contoso Ltd."));
        assert!(close("Northwind Traders", "Northwnd Tradrs"));
        assert!(!close("Northwind Traders", "Southwind Tradesmen"));
        assert!(close("Acme", "Acne"));
        assert!(!close("Acme", "Aces"), "short names: one edit only");
        assert!(!close("AB", "AC"), "not below three letters");
        assert!(!close("Contoso Paris", "Contoso Lyon"));
    }
}
