//! Stage `config`, YAML layer: parses text into a tree that keeps a line and column on every node
//! (like octoDNS's location-keeping loader), so that every later check can point at the node it
//! complains about. Pure: works on a `&str`, no I/O.
//!
//! Scalars are resolved with the YAML 1.2 core schema (so `NO` stays a string). Aliases are
//! expanded with a node budget (no "billion laughs"); duplicate mapping keys are reported with both
//! places.

use std::fmt;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// A position in a file: 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Pos {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub col: usize,
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

impl From<Marker> for Pos {
    fn from(m: Marker) -> Self {
        // yaml-rust2 reports 1-based lines and 0-based columns (its docs say otherwise).
        Pos {
            line: m.line().max(1),
            col: m.col() + 1,
        }
    }
}

/// One YAML node with the position where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// The value.
    pub value: Value,
    /// Where the node starts.
    pub pos: Pos,
}

/// A YAML value (core schema).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `~`, `null`, or nothing.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A string.
    String(String),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in document order. Keys are strings (other keys are reported as errors).
    Map(Vec<(Key, Node)>),
}

/// A mapping key with its position.
#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    /// The key text.
    pub name: String,
    /// Where the key starts.
    pub pos: Pos,
}

impl Value {
    /// A short noun for messages ("a string", "a mapping", ...).
    pub fn describe(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a number",
            Value::String(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }
}

impl Node {
    /// The string value, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The entries, if this is a mapping.
    pub fn as_map(&self) -> Option<&[(Key, Node)]> {
        match &self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The items, if this is a sequence.
    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(s) => Some(s),
            _ => None,
        }
    }

    /// Looks up a mapping entry by key.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k.name == key)
            .map(|(_, v)| v)
    }

    /// The items of the sequence at `key`; empty when absent or not a list.
    pub fn list(&self, key: &str) -> &[Node] {
        self.get(key).and_then(Node::as_seq).unwrap_or(&[])
    }

    /// Converts to JSON (mapping order kept). Used after validation to build the typed model.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
            Value::String(s) => J::String(s.clone()),
            Value::Seq(items) => J::Array(items.iter().map(Node::to_json).collect()),
            Value::Map(entries) => J::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.name.clone(), v.to_json()))
                    .collect(),
            ),
        }
    }
}

/// A problem found while parsing YAML text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum YamlError {
    /// The text is not well-formed YAML.
    #[error("YAML syntax error: {0}")]
    Syntax(String),
    /// The stream holds more than one document.
    #[error("more than one YAML document in one file; split them into separate files")]
    MultipleDocuments,
    /// A mapping key is not a plain string.
    #[error("mapping keys must be strings, found {0}")]
    NonStringKey(&'static str),
    /// The same key appears twice in one mapping.
    #[error("duplicate key `{key}` in this mapping; it already appears at line {}, column {}", first.line, first.col)]
    DuplicateKey {
        /// The key.
        key: String,
        /// Where it was first seen.
        first: Pos,
    },
    /// An alias names an anchor that was not defined.
    #[error("alias refers to an unknown anchor")]
    UnknownAlias,
    /// Alias expansion grew too large.
    #[error("aliases expand to more than {0} nodes; refusing to continue")]
    TooLarge(usize),
    /// A tag other than the core schema's.
    #[error(
        "unsupported tag `{0}`; only the YAML core schema tags (!!str, !!int, !!float, !!bool, !!null, !!map, !!seq) are allowed"
    )]
    UnsupportedTag(String),
    /// A tagged scalar whose text does not fit the tag.
    #[error("`{text}` is not a valid {tag}")]
    BadTaggedScalar {
        /// The scalar text.
        text: String,
        /// The tag.
        tag: String,
    },
}

/// A located YAML problem.
pub type Located<E> = (Pos, E);

/// Parses one YAML document. An empty stream gives `Ok(None)`. On errors, returns every
/// structural error found (syntax errors stop the parse: only one of those can be reported).
pub fn parse(text: &str) -> Result<Option<Node>, Vec<Located<YamlError>>> {
    let mut builder = Builder::new(text.len());
    let mut parser = Parser::new_from_str(text);
    if let Err(e) = parser.load(&mut builder, true) {
        let pos = Pos::from(*e.marker());
        builder
            .errors
            .push((pos, YamlError::Syntax(e.info().to_string())));
        return Err(builder.errors);
    }
    if !builder.errors.is_empty() {
        builder.errors.sort_by_key(|(p, _)| *p);
        return Err(builder.errors);
    }
    Ok(builder.docs.into_iter().next())
}

enum Frame {
    Seq {
        pos: Pos,
        anchor: usize,
        items: Vec<Node>,
    },
    Map {
        pos: Pos,
        anchor: usize,
        entries: Vec<(Key, Node)>,
        pending_key: Option<Key>,
    },
}

struct Builder {
    stack: Vec<Frame>,
    docs: Vec<Node>,
    anchors: Vec<Option<Node>>,
    errors: Vec<Located<YamlError>>,
    nodes: usize,
    budget: usize,
    docs_seen: usize,
}

impl Builder {
    fn new(input_len: usize) -> Self {
        Builder {
            stack: Vec::new(),
            docs: Vec::new(),
            anchors: Vec::new(),
            errors: Vec::new(),
            nodes: 0,
            // Generous for real configs, far below what an alias bomb would reach.
            budget: 1_000_000 + input_len.saturating_mul(4),
            docs_seen: 0,
        }
    }

    fn error(&mut self, pos: Pos, e: YamlError) {
        // Past the budget every further node would report the same thing.
        if matches!(e, YamlError::TooLarge(_))
            && self
                .errors
                .iter()
                .any(|(_, x)| matches!(x, YamlError::TooLarge(_)))
        {
            return;
        }
        self.errors.push((pos, e));
    }

    fn remember(&mut self, anchor: usize, node: &Node) {
        if anchor == 0 {
            return;
        }
        if self.anchors.len() <= anchor {
            self.anchors.resize(anchor + 1, None);
        }
        self.anchors[anchor] = Some(node.clone());
    }

    fn count(node: &Node) -> usize {
        1 + match &node.value {
            Value::Seq(items) => items.iter().map(Builder::count).sum(),
            Value::Map(entries) => entries.iter().map(|(_, v)| Builder::count(v)).sum(),
            _ => 0,
        }
    }

    /// Attaches a finished node to its parent (or makes it a document).
    fn push_node(&mut self, node: Node) {
        match self.stack.last_mut() {
            None => {
                self.docs_seen += 1;
                if self.docs_seen == 2 {
                    self.errors.push((node.pos, YamlError::MultipleDocuments));
                }
                self.docs.push(node);
            }
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map {
                entries,
                pending_key,
                ..
            }) => match pending_key.take() {
                None => {
                    let name = match node.value {
                        Value::String(s) => s,
                        Value::Int(i) => i.to_string(),
                        Value::Bool(b) => b.to_string(),
                        ref other => {
                            let what = other.describe();
                            self.errors.push((node.pos, YamlError::NonStringKey(what)));
                            // A placeholder keeps keys and values aligned; it is never looked up.
                            String::new()
                        }
                    };
                    *pending_key = Some(Key {
                        name,
                        pos: node.pos,
                    });
                }
                Some(key) => {
                    if let Some((first, _)) = entries
                        .iter()
                        .find(|(k, _)| k.name == key.name && !key.name.is_empty())
                    {
                        let first = first.pos;
                        self.errors.push((
                            key.pos,
                            YamlError::DuplicateKey {
                                key: key.name.clone(),
                                first,
                            },
                        ));
                    } else {
                        entries.push((key, node));
                    }
                }
            },
        }
    }

    fn scalar(&mut self, text: String, style: TScalarStyle, tag: Option<Tag>, pos: Pos) -> Value {
        if let Some(tag) = tag {
            let name = if tag.handle == "!!" {
                tag.suffix.clone()
            } else if tag.handle == "!" && tag.suffix.is_empty() {
                return Value::String(text);
            } else if tag.handle == "tag:yaml.org,2002:" {
                tag.suffix.clone()
            } else {
                self.error(
                    pos,
                    YamlError::UnsupportedTag(format!("{}{}", tag.handle, tag.suffix)),
                );
                return Value::Null;
            };
            let resolved = resolve_plain(&text);
            let ok = match name.as_str() {
                "str" => return Value::String(text),
                "null" => matches!(resolved, Value::Null),
                "bool" => matches!(resolved, Value::Bool(_)),
                "int" => matches!(resolved, Value::Int(_)),
                "float" => match resolved {
                    Value::Int(i) => return Value::Float(i as f64),
                    Value::Float(_) => true,
                    _ => false,
                },
                _ => {
                    self.error(pos, YamlError::UnsupportedTag(format!("!!{name}")));
                    return Value::Null;
                }
            };
            if !ok {
                self.error(pos, YamlError::BadTaggedScalar { text, tag: name });
                return Value::Null;
            }
            return resolved;
        }
        match style {
            TScalarStyle::Plain => resolve_plain(&text),
            _ => Value::String(text),
        }
    }
}

/// Resolves a plain scalar with the YAML 1.2 core schema.
fn resolve_plain(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Value::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return Value::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Value::Float(f64::NAN),
        _ => {}
    }
    let bytes = text.as_bytes();
    let digits = |s: &str, radix: u32| !s.is_empty() && s.chars().all(|c| c.is_digit(radix));
    if let Some(hex) = text.strip_prefix("0x") {
        if digits(hex, 16) {
            if let Ok(i) = i64::from_str_radix(hex, 16) {
                return Value::Int(i);
            }
        }
        return Value::String(text.to_string());
    }
    if let Some(oct) = text.strip_prefix("0o") {
        if digits(oct, 8) {
            if let Ok(i) = i64::from_str_radix(oct, 8) {
                return Value::Int(i);
            }
        }
        return Value::String(text.to_string());
    }
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    if digits(unsigned, 10) {
        return text.parse::<i64>().map_or_else(
            |_| Value::Float(text.parse().unwrap_or(f64::NAN)),
            Value::Int,
        );
    }
    // [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?
    let is_float = {
        let s = unsigned;
        let (mantissa, exp) = match s.find(['e', 'E']) {
            Some(i) => (&s[..i], Some(&s[i + 1..])),
            None => (s, None),
        };
        let mantissa_ok = match mantissa.split_once('.') {
            Some((a, b)) => {
                (a.is_empty() && digits(b, 10))
                    || (digits(a, 10) && (b.is_empty() || digits(b, 10)))
            }
            None => digits(mantissa, 10),
        };
        let exp_ok = exp.is_none_or(|e| digits(e.strip_prefix(['-', '+']).unwrap_or(e), 10));
        mantissa_ok && exp_ok && !bytes.is_empty()
    };
    if is_float {
        if let Ok(f) = text.parse::<f64>() {
            return Value::Float(f);
        }
    }
    Value::String(text.to_string())
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        let pos = Pos::from(mark);
        if self.nodes > self.budget {
            return;
        }
        match ev {
            Event::Scalar(text, style, anchor, tag) => {
                self.nodes += 1;
                let value = self.scalar(text, style, tag, pos);
                let node = Node { value, pos };
                self.remember(anchor, &node);
                self.push_node(node);
            }
            Event::SequenceStart(anchor, tag) => {
                self.check_collection_tag(tag, "seq", pos);
                self.nodes += 1;
                self.stack.push(Frame::Seq {
                    pos,
                    anchor,
                    items: Vec::new(),
                });
            }
            Event::MappingStart(anchor, tag) => {
                self.check_collection_tag(tag, "map", pos);
                self.nodes += 1;
                self.stack.push(Frame::Map {
                    pos,
                    anchor,
                    entries: Vec::new(),
                    pending_key: None,
                });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let node = match self.stack.pop() {
                    Some(Frame::Seq { pos, anchor, items }) => {
                        let n = Node {
                            value: Value::Seq(items),
                            pos,
                        };
                        self.remember(anchor, &n);
                        n
                    }
                    Some(Frame::Map {
                        pos,
                        anchor,
                        entries,
                        ..
                    }) => {
                        // A block mapping's start mark sits at its first `:`; its first key is
                        // where a reader sees it begin.
                        let pos = entries.first().map_or(pos, |(k, _)| pos.min(k.pos));
                        let n = Node {
                            value: Value::Map(entries),
                            pos,
                        };
                        self.remember(anchor, &n);
                        n
                    }
                    None => return,
                };
                self.push_node(node);
            }
            Event::Alias(id) => {
                let Some(node) = self.anchors.get(id).cloned().flatten() else {
                    self.error(pos, YamlError::UnknownAlias);
                    self.push_node(Node {
                        value: Value::Null,
                        pos,
                    });
                    return;
                };
                self.nodes += Builder::count(&node);
                if self.nodes > self.budget {
                    let budget = self.budget;
                    self.error(pos, YamlError::TooLarge(budget));
                    return;
                }
                // The copy keeps the anchor's positions: errors point at the definition.
                self.push_node(node);
            }
            Event::Nothing
            | Event::StreamStart
            | Event::StreamEnd
            | Event::DocumentStart
            | Event::DocumentEnd => {}
        }
    }
}

impl Builder {
    fn check_collection_tag(&mut self, tag: Option<Tag>, expected: &str, pos: Pos) {
        if let Some(tag) = tag {
            let ok = (tag.handle == "!!" || tag.handle == "tag:yaml.org,2002:")
                && tag.suffix == expected;
            if !ok {
                self.error(
                    pos,
                    YamlError::UnsupportedTag(format!("{}{}", tag.handle, tag.suffix)),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str) -> Node {
        parse(text).expect("valid").expect("one document")
    }

    #[test]
    fn positions_are_one_based() {
        let n = doc("a: 1\nb:\n  c: x\n");
        let b = n.get("b").unwrap();
        assert_eq!(n.pos, Pos { line: 1, col: 1 });
        let c = b.get("c").unwrap();
        assert_eq!(c.pos, Pos { line: 3, col: 6 });
        let key_pos = b.as_map().unwrap()[0].0.pos;
        assert_eq!(key_pos, Pos { line: 3, col: 3 });
    }

    #[test]
    fn core_schema_scalars() {
        let n = doc("a: NO\nb: 'true'\nc: true\nd: 12\ne: 1.5\nf: ~\ng: 0x1F\nh: 1e3\ni: 12abc\n");
        assert_eq!(n.get("a").unwrap().value, Value::String("NO".into()));
        assert_eq!(n.get("b").unwrap().value, Value::String("true".into()));
        assert_eq!(n.get("c").unwrap().value, Value::Bool(true));
        assert_eq!(n.get("d").unwrap().value, Value::Int(12));
        assert_eq!(n.get("e").unwrap().value, Value::Float(1.5));
        assert_eq!(n.get("f").unwrap().value, Value::Null);
        assert_eq!(n.get("g").unwrap().value, Value::Int(31));
        assert_eq!(n.get("h").unwrap().value, Value::Float(1000.0));
        assert_eq!(n.get("i").unwrap().value, Value::String("12abc".into()));
    }

    #[test]
    fn duplicate_keys_name_both_places() {
        let errs = parse("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(
            errs,
            vec![(
                Pos { line: 3, col: 1 },
                YamlError::DuplicateKey {
                    key: "a".into(),
                    first: Pos { line: 1, col: 1 }
                }
            )]
        );
    }

    #[test]
    fn syntax_error_is_located() {
        let errs = parse("a: [1, 2\nb: 3\n").unwrap_err();
        assert_eq!(errs.len(), 1);
        assert!(matches!(errs[0].1, YamlError::Syntax(_)));
        assert!(errs[0].0.line >= 1);
    }

    #[test]
    fn aliases_expand_and_bombs_stop() {
        let n = doc("a: &x {k: v}\nb: *x\n");
        assert_eq!(n.get("b").unwrap().get("k").unwrap().as_str(), Some("v"));
        let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let prev = i - 1;
            bomb.push_str(&format!(
                "a{i}: &a{i} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"
            ));
        }
        let errs = parse(&bomb).unwrap_err();
        assert!(
            errs.iter()
                .any(|(_, e)| matches!(e, YamlError::TooLarge(_)))
        );
    }

    #[test]
    fn empty_stream_is_none_and_two_documents_error() {
        assert_eq!(parse("").unwrap(), None);
        assert_eq!(parse("# only a comment\n").unwrap(), None);
        let errs = parse("a: 1\n---\nb: 2\n").unwrap_err();
        assert!(matches!(errs[0].1, YamlError::MultipleDocuments));
    }

    #[test]
    fn tags() {
        let n = doc("a: !!str 12\nb: !!int '7'\n");
        assert_eq!(n.get("a").unwrap().as_str(), Some("12"));
        assert_eq!(n.get("b").unwrap().value, Value::Int(7));
        let errs = parse("a: !custom x\n").unwrap_err();
        assert!(matches!(errs[0].1, YamlError::UnsupportedTag(_)));
    }
}
