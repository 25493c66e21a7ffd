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

/// An in-memory API: the snapshot, the ids of accounts by key, a sequence for new ids, and
/// what the vendor keeps (`caps`: without keys, created accounts have none and the next plan
/// matches them by name, as after a person created them at the dashboard; with login-scoped
/// roles, a user's name and role are the login's, on every account it belongs to).
struct Sim {
    s: Snapshot,
    ids: HashMap<String, String>,
    next: usize,
    caps: Capabilities,
}

impl Sim {
    fn new(live: &Snapshot, caps: &Capabilities) -> Self {
        let ids = live
            .accounts
            .iter()
            .filter_map(|a| a.external_key.clone().map(|k| (k, a.id.clone())))
            .collect();
        // New ids continue after the largest number in use, as a server's sequence would:
        // unique, and deterministic for a given input (snapshots depend on it).
        let number = |id: &str| -> usize {
            let digits = id.trim_end_matches('"');
            let start = digits
                .rfind(|c: char| !c.is_ascii_digit())
                .map_or(0, |i| i + 1);
            digits[start..].parse().unwrap_or(0)
        };
        let accounts = live
            .accounts
            .iter()
            .flat_map(|a| [number(&a.id), number(&a.etag)]);
        let users = live
            .users
            .iter()
            .flat_map(|u| [number(&u.id), number(&u.etag)]);
        let services = live.services.iter().map(|x| number(&x.etag));
        let used = accounts.chain(users).chain(services).max().unwrap_or(0);
        Sim {
            s: live.clone(),
            ids,
            next: used.max(1000),
            caps: caps.clone(),
        }
    }

    fn fresh(&mut self, prefix: &str) -> String {
        self.next += 1;
        format!("{prefix}{}", self.next)
    }

    fn resolve(&self, r: &AccountRef) -> String {
        match r {
            AccountRef::Partner => self.s.partner.id.clone(),
            AccountRef::Account { id: Some(id), .. } => id.clone(),
            AccountRef::Account { key: Some(k), .. } => {
                self.ids.get(k).cloned().expect("created before use")
            }
            AccountRef::Account { .. } => panic!("unresolvable account"),
        }
    }

    fn create(&mut self, op: &Operation, parent: &AccountRef, fields: &AccountFields) {
        let parent_id = self.resolve(parent);
        let id = self.fresh("acc_");
        let key = op.account.key().unwrap().to_string();
        let etag = self.fresh("e");
        self.s.accounts.push(Account {
            id: id.clone(),
            kind: op.account.kind().unwrap(),
            parent_id,
            external_key: self.caps.keys.then(|| key.clone()),
            name: fields.name.clone(),
            contact: fields.contact.clone().filter(|_| self.caps.fields.contact),
            country: fields.country.clone(),
            timezone: fields.timezone.clone(),
            labels: if self.caps.fields.labels {
                fields.labels.clone()
            } else {
                Default::default()
            },
            etag,
            manageable: true,
        });
        self.ids.insert(key, id);
    }

    fn update(&mut self, op: &Operation, etag: &str, after: &AccountFields) {
        let id = self.resolve(&op.account);
        let new_etag = self.fresh("e");
        if op.action() == Action::Adopt {
            self.ids
                .insert(op.account.key().unwrap().to_string(), id.clone());
        }
        let a = self.s.accounts.iter_mut().find(|a| a.id == id).unwrap();
        assert_eq!(a.etag, etag, "If-Match");
        if op.action() == Action::Adopt {
            a.external_key = op.account.key().map(str::to_string);
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

    fn invite(&mut self, op: &Operation, p: &Person) {
        let account_id = self.resolve(&op.account);
        let duplicate = self
            .s
            .users
            .iter()
            .any(|u| u.account_id == account_id && u.email.eq_ignore_ascii_case(&p.email));
        assert!(!duplicate, "duplicate invitation {}", p.email);
        let (id, etag) = (self.fresh("usr_"), self.fresh("e"));
        self.s.users.push(User {
            id,
            account_id,
            email: p.email.clone(),
            name: p.name.clone(),
            role: p.role,
            status: UserStatus::Invited,
            etag,
        });
        self.login(&p.email, &p.name, p.role);
    }

    /// Where the login keeps the name and role: every membership of `email` gets them (those
    /// that change get a new etag).
    fn login(&mut self, email: &str, name: &str, role: Role) {
        if self.caps.role_scope != RoleScope::Login {
            return;
        }
        let stale: Vec<usize> = (0..self.s.users.len())
            .filter(|&i| {
                let u = &self.s.users[i];
                u.email.eq_ignore_ascii_case(email) && (u.name != name || u.role != role)
            })
            .collect();
        for i in stale {
            let etag = self.fresh("e");
            let u = &mut self.s.users[i];
            (u.name, u.role, u.etag) = (name.to_string(), role, etag);
        }
    }

    /// A re-sent invitation (`after` is `None`) or a name/role change.
    fn change_user(&mut self, user: &UserRef, after: Option<&Membership>) {
        let etag = self.fresh("e");
        let u = self.s.users.iter_mut().find(|u| u.id == user.id).unwrap();
        u.etag = etag;
        match after {
            Some(after) => {
                u.name = after.name.clone();
                u.role = after.role;
                let email = u.email.clone();
                self.login(&email, &after.name, after.role);
            }
            None => {
                assert_eq!(u.status, UserStatus::Expired);
                u.status = UserStatus::Invited;
            }
        }
    }

    /// Puts (`Some`) or removes (`None`) a service.
    fn service(&mut self, op: &Operation, service_type: &str, settings: Option<&Settings>) {
        let account_id = self.resolve(&op.account);
        self.s
            .services
            .retain(|x| !(x.account_id == account_id && x.service_type == service_type));
        if let Some(settings) = settings {
            let etag = self.fresh("e");
            self.s.services.push(crate::live::Service {
                account_id,
                service_type: service_type.to_string(),
                settings: settings.clone(),
                etag,
            });
        }
    }

    fn remove_user(&mut self, user: &UserRef) {
        let before = self.s.users.len();
        self.s.users.retain(|u| u.id != user.id);
        assert_eq!(before, self.s.users.len() + 1);
    }

    fn delete(&mut self, op: &Operation) {
        let id = self.resolve(&op.account);
        let s = &mut self.s;
        assert!(
            !s.accounts.iter().any(|a| a.parent_id == id),
            "deleting {} before its children",
            op.address
        );
        s.accounts.retain(|a| a.id != id);
        s.users.retain(|u| u.account_id != id);
        s.services.retain(|x| x.account_id != id);
    }

    fn apply(&mut self, op: &Operation) {
        match &op.change {
            Change::Create { parent, fields } => self.create(op, parent, fields),
            Change::Update { etag, after, .. } | Change::Adopt { etag, after, .. } => {
                self.update(op, etag, after);
            }
            Change::Invite(p) => self.invite(op, p),
            Change::Resend { user } => self.change_user(user, None),
            Change::UpdateUser { user, after, .. } => self.change_user(user, Some(after)),
            Change::AddService {
                service_type,
                settings,
            }
            | Change::UpdateService {
                service_type,
                after: settings,
                ..
            } => self.service(op, service_type, Some(settings)),
            Change::Revoke { user, .. } | Change::RemoveUser { user, .. } => self.remove_user(user),
            Change::RemoveService { service_type, .. } => self.service(op, service_type, None),
            Change::Delete { .. } => self.delete(op),
        }
    }
}

/// The live state after applying the acme example to an empty partner.
pub(crate) fn applied_acme() -> Snapshot {
    let live = empty_live();
    let p = plan(&acme(), &live, Options::default()).unwrap();
    simulate(&live, &p)
}

/// The live account with external key `key` (it must exist).
pub(crate) fn live_account<'s>(live: &'s mut Snapshot, key: &str) -> &'s mut Account {
    live.accounts
        .iter_mut()
        .find(|a| a.external_key.as_deref() == Some(key))
        .unwrap_or_else(|| panic!("no live account with key {key}"))
}

/// Executes a plan against an in-memory snapshot, the way a faithful API would. Panics where a
/// real API would refuse (deleting an account that still has children, unknown ids), so the
/// tests also check the order the DAG imposes.
pub(crate) fn simulate(live: &Snapshot, plan: &Plan) -> Snapshot {
    simulate_with(live, plan, &Capabilities::full())
}

/// [`simulate`] against a vendor that can do what `caps` says, a person doing the manual
/// steps as the runbook tells (creating an account without a key where there are none).
pub(crate) fn simulate_with(live: &Snapshot, plan: &Plan, caps: &Capabilities) -> Snapshot {
    let mut sim = Sim::new(live, caps);
    for (i, op) in plan.operations.iter().enumerate() {
        for d in &op.depends_on {
            assert!(*d < i, "operation {i} depends on later operation {d}");
        }
        sim.apply(op);
    }
    sim.s
}

/// Two customers of the same name ("Twin"), each with a network of the same name: the
/// configuration labels the first customer (an update) and keys the second's network, which
/// the live state has without a key (an adoption). Returns the configuration and the live
/// state.
pub(crate) fn twins() -> (Desired, Snapshot) {
    let yaml = |labels: &str| {
        let customer = |key: &str, labels: &str| {
            format!(
                "  - key: {key}\n    name: Twin\n    contact: {{ name: J, email: j@{key}.example }}\n    country: GB\n    timezone: UTC\n    labels: {{ {labels} }}\n    networks:\n      - {{ key: {key}-net, name: Twin Network }}\n"
            )
        };
        let text = format!(
            "version: 1\npartner: {{ name: Acme Partners }}\ncustomers:\n{}{}",
            customer("twin-a", labels),
            customer("twin-b", "")
        );
        load_sources(&[Source {
            path: "twins.yaml".into(),
            text,
        }])
        .expect("the twins are valid")
    };
    let empty = empty_live();
    let before = yaml("");
    let mut live = simulate(&empty, &plan(&before, &empty, Options::default()).unwrap());
    live_account(&mut live, "twin-b-net").external_key = None;
    (yaml("tier: gold"), live)
}
