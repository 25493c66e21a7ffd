//! Shared vocabulary, keys for accounts that have none (live accounts on export, spreadsheet rows
//! without a key column): a lower-case slug of the name within
//! the key pattern (`[a-z0-9][a-z0-9-]{0,62}`), non-ASCII letters transliterated, unique in the
//! estate by a numeric suffix, and deterministic for a given live state. Pure.

use std::collections::HashSet;

/// Longest key the pattern allows.
const MAX_KEY: usize = 63;

/// The slug of a name: ASCII letters and digits lower-cased, every other run of characters one
/// `-`, no `-` at either end, at most 63 characters. Non-ASCII letters are transliterated
/// (`Zürich` → `zurich`, `東京` → `dong-jing`); a name with nothing left gives `None`.
pub fn slug(name: &str) -> Option<String> {
    let ascii = deunicode::deunicode(name);
    let mut out = String::with_capacity(ascii.len());
    let mut dash = false;
    for c in ascii.chars() {
        if c.is_ascii_alphanumeric() {
            if dash && !out.is_empty() {
                out.push('-');
            }
            dash = false;
            out.push(c.to_ascii_lowercase());
        } else {
            dash = true;
        }
        if out.len() >= MAX_KEY {
            break;
        }
    }
    out.truncate(MAX_KEY);
    let out = out.trim_end_matches('-').to_string();
    (!out.is_empty()).then_some(out)
}

/// A short stable hash of `text` (8 hex digits of its SHA-256), for names with no slug.
pub fn short_hash(text: &str) -> String {
    use sha2::{Digest, Sha256};
    let hex = format!("{:x}", Sha256::digest(text.as_bytes()));
    hex[..8].to_string()
}

/// Hands out keys unique in the estate: taken keys (the live external keys) are never given.
#[derive(Debug, Default)]
pub struct KeyMaker {
    taken: HashSet<String>,
}

impl KeyMaker {
    /// A maker that never hands out any of `taken`.
    pub fn new(taken: impl IntoIterator<Item = String>) -> Self {
        KeyMaker {
            taken: taken.into_iter().collect(),
        }
    }

    /// The key for an account named `name` (`fallback` seeds the hash of a name with no slug:
    /// pass something stable, such as the live id): the slug, or the slug with `-2`, `-3`, …
    /// when it is taken.
    pub fn key_for(&mut self, name: &str, fallback: &str) -> String {
        let base = slug(name).unwrap_or_else(|| format!("account-{}", short_hash(fallback)));
        let mut candidate = base.clone();
        let mut n = 2usize;
        while self.taken.contains(&candidate) {
            let suffix = format!("-{n}");
            let room = MAX_KEY - suffix.len();
            let stem = base[..base.len().min(room)].trim_end_matches('-');
            candidate = format!("{stem}{suffix}");
            n += 1;
        }
        self.taken.insert(candidate.clone());
        candidate
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid(k: &str) -> bool {
        let b = k.as_bytes();
        !b.is_empty()
            && b.len() <= MAX_KEY
            && b[0].is_ascii_alphanumeric()
            && b.iter()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
    }

    #[test]
    fn slugs() {
        assert_eq!(slug("Contoso Ltd").as_deref(), Some("contoso-ltd"));
        assert_eq!(slug("  Typo  Trading  ").as_deref(), Some("typo-trading"));
        assert_eq!(slug("Zürich Büro").as_deref(), Some("zurich-buro"));
        assert_eq!(slug("東京").as_deref(), Some("dong-jing"));
        assert_eq!(slug("---"), None);
        assert_eq!(slug(""), None);
        let long = "A".repeat(100) + " b";
        assert_eq!(slug(&long).unwrap().len(), 63);
    }

    #[test]
    fn keys_are_unique_valid_and_deterministic() {
        let names = [
            "Acme",
            "acme",
            "ACME!",
            "",
            "!!!",
            "Ünïcødé",
            &"x".repeat(80),
        ];
        let run = || {
            let mut m = KeyMaker::new(["acme".to_string()]);
            names
                .iter()
                .enumerate()
                .map(|(i, n)| m.key_for(n, &format!("acc_{i}")))
                .collect::<Vec<_>>()
        };
        let keys = run();
        assert_eq!(keys, run());
        assert_eq!(keys[..3], ["acme-2", "acme-3", "acme-4"]);
        assert!(keys[3].starts_with("account-") && keys[3] != keys[4]);
        let unique: HashSet<&String> = keys.iter().collect();
        assert_eq!(unique.len(), keys.len());
        assert!(keys.iter().all(|k| valid(k)), "{keys:?}");
    }

    #[test]
    fn suffixes_fit_the_length_limit() {
        let name = "y".repeat(63);
        let mut m = KeyMaker::new([name.clone()]);
        let k = m.key_for(&name, "acc_1");
        assert!(valid(&k) && k.ends_with("-2"), "{k}");
    }
}
