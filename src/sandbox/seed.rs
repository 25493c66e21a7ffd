//! Stage `sandbox`, bulk seeding for scale tests and benchmarks: writes a whole desired state
//! into a sandbox database in one transaction, through the same store functions (and so the same
//! rules) the HTTP handlers use. The live state it makes is exactly what `apply` would make, so a
//! plan against it is empty.

use std::path::Path;

use super::store::{self, PartnerRow, Store};
use crate::api::types::{AccountCreate, AccountKind, Contact, ServicePut, UserInvite};
use crate::config::{self, Desired};

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

fn members(
    tx: &rusqlite::Connection,
    p: &PartnerRow,
    account_id: &str,
    users: &[config::User],
    services: &[config::Service],
    n: &mut Seeded,
) -> Result<(), super::error::RequestError> {
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

#[allow(clippy::too_many_arguments)]
fn account(
    tx: &rusqlite::Connection,
    p: &PartnerRow,
    kind: AccountKind,
    parent_id: &str,
    key: &str,
    name: &str,
    contact: Option<&config::Contact>,
    country: Option<&str>,
    timezone: Option<&str>,
    labels: &std::collections::BTreeMap<String, String>,
    protect: bool,
) -> Result<String, super::error::RequestError> {
    let mut labels = labels.clone();
    if protect {
        labels.insert(crate::vocab::PROTECT_LABEL.to_string(), "true".to_string());
    }
    let a = store::create_account(
        tx,
        p,
        AccountCreate {
            kind,
            parent_id: Some(parent_id.to_string()),
            external_key: Some(key.to_string()),
            name: name.to_string(),
            contact: contact.map(|c| Contact {
                name: c.name.clone(),
                email: c.email.clone(),
            }),
            country: country.map(str::to_string),
            timezone: timezone.map(str::to_string),
            labels,
        },
    )?;
    Ok(a.id)
}

/// Writes `desired` for the partner named in it (created, manageable, if missing) into the
/// database at `db`, in one transaction. Returns what it wrote and a token for the partner.
pub fn seed(db: &Path, desired: &Desired) -> anyhow::Result<(Seeded, String)> {
    let store = Store::open(db)?;
    let desired = desired.clone();
    let out = store.write(move |tx| {
        let (_, token) = store::ensure_partner(tx, &desired.partner.name)?;
        let p = store::partner_by_token(tx, &token)?.expect("token just issued");
        let mut n = Seeded::default();
        members(tx, &p, &p.id, &desired.partner.users, &[], &mut n)?;
        for c in &desired.customers {
            let cid = account(
                tx,
                &p,
                AccountKind::Customer,
                &p.id,
                &c.key,
                &c.name,
                Some(&c.contact),
                c.country.as_deref(),
                c.timezone.as_deref(),
                &c.labels,
                c.protect,
            )?;
            n.accounts += 1;
            members(tx, &p, &cid, &c.users, &c.services, &mut n)?;
            for net in &c.networks {
                let nid = account(
                    tx,
                    &p,
                    AccountKind::Network,
                    &cid,
                    &net.key,
                    &net.name,
                    None,
                    net.country.as_deref(),
                    net.timezone.as_deref(),
                    &net.labels,
                    net.protect,
                )?;
                n.accounts += 1;
                members(tx, &p, &nid, &net.users, &net.services, &mut n)?;
                for s in &net.sub_accounts {
                    let sid = account(
                        tx,
                        &p,
                        AccountKind::SubAccount,
                        &nid,
                        &s.key,
                        &s.name,
                        None,
                        s.country.as_deref(),
                        s.timezone.as_deref(),
                        &s.labels,
                        s.protect,
                    )?;
                    n.accounts += 1;
                    members(tx, &p, &sid, &s.users, &s.services, &mut n)?;
                }
            }
        }
        Ok((n, token))
    });
    out.map_err(|e| anyhow::anyhow!("seeding failed: {}", e.detail))
}
