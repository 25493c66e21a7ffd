//! Test helpers shared by the planner's and the renderers' tests: a catalog, the acme example,
//! and an in-memory executor that behaves like a faithful API.

use std::collections::HashMap;

use super::*;
use crate::config::{Source, load_sources};
use crate::live::{Account, ServiceType, User};
use crate::vocab::UserStatus;

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
        settings_schema: serde_json::Value,
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
        match &op.change {
            Change::Create { parent, fields } => {
                let parent_id = resolve(parent, &ids);
                let id = fresh("acc_");
                let key = op.account.key().unwrap().to_string();
                s.accounts.push(Account {
                    id: id.clone(),
                    kind: op.account.kind().unwrap(),
                    parent_id,
                    external_key: Some(key.clone()),
                    name: fields.name.clone(),
                    contact: fields.contact.clone(),
                    country: fields.country.clone(),
                    timezone: fields.timezone.clone(),
                    labels: fields.labels.clone(),
                    etag: fresh("e"),
                });
                ids.insert(key, id);
            }
            Change::Update { etag, after, .. } | Change::Adopt { etag, after, .. } => {
                let id = resolve(&op.account, &ids);
                let new_etag = fresh("e");
                let a = s.accounts.iter_mut().find(|a| a.id == id).unwrap();
                assert_eq!(&a.etag, etag, "If-Match");
                if op.action() == Action::Adopt {
                    let k = op.account.key().unwrap().to_string();
                    a.external_key = Some(k.clone());
                    ids.insert(k, id.clone());
                }
                a.name = after.name.clone();
                if after.contact.is_some() {
                    a.contact = after.contact.clone();
                }
                if after.country.is_some() {
                    a.country = after.country.clone();
                }
                if after.timezone.is_some() {
                    a.timezone = after.timezone.clone();
                }
                a.labels = after.labels.clone();
                a.etag = new_etag;
            }
            Change::Invite(p) => {
                let account_id = resolve(&op.account, &ids);
                assert!(
                    !s.users
                        .iter()
                        .any(|u| u.account_id == account_id
                            && u.email.eq_ignore_ascii_case(&p.email)),
                    "duplicate invitation {}",
                    p.email
                );
                s.users.push(User {
                    id: fresh("usr_"),
                    account_id,
                    email: p.email.clone(),
                    name: p.name.clone(),
                    role: p.role,
                    status: UserStatus::Invited,
                    etag: fresh("e"),
                });
            }
            Change::Resend { user } | Change::UpdateUser { user, .. } => {
                let etag = fresh("e");
                let u = s.users.iter_mut().find(|u| u.id == user.id).unwrap();
                if let Change::UpdateUser { after, .. } = &op.change {
                    u.name = after.name.clone();
                    u.role = after.role;
                } else {
                    assert_eq!(u.status, UserStatus::Expired);
                    u.status = UserStatus::Invited;
                }
                u.etag = etag;
            }
            Change::AddService {
                service_type,
                settings,
            }
            | Change::UpdateService {
                service_type,
                after: settings,
                ..
            } => {
                let account_id = resolve(&op.account, &ids);
                s.services
                    .retain(|x| !(x.account_id == account_id && &x.service_type == service_type));
                s.services.push(crate::live::Service {
                    account_id,
                    service_type: service_type.clone(),
                    settings: settings.clone(),
                    etag: fresh("e"),
                });
            }
            Change::Revoke { user, .. } | Change::RemoveUser { user, .. } => {
                let before = s.users.len();
                s.users.retain(|u| u.id != user.id);
                assert_eq!(before, s.users.len() + 1);
            }
            Change::RemoveService { service_type, .. } => {
                let account_id = resolve(&op.account, &ids);
                s.services
                    .retain(|x| !(x.account_id == account_id && &x.service_type == service_type));
            }
            Change::Delete { .. } => {
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
