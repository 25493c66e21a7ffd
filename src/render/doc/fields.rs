//! Stage `render`, a JSON document's fields as a markdown table, generated from its JSON
//! Schema: one row per field (`operations[].account.kind`), with its type and its meaning (the
//! schema's description). The README shows these tables, so that what it says of each field
//! is what the schema says. Pure.

use std::fmt::Write as _;

use serde_json::Value;

/// The fields of the document `schema` describes, as a markdown table: every property, by its
/// path from the document's root (`[]` for an array's items), down through objects, arrays and
/// tagged unions; an untagged union (the variants share no discriminating constant) is one
/// row naming its variants and their fields.
pub fn fields_table(schema: &Value) -> String {
    let mut rows = Vec::new();
    Walker { root: schema }.object("", schema, &mut rows);
    let mut out = String::from("| field | type | meaning |\n|---|---|---|\n");
    for Row {
        path,
        kind,
        meaning,
    } in rows
    {
        let _ = writeln!(out, "| `{path}` | {kind} | {} |", cell(&meaning));
    }
    out
}

struct Row {
    path: String,
    kind: String,
    meaning: String,
}

/// A property in one variant of a union: its schema, whether that variant requires it, and
/// the variant's index.
type Occurrence<'a> = (&'a Value, bool, usize);

/// A property of an object, as the table shows it.
struct Prop<'a> {
    name: &'a str,
    schema: &'a Value,
    required: bool,
    /// What the row says it means (the property's description, else its type's).
    meaning: Option<String>,
    /// What the row says its type is, when not its schema's.
    kind: Option<String>,
}

struct Walker<'a> {
    root: &'a Value,
}

/// A table cell's text: one line, pipes escaped.
fn cell(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace('|', "\\|")
}

fn variants(s: &Value) -> Option<&Vec<Value>> {
    s.get("oneOf")
        .or_else(|| s.get("anyOf"))
        .and_then(Value::as_array)
}

impl<'a> Walker<'a> {
    /// `s` with a `$ref` followed (to `#/$defs/NAME`).
    fn resolve(&self, s: &'a Value) -> &'a Value {
        match s.get("$ref").and_then(Value::as_str) {
            Some(r) => {
                let name = r.rsplit('/').next().unwrap_or_default();
                self.resolve(&self.root["$defs"][name])
            }
            None => s,
        }
    }

    /// `s` without a `null` alternative, and whether it had one.
    fn non_null(&self, s: &'a Value) -> (&'a Value, bool) {
        let s = self.resolve(s);
        if let Some(vs) = variants(s) {
            let rest: Vec<&Value> = vs
                .iter()
                .filter(|v| self.resolve(v).get("type") != Some(&Value::from("null")))
                .collect();
            if rest.len() == 1 && vs.len() == 2 {
                return (self.resolve(rest[0]), true);
            }
        }
        (s, false)
    }

    /// The properties of an object schema in order, and for a tagged union or an object with
    /// a union flattened into it, those of its variants too.
    fn properties(&self, s: &'a Value) -> Vec<Prop<'a>> {
        let s = self.resolve(s);
        let mut out: Vec<Prop<'a>> = Vec::new();
        if let Some(props) = s.get("properties").and_then(Value::as_object) {
            let required = required(s);
            out.extend(props.iter().map(|(name, p)| Prop {
                name,
                schema: p,
                required: required.contains(&name.as_str()),
                meaning: description(p).map(str::to_string),
                kind: None,
            }));
        }
        let tag = self.tag(s);
        let Some(vs) = variants(s).filter(|_| tag.is_some() || !out.is_empty()) else {
            return out;
        };
        let vs: Vec<&Value> = vs.iter().map(|v| self.resolve(v)).collect();
        // Each property of the variants, with where it occurs.
        let mut seen: Vec<(&'a str, Vec<Occurrence<'a>>)> = Vec::new();
        for (k, v) in vs.iter().enumerate() {
            let required = required(v);
            for (name, p) in v
                .get("properties")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                let at = (p, required.contains(&name.as_str()), k);
                match seen.iter_mut().find(|(n, _)| *n == name.as_str()) {
                    Some((_, list)) => list.push(at),
                    None => seen.push((name, vec![at])),
                }
            }
        }
        let variant = |k: usize| -> String {
            match tag {
                Some(t) => format!("when `{t}` is `{}`", vs[k]["properties"][t]["const"]),
                None => {
                    let d = description(vs[k]).unwrap_or_default().trim_end_matches('.');
                    let mut c = d.chars();
                    let d: String = c
                        .next()
                        .map(|f| f.to_lowercase().chain(c).collect())
                        .unwrap_or_default();
                    format!("for {d}")
                }
            }
        };
        for (name, list) in seen {
            let everywhere = list.len() == vs.len();
            let prop = if Some(name) == tag {
                let consts: Vec<String> = vs
                    .iter()
                    .map(|v| format!("`{}`", v["properties"][name]["const"]))
                    .collect();
                let meaning: Vec<String> = vs
                    .iter()
                    .zip(&consts)
                    .map(|(v, c)| {
                        format!(
                            "{c}: {}",
                            description(v).unwrap_or_default().trim_end_matches('.')
                        )
                    })
                    .collect();
                Prop {
                    name,
                    schema: list[0].0,
                    required: everywhere,
                    meaning: Some(format!("{}.", meaning.join("; "))),
                    kind: Some(consts.join(", ")),
                }
            } else {
                // Each description once, with the variants that have it.
                let mut meanings: Vec<(&str, Vec<String>)> = Vec::new();
                for (p, _, k) in &list {
                    let d = description(p)
                        .or_else(|| description(vs[*k]))
                        .unwrap_or_default()
                        .trim_end_matches('.');
                    match meanings.iter_mut().find(|(m, _)| *m == d) {
                        Some((_, where_)) => where_.push(variant(*k)),
                        None => meanings.push((d, vec![variant(*k)])),
                    }
                }
                let meanings: Vec<String> = meanings
                    .into_iter()
                    .map(|(d, where_)| {
                        if everywhere {
                            d.to_string()
                        } else {
                            format!("{d} ({})", where_.join("; "))
                        }
                    })
                    .collect();
                Prop {
                    name,
                    schema: list[0].0,
                    required: everywhere && list.iter().all(|(_, r, _)| *r),
                    meaning: Some(format!("{}.", meanings.join("; "))),
                    kind: None,
                }
            };
            out.push(prop);
        }
        out
    }

    /// The property whose constant tells the variants of union `s` apart, if it is one.
    fn tag(&self, s: &'a Value) -> Option<&'a str> {
        let vs = variants(s)?;
        let consts = |v: &'a Value| -> Vec<&'a str> {
            self.resolve(v)
                .get("properties")
                .and_then(Value::as_object)
                .map(|p| {
                    p.iter()
                        .filter(|(_, s)| s.get("const").is_some())
                        .map(|(n, _)| n.as_str())
                        .collect()
                })
                .unwrap_or_default()
        };
        let first = vs.first().map(consts).unwrap_or_default();
        first
            .into_iter()
            .find(|tag| vs.iter().all(|v| consts(v).contains(tag)))
    }

    /// The rows of the properties of `s`, under `path`.
    fn object(&self, path: &str, s: &'a Value, rows: &mut Vec<Row>) {
        for prop in self.properties(s) {
            let path = format!(
                "{path}{}{}",
                if path.is_empty() { "" } else { "." },
                prop.name
            );
            self.field(path, prop, rows);
        }
    }

    /// The row of one field, and those of what it holds.
    fn field(&self, path: String, prop: Prop<'a>, rows: &mut Vec<Row>) {
        let p = prop.schema;
        let (s, _) = self.non_null(p);
        let mut meaning = prop
            .meaning
            .or_else(|| description(s).map(str::to_string))
            .unwrap_or_default();
        let is_union = variants(s).is_some()
            && self.tag(s).is_none()
            && !self.is_enum(s)
            && s.get("properties").is_none();
        if is_union {
            let list: Vec<String> = variants(s)
                .into_iter()
                .flatten()
                .map(|v| {
                    let fields: Vec<String> = self
                        .properties(v)
                        .iter()
                        .map(|p| format!("`{}`", p.name))
                        .collect();
                    let what = description(v)
                        .or_else(|| description(self.resolve(v)))
                        .unwrap_or_default();
                    format!("{}: {}", what.trim_end_matches('.'), fields.join(", "))
                })
                .collect();
            meaning = format!("{} One of: {}.", meaning, list.join("; "));
        }
        let mut kind = prop.kind.unwrap_or_else(|| self.kind(p));
        if !prop.required {
            kind.push_str(", optional");
        }
        rows.push(Row {
            path: path.clone(),
            kind,
            meaning,
        });
        if is_union {
            return;
        }
        if s.get("type") == Some(&Value::from("array")) {
            if let Some(items) = s.get("items") {
                let items = self.non_null(items).0;
                self.object(&format!("{path}[]"), items, rows);
            }
        } else {
            self.object(&path, s, rows);
        }
    }

    /// Is `s` a choice of constants (an enum, possibly one described variant each)?
    fn is_enum(&self, s: &'a Value) -> bool {
        s.get("enum").is_some()
            || variants(s)
                .is_some_and(|vs| vs.iter().all(|v| self.resolve(v).get("const").is_some()))
    }

    /// A field's type, as the table shows it.
    fn kind(&self, p: &'a Value) -> String {
        let (s, nullable) = self.non_null(p);
        let json = |v: &Value| format!("`{v}`");
        let mut text = if let Some(c) = p.get("const").or_else(|| s.get("const")) {
            json(c)
        } else if let Some(e) = p
            .get("enum")
            .or_else(|| s.get("enum"))
            .and_then(Value::as_array)
        {
            e.iter().map(json).collect::<Vec<_>>().join(", ")
        } else if self.is_enum(s) {
            variants(s)
                .into_iter()
                .flatten()
                .filter_map(|v| self.resolve(v).get("const"))
                .map(json)
                .collect::<Vec<_>>()
                .join(", ")
        } else {
            match s.get("type") {
                Some(Value::String(t)) => t.clone(),
                Some(Value::Array(ts)) => ts
                    .iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(" or "),
                _ => "object".to_string(),
            }
        };
        if nullable {
            text.push_str(" or null");
        }
        text
    }
}

fn required(s: &Value) -> Vec<&str> {
    s.get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

fn description(s: &Value) -> Option<&str> {
    s.get("description").and_then(Value::as_str)
}
