//! Test helpers shared by the planner's and the renderers' tests: a catalog, the acme example,
//! and an in-memory executor that behaves like a faithful API.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Value, json};

use super::*;
use crate::config::{Source, load_sources};
use crate::live::{Account, Contact, ServiceType, User};

pub(crate) fn partner(manageable: bool) -> PartnerInfo {
    PartnerInfo {
        id: "p1".into(),
        name: "Acme Partners".into(),
        manageable,
        support_level: if manageable { "standard" } else { "none" }.into(),
    }
}

/// The sandbox's real catalog (its data file), so plans are checked against the schemas the
/// server enforces.
pub(crate) fn catalog() -> Vec<ServiceType> {
    #[derive(serde::Deserialize)]
    struct Entry {
        #[serde(rename = "type")]
        name: String,
        description: String,
        settings_schema: Value,
    }
    let entries: Vec<Entry> = serde_json::from_str(include_str!("../sandbox/catalog.json"))
        .expect("catalog.json is a list of service types");
    entries
        .into_iter()
        .map(|e| ServiceType {
            name: e.name,
            description: e.description,
            settings_schema: e.settings_schema,
        })
        .collect()
}

pub(crate) fn empty_live() -> Snapshot {
    Snapshot::empty(partner(true), catalog())
}

pub(crate) fn acme() -> Desired {
    let files = [
        (
            "partner.yaml",
            include_str!("../../examples/acme/partner.yaml"),
        ),
        (
            "contoso.yaml",
            include_str!("../../examples/acme/customers/contoso.yaml"),
        ),
        (
            "others.yaml",
            include_str!("../../examples/acme/customers/others.yaml"),
        ),
    ];
    let sources: Vec<Source> = files
        .iter()
        .map(|(p, t)| Source {
            path: (*p).into(),
            text: (*t).into(),
        })
        .collect();
    load_sources(&sources).expect("acme is valid")
}

/// Executes a plan against an in-memory snapshot, the way a faithful API would. Panics where a
/// real API would refuse (deleting an account that still has children, unknown ids), so the
/// tests also check the order the DAG imposes.
pub(crate) fn simulate(live: &Snapshot, plan: &Plan) -> Snapshot {
    let mut s = live.clone();
    let mut ids: HashMap<String, String> = s
        .accounts
        .iter()
        .filter_map(|a| a.external_key.clone().map(|k| (k, a.id.clone())))
        .collect();
    // New ids continue after the largest number in use, as a server's sequence would: unique,
    // and deterministic for a given input (snapshots depend on it).
    let number = |id: &str| -> usize {
        let digits = id.trim_end_matches('"');
        let start = digits
            .rfind(|c: char| !c.is_ascii_digit())
            .map_or(0, |i| i + 1);
        digits[start..].parse().unwrap_or(0)
    };
    let used = s
        .accounts
        .iter()
        .flat_map(|a| [number(&a.id), number(&a.etag)])
        .chain(
            s.users
                .iter()
                .flat_map(|u| [number(&u.id), number(&u.etag)]),
        )
        .chain(s.services.iter().map(|x| number(&x.etag)))
        .max()
        .unwrap_or(0);
    let next = std::cell::Cell::new(used.max(1000));
    let fresh = |prefix: &str| {
        next.set(next.get() + 1);
        format!("{prefix}{}", next.get())
    };
    for (i, op) in plan.operations.iter().enumerate() {
        for d in &op.depends_on {
            assert!(*d < i, "operation {i} depends on later operation {d}");
        }
        let resolve = |r: &AccountRef, ids: &HashMap<String, String>| -> String {
            match r {
                AccountRef::Partner => s.partner.id.clone(),
                AccountRef::Account { id: Some(id), .. } => id.clone(),
                AccountRef::Account { key: Some(k), .. } => {
                    ids.get(k).cloned().expect("created before use")
                }
                AccountRef::Account { .. } => panic!("unresolvable account"),
            }
        };
        let after = op.after.clone().unwrap_or(Value::Null);
        let str_of = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        let contact_of = |v: &Value| {
            v.get("contact").filter(|c| !c.is_null()).map(|c| Contact {
                name: str_of(c, "name").unwrap(),
                email: str_of(c, "email").unwrap(),
            })
        };
        let labels_of = |v: &Value| -> BTreeMap<String, String> {
            serde_json::from_value(v.get("labels").cloned().unwrap_or(json!({}))).unwrap()
        };
        match op.action {
            Action::Create => {
                let parent_id = resolve(op.parent.as_ref().unwrap(), &ids);
                let id = fresh("acc_");
                let key = str_of(&after, "external_key").unwrap();
                s.accounts.push(Account {
                    id: id.clone(),
                    kind: op.account.kind().unwrap(),
                    parent_id,
                    external_key: Some(key.clone()),
                    name: str_of(&after, "name").unwrap(),
                    contact: contact_of(&after),
                    country: str_of(&after, "country"),
                    timezone: str_of(&after, "timezone"),
                    labels: labels_of(&after),
                    etag: fresh("e"),
                });
                ids.insert(key, id);
            }
            Action::Update | Action::Adopt => {
                let id = resolve(&op.account, &ids);
                let etag = fresh("e");
                let a = s.accounts.iter_mut().find(|a| a.id == id).unwrap();
                assert_eq!(Some(&a.etag), op.etag.as_ref(), "If-Match");
                let obj = after.as_object().unwrap();
                if let Some(k) = obj.get("external_key").and_then(Value::as_str) {
                    a.external_key = Some(k.to_string());
                    ids.insert(k.to_string(), id.clone());
                }
                if obj.contains_key("name") {
                    a.name = str_of(&after, "name").unwrap();
                }
                if obj.contains_key("contact") {
                    a.contact = contact_of(&after);
                }
                if obj.contains_key("country") {
                    a.country = str_of(&after, "country");
                }
                if obj.contains_key("timezone") {
                    a.timezone = str_of(&after, "timezone");
                }
                if obj.contains_key("labels") {
                    a.labels = labels_of(&after);
                }
                a.etag = etag;
            }
            Action::Invite => {
                let account_id = resolve(&op.account, &ids);
                let email = str_of(&after, "email").unwrap();
                assert!(
                    !s.users
                        .iter()
                        .any(|u| u.account_id == account_id && u.email.eq_ignore_ascii_case(&email)),
                    "duplicate invitation {email}"
                );
                s.users.push(User {
                    id: fresh("usr_"),
                    account_id,
                    email,
                    name: str_of(&after, "name").unwrap(),
                    role: serde_json::from_value(after["role"].clone()).unwrap(),
                    status: UserStatus::Invited,
                    etag: fresh("e"),
                });
            }
            Action::Resend | Action::UpdateUser => {
                let etag = fresh("e");
                let u = s
                    .users
                    .iter_mut()
                    .find(|u| Some(&u.id) == op.user_id.as_ref())
                    .unwrap();
                if op.action == Action::Resend {
                    assert_eq!(u.status, UserStatus::Expired);
                    u.status = UserStatus::Invited;
                } else {
                    u.name = str_of(&after, "name").unwrap();
                    u.role = serde_json::from_value(after["role"].clone()).unwrap();
                }
                u.etag = etag;
            }
            Action::AddService | Action::UpdateService => {
                let account_id = resolve(&op.account, &ids);
                let t = op.service_type.clone().unwrap();
                let settings = after["settings"].as_object().unwrap().clone();
                s.services
                    .retain(|x| !(x.account_id == account_id && x.service_type == t));
                s.services.push(crate::live::Service {
                    account_id,
                    service_type: t,
                    settings,
                    etag: fresh("e"),
                });
            }
            Action::Revoke | Action::RemoveUser => {
                let before = s.users.len();
                s.users.retain(|u| Some(&u.id) != op.user_id.as_ref());
                assert_eq!(before, s.users.len() + 1);
            }
            Action::RemoveService => {
                let account_id = resolve(&op.account, &ids);
                let t = op.service_type.clone().unwrap();
                s.services
                    .retain(|x| !(x.account_id == account_id && x.service_type == t));
            }
            Action::Delete => {
                let id = resolve(&op.account, &ids);
                assert!(
                    !s.accounts.iter().any(|a| a.parent_id == id),
                    "deleting {} before its children",
                    op.address
                );
                s.accounts.retain(|a| a.id != id);
                s.users.retain(|u| u.account_id != id);
                s.services.retain(|x| x.account_id != id);
            }
        }
    }
    s
}
