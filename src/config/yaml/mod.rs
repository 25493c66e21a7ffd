//! Stage `config`, YAML layer: parses text into a tree that keeps a line and column on every node
//! (like octoDNS's location-keeping loader), so that every later check can point at the node it
//! complains about. Pure: works on a `&str`, no I/O.
//!
//! Scalars are resolved with the YAML 1.2 core schema (so `NO` stays a string). Aliases are
//! expanded with a node budget (no "billion laughs"); duplicate mapping keys are reported with both
//! places. The typed model is read straight from the tree ([`from_node`], a serde deserializer).
//!
//! Two readers build the same tree: a fast direct reader of the plain subset of YAML that
//! configuration files are written in (`fast`), and, for everything else and every error,
//! yaml-rust2's parser with a tree builder (`builder`).

mod builder;
mod de;
mod fast;

use yaml_rust2::parser::Parser;
use yaml_rust2::scanner::Marker;

use builder::Builder;
pub use de::from_node;

pub use crate::vocab::diagnostic::Pos;

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

    /// Converts to JSON (mapping order kept). The typed model is read with [`from_node`], which
    /// reads the tree as this JSON would be read.
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
///
/// A mapping in the plain subset of YAML that configurations are written in is read by a fast
/// direct reader; anything else by yaml-rust2's parser and the tree builder (in debug builds, the
/// fast reader's trees are checked against theirs).
pub fn parse(text: &str) -> Result<Option<Node>, Vec<Located<YamlError>>> {
    if let Some(doc) = fast::parse(text) {
        #[cfg(debug_assertions)]
        {
            let full = parse_full(text);
            assert!(
                matches!(&full, Ok(Some(f)) if fast::same(f, &doc)),
                "the fast YAML reader disagrees with the full parser on:\n{text}\nfast: {doc:?}\nfull: {full:?}"
            );
        }
        return Ok(Some(doc));
    }
    parse_full(text)
}

/// [`parse`] by yaml-rust2's parser and the tree builder.
fn parse_full(text: &str) -> Result<Option<Node>, Vec<Located<YamlError>>> {
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
