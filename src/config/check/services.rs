//! Stage `config`, validation of services against a catalog: every service written (in
//! `defaults`, on an account, in a customer table's `services` cell) has a type the catalog
//! knows (else the closest known type is suggested) and settings its schema accepts, each
//! problem at the offending node: an unknown type at its `type` value, an unknown setting at its
//! key, a wrong value at the value. Pure.

use serde_json::{Map, Value as Json};

use super::closest;
use crate::config::ProblemKind;
use crate::config::catalog::{Catalog, SettingsError, Violation};
use crate::config::yaml::{Node, Pos, Value};

/// Checks every service of one document against `catalog`.
pub(crate) fn check(catalog: &Catalog, doc: &Node, out: &mut Vec<(Pos, ProblemKind)>) {
    if let Some(d) = doc.get("defaults") {
        for s in d.list("services") {
            service(catalog, s, out);
        }
    }
    for c in doc.list("customers") {
        account(catalog, c, out);
    }
}

fn account(catalog: &Catalog, node: &Node, out: &mut Vec<(Pos, ProblemKind)>) {
    for s in node.list("services") {
        service(catalog, s, out);
    }
    for child in node
        .list("networks")
        .iter()
        .chain(node.list("sub_accounts"))
    {
        account(catalog, child, out);
    }
}

/// One service entry (`{type, settings}`); entries of the wrong shape were reported already.
fn service(catalog: &Catalog, s: &Node, out: &mut Vec<(Pos, ProblemKind)>) {
    let Some(t) = s.get("type") else { return };
    let Some(name) = t.as_str().filter(|n| !n.trim().is_empty()) else {
        return;
    };
    if !catalog.contains(name) {
        let known = catalog.names();
        out.push((
            t.pos,
            ProblemKind::UnknownServiceType {
                service_type: name.to_string(),
                suggestion: closest(name, &known),
                known,
            },
        ));
        return;
    }
    let settings_node = s.get("settings");
    let settings = match settings_node.map(Node::to_json) {
        None => Map::new(),
        Some(Json::Object(m)) => m,
        Some(_) => return,
    };
    let Err(SettingsError::Invalid(violations)) = catalog.effective(name, &settings) else {
        return;
    };
    // Without `settings`, a violation (a required setting) is the whole service's.
    let root = settings_node.unwrap_or(s);
    for v in violations {
        settings_problem(catalog, name, root, v, out);
    }
}

/// One violation, at the key it names (an unknown setting) or the deepest node of its pointer.
fn settings_problem(
    catalog: &Catalog,
    service_type: &str,
    root: &Node,
    v: Violation,
    out: &mut Vec<(Pos, ProblemKind)>,
) {
    let segments = pointer_segments(&v.pointer);
    let at = locate(root, &segments);
    if v.unexpected.is_empty() {
        out.push((
            at.pos,
            ProblemKind::InvalidSetting {
                service_type: service_type.to_string(),
                pointer: v.pointer,
                message: v.message,
            },
        ));
        return;
    }
    // Only the top level's names are known for a suggestion.
    let allowed = if segments.is_empty() {
        catalog.settings_names(service_type)
    } else {
        Vec::new()
    };
    for name in v.unexpected {
        let pos = key_position(at, &name).unwrap_or(at.pos);
        let mut setting = segments.clone();
        setting.push(name.clone());
        out.push((
            pos,
            ProblemKind::UnknownSetting {
                service_type: service_type.to_string(),
                setting: setting.join("/"),
                suggestion: closest(&name, &allowed),
                allowed: allowed.clone(),
            },
        ));
    }
}

/// The node a pointer's segments lead to from `root`, or the deepest one that exists.
fn locate<'n>(root: &'n Node, segments: &[String]) -> &'n Node {
    let mut node = root;
    for segment in segments {
        let next = match &node.value {
            Value::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.name == *segment)
                .map(|(_, v)| v),
            Value::Seq(items) => segment.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => None,
        };
        match next {
            Some(n) => node = n,
            None => break,
        }
    }
    node
}

/// Where the key `name` of a mapping is written.
fn key_position(map: &Node, name: &str) -> Option<Pos> {
    map.as_map()?
        .iter()
        .find(|(k, _)| k.name == name)
        .map(|(k, _)| k.pos)
}

/// The segments of a JSON pointer (`/a/b~1c` → `a`, `b/c`).
fn pointer_segments(pointer: &str) -> Vec<String> {
    pointer
        .split('/')
        .skip(1)
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::yaml;

    fn problems(text: &str) -> Vec<String> {
        let catalog = Catalog::from_json(include_str!("../../sandbox/catalog.json"))
            .unwrap()
            .catalog;
        let doc = yaml::parse(text).unwrap().unwrap();
        let mut out = Vec::new();
        check(&catalog, &doc, &mut out);
        out.sort_by_key(|(pos, _)| *pos);
        out.iter().map(|(pos, k)| format!("{pos}: {k}")).collect()
    }

    #[test]
    fn an_unknown_type_at_its_value_with_the_closest_known_one() {
        let text = "defaults:\n  services:\n    - type: cardz\ncustomers:\n  - key: a\n    networks:\n      - key: n\n        sub_accounts:\n          - key: s\n            services: [{ type: parking }]\n";
        assert_eq!(
            problems(text),
            [
                "3:13: unknown service type `cardz` (did you mean `cards`?); known types: access-control, cards, mobile-id, visitor-management",
                "10:32: unknown service type `parking`; known types: access-control, cards, mobile-id, visitor-management",
            ]
        );
    }

    #[test]
    fn settings_problems_at_the_key_or_value() {
        let text = "customers:\n  - key: a\n    services:\n      - type: cards\n        settings:\n          layout_aproval: true\n          max_cards_per_user: 50\n      - type: mobile-id\n        settings: { platforms: [ios, windows] }\n";
        assert_eq!(
            problems(text),
            [
                "6:11: unknown setting `layout_aproval` for service `cards` (did you mean `layout_approval`?); allowed here: layout_approval, card_format, max_cards_per_user, expiry_days",
                "7:31: invalid settings for `cards`: /max_cards_per_user: 50 is greater than the maximum of 20",
                "9:38: invalid settings for `mobile-id`: /platforms/1: \"windows\" is not one of \"ios\" or \"android\"",
            ]
        );
    }

    #[test]
    fn pointers_split_into_unescaped_segments() {
        assert!(pointer_segments("").is_empty());
        assert_eq!(pointer_segments("/a/0/b~1c~0d"), ["a", "0", "b/c~d"]);
    }

    #[test]
    fn valid_services_and_other_shapes_pass() {
        let text = "customers:\n  - key: a\n    services:\n      - type: cards\n      - { type: mobile-id, settings: { require_biometrics: true } }\n      - { type: 3 }\n      - { settings: {} }\n";
        assert!(problems(text).is_empty(), "{:?}", problems(text));
    }
}
