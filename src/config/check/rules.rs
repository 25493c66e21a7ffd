//! Stage `config`, validation of values and relations: key syntax, emails, countries, timezones,
//! names and labels (no control, bidirectional or zero-width characters), roles, `version`,
//! duplicates (account keys across the whole config, user emails and service types within an
//! account), `partner`/`defaults` declared once, a customer's contact where the provider needs
//! one ([`Needs`]). Pure.

use std::collections::HashMap;

use super::Sink;
use super::keys::{KeyTexts, Keys};
use crate::config::yaml::{Node, Pos, Value};
use crate::config::{FileId, Location, Needs, ProblemKind};
use crate::vocab::PROTECT_LABEL;
use crate::vocab::rules::email_key;
use crate::vocab::rules::{
    LABEL_KEY_MAX_CHARS, LABEL_VALUE_MAX_CHARS, LABELS_MAX, NAME_MAX_CHARS, NameProblem,
    escape_hidden, first_hidden, label_key_fits, label_value_fits, name_problem, valid_country,
    valid_email, valid_key, valid_timezone,
};

/// What the first pass learned about `defaults`.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct DefaultsSeen {
    pub(crate) country: bool,
    pub(crate) timezone: bool,
}

/// The account kinds, for messages and inheritance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Customer,
    Network,
    SubAccount,
}

/// How many rows of users tables naming an unknown account get a suggestion (each compares the
/// account with every key).
const SUGGESTED_ACCOUNTS: usize = 100;

/// Value and relation checks across all files of one configuration.
pub(crate) struct Semantics<'a> {
    sink: &'a mut Sink,
    /// Every account key seen so far (as fingerprints; their texts too when users tables are
    /// checked, which name accounts by key).
    keys: Keys,
    partner: Option<(FileId, Pos)>,
    defaults: Option<(FileId, Pos)>,
    seen: DefaultsSeen,
    /// `defaults.country`, when valid (for suggesting a customer's time zone).
    default_country: Option<String>,
    /// The keys of `defaults.labels`, which every customer carries too.
    default_labels: Vec<String>,
    /// What the provider needs beyond the format.
    needs: Needs,
    /// Where each user is listed, by account key (lower-case, `partner` for the partner) and
    /// email: kept only when a users table is to be checked against the rest.
    listed: Option<HashMap<(String, String), (FileId, Pos)>>,
    /// Are users tables read for `import`, where only the customers read with them exist?
    importing: bool,
    /// Every account key, for suggesting one to a users table's unknown account (made on the
    /// first such row; at most [`SUGGESTED_ACCOUNTS`] rows get a suggestion).
    suggested: Option<(Vec<String>, usize)>,
    locate: &'a dyn Fn(FileId, Pos) -> Location,
}

impl<'a> Semantics<'a> {
    pub(crate) fn new(sink: &'a mut Sink, locate: &'a dyn Fn(FileId, Pos) -> Location) -> Self {
        Semantics {
            sink,
            keys: Keys::new(),
            partner: None,
            defaults: None,
            seen: DefaultsSeen::default(),
            default_country: None,
            default_labels: Vec::new(),
            needs: Needs::default(),
            listed: None,
            importing: false,
            suggested: None,
            locate,
        }
    }

    /// Has any problem been found so far?
    pub(crate) fn found_any(&self) -> bool {
        !self.sink.is_empty()
    }

    fn push(&mut self, file: FileId, pos: Pos, kind: ProblemKind) {
        self.sink.push((file, pos, kind));
    }

    /// First pass over a file: `version`, `partner`, `defaults`.
    pub(crate) fn header(&mut self, file: FileId, doc: &Node) {
        let version = doc.get("version");
        if let Some(v) = version {
            self.version(file, v);
        }
        if let Some(p) = doc.get("partner") {
            self.partner(file, doc, p, version.is_some());
        }
        if let Some(d) = doc.get("defaults") {
            self.defaults(file, doc, d);
        }
    }

    /// `version` must be 1.
    fn version(&mut self, file: FileId, v: &Node) {
        if v.value != Value::Int(1) {
            let shown = match &v.value {
                Value::String(s) => format!("\"{s}\""),
                Value::Int(i) => i.to_string(),
                Value::Float(f) => f.to_string(),
                other => other.describe().to_string(),
            };
            self.push(file, v.pos, ProblemKind::UnsupportedVersion(shown));
        }
    }

    /// `partner` (value `p` of `doc`): declared once, in a file with a `version`; its name and
    /// users.
    fn partner(&mut self, file: FileId, doc: &Node, p: &Node, has_version: bool) {
        let key_pos = key_position(doc, "partner", p);
        match self.partner {
            Some((f, first)) => {
                let first = (self.locate)(f, first);
                self.push(file, key_pos, ProblemKind::PartnerTwice { first });
            }
            None => {
                self.partner = Some((file, key_pos));
                if !has_version {
                    self.push(file, doc.pos, ProblemKind::MissingField("version".into()));
                }
            }
        }
        self.name(file, p.get("name"), "name");
        self.users(file, p.list("users"), "the partner", "partner");
    }

    /// `defaults` (value `d` of `doc`): declared once; what it sets for the customers' checks;
    /// its values.
    fn defaults(&mut self, file: FileId, doc: &Node, d: &Node) {
        let key_pos = key_position(doc, "defaults", d);
        match self.defaults {
            Some((f, first)) => {
                let first = (self.locate)(f, first);
                self.push(file, key_pos, ProblemKind::DefaultsTwice { first });
            }
            None => {
                self.defaults = Some((file, key_pos));
                self.seen.country = d.get("country").is_some_and(|n| n.value != Value::Null);
                self.default_country = d
                    .get("country")
                    .and_then(Node::as_str)
                    .filter(|c| valid_country(c))
                    .map(str::to_string);
                self.seen.timezone = d.get("timezone").is_some_and(|n| n.value != Value::Null);
                self.default_labels = label_keys(d);
            }
        }
        self.label_sizes(file, d.get("labels"));
        self.country(file, d.get("country"));
        let country = d
            .get("country")
            .and_then(Node::as_str)
            .filter(|c| valid_country(c));
        self.timezone(file, d.get("timezone"), country);
        self.services(file, d.list("services"), "defaults");
    }

    /// Second pass over a file (or a chunk of a table's rows): its customers and everything
    /// below them. (Which keys a table derived from names matters only to the problems of
    /// keys declared twice, found from the documents read again: [`Self::repeated_keys`].)
    pub(crate) fn customers(&mut self, file: FileId, doc: &Node) {
        for c in doc.list("customers") {
            self.account(file, c, Kind::Customer);
        }
    }

    /// Keeps where each user is listed, for users tables ([`Self::users_table`]), to be called
    /// before any file is checked.
    pub(crate) fn track_users(&mut self) {
        self.listed = Some(HashMap::new());
        self.keys.keep_texts();
    }

    /// Checks users tables for `import`: their accounts are the customers read with them, and
    /// no other (the partner included).
    pub(crate) fn importing(&mut self) {
        self.importing = true;
        self.track_users();
    }

    /// A users table's rows (`{users: [...]}`), once every account is known: each row's
    /// values, its account among the configuration's (or `partner`), and the user listed
    /// once in that account (in YAML, in a customer table or in a users table).
    pub(crate) fn users_table(&mut self, file: FileId, doc: &Node) {
        for u in doc.list("users") {
            let Some(account) = u.get("account") else {
                continue;
            };
            let key = account.as_str().unwrap_or_default().trim().to_lowercase();
            let known = (key == "partner" && !self.importing) || self.keys.contains(&key);
            if key.is_empty() {
                self.push(file, account.pos, ProblemKind::Empty("account"));
            } else if !known && self.importing {
                let kind = ProblemKind::NotImported(key.clone());
                self.push(file, account.pos, kind);
            } else if !known {
                let suggestion = self.suggest_account(&key);
                let kind = ProblemKind::UnknownAccount {
                    account: key.clone(),
                    suggestion,
                };
                self.push(file, account.pos, kind);
            }
            let what = if key == "partner" {
                "the partner".to_string()
            } else {
                format!("account `{key}`")
            };
            if let Some(e) = u
                .get("email")
                .filter(|e| e.as_str().is_some_and(|t| !t.trim().is_empty()))
            {
                let norm = email_key(e.as_str().unwrap_or_default().trim());
                let first =
                    self.listed
                        .as_mut()
                        .and_then(|l| match l.get(&(key.clone(), norm.clone())) {
                            Some(&first) => Some(first),
                            None => {
                                l.insert((key.clone(), norm), (file, e.pos));
                                None
                            }
                        });
                if let (Some((f, at)), true) = (first, known) {
                    let first = (self.locate)(f, at);
                    let email = e.as_str().unwrap_or_default().to_string();
                    let kind = ProblemKind::DuplicateEmail {
                        email,
                        account: what.clone(),
                        first,
                    };
                    self.push(file, e.pos, kind);
                }
            }
            if let Some(r) = u.get("role") {
                let role = r.as_str().unwrap_or_default().trim().to_lowercase();
                if role != "admin" && role != "member" {
                    let written = r.as_str().unwrap_or_default().to_string();
                    self.push(file, r.pos, ProblemKind::InvalidRole(written));
                }
            }
            self.email(file, u.get("email"));
            self.name(file, u.get("name"), "user name");
        }
    }

    /// The key closest to an unknown `account` (for the first rows only).
    fn suggest_account(&mut self, account: &str) -> Option<String> {
        let keys = &self.keys;
        let (all, asked) = self.suggested.get_or_insert_with(|| {
            let mut all: Vec<String> = keys.texts().cloned().collect();
            all.push("partner".to_string());
            all.sort();
            (all, 0)
        });
        *asked += 1;
        if *asked > SUGGESTED_ACCOUNTS {
            return None;
        }
        super::closest(account, all)
    }

    /// Checks the configuration for a provider that needs what `needs` says (by default, what
    /// the partner API needs).
    pub(crate) fn needs(&mut self, needs: Needs) {
        self.needs = needs;
    }

    /// Checks customers as if `defaults` gave a country and a time zone (a customer table read
    /// on its own, whose configuration's defaults are not known).
    pub(crate) fn assume_defaults(&mut self) {
        self.seen.country = true;
        self.seen.timezone = true;
    }

    /// After all files: was `partner` declared at all?
    pub(crate) fn finish(&mut self, first_file: Option<FileId>) {
        if self.partner.is_none() {
            if let Some(f) = first_file {
                self.push(f, Pos { line: 1, col: 1 }, ProblemKind::PartnerMissing);
            }
        }
    }

    fn account(&mut self, file: FileId, node: &Node, kind: Kind) {
        if node.as_map().is_none() {
            return; // shape layer reported it
        }
        let key = node.get("key");
        let label = key
            .and_then(Node::as_str)
            .map_or_else(|| "(no key)".to_string(), |k| format!("`{k}`"));
        if let Some(k) = key {
            self.account_key(file, k);
        }
        self.name(file, node.get("name"), "name");
        match node.get("contact") {
            Some(contact) => {
                self.name(file, contact.get("name"), "contact name");
                self.email(file, contact.get("email"));
            }
            None if kind == Kind::Customer && self.needs.contact => {
                self.push(file, node.pos, ProblemKind::NoContact(label.clone()));
            }
            None => {}
        }
        let country = node.get("country").filter(|n| n.value != Value::Null);
        let timezone = node.get("timezone").filter(|n| n.value != Value::Null);
        self.country(file, country);
        let country_code = country
            .and_then(Node::as_str)
            .filter(|c| valid_country(c))
            .map(str::to_string)
            .or_else(|| self.default_country.clone());
        self.timezone(file, timezone, country_code.as_deref());
        if kind == Kind::Customer {
            if country.is_none() && !self.seen.country {
                self.push(file, node.pos, ProblemKind::NoCountry(label.clone()));
            }
            if timezone.is_none() && !self.seen.timezone {
                self.push(file, node.pos, ProblemKind::NoTimezone(label.clone()));
            }
        }
        let what = format!("account {label}");
        self.labels(file, node, kind, &what);
        let key_text = key
            .and_then(Node::as_str)
            .unwrap_or_default()
            .to_lowercase();
        self.users(file, node.list("users"), &what, &key_text);
        self.services(file, node.list("services"), &what);
        for n in node.list("networks") {
            self.account(file, n, Kind::Network);
        }
        for s in node.list("sub_accounts") {
            self.account(file, s, Kind::SubAccount);
        }
    }

    /// An account's `key`: valid, and not declared before anywhere in the configuration (nor
    /// derived from a name there).
    fn account_key(&mut self, file: FileId, k: &Node) {
        let Some(text) = k.as_str() else { return };
        if !valid_key(text) {
            self.push(file, k.pos, ProblemKind::InvalidKey(text.to_string()));
        }
        // Whether it was declared before is known once every key was declared
        // ([`Self::repeated_keys`]); its problem then goes where it would go now.
        self.keys
            .declare(&text.to_ascii_lowercase(), self.sink.len());
    }

    /// Once every key was declared: what collects the texts of the keys perhaps declared
    /// twice, from every document of every file, in order, when there are such keys; what it
    /// collected is then handed to [`Self::repeated_keys`].
    pub(crate) fn key_texts(&mut self) -> Option<KeyTexts> {
        self.keys.texts_wanted()
    }

    /// The problems of the keys declared twice (not declared before anywhere in the
    /// configuration, nor derived from a name there), each where it would have been found had
    /// every key's text been kept: naming both places.
    pub(crate) fn repeated_keys(&mut self, texts: KeyTexts) {
        let repeated = self.keys.repeated(texts);
        if repeated.is_empty() {
            return;
        }
        let mut found: Vec<(usize, (FileId, Pos, ProblemKind))> = Vec::new();
        for (at, here, first) in repeated {
            let at_first = (self.locate)(first.file, first.pos);
            let kind = if here.derived || first.derived {
                ProblemKind::DerivedKeyClash {
                    key: here.text,
                    first: at_first,
                    here_derived: here.derived,
                    first_derived: first.derived,
                }
            } else {
                ProblemKind::DuplicateAccountKey {
                    key: here.text,
                    first: at_first,
                }
            };
            found.push((at, (here.file, here.pos, kind)));
        }
        let before = std::mem::take(self.sink);
        let mut sink = Vec::with_capacity(before.len() + found.len());
        let mut found = found.into_iter().peekable();
        for (i, p) in before.into_iter().enumerate() {
            while let Some((_, p)) = found.next_if(|(at, _)| *at <= i) {
                sink.push(p);
            }
            sink.push(p);
        }
        sink.extend(found.map(|(_, p)| p));
        *self.sink = sink;
    }

    /// The users of one account (`key`: its key, lower-case, or `partner`).
    fn users(&mut self, file: FileId, users: &[Node], account: &str, key: &str) {
        let mut seen: HashMap<String, Pos> = HashMap::new();
        for u in users {
            if let Some(e) = u.get("email") {
                self.email(file, Some(e));
                if let Some(text) = e.as_str() {
                    let norm = email_key(text.trim());
                    if let Some(listed) = &mut self.listed {
                        listed
                            .entry((key.to_string(), norm.clone()))
                            .or_insert((file, e.pos));
                    }
                    if let Some(&first) = seen.get(&norm) {
                        let first = (self.locate)(file, first);
                        self.push(
                            file,
                            e.pos,
                            ProblemKind::DuplicateEmail {
                                email: text.to_string(),
                                account: account.to_string(),
                                first,
                            },
                        );
                    } else {
                        seen.insert(norm, e.pos);
                    }
                }
            }
            self.name(file, u.get("name"), "user name");
            if let Some(r) = u.get("role") {
                if let Some(text) = r.as_str() {
                    if text != "admin" && text != "member" {
                        self.push(file, r.pos, ProblemKind::InvalidRole(text.to_string()));
                    }
                } else if r.value != Value::Null {
                    // a non-string role: the shape layer did not see it (enum), say it here
                    self.push(
                        file,
                        r.pos,
                        ProblemKind::InvalidRole(r.value.describe().to_string()),
                    );
                }
            }
        }
    }

    fn services(&mut self, file: FileId, services: &[Node], account: &str) {
        let mut seen: HashMap<&str, Pos> = HashMap::new();
        for s in services {
            if let Some(t) = s.get("type") {
                if let Some(text) = t.as_str() {
                    if text.trim().is_empty() {
                        self.push(file, t.pos, ProblemKind::Empty("service type"));
                    } else if let Some(&first) = seen.get(text) {
                        let first = (self.locate)(file, first);
                        self.push(
                            file,
                            t.pos,
                            ProblemKind::DuplicateService {
                                service_type: text.to_string(),
                                account: account.to_string(),
                                first,
                            },
                        );
                    } else {
                        seen.insert(text, t.pos);
                    }
                }
            }
        }
    }

    /// A name the API takes: not blank, not too long, no hidden characters, no surrounding
    /// spaces (when it is a string at all).
    fn name(&mut self, file: FileId, node: Option<&Node>, what: &'static str) {
        let Some(n) = node else { return };
        let Some(text) = n.as_str() else { return };
        let kind = match name_problem(text) {
            None => return,
            Some(NameProblem::Empty) => ProblemKind::Empty(what),
            Some(NameProblem::Hidden(hidden)) => ProblemKind::HiddenCharacter {
                what: what.to_string(),
                value: text.to_string(),
                hidden,
            },
            Some(NameProblem::Spaces) => ProblemKind::NameSpaces(what),
            Some(NameProblem::TooLong) => ProblemKind::NameTooLong {
                what,
                chars: text.chars().count(),
                max: NAME_MAX_CHARS,
            },
        };
        self.push(file, n.pos, kind);
    }

    /// The size and the characters of every label key and value of a `labels` mapping.
    fn label_sizes(&mut self, file: FileId, labels: Option<&Node>) {
        let Some(entries) = labels.and_then(Node::as_map) else {
            return;
        };
        for (k, v) in entries {
            if let Some(hidden) = first_hidden(&k.name) {
                let kind = ProblemKind::HiddenCharacter {
                    what: "label key".to_string(),
                    value: k.name.clone(),
                    hidden,
                };
                self.push(file, k.pos, kind);
            }
            if let Some((text, hidden)) = v.as_str().and_then(|t| Some((t, first_hidden(t)?))) {
                let kind = ProblemKind::HiddenCharacter {
                    what: format!("the value of label `{}`", escape_hidden(&k.name)),
                    value: text.to_string(),
                    hidden,
                };
                self.push(file, v.pos, kind);
            }
            if !label_key_fits(&k.name) {
                let kind = ProblemKind::LabelKeySize {
                    key: k.name.clone(),
                    chars: k.name.chars().count(),
                    max: LABEL_KEY_MAX_CHARS,
                };
                self.push(file, k.pos, kind);
            }
            if let Some(text) = v.as_str().filter(|t| !label_value_fits(t)) {
                let kind = ProblemKind::LabelValueSize {
                    key: k.name.clone(),
                    chars: text.chars().count(),
                    max: LABEL_VALUE_MAX_CHARS,
                };
                self.push(file, v.pos, kind);
            }
        }
    }

    /// An account's labels: each of a size the API takes, and not more of them than it takes,
    /// counting those a customer gets from `defaults` and the one `protect` records.
    fn labels(&mut self, file: FileId, node: &Node, kind: Kind, account: &str) {
        let own = node.get("labels");
        self.label_sizes(file, own);
        let mut keys = label_keys(node);
        let mut counted = Vec::new();
        if kind == Kind::Customer && !self.default_labels.is_empty() {
            keys.extend(self.default_labels.iter().cloned());
            counted.push("with those from `defaults`");
        }
        if node
            .get("protect")
            .is_some_and(|p| p.value == Value::Bool(true))
        {
            keys.push(PROTECT_LABEL.to_string());
            counted.push("with the one `protect` records");
        }
        keys.sort_unstable();
        keys.dedup();
        if keys.len() > LABELS_MAX {
            let kind = ProblemKind::TooManyLabels {
                account: account.to_string(),
                count: keys.len(),
                counted: counted.join(" and "),
                max: LABELS_MAX,
            };
            self.push(file, own.map_or(node.pos, |n| n.pos), kind);
        }
    }

    fn email(&mut self, file: FileId, node: Option<&Node>) {
        if let Some(n) = node {
            if let Some(text) = n.as_str() {
                if let Some(hidden) = first_hidden(text) {
                    let kind = ProblemKind::HiddenCharacter {
                        what: "email".to_string(),
                        value: text.to_string(),
                        hidden,
                    };
                    self.push(file, n.pos, kind);
                } else if !valid_email(text) {
                    self.push(file, n.pos, ProblemKind::InvalidEmail(text.to_string()));
                }
            }
        }
    }

    fn country(&mut self, file: FileId, node: Option<&Node>) {
        if let Some(n) = node {
            if let Some(text) = n.as_str() {
                if !valid_country(text) {
                    self.push(
                        file,
                        n.pos,
                        ProblemKind::InvalidCountry {
                            value: text.to_string(),
                            suggestion: suggest_country(text),
                        },
                    );
                }
            }
        }
    }

    fn timezone(&mut self, file: FileId, node: Option<&Node>, country: Option<&str>) {
        if let Some(n) = node {
            if let Some(text) = n.as_str() {
                if !valid_timezone(text) {
                    let zones = country.map(|c| {
                        let z = crate::vocab::rules::zones_of(c);
                        (c.to_string(), z.into_iter().map(str::to_string).collect())
                    });
                    self.push(
                        file,
                        n.pos,
                        ProblemKind::InvalidTimezone {
                            value: text.to_string(),
                            suggestion: suggest_timezone(text),
                            zones,
                        },
                    );
                }
            }
        }
    }
}

/// The keys of the `labels` mapping of `node`.
fn label_keys(node: &Node) -> Vec<String> {
    node.get("labels")
        .and_then(Node::as_map)
        .map(|m| m.iter().map(|(k, _)| k.name.clone()).collect())
        .unwrap_or_default()
}

/// Where the mapping key `name` of `doc` is written (its value's position if not found).
fn key_position(doc: &Node, name: &str, value: &Node) -> Pos {
    doc.as_map()
        .and_then(|m| m.iter().find(|(k, _)| k.name == name))
        .map_or(value.pos, |(k, _)| k.pos)
}

fn suggest_country(text: &str) -> Option<String> {
    crate::vocab::rules::country_from_name(text).map(str::to_string)
}

fn suggest_timezone(text: &str) -> Option<String> {
    let names: Vec<String> = chrono_tz::TZ_VARIANTS
        .iter()
        .map(|tz| tz.name().to_string())
        .collect();
    if let Some(exact) = names.iter().find(|n| n.eq_ignore_ascii_case(text.trim())) {
        return Some(exact.clone());
    }
    let wanted = text.trim().replace(' ', "_");
    names
        .iter()
        .map(|n| {
            (
                strsim::jaro_winkler(&wanted.to_lowercase(), &n.to_lowercase()),
                n,
            )
        })
        .filter(|(score, _)| *score >= 0.85)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, n)| n.clone())
}

#[cfg(test)]
mod tests {
    use super::super::shape::closest;
    use super::*;

    #[test]
    fn suggestions() {
        assert_eq!(suggest_country("uk").as_deref(), Some("GB"));
        assert_eq!(suggest_country("fr").as_deref(), Some("FR"));
        assert_eq!(suggest_country("DEU").as_deref(), Some("DE"));
        assert_eq!(suggest_country("zz"), None);
        assert_eq!(
            suggest_timezone("europe/london").as_deref(),
            Some("Europe/London")
        );
        assert_eq!(
            suggest_timezone("Europe/Londn").as_deref(),
            Some("Europe/London")
        );
        assert_eq!(
            closest("nmae", &["name".into(), "key".into()]).as_deref(),
            Some("name")
        );
        assert_eq!(closest("zzzz", &["name".into(), "key".into()]), None);
    }
}
