//! Stage `config`, validation of services against a catalog: every service written (in
//! `defaults`, on an account, in a customer table's `services` cell) has a type the catalog
//! knows (else the closest known type is suggested) and settings its schema accepts, each
//! problem at the offending place: an unknown type at its `type` value, an unknown setting at
//! its key, a wrong value at the value. One check, [`service`], for the services of a YAML
//! tree (`validate` with a catalog) and for those of the loaded model, found where their spans
//! say (`plan`, against the live catalog, before anything is planned). Pure.

use std::collections::HashMap;

use serde_json::{Map, Value as Json};

use super::closest;
use crate::config::catalog::{Catalog, SettingsError, Violation};
use crate::config::yaml::{Node, Pos};
use crate::config::{Desired, FileId, ProblemKind, ServiceSpan};

/// Checks every service of one document against `catalog`.
pub(crate) fn check(catalog: &Catalog, doc: &Node, out: &mut Vec<(Pos, ProblemKind)>) {
    if let Some(d) = doc.get("defaults") {
        for s in d.list("services") {
            entry(catalog, s, out);
        }
    }
    for c in doc.list("customers") {
        account(catalog, c, out);
    }
}

fn account(catalog: &Catalog, node: &Node, out: &mut Vec<(Pos, ProblemKind)>) {
    for s in node.list("services") {
        entry(catalog, s, out);
    }
    for child in node
        .list("networks")
        .iter()
        .chain(node.list("sub_accounts"))
    {
        account(catalog, child, out);
    }
}

/// One service entry (`{type, settings}`) of a tree; entries of the wrong shape were reported
/// already.
fn entry(catalog: &Catalog, s: &Node, out: &mut Vec<(Pos, ProblemKind)>) {
    let Some(name) = s
        .get("type")
        .and_then(Node::as_str)
        .filter(|n| !n.trim().is_empty())
    else {
        return;
    };
    let settings = match s.get("settings").map(Node::to_json) {
        None => Map::new(),
        Some(Json::Object(m)) => m,
        Some(_) => return,
    };
    service(catalog, name, &settings, &ServiceSpan::of(0, s), out);
}

/// How many distinct settings [`of_model`] remembers as accepted (a configuration's services
/// mostly repeat a few, a table's row after row).
const ACCEPTED_REMEMBERED: usize = 32;

/// Checks every service of the loaded configuration against `catalog`, each problem with its
/// source: a service written once (in `defaults`, for every customer that gets it) is checked
/// once, and settings equal to some accepted just before are not checked again.
pub(crate) fn of_model(desired: &Desired, catalog: &Catalog) -> Vec<(FileId, Pos, ProblemKind)> {
    let mut out = Vec::new();
    // A table's cell holds several services at one place: the type tells them apart; and a
    // model changed after loading may hold other settings at a place already checked.
    let mut checked: HashMap<(FileId, Pos, &str), &Map<String, Json>> = HashMap::new();
    let mut accepted: Vec<(&str, &Map<String, Json>)> = Vec::new();
    // A service made by hand rather than read has no place: it is shown at none.
    let nowhere = ServiceSpan {
        file: FileId::MAX,
        entry: Pos::default(),
        service_type: Pos::default(),
        settings: None,
    };
    for n in desired.walk() {
        for s in n.services {
            let this = (s.service_type.as_str(), &s.settings);
            if accepted.contains(&this) {
                continue;
            }
            if let Some(span) = s.at.get() {
                let place = (span.file, span.entry, this.0);
                if checked.insert(place, this.1) == Some(this.1) {
                    continue;
                }
            }
            let span = s.at.get().unwrap_or(&nowhere);
            let mut found = Vec::new();
            service(catalog, this.0, this.1, span, &mut found);
            if found.is_empty() {
                if accepted.len() == ACCEPTED_REMEMBERED {
                    accepted.remove(0);
                }
                accepted.push(this);
            }
            out.extend(found.into_iter().map(|(pos, k)| (span.file, pos, k)));
        }
    }
    out
}

/// Checks one service, of type `name` with `settings`, written where `span` says.
fn service(
    catalog: &Catalog,
    name: &str,
    settings: &Map<String, Json>,
    span: &ServiceSpan,
    out: &mut Vec<(Pos, ProblemKind)>,
) {
    if !catalog.contains(name) {
        let known = catalog.names();
        out.push((
            span.service_type,
            ProblemKind::UnknownServiceType {
                service_type: name.to_string(),
                suggestion: closest(name, &known),
                known,
            },
        ));
        return;
    }
    let Err(SettingsError::Invalid(violations)) = catalog.effective(name, settings) else {
        return;
    };
    for v in violations {
        settings_problem(catalog, name, span, v, out);
    }
}

/// One violation, at the key it names (an unknown setting) or the deepest part of the settings
/// its pointer leads to; without `settings`, at the entry (a required setting is missing).
fn settings_problem(
    catalog: &Catalog,
    service_type: &str,
    span: &ServiceSpan,
    v: Violation,
    out: &mut Vec<(Pos, ProblemKind)>,
) {
    let segments = pointer_segments(&v.pointer);
    let at = span.settings.as_ref().map(|p| p.locate(&segments));
    let pos = at.map_or(span.entry, |p| p.at);
    if v.unexpected.is_empty() {
        out.push((
            pos,
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
        let key = at.and_then(|p| p.key(&name)).unwrap_or(pos);
        let mut setting = segments.clone();
        setting.push(name.clone());
        out.push((
            key,
            ProblemKind::UnknownSetting {
                service_type: service_type.to_string(),
                setting: setting.join("/"),
                suggestion: closest(&name, &allowed),
                allowed: allowed.clone(),
            },
        ));
    }
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
