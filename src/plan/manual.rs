//! Stage `plan`, manual steps: what a provider's API cannot do (declared by the provider as
//! [`Capabilities`]) becomes a step for a person at the vendor's dashboard, in the vendor's own
//! words (the provider supplies them). The apply performs everything else and skips what depends
//! on a pending manual step; once the person has done it, the next plan adopts the new account
//! by name and carries on. Changes of a kind the provider does not manage at all (services, for
//! some vendors) refuse the plan. Pure: planning never knows which vendor it talks to.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::operation::AccountFields;
use super::{Action, Change, Operation, Plan};
use crate::live::Snapshot;
use crate::vocab::AccountKind;

/// What a provider can do through its API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capabilities {
    /// Account kinds it can create (creating the others is a manual step).
    pub create: Vec<AccountKind>,
    /// Account kinds it can delete (deleting the others is a manual step).
    pub delete: Vec<AccountKind>,
    /// Whether it manages services at all.
    pub services: bool,
    /// Whether an account can carry its configuration key. Without, accounts are matched by
    /// kind, parent and name (or an `adopt` id) on every plan, and no adoption is written.
    pub keys: bool,
    /// The account fields it stores besides the name; the others are typed by a person when
    /// the account is created and not compared afterwards.
    pub fields: StoredFields,
    /// Whether a user's role belongs to each account or to the login (one role for every
    /// account the person reaches).
    pub role_scope: RoleScope,
    /// Whether a customer the partner may not manage is closed to changes of its own record
    /// too (its name and other fields, an adoption), not only to what is inside it.
    #[serde(default)]
    pub closed_records: bool,
}

/// What a user's role belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoleScope {
    /// Each membership has its own role: admin of one account, member of another.
    #[default]
    Account,
    /// The login has one role for every account it belongs to: an admin of one account is an
    /// admin of all of them, so one email must have one role everywhere.
    Login,
}

/// Which account fields besides the name a provider stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredFields {
    /// The contact person.
    pub contact: bool,
    /// The country.
    pub country: bool,
    /// The time zone.
    pub timezone: bool,
    /// The labels.
    pub labels: bool,
}

impl StoredFields {
    /// Every field.
    pub fn all() -> Self {
        StoredFields {
            contact: true,
            country: true,
            timezone: true,
            labels: true,
        }
    }

    /// `fields` with the ones not stored left unset.
    pub fn project(&self, fields: &AccountFields) -> AccountFields {
        AccountFields {
            name: fields.name.clone(),
            contact: fields.contact.clone().filter(|_| self.contact),
            country: fields.country.clone().filter(|_| self.country),
            timezone: fields.timezone.clone().filter(|_| self.timezone),
            labels: if self.labels {
                fields.labels.clone()
            } else {
                Default::default()
            },
        }
    }
}

impl Capabilities {
    /// Everything the partner API contract offers.
    pub fn full() -> Self {
        Capabilities {
            create: AccountKind::ALL.to_vec(),
            delete: AccountKind::ALL.to_vec(),
            services: true,
            keys: true,
            fields: StoredFields::all(),
            role_scope: RoleScope::Account,
            closed_records: false,
        }
    }

    /// An API that manages users only: accounts are added and removed by a person (manual
    /// steps), carry no key (matched by kind, parent and name, or an `adopt` id) and keep only
    /// their name; there are no services.
    pub fn users_only() -> Self {
        Capabilities {
            create: Vec::new(),
            delete: Vec::new(),
            services: false,
            keys: false,
            fields: StoredFields {
                contact: false,
                country: false,
                timezone: false,
                labels: false,
            },
            role_scope: RoleScope::Account,
            closed_records: false,
        }
    }
}

/// A step for a person, in the vendor's words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManualStep {
    /// The operation it stands for (an index into the plan's operations).
    pub operation: usize,
    /// What to do, in a few words ("Add Customer").
    pub title: String,
    /// How, with the values to type: one instruction per line.
    pub lines: Vec<String>,
}

/// Accounts' names by address or by live id.
type Names<'a> = HashMap<&'a str, &'a str>;

/// The plan as `caps` allows: creations and deletions the provider cannot perform become manual steps
/// (`words` gives each its title and lines, told the name of the parent a creation goes
/// under: an account this plan creates too, or a live one of `live`), and operations of a
/// kind it does not manage are recorded as unsupported (the guards refuse such a plan).
pub fn with_capabilities(
    mut plan: Plan,
    caps: &Capabilities,
    live: &Snapshot,
    words: impl Fn(&Operation, Option<&str>) -> (String, Vec<String>),
) -> Plan {
    // Parents' names by address (created by this plan) and by live id: made at the first
    // manual step, if any.
    let mut names: Option<(Names, Names)> = None;
    for (i, op) in plan.operations.iter().enumerate() {
        let able = match op.action() {
            Action::Create => &caps.create,
            Action::Delete => &caps.delete,
            _ => &AccountKind::ALL[..],
        };
        let manual = op.account.kind().is_some_and(|k| !able.contains(&k));
        if manual {
            let (created, known) = names.get_or_insert_with(|| {
                let created = plan.operations.iter().filter_map(|o| match &o.change {
                    Change::Create { fields, .. } => {
                        Some((o.address.as_str(), fields.name.as_str()))
                    }
                    _ => None,
                });
                let known = live
                    .accounts
                    .iter()
                    .map(|a| (a.id.as_str(), a.name.as_str()));
                (created.collect(), known.collect())
            });
            let parent_name = match &op.change {
                Change::Create { parent, .. } => created
                    .get(parent.address().as_str())
                    .or_else(|| parent.id().and_then(|id| known.get(id)))
                    .copied(),
                _ => None,
            };
            let (title, lines) = words(op, parent_name);
            plan.manual.push(ManualStep {
                operation: i,
                title,
                lines,
            });
        }
        if !caps.services && op.change.service_type().is_some() {
            plan.unsupported.push(op.address.clone());
        }
    }
    plan
}

impl Plan {
    /// The manual step operation `index` stands for, if it is one.
    pub fn manual_step(&self, index: usize) -> Option<(usize, &ManualStep)> {
        self.manual
            .iter()
            .enumerate()
            .find(|(_, s)| s.operation == index)
            .map(|(n, s)| (n + 1, s))
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{acme, applied_acme, empty_live, simulate};
    use super::super::{Options, Refusal, plan, plan_for};
    use super::*;

    fn words(op: &Operation, parent: Option<&str>) -> (String, Vec<String>) {
        let under = parent.map(|p| format!(" under {p}")).unwrap_or_default();
        (
            format!("Add {}{under}", op.address),
            vec!["Click".to_string()],
        )
    }

    /// The acme network and a sub-account of it are added under their parents' names.
    fn parents_named(titles: &[&str]) {
        for title in [
            "Add network.contoso-network under Contoso Ltd",
            "Add sub_account.contoso-paris under Contoso Network",
        ] {
            assert!(titles.contains(&title), "{titles:#?}");
        }
    }

    #[test]
    fn creations_the_provider_cannot_do_become_numbered_manual_steps() {
        let p = plan(&acme(), &empty_live(), Options::default()).unwrap();
        let caps = Capabilities {
            create: vec![],
            ..Capabilities::full()
        };
        let p = with_capabilities(p, &caps, &empty_live(), words);
        let titles: Vec<&str> = p.manual.iter().map(|s| s.title.as_str()).collect();
        assert_eq!(titles.len(), 6);
        assert_eq!(titles[0], "Add customer.contoso");
        // A parent created by the same plan is named by its name.
        parents_named(&titles);
        let first = p.manual[0].operation;
        assert_eq!(p.manual_step(first).map(|(n, _)| n), Some(1));
        assert!(p.check_safety().is_ok());
        // Full capabilities: nothing manual.
        let q = plan(&acme(), &empty_live(), Options::default()).unwrap();
        let q = with_capabilities(q, &Capabilities::full(), &empty_live(), words);
        assert!(q.manual.is_empty() && q.unsupported.is_empty());
    }

    /// A creation under a live parent is told the live parent's name, as one under a parent
    /// this plan creates is told the planned name.
    #[test]
    fn manual_creations_under_live_parents_name_them() {
        let mut live = applied_acme();
        let gone: Vec<String> = live
            .accounts
            .iter()
            .filter(|a| a.kind != AccountKind::Customer)
            .map(|a| a.id.clone())
            .collect();
        live.accounts.retain(|a| !gone.contains(&a.id));
        live.users.retain(|u| !gone.contains(&u.account_id));
        live.services.retain(|s| !gone.contains(&s.account_id));
        let caps = Capabilities {
            create: vec![],
            ..Capabilities::full()
        };
        let p = plan(&acme(), &live, Options::default()).unwrap();
        let p = with_capabilities(p, &caps, &live, words);
        let titles: Vec<&str> = p.manual.iter().map(|s| s.title.as_str()).collect();
        parents_named(&titles);
        // Without the live state, the live parent has no name to give.
        let p = plan(&acme(), &live, Options::default()).unwrap();
        let p = with_capabilities(p, &caps, &empty_live(), words);
        let titles: Vec<&str> = p.manual.iter().map(|s| s.title.as_str()).collect();
        assert!(
            titles.contains(&"Add network.contoso-network"),
            "{titles:#?}"
        );
    }

    #[test]
    fn services_a_provider_does_not_manage_refuse_the_plan() {
        let p = plan(&acme(), &empty_live(), Options::default()).unwrap();
        let caps = Capabilities {
            services: false,
            ..Capabilities::full()
        };
        let p = with_capabilities(p, &caps, &empty_live(), words);
        assert_eq!(p.unsupported.len(), 8);
        let r = p.check_safety().unwrap_err();
        assert!(
            matches!(&r.0[..], [Refusal::Unsupported { count: 8, .. }]),
            "{r}"
        );
    }

    /// Deletions of kinds the provider cannot delete are manual steps too.
    #[test]
    fn deletions_the_provider_cannot_do_become_manual_steps() {
        let live = applied_acme();
        let mut desired = acme();
        desired.customers.retain(|c| c.key != "fabrikam");
        let options = Options {
            prune_accounts: true,
            force: true,
            ..Options::default()
        };
        let caps = Capabilities {
            delete: vec![],
            ..Capabilities::full()
        };
        let p = with_capabilities(plan(&desired, &live, options).unwrap(), &caps, &live, words);
        let manual: Vec<&str> = p
            .manual
            .iter()
            .map(|m| p.operations[m.operation].address.as_str())
            .collect();
        assert_eq!(manual, ["customer.fabrikam"]);
        let p = with_capabilities(
            plan(&desired, &live, options).unwrap(),
            &Capabilities::full(),
            &live,
            words,
        );
        assert!(p.manual.is_empty());
    }

    /// A provider without keys and storing only names: what a person created by hand (no key,
    /// other country, no labels) is matched by kind, parent and name on every plan, and only
    /// a name is ever compared.
    #[test]
    fn without_keys_accounts_match_by_name_and_only_stored_fields_compare() {
        let caps = Capabilities {
            keys: false,
            services: false,
            fields: StoredFields {
                contact: false,
                country: false,
                timezone: false,
                labels: false,
            },
            ..Capabilities::full()
        };
        let mut desired = acme();
        for c in &mut desired.customers {
            c.services.clear();
            for n in &mut c.networks {
                n.services.clear();
                for s in &mut n.sub_accounts {
                    s.services.clear();
                }
            }
        }
        let mut live = simulate(
            &empty_live(),
            &plan(&desired, &empty_live(), Options::default()).unwrap(),
        );
        for a in &mut live.accounts {
            a.external_key = None;
            a.labels.clear();
            a.country = Some("ZZ".into());
        }
        let p = plan_for(&desired, &live, Options::default(), &caps).unwrap();
        assert!(p.operations.is_empty(), "{:#?}", p.operations);
        assert!(p.unmanaged.is_empty());
        // With keys, the same estate is adopted (the key written) and the fields updated.
        let p = plan(&desired, &live, Options::default()).unwrap();
        assert_eq!(p.operations.len(), 6);
        assert!(p.operations.iter().all(|o| o.action() == Action::Adopt));
        // A renamed account is a creation (its old self unmanaged) unless pinned by id.
        desired.customers[0].name = "Contoso Renamed".into();
        let p = plan_for(&desired, &live, Options::default(), &caps).unwrap();
        assert_eq!(p.operations[0].action(), Action::Create);
        let id = live
            .accounts
            .iter()
            .find(|a| a.name == "Contoso Ltd")
            .unwrap()
            .id
            .clone();
        desired.customers[0].adopt = Some(id.into());
        let p = plan_for(&desired, &live, Options::default(), &caps).unwrap();
        let ops: Vec<String> = p
            .operations
            .iter()
            .map(|o| format!("{} {}", o.action().as_str(), o.address))
            .collect();
        assert_eq!(ops, ["update customer.contoso"]);
    }
}
