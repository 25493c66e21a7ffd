//! Stage `config`, validation of the shape, driven by the generated JSON Schema: unknown fields
//! (with the closest allowed name), missing required fields, wrong types. Pure.

use serde_json::Value as Json;

use crate::config::ProblemKind;
use crate::config::yaml::{Key, Node, Pos, Value};

/// Checks a document against the JSON Schema's shape keywords (`type`, `properties`, `required`,
/// `additionalProperties`, `items`, `$ref`, `anyOf`/`oneOf`). Value keywords (`enum`, `const`,
/// `pattern`, `format`) are left to [`Semantics`](super::Semantics), which gives better messages.
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
            self.walk_branches(node, branches, out);
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
            Value::Map(entries) => self.walk_map(node.pos, entries, schema, out),
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

    /// `anyOf`/`oneOf`: fine if one branch accepts the node; otherwise the errors of the first
    /// branch whose type fits it (of the first branch if none fits).
    fn walk_branches(&self, node: &Node, branches: &'s [Json], out: &mut Vec<(Pos, ProblemKind)>) {
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
    }

    /// A mapping: each entry against its property (or `additionalProperties`), then the
    /// required fields.
    fn walk_map(
        &self,
        pos: Pos,
        entries: &[(Key, Node)],
        schema: &'s Json,
        out: &mut Vec<(Pos, ProblemKind)>,
    ) {
        let props = schema.get("properties").and_then(Json::as_object);
        for (key, value) in entries {
            if key.name.is_empty() {
                continue; // a non-string key, already reported by the YAML layer
            }
            match props.and_then(|p| p.get(&key.name)) {
                Some(sub) => self.walk(value, sub, out),
                None => match schema.get("additionalProperties") {
                    Some(Json::Bool(false)) => out.push((key.pos, unknown_field(key, props))),
                    Some(sub @ Json::Object(_)) => self.walk(value, sub, out),
                    _ => {}
                },
            }
        }
        if let Some(required) = schema.get("required").and_then(Json::as_array) {
            for name in required.iter().filter_map(Json::as_str) {
                if !entries.iter().any(|(k, _)| k.name == name) {
                    out.push((pos, ProblemKind::MissingField(name.to_string())));
                }
            }
        }
    }
}

/// A field the mapping's schema does not have, with every allowed name and the closest one.
fn unknown_field(key: &Key, props: Option<&serde_json::Map<String, Json>>) -> ProblemKind {
    let allowed: Vec<String> = props
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default();
    ProblemKind::UnknownField {
        suggestion: closest(&key.name, &allowed),
        field: key.name.clone(),
        allowed,
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
