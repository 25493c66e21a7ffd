//! Stage `config`, validation of the shape, driven by the generated JSON Schema: unknown fields
//! (with the closest allowed name), missing required fields, wrong types. Pure.

use serde_json::Value as Json;

use crate::config::ProblemKind;
use crate::config::yaml::{Key, Node, Pos, Value};

/// Checks a document against the JSON Schema's shape keywords (`type`, `properties`, `required`,
/// `additionalProperties`, `items`, `$ref`, `anyOf`/`oneOf`). Value keywords (`enum`, `const`,
/// `pattern`, `format`) are left to [`Semantics`](super::Semantics), which gives better messages.
///
/// The schema is compiled once, in [`Shape::new`]: every schema object the walk can reach, its
/// `$ref` followed, becomes a [`Compiled`] entry with its keywords looked up in advance, so that
/// checking a node costs no lookup in the schema's maps.
pub(crate) struct Shape<'s> {
    nodes: Vec<Compiled<'s>>,
}

/// One schema object, `$ref` resolved, with the keywords the walk reads.
struct Compiled<'s> {
    /// The schema object (for the expected type of a message).
    schema: &'s Json,
    /// `anyOf` (or else `oneOf`) branches, when the schema has them.
    branches: Option<Vec<usize>>,
    /// The value kinds `type` accepts; `None` accepts every kind.
    types: Option<Vec<&'s str>>,
    /// `properties`, in schema order, and the map itself (for messages).
    properties: Vec<(&'s str, usize)>,
    props: Option<&'s serde_json::Map<String, Json>>,
    /// `additionalProperties`.
    additional: Additional,
    /// `items`.
    items: Option<usize>,
    /// `required` names.
    required: Vec<&'s str>,
}

/// What `additionalProperties` says of entries `properties` does not name.
enum Additional {
    /// `false`: an unknown field.
    Refused,
    /// A schema they are checked against.
    Schema(usize),
    /// Absent or anything else: not checked.
    Unchecked,
}

impl<'s> Shape<'s> {
    pub(crate) fn new(root: &'s Json) -> Self {
        let mut compiler = Compiler {
            root,
            nodes: Vec::new(),
            seen: std::collections::HashMap::new(),
        };
        compiler.compile(root);
        Shape {
            nodes: compiler.nodes,
        }
    }

    pub(crate) fn check(&self, node: &Node, out: &mut Vec<(Pos, ProblemKind)>) {
        self.walk(node, 0, out);
    }

    fn walk(&self, node: &Node, schema: usize, out: &mut Vec<(Pos, ProblemKind)>) {
        let c = &self.nodes[schema];
        if let Some(branches) = &c.branches {
            self.walk_branches(node, branches, out);
            return;
        }
        if !c.accepts(&node.value) {
            out.push((
                node.pos,
                ProblemKind::WrongType {
                    expected: expected_type(c.schema),
                    found: node.value.describe(),
                },
            ));
            return;
        }
        match &node.value {
            Value::Map(entries) => self.walk_map(node.pos, entries, c, out),
            Value::Seq(items) => {
                if let Some(item_schema) = c.items {
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
    fn walk_branches(&self, node: &Node, branches: &[usize], out: &mut Vec<(Pos, ProblemKind)>) {
        let mut best: Option<Vec<(Pos, ProblemKind)>> = None;
        for &branch in branches {
            let mut errs = Vec::new();
            self.walk(node, branch, &mut errs);
            if errs.is_empty() {
                return;
            }
            // Prefer the branch whose type fits the node: its errors are the useful ones.
            let fits = self.nodes[branch].accepts(&node.value);
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
        c: &Compiled<'s>,
        out: &mut Vec<(Pos, ProblemKind)>,
    ) {
        for (key, value) in entries {
            if key.name.is_empty() {
                continue; // a non-string key, already reported by the YAML layer
            }
            let sub = match c.properties.iter().find(|(name, _)| *name == key.name) {
                Some(&(_, sub)) => sub,
                None => match c.additional {
                    Additional::Refused => {
                        out.push((key.pos, unknown_field(key, c.props)));
                        continue;
                    }
                    Additional::Schema(sub) => sub,
                    Additional::Unchecked => continue,
                },
            };
            if matches!(value.value, Value::Null) && self.refuses_null(sub) {
                // Nothing after the key: said at the key (the empty value has no place of its
                // own; the parser puts it where the next line starts).
                out.push((
                    key.pos,
                    ProblemKind::NoValue {
                        field: key.name.to_string(),
                        expected: expected_type(self.nodes[sub].schema),
                    },
                ));
            } else {
                self.walk(value, sub, out);
            }
        }
        for name in &c.required {
            if !entries.iter().any(|(k, _)| k.name == *name) {
                out.push((pos, ProblemKind::MissingField((*name).to_string())));
            }
        }
    }
}

impl Shape<'_> {
    /// Does schema `sub` refuse a null (a plain type that is not null; with branches, every
    /// branch's answer is its own)?
    fn refuses_null(&self, sub: usize) -> bool {
        let c = &self.nodes[sub];
        c.branches.is_none() && !c.accepts(&Value::Null)
    }
}

impl Compiled<'_> {
    fn accepts(&self, value: &Value) -> bool {
        self.types
            .as_ref()
            .is_none_or(|names| names.iter().any(|t| type_is(t, value)))
    }
}

/// Builds the [`Compiled`] entries of a schema, one per schema object reached (`$ref`s
/// resolved, so a definition used in several places is compiled once).
struct Compiler<'s> {
    root: &'s Json,
    nodes: Vec<Compiled<'s>>,
    seen: std::collections::HashMap<*const Json, usize>,
}

impl<'s> Compiler<'s> {
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

    /// The index of `schema`'s entry, compiling it (and what it reaches) the first time.
    fn compile(&mut self, schema: &'s Json) -> usize {
        let schema = self.resolve(schema);
        if let Some(&at) = self.seen.get(&std::ptr::from_ref(schema)) {
            return at;
        }
        let at = self.nodes.len();
        self.seen.insert(std::ptr::from_ref(schema), at);
        let names = type_names(schema);
        let props = schema.get("properties").and_then(Json::as_object);
        self.nodes.push(Compiled {
            schema,
            branches: None,
            types: (!names.is_empty()).then_some(names),
            properties: Vec::new(),
            props,
            additional: Additional::Unchecked,
            items: None,
            required: schema
                .get("required")
                .and_then(Json::as_array)
                .map(|r| r.iter().filter_map(Json::as_str).collect())
                .unwrap_or_default(),
        });
        if let Some(branches) = schema
            .get("anyOf")
            .or_else(|| schema.get("oneOf"))
            .and_then(Json::as_array)
        {
            let branches = branches.iter().map(|b| self.compile(b)).collect();
            self.nodes[at].branches = Some(branches);
            return at;
        }
        let properties = props
            .into_iter()
            .flatten()
            .map(|(name, sub)| (name.as_str(), self.compile(sub)))
            .collect();
        let additional = match schema.get("additionalProperties") {
            Some(Json::Bool(false)) => Additional::Refused,
            Some(sub @ Json::Object(_)) => Additional::Schema(self.compile(sub)),
            _ => Additional::Unchecked,
        };
        let items = schema.get("items").map(|i| self.compile(i));
        let c = &mut self.nodes[at];
        c.properties = properties;
        c.additional = additional;
        c.items = items;
        at
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

/// Does the JSON Schema type `name` accept this value?
fn type_is(name: &str, value: &Value) -> bool {
    match (name, value) {
        ("null", Value::Null)
        | ("boolean", Value::Bool(_))
        | ("string", Value::String(_))
        | ("array", Value::Seq(_))
        | ("object", Value::Map(_))
        | ("integer" | "number", Value::Int(_))
        | ("number", Value::Float(_)) => true,
        ("integer", Value::Float(f)) => f.fract() == 0.0 && f.is_finite(),
        _ => false,
    }
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
