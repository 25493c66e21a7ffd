//! Stage `provider`, the Nexudus runbook: what the API cannot do (adding and removing customers,
//! network accounts and sub-accounts) as manual steps in the dashboard's words, with the values
//! to type. The vendor has renamed its dashboard's buttons over the years, so each one is quoted
//! by its current label (the help centre's) and by its older one, for a person to find it in
//! either dashboard. Pure; may import `plan` and `vocab`.

use crate::plan::{AccountFields, Change, Operation};
use crate::vocab::AccountKind;

/// Where the reseller's customers are listed.
const LIST: &str = "Resellers → Reseller accounts (older dashboards: Resellers → Customers)";

/// What follows a creation.
const ADOPTED: &str = "the next plan finds it by its name and carries on.";

/// A manual step in the dashboard's words, with the values to type.
pub(super) fn runbook(op: &Operation, parent: &str) -> (String, Vec<String>) {
    let kind = op.account.kind().unwrap_or(AccountKind::Customer);
    match &op.change {
        Change::Create { fields, .. } => {
            let (title, first, last) = match kind {
                AccountKind::Customer => (
                    "Add the customer account",
                    format!(
                        "In the Nexudus dashboard, open {LIST} and click \"Add account\" (older dashboards: \"Add Customer\"); every field is required."
                    ),
                    format!("Click \"Save Changes\"; {ADOPTED}"),
                ),
                AccountKind::Network => (
                    "Add the network account",
                    format!(
                        "In the Nexudus dashboard, open {LIST}, select the customer \"{parent}\" and click \"Add network account\"."
                    ),
                    format!("Save; {ADOPTED}"),
                ),
                AccountKind::SubAccount => (
                    "Add the sub-account",
                    format!(
                        "In the Nexudus dashboard, open {LIST}, click \"⋯\" next to the network account \"{parent}\" and choose \"Add sub-account\" (older dashboards: select it and click \"Create sub-account\")."
                    ),
                    format!("Confirm with \"Yes, do it\" (older dashboards: save); {ADOPTED}"),
                ),
            };
            let mut lines = vec![first];
            lines.extend(values(fields, kind));
            lines.push(last);
            if kind == AccountKind::Customer {
                lines.push(
                    "\"Access\" (older dashboards: \"Manage\") opens it once Nexudus has confirmed your reseller status; until then nothing inside it can be changed, by partnerctl either."
                        .into(),
                );
            }
            (title.to_string(), lines)
        }
        Change::Delete { name, .. } => (
            format!("Remove the {}", noun(kind)),
            vec![format!(
                "In the Nexudus dashboard, open {LIST}, find \"{name}\" and remove it (or ask Nexudus support to)."
            )],
        ),
        _ => (
            format!("{} {}", op.action().as_str(), op.address),
            vec!["Do this in the Nexudus dashboard.".into()],
        ),
    }
}

/// The values to type for an account of `kind`, one a line.
fn values(fields: &AccountFields, kind: AccountKind) -> Vec<String> {
    let mut lines = vec![format!("Name: {}", fields.name)];
    if let Some(c) = &fields.contact {
        lines.push(format!("Contact name: {}", c.name));
        lines.push(format!("Contact email: {}", c.email));
    } else if kind == AccountKind::Customer {
        lines.push(
            "Contact name and email: not in the configuration (partnerctl does not manage contacts at Nexudus); type the customer's contact person".into(),
        );
    }
    if let Some(c) = &fields.country {
        lines.push(format!("Country: {c}"));
    }
    if let Some(t) = &fields.timezone {
        lines.push(format!("Time zone: {t}"));
    }
    lines
}

/// The dashboard's name for an account of `kind`.
fn noun(kind: AccountKind) -> &'static str {
    match kind {
        AccountKind::Customer => "customer account",
        AccountKind::Network => "network account",
        AccountKind::SubAccount => "sub-account",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::Contact;
    use crate::plan::AccountRef;

    fn account(kind: AccountKind, key: &str) -> AccountRef {
        AccountRef::Account {
            kind,
            key: Some(key.into()),
            id: None,
        }
    }

    fn create(kind: AccountKind, parent: &str, fields: AccountFields) -> (String, Vec<String>) {
        let op = Operation::new(
            account(kind, "new"),
            Change::Create {
                parent: AccountRef::Partner,
                fields,
            },
        );
        runbook(&op, parent)
    }

    fn named(name: &str) -> AccountFields {
        AccountFields {
            name: name.into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_customer_is_added_with_both_labels_and_every_value() {
        let fields = AccountFields {
            contact: Some(Contact {
                name: "Jane Doe".into(),
                email: "jane@contoso.example".into(),
            }),
            country: Some("GB".into()),
            timezone: Some("Europe/London".into()),
            ..named("Contoso Ltd")
        };
        let (title, lines) = create(AccountKind::Customer, "Acme Partners", fields);
        assert_eq!(title, "Add the customer account");
        assert_eq!(
            lines,
            [
                "In the Nexudus dashboard, open Resellers → Reseller accounts (older dashboards: Resellers → Customers) and click \"Add account\" (older dashboards: \"Add Customer\"); every field is required.",
                "Name: Contoso Ltd",
                "Contact name: Jane Doe",
                "Contact email: jane@contoso.example",
                "Country: GB",
                "Time zone: Europe/London",
                "Click \"Save Changes\"; the next plan finds it by its name and carries on.",
                "\"Access\" (older dashboards: \"Manage\") opens it once Nexudus has confirmed your reseller status; until then nothing inside it can be changed, by partnerctl either.",
            ]
        );
    }

    #[test]
    fn a_network_account_is_added_under_its_customer() {
        let (title, lines) = create(AccountKind::Network, "Contoso Ltd", named("Contoso North"));
        assert_eq!(title, "Add the network account");
        assert_eq!(
            lines,
            [
                "In the Nexudus dashboard, open Resellers → Reseller accounts (older dashboards: Resellers → Customers), select the customer \"Contoso Ltd\" and click \"Add network account\".",
                "Name: Contoso North",
                "Save; the next plan finds it by its name and carries on.",
            ]
        );
    }

    #[test]
    fn a_sub_account_is_added_from_its_networks_menu_or_button() {
        let fields = AccountFields {
            timezone: Some("Europe/Paris".into()),
            ..named("Contoso Paris")
        };
        let (title, lines) = create(AccountKind::SubAccount, "Contoso Network", fields);
        assert_eq!(title, "Add the sub-account");
        assert_eq!(
            lines,
            [
                "In the Nexudus dashboard, open Resellers → Reseller accounts (older dashboards: Resellers → Customers), click \"⋯\" next to the network account \"Contoso Network\" and choose \"Add sub-account\" (older dashboards: select it and click \"Create sub-account\").",
                "Name: Contoso Paris",
                "Time zone: Europe/Paris",
                "Confirm with \"Yes, do it\" (older dashboards: save); the next plan finds it by its name and carries on.",
            ]
        );
    }

    #[test]
    fn removals_name_the_account_and_where_it_is_listed() {
        for (kind, noun) in [
            (AccountKind::Customer, "customer account"),
            (AccountKind::Network, "network account"),
            (AccountKind::SubAccount, "sub-account"),
        ] {
            let op = Operation::new(
                AccountRef::Account {
                    kind,
                    key: None,
                    id: Some("42".into()),
                },
                Change::Delete {
                    etag: "t".into(),
                    name: "Old Site".into(),
                    users: 0,
                    services: 0,
                },
            );
            let (title, lines) = runbook(&op, "");
            assert_eq!(title, format!("Remove the {noun}"));
            assert_eq!(
                lines,
                [
                    "In the Nexudus dashboard, open Resellers → Reseller accounts (older dashboards: Resellers → Customers), find \"Old Site\" and remove it (or ask Nexudus support to)."
                ]
            );
        }
    }
}
