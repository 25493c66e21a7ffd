//! Stage `config`, validation: account keys declared twice across the whole configuration,
//! found without keeping every key's text. Pure.
//!
//! Each key (its lower case) is kept as a 64-bit fingerprint only, 8 bytes a key, in the order
//! declared. Once every file was gone through, the fingerprints are sorted: one found twice is
//! most likely a key declared twice, but may be two keys whose fingerprints merely collide.
//! The files are then gone through again for the keys with those fingerprints alone
//! ([`KeyTexts`]), whose texts tell which are the same key and which was declared first.
//! Nothing is found twice and nothing is missed: the problems are those, and in the order,
//! that comparing every key's text as it was declared would give (each goes where it would
//! have been found: how many problems had been found before its key is noted whenever that
//! number changed, which for a valid configuration is never).

use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};

use crate::config::FileId;
use crate::config::yaml::{Node, Pos};

/// How a key is fingerprinted.
pub(crate) type Fingerprint = fn(&str) -> u64;

/// The fingerprint of a key (lower case): SipHash with fixed keys, the same in every run.
fn sip(key: &str) -> u64 {
    let mut h = std::hash::DefaultHasher::new();
    key.hash(&mut h);
    h.finish()
}

#[cfg(test)]
thread_local! {
    static FINGERPRINT: std::cell::Cell<Option<Fingerprint>> = const { std::cell::Cell::new(None) };
}

/// Runs `f` with keys fingerprinted by `fingerprint` on this thread (to make fingerprints
/// collide in tests).
#[cfg(test)]
pub(crate) fn with_fingerprint<T>(fingerprint: Fingerprint, f: impl FnOnce() -> T) -> T {
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            FINGERPRINT.with(|c| c.set(None));
        }
    }
    FINGERPRINT.with(|c| c.set(Some(fingerprint)));
    let _reset = Reset;
    f()
}

fn fingerprint() -> Fingerprint {
    #[cfg(test)]
    if let Some(f) = FINGERPRINT.with(std::cell::Cell::get) {
        return f;
    }
    sip
}

/// A key as declared: its place among the keys declared, where, and whether it was derived
/// from a name (a table's row without a key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KeyAt {
    ordinal: usize,
    pub(crate) file: FileId,
    pub(crate) pos: Pos,
    pub(crate) derived: bool,
    /// The key as written.
    pub(crate) text: String,
}

/// The keys of a configuration as they are declared, one after the other.
pub(crate) struct Keys {
    fingerprint: Fingerprint,
    /// Every key's fingerprint, in the order declared.
    fingerprints: Vec<u64>,
    /// How many problems had been found before a key was declared, noted for the key (its
    /// place among the keys) whenever that number changed since the key before.
    found: Vec<(usize, usize)>,
    /// Every key (lower case), kept only when asked for ([`Keys::keep_texts`]).
    texts: Option<HashSet<String>>,
}

impl Keys {
    pub(crate) fn new() -> Self {
        Keys {
            fingerprint: fingerprint(),
            fingerprints: Vec::new(),
            found: Vec::new(),
            texts: None,
        }
    }

    /// Keeps every key's text too, for [`Keys::contains`] and [`Keys::texts`].
    pub(crate) fn keep_texts(&mut self) {
        self.texts.get_or_insert_with(HashSet::new);
    }

    /// Notes the key `lower` (lower case), declared when `found` problems had been found.
    pub(crate) fn declare(&mut self, lower: &str, found: usize) {
        if let Some(texts) = &mut self.texts {
            texts.insert(lower.to_string());
        }
        let ordinal = self.fingerprints.len();
        if self.found.last().map_or(0, |f| f.1) != found {
            self.found.push((ordinal, found));
        }
        self.fingerprints.push((self.fingerprint)(lower));
    }

    /// Was the key `lower` declared? (Only when the texts are kept.)
    pub(crate) fn contains(&self, lower: &str) -> bool {
        self.texts.as_ref().is_some_and(|t| t.contains(lower))
    }

    /// Every key declared, when the texts are kept.
    pub(crate) fn texts(&self) -> impl Iterator<Item = &String> {
        self.texts.iter().flatten()
    }

    /// Once every key was declared: what collects the texts of the keys whose fingerprint was
    /// declared more than once, when there are such keys (the files are then gone through
    /// again). The fingerprints are no longer needed after this.
    pub(crate) fn texts_wanted(&mut self) -> Option<KeyTexts> {
        let mut all = std::mem::take(&mut self.fingerprints);
        all.sort_unstable();
        let wanted: HashSet<u64> = all
            .windows(2)
            .filter(|w| w[0] == w[1])
            .map(|w| w[0])
            .collect();
        (!wanted.is_empty()).then(|| KeyTexts {
            fingerprint: self.fingerprint,
            wanted,
            ordinal: 0,
            found: HashMap::new(),
        })
    }

    /// The keys declared again: each with where its problem goes (how many problems had been
    /// found before it was declared), the key as declared there, and the declaration it
    /// repeats (the first of that key, whatever its case), in the order declared. `texts`
    /// holds every declaration of the keys whose fingerprint was declared more than once.
    pub(crate) fn repeated(&self, texts: KeyTexts) -> Vec<(usize, KeyAt, KeyAt)> {
        let mut out = Vec::new();
        for all in texts.found.into_values() {
            let mut firsts: HashMap<String, KeyAt> = HashMap::new();
            for here in all {
                match firsts.get(&here.text.to_ascii_lowercase()) {
                    Some(first) => {
                        let first = first.clone();
                        out.push((self.found_before(here.ordinal), here, first));
                    }
                    None => {
                        firsts.insert(here.text.to_ascii_lowercase(), here);
                    }
                }
            }
        }
        out.sort_by_key(|(_, here, _)| here.ordinal);
        out
    }

    /// How many problems had been found when the key `ordinal` was declared.
    fn found_before(&self, ordinal: usize) -> usize {
        let after = self.found.partition_point(|f| f.0 <= ordinal);
        after.checked_sub(1).map_or(0, |i| self.found[i].1)
    }
}

/// The declarations of the keys with the fingerprints wanted, in the order they are declared
/// (as [`Keys::declare`] was given them).
pub(crate) struct KeyTexts {
    fingerprint: Fingerprint,
    wanted: HashSet<u64>,
    /// The place of the next key among all keys declared.
    ordinal: usize,
    found: HashMap<u64, Vec<KeyAt>>,
}

impl KeyTexts {
    /// The keys of a document's customers, and of their networks and sub-accounts, in the
    /// order the checks declare them; `derived` tells which customers' keys were derived from
    /// a name (by their position).
    pub(crate) fn collect(&mut self, file: FileId, doc: &Node, derived: &dyn Fn(Pos) -> bool) {
        for c in doc.list("customers") {
            let from_name = c.get("key").is_some_and(|k| derived(k.pos));
            self.account(file, c, from_name);
        }
    }

    fn account(&mut self, file: FileId, node: &Node, derived: bool) {
        if node.as_map().is_none() {
            return;
        }
        if let Some(k) = node.get("key") {
            if let Some(text) = k.as_str() {
                let ordinal = self.ordinal;
                self.ordinal += 1;
                let fp = (self.fingerprint)(&text.to_ascii_lowercase());
                if self.wanted.contains(&fp) {
                    self.found.entry(fp).or_default().push(KeyAt {
                        ordinal,
                        file,
                        pos: k.pos,
                        derived,
                        text: text.to_string(),
                    });
                }
            }
        }
        for n in node.list("networks") {
            self.account(file, n, false);
        }
        for s in node.list("sub_accounts") {
            self.account(file, s, false);
        }
    }
}
