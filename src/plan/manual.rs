//! Stage `plan`, manual steps: what a provider's API cannot do (declared by the provider as
//! [`Capabilities`]) becomes a step for a person at the vendor's dashboard, in the vendor's own
//! words (the provider supplies them). The apply performs everything else and skips what depends
//! on a pending manual step; once the person has done it, the next plan adopts the new account
//! by name and carries on. Changes of a kind the provider does not manage at all (services, for
//! some vendors) refuse the plan. Pure: planning never knows which vendor it talks to.

use serde::{Deserialize, Serialize};

use super::{Action, Operation, Plan};
use crate::vocab::AccountKind;

/// What a provider can do through its API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capabilities {
    /// Account kinds it can create (creating the others is a manual step).
    pub create: Vec<AccountKind>,
    /// Whether it manages services at all.
    pub services: bool,
}

impl Capabilities {
    /// Everything the partner API contract offers.
    pub fn full() -> Self {
        Capabilities {
            create: AccountKind::ALL.to_vec(),
            services: true,
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

/// The plan as `caps` allows: creations the provider cannot perform become manual steps
/// (`words` gives each its title and lines), and operations of a kind it does not manage are
/// recorded as unsupported (the guards refuse such a plan).
pub fn with_capabilities(
    mut plan: Plan,
    caps: &Capabilities,
    words: impl Fn(&Operation) -> (String, Vec<String>),
) -> Plan {
    for (i, op) in plan.operations.iter().enumerate() {
        let manual = op.action() == Action::Create
            && op.account.kind().is_some_and(|k| !caps.create.contains(&k));
        if manual {
            let (title, lines) = words(op);
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
    use super::super::testutil::{acme, empty_live};
    use super::super::{Options, Refusal, plan};
    use super::*;

    fn words(op: &Operation) -> (String, Vec<String>) {
        (format!("Add {}", op.address), vec!["Click".to_string()])
    }

    #[test]
    fn creations_the_provider_cannot_do_become_numbered_manual_steps() {
        let p = plan(&acme(), &empty_live(), Options::default()).unwrap();
        let caps = Capabilities {
            create: vec![],
            services: true,
        };
        let p = with_capabilities(p, &caps, words);
        let titles: Vec<&str> = p.manual.iter().map(|s| s.title.as_str()).collect();
        assert_eq!(titles.len(), 6);
        assert_eq!(titles[0], "Add customer.contoso");
        let first = p.manual[0].operation;
        assert_eq!(p.manual_step(first).map(|(n, _)| n), Some(1));
        assert!(p.check_safety().is_ok());
        // Full capabilities: nothing manual.
        let q = plan(&acme(), &empty_live(), Options::default()).unwrap();
        let q = with_capabilities(q, &Capabilities::full(), words);
        assert!(q.manual.is_empty() && q.unsupported.is_empty());
    }

    #[test]
    fn services_a_provider_does_not_manage_refuse_the_plan() {
        let p = plan(&acme(), &empty_live(), Options::default()).unwrap();
        let caps = Capabilities {
            create: AccountKind::ALL.to_vec(),
            services: false,
        };
        let p = with_capabilities(p, &caps, words);
        assert_eq!(p.unsupported.len(), 8);
        let r = p.check_safety().unwrap_err();
        assert!(
            matches!(&r.0[..], [Refusal::Unsupported { count: 8, .. }]),
            "{r}"
        );
    }
}
