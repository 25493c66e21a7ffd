//! Stage `config`, spans: where each account and service of the model is written in the
//! sources of its load, carried on the object itself, so that a check of the loaded model (a
//! service against the live catalog, an account the live state contradicts, a write the API
//! refused) points at the place to fix without reading the files again. Pure data.
//!
//! A span is never part of an object's value: two objects written in different places are
//! equal, and an object made otherwise (by `export`, or by hand) has none.

use std::fmt;

use super::FileId;
use super::yaml::{Node, Pos, Value};

/// Where an object of the model is written, when it was read from a source.
#[derive(Clone)]
pub struct At<T>(pub Option<T>);

impl<T> Default for At<T> {
    fn default() -> Self {
        At(None)
    }
}

impl<T> At<T> {
    /// The span, when the object was read from a source.
    pub fn get(&self) -> Option<&T> {
        self.0.as_ref()
    }
}

/// Where an object is written is not what it is.
impl<T> PartialEq for At<T> {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl<T: fmt::Debug> fmt::Debug for At<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Some(t) => t.fmt(f),
            None => f.write_str("-"),
        }
    }
}

/// Where an account is written: its `key` value, and its `adopt` value when it has one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountSpan {
    /// The source it is written in.
    pub file: FileId,
    /// Its `key` value (where the account is declared).
    pub key: Pos,
    /// Its `adopt` value.
    pub adopt: Option<Pos>,
}

impl AccountSpan {
    /// The span of the account written at `node` of source `file`, when it has a key.
    pub(crate) fn of(file: FileId, node: &Node) -> Option<AccountSpan> {
        Some(AccountSpan {
            file,
            key: node.get("key")?.pos,
            adopt: node.get("adopt").map(|a| a.pos),
        })
    }
}

/// Where a service is written: the entry, its `type` value, and each part of its settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceSpan {
    /// The source it is written in (a service of `defaults` is written there, for every
    /// customer that gets it).
    pub file: FileId,
    /// The entry (`{type, settings}`).
    pub entry: Pos,
    /// Its `type` value.
    pub service_type: Pos,
    /// Its `settings` and every key and value in them.
    pub settings: Option<Positions>,
}

impl ServiceSpan {
    /// The span of the service entry `node` of source `file`.
    pub(crate) fn of(file: FileId, node: &Node) -> ServiceSpan {
        ServiceSpan {
            file,
            entry: node.pos,
            service_type: node.get("type").map_or(node.pos, |t| t.pos),
            settings: node.get("settings").map(Positions::of),
        }
    }
}

/// Where a value and each part of it are written: a mapping's keys and values, a sequence's
/// items.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Positions {
    /// Where the value starts.
    pub at: Pos,
    parts: Parts,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Parts {
    Scalar,
    /// Each entry: its key's text, where the key is, and where its value and its parts are.
    Map(Vec<(String, Pos, Positions)>),
    Seq(Vec<Positions>),
}

impl Positions {
    /// The positions of `node` and of every part of it.
    pub(crate) fn of(node: &Node) -> Positions {
        let parts = match &node.value {
            Value::Map(entries) => Parts::Map(
                entries
                    .iter()
                    .map(|(k, v)| (k.name.clone(), k.pos, Positions::of(v)))
                    .collect(),
            ),
            Value::Seq(items) => Parts::Seq(items.iter().map(Positions::of).collect()),
            _ => Parts::Scalar,
        };
        Positions {
            at: node.pos,
            parts,
        }
    }

    /// The part a JSON pointer's segments lead to, or the deepest one of them that exists.
    pub fn locate(&self, segments: &[String]) -> &Positions {
        let mut here = self;
        for segment in segments {
            let next = match &here.parts {
                Parts::Map(entries) => entries
                    .iter()
                    .find(|(k, _, _)| k == segment)
                    .map(|(_, _, v)| v),
                Parts::Seq(items) => segment.parse::<usize>().ok().and_then(|i| items.get(i)),
                Parts::Scalar => None,
            };
            match next {
                Some(n) => here = n,
                None => break,
            }
        }
        here
    }

    /// Where the key `name` of this mapping is written.
    pub fn key(&self, name: &str) -> Option<Pos> {
        match &self.parts {
            Parts::Map(entries) => entries
                .iter()
                .find(|(k, _, _)| k == name)
                .map(|(_, at, _)| *at),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::yaml;

    fn node(text: &str) -> Node {
        yaml::parse(text).unwrap().unwrap()
    }

    #[test]
    fn positions_lead_to_the_deepest_part_a_pointer_names() {
        let p = Positions::of(&node("a: 1\nb:\n  - x\n  - { c: 2 }\n"));
        let seg = |s: &[&str]| s.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(p.locate(&[]).at, Pos { line: 1, col: 1 });
        assert_eq!(p.locate(&seg(&["a"])).at, Pos { line: 1, col: 4 });
        assert_eq!(
            p.locate(&seg(&["b", "1", "c"])).at,
            Pos { line: 4, col: 10 }
        );
        // What does not exist stops at the deepest part that does.
        assert_eq!(p.locate(&seg(&["b", "7"])).at, Pos { line: 3, col: 3 });
        assert_eq!(p.locate(&seg(&["b", "x"])).at, Pos { line: 3, col: 3 });
        assert_eq!(p.locate(&seg(&["a", "z"])).at, Pos { line: 1, col: 4 });
        assert_eq!(p.key("b"), Some(Pos { line: 2, col: 1 }));
        assert_eq!(p.key("z"), None);
        assert_eq!(p.locate(&seg(&["a"])).key("a"), None);
        assert_eq!(p.locate(&seg(&["b"])).key("0"), None);
    }

    #[test]
    fn spans_of_accounts_and_services() {
        let a = node("key: k\nname: n\nadopt: 7\n");
        let span = AccountSpan::of(3, &a).unwrap();
        assert_eq!(
            (span.file, span.key, span.adopt),
            (3, Pos { line: 1, col: 6 }, Some(Pos { line: 3, col: 8 }))
        );
        assert!(AccountSpan::of(0, &node("name: n\n")).is_none());
        let s = ServiceSpan::of(1, &node("type: cards\nsettings: { x: 1 }\n"));
        assert_eq!(s.service_type, Pos { line: 1, col: 7 });
        assert_eq!(s.settings.unwrap().key("x"), Some(Pos { line: 2, col: 13 }));
    }

    #[test]
    fn a_span_is_not_part_of_the_value() {
        let here = At(Some(Pos { line: 1, col: 1 }));
        assert_eq!(here, At(None));
        assert_eq!(format!("{:?}", At::<Pos>(None)), "-");
        assert_eq!(format!("{here:?}"), "Pos { line: 1, col: 1 }");
    }
}
