//! Stage `config`, validation: account keys declared twice across the whole configuration,
//! found without keeping every key's text. Pure.
//!
//! Each key (its lower case) is kept as a 64-bit fingerprint only. A key whose fingerprint was
//! seen before is most likely declared twice, but may be another key whose fingerprint merely
//! collides: those are noted as they come, and once every file was gone through, the files are
//! gone through again for the keys with those fingerprints alone ([`KeyTexts`]), whose texts
//! tell which are the same key, and which key was declared first. Nothing is found twice and
//! nothing is missed: the problems are those, and in the order, that comparing every key's
//! text would give.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hash, Hasher};

use crate::config::FileId;
use crate::config::yaml::{Node, Pos};

/// A fingerprint's own bits are its hash.
#[derive(Default)]
pub(crate) struct Prehashed(u64);

impl Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// A set of fingerprints.
type Fingerprints = HashSet<u64, BuildHasherDefault<Prehashed>>;

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

/// A key as declared: where, and whether it was derived from a name (a table's row without a
/// key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KeyAt {
    pub(crate) file: FileId,
    pub(crate) pos: Pos,
    pub(crate) derived: bool,
    /// The key as written.
    pub(crate) text: String,
}

/// The keys of a configuration as they are declared, one after the other.
pub(crate) struct Keys {
    fingerprint: Fingerprint,
    seen: Fingerprints,
    /// The keys whose fingerprint was seen before, in order: each one's fingerprint, and how
    /// many problems had been found when it was declared (where its problem goes, should it be
    /// one).
    suspects: Vec<(u64, usize)>,
    /// Every key (lower case), kept only when asked for ([`Keys::keep_texts`]).
    texts: Option<HashSet<String>>,
}

impl Keys {
    pub(crate) fn new() -> Self {
        Keys {
            fingerprint: fingerprint(),
            seen: Fingerprints::default(),
            suspects: Vec::new(),
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
        let fp = (self.fingerprint)(lower);
        if !self.seen.insert(fp) {
            self.suspects.push((fp, found));
        }
    }

    /// Was the key `lower` declared? (Only when the texts are kept.)
    pub(crate) fn contains(&self, lower: &str) -> bool {
        self.texts.as_ref().is_some_and(|t| t.contains(lower))
    }

    /// Every key declared, when the texts are kept.
    pub(crate) fn texts(&self) -> impl Iterator<Item = &String> {
        self.texts.iter().flatten()
    }

    /// Was any key's fingerprint seen twice (so that the files have to be gone through again
    /// with [`Keys::texts_wanted`])?
    pub(crate) fn suspected(&self) -> bool {
        !self.suspects.is_empty()
    }

    /// What collects the texts of the keys whose fingerprint was seen twice.
    pub(crate) fn texts_wanted(&self) -> KeyTexts {
        KeyTexts {
            fingerprint: self.fingerprint,
            wanted: self.suspects.iter().map(|s| s.0).collect(),
            found: HashMap::new(),
        }
    }

    /// The keys declared again: each with where its problem goes (how many problems had been
    /// found before it), the key as declared there, and the declaration it repeats (the first
    /// of that key, whatever its case). `texts` holds every declaration of the keys with a
    /// fingerprint seen twice, in order.
    pub(crate) fn repeated(&mut self, texts: KeyTexts) -> Vec<(usize, KeyAt, KeyAt)> {
        let mut found = texts.found;
        let mut out = Vec::new();
        // Each fingerprint's declarations after its first, in order, are its suspects.
        let mut nth: HashMap<u64, usize> = HashMap::new();
        let mut firsts: HashMap<u64, HashMap<String, KeyAt>> = HashMap::new();
        for (fp, at) in std::mem::take(&mut self.suspects) {
            let Some(all) = found.get_mut(&fp) else {
                continue;
            };
            let firsts = firsts.entry(fp).or_insert_with(|| {
                let mut m = HashMap::new();
                if let Some(first) = all.first() {
                    m.insert(first.text.to_ascii_lowercase(), first.clone());
                }
                m
            });
            let n = nth.entry(fp).or_insert(0);
            *n += 1;
            // A table changed since it was first read may no longer have this declaration.
            let Some(here) = all.get(*n) else {
                continue;
            };
            match firsts.get(&here.text.to_ascii_lowercase()) {
                Some(first) => out.push((at, here.clone(), first.clone())),
                None => {
                    firsts.insert(here.text.to_ascii_lowercase(), here.clone());
                }
            }
        }
        out
    }
}

/// The declarations of the keys with the fingerprints wanted, in the order they are declared
/// (as [`Keys::declare`] was given them).
pub(crate) struct KeyTexts {
    fingerprint: Fingerprint,
    wanted: HashSet<u64>,
    found: HashMap<u64, Vec<KeyAt>>,
}

impl KeyTexts {
    /// The keys of a document's customers, and of their networks and sub-accounts, in the
    /// order the checks go through them; `derived` tells which customers' keys were derived
    /// from a name (by their position).
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
                let fp = (self.fingerprint)(&text.to_ascii_lowercase());
                if self.wanted.contains(&fp) {
                    self.found.entry(fp).or_default().push(KeyAt {
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
