//! Bulk seeding: writes a whole desired state into a sandbox database in one transaction, through
//! the same store functions (and so the same rules) the HTTP handlers use. The live state it makes
//! is exactly what `apply` would make, so a plan against it is empty.

use std::path::Path;

use crate::config::{self, Desired, Node};
use crate::sandbox::error::RequestError;
use crate::sandbox::store::{self, PartnerRow, Store};
use crate::vocab::PROTECT_LABEL;
use crate::wire::partner::{self, AccountCreate, Contact, ServicePut, UserInvite};

/// Counts of what [`seed`] wrote.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Seeded {
    /// Accounts created.
    pub accounts: usize,
    /// Users invited.
    pub users: usize,
    /// Services added.
    pub services: usize,
}

/// Writes `desired` for the partner named in it (created, manageable, if missing) into the
/// database at `db`, in one transaction. Returns what it wrote and a token for the partner.
pub fn seed(
    db: &Path,
    desired: &Desired,
) -> Result<(Seeded, String), crate::sandbox::error::Error> {
    let store = Store::open(db)?;
    let desired = desired.clone();
    let out = store.write(move |tx| {
        let (_, token) = store::ensure_partner(tx, &desired.partner.name)?;
        let p = store::partner_by_token(tx, &token)?.expect("token just issued");
        let mut n = Seeded::default();
        members(tx, &p, &p.id, &desired.partner.users, &[], &mut n)?;
        // Ids of the accounts created so far, by their index in the walk.
        let mut ids: Vec<String> = Vec::new();
        for node in desired.walk() {
            let parent = node.parent.map_or(p.id.as_str(), |i| ids[i].as_str());
            let id = account(tx, &p, parent, &node)?;
            n.accounts += 1;
            members(tx, &p, &id, node.users, node.services, &mut n)?;
            ids.push(id);
        }
        Ok((n, token))
    });
    out.map_err(|e| crate::sandbox::error::Error::Request(Box::new(e)))
}

/// Creates the account of `node` under `parent_id`; returns its id.
fn account(
    tx: &rusqlite::Connection,
    p: &PartnerRow,
    parent_id: &str,
    node: &Node<'_>,
) -> Result<String, RequestError> {
    let mut labels = node.labels.clone();
    if node.protect {
        labels.insert(PROTECT_LABEL.to_string(), "true".to_string());
    }
    let kind: partner::AccountKind = node.kind.into();
    let a = store::create_account(
        tx,
        p,
        AccountCreate {
            kind,
            parent_id: Some(parent_id.to_string()),
            external_key: Some(node.key.to_string()),
            name: node.name.to_string(),
            contact: node.contact.map(|c| Contact {
                name: c.name.clone(),
                email: c.email.clone(),
            }),
            country: node.country.map(str::to_string),
            timezone: node.timezone.map(str::to_string),
            labels,
        },
    )?;
    Ok(a.id)
}

/// Invites `users` and adds `services` to the account `account_id`.
fn members(
    tx: &rusqlite::Connection,
    p: &PartnerRow,
    account_id: &str,
    users: &[config::User],
    services: &[config::Service],
    n: &mut Seeded,
) -> Result<(), RequestError> {
    for u in users {
        store::invite_user(
            tx,
            p,
            account_id,
            UserInvite {
                email: u.email.clone(),
                name: u.name.clone(),
                role: u.role.into(),
            },
        )?;
        n.users += 1;
    }
    for s in services {
        store::put_service(
            tx,
            p,
            account_id,
            &s.service_type,
            None,
            ServicePut {
                settings: serde_json::Value::Object(s.settings.clone()),
            },
        )?;
        n.services += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Source, load_sources};
    use crate::testkit::{Scale, generate};

    #[test]
    fn seeds_every_account_of_the_walk_under_its_parent_with_its_members() {
        let scale = Scale {
            customers: 12,
            networks: 3,
            subs_per_network: 2,
            users_per_customer: 2,
            services_per_customer: 1,
            customers_per_file: 5,
        };
        let sources: Vec<Source> = generate(&scale)
            .into_iter()
            .map(|(path, text)| Source { path, text })
            .collect();
        let desired = load_sources(&sources).expect("generated config is valid");
        let dir = tempfile::tempdir().unwrap();
        // The store refuses an account under a parent of the wrong kind, so a wrong parent index
        // would fail here.
        let (n, token) = seed(&dir.path().join("seeded.db"), &desired).expect("seed");
        let c = desired.counts();
        assert_eq!(
            (n.accounts, n.users, n.services),
            (
                c.customers + c.networks + c.sub_accounts,
                c.users,
                c.services
            )
        );
        assert_eq!((n.accounts, n.users, n.services), (12 + 3 + 6, 1 + 24, 24));
        assert!(token.starts_with("psk_"));
    }
}
