//! Stage `policy`, what of the input the policies can reach: read off their syntax trees
//! before anything is evaluated, so that the parts of the input no policy can see are never
//! converted for the engine (a large configuration's services, an operation's `before`).
//!
//! The scan follows every reference rooted at `input`, and every variable bound to one by
//! `some x in REF`, `every x in REF` or `x := REF`, through the members its chains of `.name`
//! and `["name"]` name (`[expr]` with anything but a string names every member or element).
//! What such a chain reaches is kept whole when it is used in any other way (compared, given
//! to a function, collected, printed, in a rule's head, bound by unification `=`): only the
//! members nobody names are left out, and a collection iterated keeps all its elements. It
//! gives up, and everything is kept, on what it cannot follow: an `import` of `input`, a
//! `with` that replaces part of it, or a syntax tree it cannot read. The policies therefore
//! evaluate to what they would over the whole input. Pure.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::Value as Json;

/// What of a document the policies can reach: everything below, or some members and
/// elements.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reach {
    /// Everything below.
    all: bool,
    /// The members reached by their name.
    members: BTreeMap<String, Reach>,
    /// Every member of an object or element of an array (a name or an index known only when
    /// evaluating).
    any: Option<Box<Reach>>,
}

/// No member and no element: an object reached this way is empty; an array keeps its
/// elements (iterating it goes through as many), each reached so.
static NOTHING: Reach = Reach {
    all: false,
    members: BTreeMap::new(),
    any: None,
};

/// One step of a path into the input.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Step {
    /// A member by name.
    Name(String),
    /// Any member or element.
    Any,
}

type Path = Vec<Step>;

impl Reach {
    /// The whole document.
    pub fn everything() -> Reach {
        Reach {
            all: true,
            ..Reach::default()
        }
    }

    /// Is all of it reached?
    pub(super) fn is_everything(&self) -> bool {
        self.all
    }

    /// What is reached of member `name`; `None` when no policy can reach it.
    pub(super) fn member(&self, name: &str) -> Option<&Reach> {
        if self.all {
            return Some(self);
        }
        self.members.get(name).or(self.any.as_deref())
    }

    /// What is reached of each element of an array.
    pub(super) fn element(&self) -> &Reach {
        if self.all {
            return self;
        }
        self.any.as_deref().unwrap_or(&NOTHING)
    }

    /// Reaches `path`, and everything below it when `whole`.
    fn add(&mut self, path: &[Step], whole: bool) {
        if self.all {
            return;
        }
        match path.split_first() {
            None => {
                if whole {
                    *self = Reach::everything();
                }
            }
            Some((Step::Name(name), rest)) => {
                self.members
                    .entry(name.clone())
                    .or_default()
                    .add(rest, whole);
            }
            Some((Step::Any, rest)) => self.any.get_or_insert_default().add(rest, whole),
        }
    }

    fn merge(&mut self, other: &Reach) {
        if self.all {
            return;
        }
        if other.all {
            *self = Reach::everything();
            return;
        }
        for (name, reach) in &other.members {
            self.members.entry(name.clone()).or_default().merge(reach);
        }
        if let Some(any) = &other.any {
            self.any.get_or_insert_default().merge(any);
        }
    }

    /// What any member reaches is reached by each named one too, so that a member's reach
    /// is found by one look-up.
    fn settle(&mut self) {
        if self.all {
            self.members.clear();
            self.any = None;
            return;
        }
        if let Some(any) = &mut self.any {
            any.settle();
            let any = any.clone();
            for reach in self.members.values_mut() {
                reach.merge(&any);
            }
        }
        for reach in self.members.values_mut() {
            reach.settle();
        }
    }

    /// What the policies whose syntax trees are `ast` (regorus's `get_ast_as_json`) can reach
    /// of their input.
    pub(super) fn of_policies(ast: &str) -> Reach {
        let Ok(Json::Array(modules)) = serde_json::from_str::<Json>(ast) else {
            return Reach::everything();
        };
        let mut scan = Scan::default();
        for module in &modules {
            let source = module["source"]["contents"].as_str().unwrap_or_default();
            let tree = &module["ast"];
            if tree["imports"]
                .as_array()
                .is_none_or(|imports| imports.iter().any(mentions_input))
            {
                return Reach::everything();
            }
            let Some(rules) = tree["rules"].as_array() else {
                return Reach::everything();
            };
            for rule in rules {
                scan.rule(rule, source);
            }
        }
        if scan.gave_up {
            return Reach::everything();
        }
        let mut reach = scan.reach;
        reach.settle();
        reach
    }
}

/// Does `node` name `input` anywhere?
fn mentions_input(node: &Json) -> bool {
    match node {
        Json::Object(members) => {
            members.get("Var").is_some_and(|v| v["value"] == "input")
                || members.values().any(mentions_input)
        }
        Json::Array(items) => items.iter().any(mentions_input),
        _ => false,
    }
}

/// The name of a variable expression.
fn var_name(node: &Json) -> Option<&str> {
    node.get("Var")?["value"].as_str()
}

/// The text of a span (a variable's name where the tree gives only its place).
fn span_text<'s>(span: &Json, source: &'s str) -> Option<&'s str> {
    let start = usize::try_from(span["start"].as_u64()?).ok()?;
    let end = usize::try_from(span["end"].as_u64()?).ok()?;
    let text = source.get(start..end)?;
    let name = text
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    name.then_some(text)
}

/// The variables of one rule bound to paths into the input.
type Bound = HashMap<String, BTreeSet<Path>>;

/// The most passes over one rule for its variables to settle.
const MAX_PASSES: usize = 16;

#[derive(Default)]
struct Scan {
    reach: Reach,
    gave_up: bool,
}

impl Scan {
    /// Scans one rule (its head, bodies and comprehensions share one scope of variables)
    /// until the variables bound to the input settle.
    fn rule(&mut self, rule: &Json, source: &str) {
        let mut bound = Bound::new();
        for _ in 0..MAX_PASSES {
            let before = bound.clone();
            self.visit(rule, source, &mut bound);
            if bound == before {
                return;
            }
        }
        self.gave_up = true;
    }

    fn used(&mut self, paths: &BTreeSet<Path>) {
        for p in paths {
            self.reach.add(p, true);
        }
    }

    fn touched(&mut self, paths: &BTreeSet<Path>) {
        for p in paths {
            self.reach.add(p, false);
        }
    }

    /// The paths into the input `node` denotes: `input`, a variable bound to the input, or a
    /// chain of references on one of them; `None` for anything else.
    fn paths(node: &Json, bound: &Bound) -> Option<BTreeSet<Path>> {
        if let Some(name) = var_name(node) {
            if name == "input" {
                return Some(BTreeSet::from([Path::new()]));
            }
            return bound.get(name).cloned();
        }
        let (base, step) = if let Some(dot) = node.get("RefDot") {
            (
                &dot["refr"],
                Step::Name(dot["field"][1].as_str()?.to_string()),
            )
        } else if let Some(brack) = node.get("RefBrack") {
            let index = &brack["index"];
            let name = index
                .get("String")
                .or_else(|| index.get("RawString"))
                .and_then(|s| s["value"].as_str());
            (
                &brack["refr"],
                name.map_or(Step::Any, |n| Step::Name(n.to_string())),
            )
        } else {
            return None;
        };
        let base = Scan::paths(base, bound)?;
        Some(
            base.into_iter()
                .map(|mut p| {
                    p.push(step.clone());
                    p
                })
                .collect(),
        )
    }

    /// Visits the indexes of a chain of references (expressions of their own).
    fn indexes(&mut self, node: &Json, source: &str, bound: &mut Bound) {
        if let Some(dot) = node.get("RefDot") {
            self.indexes(&dot["refr"], source, bound);
        } else if let Some(brack) = node.get("RefBrack") {
            self.indexes(&brack["refr"], source, bound);
            self.visit(&brack["index"], source, bound);
        }
    }

    fn bind(bound: &mut Bound, name: &str, paths: BTreeSet<Path>) {
        bound.entry(name.to_string()).or_default().extend(paths);
    }

    fn visit(&mut self, node: &Json, source: &str, bound: &mut Bound) {
        let members = match node {
            Json::Array(items) => {
                for item in items {
                    self.visit(item, source, bound);
                }
                return;
            }
            Json::Object(members) => members,
            _ => return,
        };
        if members.get("with_mods").is_some_and(mentions_input) {
            self.gave_up = true;
        }
        if let Some(paths) = Scan::paths(node, bound) {
            // A reference used as a whole value.
            self.used(&paths);
            self.indexes(node, source, bound);
            return;
        }
        if let Some(some) = members.get("SomeIn") {
            let value = &some["value"];
            if let Some(elements) = self.iterated(&some["collection"], source, bound) {
                match var_name(value) {
                    Some(name) => Scan::bind(bound, name, elements),
                    None => {
                        self.used(&elements);
                        self.visit(value, source, bound);
                    }
                }
                self.visit(&some["key"], source, bound);
                return;
            }
        }
        if let Some(every) = members.get("Every") {
            if let Some(elements) = self.iterated(&every["domain"], source, bound) {
                match span_text(&every["value"], source) {
                    Some(name) => Scan::bind(bound, name, elements),
                    None => self.used(&elements),
                }
                self.visit(&every["query"], source, bound);
                return;
            }
        }
        if let Some(assign) = members.get("AssignExpr") {
            if assign["op"] == "ColEq" {
                if let (Some(name), Some(paths)) =
                    (var_name(&assign["lhs"]), Scan::paths(&assign["rhs"], bound))
                {
                    self.touched(&paths);
                    self.indexes(&assign["rhs"], source, bound);
                    Scan::bind(bound, name, paths);
                    return;
                }
            }
        }
        for (key, value) in members {
            if key != "span" && key != "source" {
                self.visit(value, source, bound);
            }
        }
    }

    /// The elements of `collection` when it is a path into the input (its indexes visited,
    /// its elements kept, however many), else `None`.
    fn iterated(
        &mut self,
        collection: &Json,
        source: &str,
        bound: &mut Bound,
    ) -> Option<BTreeSet<Path>> {
        let paths = Scan::paths(collection, bound)?;
        self.indexes(collection, source, bound);
        let elements: BTreeSet<Path> = paths
            .into_iter()
            .map(|mut p| {
                p.push(Step::Any);
                p
            })
            .collect();
        self.touched(&elements);
        Some(elements)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_span_names_a_variable_only_when_its_text_is_a_name() {
        let source = "ab _x1 1y a-b";
        let span = |start: u64, end: u64| serde_json::json!({ "start": start, "end": end });
        assert_eq!(span_text(&span(0, 2), source), Some("ab"));
        assert_eq!(span_text(&span(3, 6), source), Some("_x1"));
        assert_eq!(span_text(&span(7, 9), source), None);
        assert_eq!(span_text(&span(10, 13), source), None);
        assert_eq!(span_text(&span(2, 3), source), None);
        assert_eq!(span_text(&span(10, 99), source), None);
    }
}
