//! Stage `provider`, the Nexudus runbook: what the API cannot do (adding and removing customers,
//! network accounts and sub-accounts) as manual steps in the dashboard's words, with the values
//! to type. Pure; may import `plan` and `vocab`.

use crate::plan::{Change, Operation};
use crate::vocab::AccountKind;

/// A manual step in the dashboard's words, with the values to type.
pub(super) fn runbook(op: &Operation, parent: &str) -> (String, Vec<String>) {
    let kind = op.account.kind().unwrap_or(AccountKind::Customer);
    match &op.change {
        Change::Create { fields, .. } => {
            let (title, first) = match kind {
                AccountKind::Customer => (
                    "Add Customer",
                    "In the Nexudus dashboard, open Resellers → Customers and click \"Add Customer\".".to_string(),
                ),
                AccountKind::Network => (
                    "Add network account",
                    format!("Select the customer \"{parent}\" and click \"Add network account\"."),
                ),
                AccountKind::SubAccount => (
                    "Create sub-account",
                    format!("Select the network account \"{parent}\" and click \"Create sub-account\"."),
                ),
            };
            let mut lines = vec![first, format!("Name: {}", fields.name)];
            if let Some(c) = &fields.contact {
                lines.push(format!("Contact name: {}", c.name));
                lines.push(format!("Contact email: {}", c.email));
            }
            if let Some(c) = &fields.country {
                lines.push(format!("Country: {c}"));
            }
            if let Some(t) = &fields.timezone {
                lines.push(format!("Time zone: {t}"));
            }
            lines.push("Save; the next plan finds it by its name and carries on.".into());
            (title.to_string(), lines)
        }
        Change::Delete { name, .. } => (
            format!("Remove the {}", kind.as_str().replace('_', "-")),
            vec![format!(
                "In the Nexudus dashboard, select \"{name}\" and remove it (or ask Nexudus support to)."
            )],
        ),
        _ => (
            format!("{} {}", op.action().as_str(), op.address),
            vec!["Do this in the Nexudus dashboard.".into()],
        ),
    }
}
