//! Stage `config`, validation: every check of SPEC §3 on the located YAML tree, so each problem
//! points at the offending node. Pure: no I/O.
//!
//! Two layers:
//! - *shape*, driven by the generated JSON Schema (the model is the single source of truth):
//!   unknown fields (with the closest allowed name), missing required fields, wrong types;
//! - *values and relations*: key syntax, emails, countries, timezones, roles, `version`,
//!   duplicates (account keys across the whole config, user emails and service types within an
//!   account), `partner`/`defaults` declared once.

use std::collections::HashMap;

use serde_json::Value as Json;

use super::yaml::{Node, Pos, Value};
use super::{FileId, Location, ProblemKind};
use crate::vocab::rules::{valid_country, valid_email, valid_key, valid_timezone};

/// Collects `(file, position, problem)` triples.
pub(crate) type Sink = Vec<(FileId, Pos, ProblemKind)>;

// ---------------------------------------------------------------------------------------------
// Shape, from the JSON Schema
// ---------------------------------------------------------------------------------------------

/// Checks a document against the JSON Schema's shape keywords (`type`, `properties`, `required`,
/// `additionalProperties`, `items`, `$ref`, `anyOf`/`oneOf`). Value keywords (`enum`, `const`,
/// `pattern`, `format`) are left to [`Semantics`], which gives better messages.
pub(crate) struct Shape<'s> {
    root: &'s Json,
}

impl<'s> Shape<'s> {
    pub(crate) fn new(root: &'s Json) -> Self {
        Shape { root }
    }

    pub(crate) fn check(&self, node: &Node, out: &mut Vec<(Pos, ProblemKind)>) {
        self.walk(node, self.root, out);
    }

    fn resolve(&self, schema: &'s Json) -> &'s Json {
        let mut s = schema;
        // `$ref: "#/$defs/Name"` — the only form schemars generates.
        for _ in 0..16 {
            match s.get("$ref").and_then(Json::as_str) {
                Some(r) => match r
                    .strip_prefix("#/$defs/")
                    .and_then(|name| self.root.get("$defs")?.get(name))
                {
                    Some(target) => s = target,
                    None => return s,
                },
                None => return s,
            }
        }
        s
    }

    fn walk(&self, node: &Node, schema: &'s Json, out: &mut Vec<(Pos, ProblemKind)>) {
        let schema = self.resolve(schema);
        if let Some(branches) = schema
            .get("anyOf")
            .or_else(|| schema.get("oneOf"))
            .and_then(Json::as_array)
        {
            let mut best: Option<Vec<(Pos, ProblemKind)>> = None;
            for branch in branches {
                let mut errs = Vec::new();
                self.walk(node, branch, &mut errs);
                if errs.is_empty() {
                    return;
                }
                // Prefer the branch whose type fits the node: its errors are the useful ones.
                let fits = type_accepts(self.resolve(branch), &node.value);
                if best.is_none() || fits {
                    best = Some(errs);
                    if fits {
                        break;
                    }
                }
            }
            out.extend(best.unwrap_or_default());
            return;
        }
        if !type_accepts(schema, &node.value) {
            out.push((
                node.pos,
                ProblemKind::WrongType {
                    expected: expected_type(schema),
                    found: node.value.describe(),
                },
            ));
            return;
        }
        match &node.value {
            Value::Map(entries) => {
                let props = schema.get("properties").and_then(Json::as_object);
                let additional = schema.get("additionalProperties");
                for (key, value) in entries {
                    if key.name.is_empty() {
                        continue; // a non-string key, already reported by the YAML layer
                    }
                    match props.and_then(|p| p.get(&key.name)) {
                        Some(sub) => self.walk(value, sub, out),
                        None => match additional {
                            Some(Json::Bool(false)) => {
                                let allowed: Vec<String> = props
                                    .map(|p| p.keys().cloned().collect())
                                    .unwrap_or_default();
                                out.push((
                                    key.pos,
                                    ProblemKind::UnknownField {
                                        suggestion: closest(&key.name, &allowed),
                                        field: key.name.clone(),
                                        allowed,
                                    },
                                ));
                            }
                            Some(sub @ Json::Object(_)) => self.walk(value, sub, out),
                            _ => {}
                        },
                    }
                }
                if let Some(required) = schema.get("required").and_then(Json::as_array) {
                    for name in required.iter().filter_map(Json::as_str) {
                        if !entries.iter().any(|(k, _)| k.name == name) {
                            out.push((node.pos, ProblemKind::MissingField(name.to_string())));
                        }
                    }
                }
            }
            Value::Seq(items) => {
                if let Some(item_schema) = schema.get("items") {
                    for item in items {
                        self.walk(item, item_schema, out);
                    }
                }
            }
            _ => {}
        }
    }
}

fn type_names(schema: &Json) -> Vec<&str> {
    match schema.get("type") {
        Some(Json::String(t)) => vec![t.as_str()],
        Some(Json::Array(ts)) => ts.iter().filter_map(Json::as_str).collect(),
        _ => Vec::new(),
    }
}

fn type_accepts(schema: &Json, value: &Value) -> bool {
    let names = type_names(schema);
    if names.is_empty() {
        return true;
    }
    names.iter().any(|t| match (*t, value) {
        ("null", Value::Null)
        | ("boolean", Value::Bool(_))
        | ("string", Value::String(_))
        | ("array", Value::Seq(_))
        | ("object", Value::Map(_))
        | ("integer" | "number", Value::Int(_))
        | ("number", Value::Float(_)) => true,
        ("integer", Value::Float(f)) => f.fract() == 0.0 && f.is_finite(),
        _ => false,
    })
}

fn expected_type(schema: &Json) -> String {
    let words: Vec<&str> = type_names(schema)
        .into_iter()
        .map(|t| match t {
            "null" => "null",
            "boolean" => "a boolean (true or false)",
            "string" => "a string",
            "array" => "a list",
            "object" => "a mapping",
            "integer" => "an integer",
            "number" => "a number",
            other => other,
        })
        .collect();
    words.join(" or ")
}

/// The allowed name closest to `given`, when it is plausibly a typo.
pub(crate) fn closest(given: &str, allowed: &[String]) -> Option<String> {
    let lower = given.to_ascii_lowercase();
    allowed
        .iter()
        .map(|a| (strsim::jaro_winkler(&lower, a), a))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, a)| a.clone())
}

// ---------------------------------------------------------------------------------------------
// Values and relations
// ---------------------------------------------------------------------------------------------

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

/// Value and relation checks across all files of one configuration.
pub(crate) struct Semantics<'a> {
    sink: &'a mut Sink,
    /// Every account key seen so far (lower-case), with where it was declared.
    keys: HashMap<String, (FileId, Pos)>,
    partner: Option<(FileId, Pos)>,
    defaults: Option<(FileId, Pos)>,
    seen: DefaultsSeen,
    locate: &'a dyn Fn(FileId, Pos) -> Location,
}

impl<'a> Semantics<'a> {
    pub(crate) fn new(sink: &'a mut Sink, locate: &'a dyn Fn(FileId, Pos) -> Location) -> Self {
        Semantics {
            sink,
            keys: HashMap::new(),
            partner: None,
            defaults: None,
            seen: DefaultsSeen::default(),
            locate,
        }
    }

    fn push(&mut self, file: FileId, pos: Pos, kind: ProblemKind) {
        self.sink.push((file, pos, kind));
    }

    /// First pass over a file: `version`, `partner`, `defaults`.
    pub(crate) fn header(&mut self, file: FileId, doc: &Node) {
        let version = doc.get("version");
        if let Some(v) = version {
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
        if let Some(p) = doc.get("partner") {
            let key_pos = key_position(doc, "partner", p);
            match self.partner {
                Some((f, first)) => {
                    let first = (self.locate)(f, first);
                    self.push(file, key_pos, ProblemKind::PartnerTwice { first });
                }
                None => {
                    self.partner = Some((file, key_pos));
                    if version.is_none() {
                        self.push(file, doc.pos, ProblemKind::MissingField("version".into()));
                    }
                }
            }
            if let Some(name) = p.get("name") {
                if name.as_str().is_some_and(|s| s.trim().is_empty()) {
                    self.push(file, name.pos, ProblemKind::Empty("name"));
                }
            }
            self.users(file, p.list("users"), "the partner");
        }
        if let Some(d) = doc.get("defaults") {
            let key_pos = key_position(doc, "defaults", d);
            match self.defaults {
                Some((f, first)) => {
                    let first = (self.locate)(f, first);
                    self.push(file, key_pos, ProblemKind::DefaultsTwice { first });
                }
                None => {
                    self.defaults = Some((file, key_pos));
                    self.seen.country = d.get("country").is_some_and(|n| n.value != Value::Null);
                    self.seen.timezone = d.get("timezone").is_some_and(|n| n.value != Value::Null);
                }
            }
            self.country(file, d.get("country"));
            self.timezone(file, d.get("timezone"));
            self.services(file, d.list("services"), "defaults");
        }
    }

    /// Second pass over a file: its customers and everything below them.
    pub(crate) fn customers(&mut self, file: FileId, doc: &Node) {
        for c in doc.list("customers") {
            self.account(file, c, Kind::Customer);
        }
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
            if let Some(text) = k.as_str() {
                if !valid_key(text) {
                    self.push(file, k.pos, ProblemKind::InvalidKey(text.to_string()));
                }
                match self.keys.get(&text.to_ascii_lowercase()) {
                    Some(&(f, first)) => {
                        let first = (self.locate)(f, first);
                        self.push(
                            file,
                            k.pos,
                            ProblemKind::DuplicateAccountKey {
                                key: text.to_string(),
                                first,
                            },
                        );
                    }
                    None => {
                        self.keys.insert(text.to_ascii_lowercase(), (file, k.pos));
                    }
                }
            }
        }
        if let Some(name) = node.get("name") {
            if name.as_str().is_some_and(|s| s.trim().is_empty()) {
                self.push(file, name.pos, ProblemKind::Empty("name"));
            }
        }
        if let Some(contact) = node.get("contact") {
            if let Some(name) = contact.get("name") {
                if name.as_str().is_some_and(|s| s.trim().is_empty()) {
                    self.push(file, name.pos, ProblemKind::Empty("contact name"));
                }
            }
            self.email(file, contact.get("email"));
        }
        let country = node.get("country").filter(|n| n.value != Value::Null);
        let timezone = node.get("timezone").filter(|n| n.value != Value::Null);
        self.country(file, country);
        self.timezone(file, timezone);
        if kind == Kind::Customer {
            if country.is_none() && !self.seen.country {
                self.push(file, node.pos, ProblemKind::NoCountry(label.clone()));
            }
            if timezone.is_none() && !self.seen.timezone {
                self.push(file, node.pos, ProblemKind::NoTimezone(label.clone()));
            }
        }
        let what = format!("account {label}");
        self.users(file, node.list("users"), &what);
        self.services(file, node.list("services"), &what);
        for n in node.list("networks") {
            self.account(file, n, Kind::Network);
        }
        for s in node.list("sub_accounts") {
            self.account(file, s, Kind::SubAccount);
        }
    }

    fn users(&mut self, file: FileId, users: &[Node], account: &str) {
        let mut seen: HashMap<String, Pos> = HashMap::new();
        for u in users {
            if let Some(e) = u.get("email") {
                self.email(file, Some(e));
                if let Some(text) = e.as_str() {
                    let norm = text.trim().to_lowercase();
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
            if let Some(name) = u.get("name") {
                if name.as_str().is_some_and(|s| s.trim().is_empty()) {
                    self.push(file, name.pos, ProblemKind::Empty("user name"));
                }
            }
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

    fn email(&mut self, file: FileId, node: Option<&Node>) {
        if let Some(n) = node {
            if let Some(text) = n.as_str() {
                if !valid_email(text) {
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

    fn timezone(&mut self, file: FileId, node: Option<&Node>) {
        if let Some(n) = node {
            if let Some(text) = n.as_str() {
                if !valid_timezone(text) {
                    self.push(
                        file,
                        n.pos,
                        ProblemKind::InvalidTimezone {
                            value: text.to_string(),
                            suggestion: suggest_timezone(text),
                        },
                    );
                }
            }
        }
    }
}

/// Where the mapping key `name` of `doc` is written (its value's position if not found).
fn key_position(doc: &Node, name: &str, value: &Node) -> Pos {
    doc.as_map()
        .and_then(|m| m.iter().find(|(k, _)| k.name == name))
        .map_or(value.pos, |(k, _)| k.pos)
}

fn suggest_country(text: &str) -> Option<String> {
    let upper = text.trim().to_ascii_uppercase();
    if upper == "UK" {
        return Some("GB".into());
    }
    if valid_country(&upper) {
        return Some(upper);
    }
    if let Some(c) = rust_iso3166::from_alpha3(&upper) {
        return Some(c.alpha2.to_string());
    }
    rust_iso3166::ALL
        .iter()
        .find(|c| c.name.eq_ignore_ascii_case(text.trim()))
        .map(|c| c.alpha2.to_string())
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
