//! Stage `provider`, Nexudus reads: the whole estate in as few requests as the API allows —
//! the reseller, then every page (1,000 records) of its reseller accounts, businesses and users,
//! and the users' businesses by batch gets of 100 ids (lists leave them out) — mapped onto the
//! provider-neutral [`crate::live`] model as `wire` documents.

use std::collections::{HashMap, HashSet};

use super::client::NexudusClient;
use super::error::NexudusError;
use super::wire::{self, Business, Page, Reseller, ResellerAccount, User};
use crate::live::{self, Snapshot};
use crate::vocab::{AccountKind, Role, UserStatus};

/// Records per list page.
const PAGE_SIZE: u32 = 1_000;
/// Ids per batch get.
const BATCH: usize = 100;

/// What a read learned beyond the snapshot: names by id (for the runbook's "select ..."), and
/// the logins by email (an invitation of a new login needs no lookup first).
#[derive(Debug, Clone, Default)]
pub struct Learned {
    /// Account names by live id.
    pub names: HashMap<String, String>,
    /// Login ids by lower-case email.
    pub logins: HashMap<String, i64>,
}

/// Every page of a list.
async fn all<T: serde::de::DeserializeOwned>(
    c: &NexudusClient,
    path: &str,
    filters: &[(&str, String)],
) -> Result<Vec<T>, NexudusError> {
    let mut out = Vec::new();
    let mut page = 1u32;
    loop {
        let mut q: Vec<(&str, String)> = vec![
            ("page", page.to_string()),
            ("size", PAGE_SIZE.to_string()),
            ("orderBy", "Id".into()),
            ("dir", "1".into()),
        ];
        q.extend(filters.iter().cloned());
        let p: Page<T> = c.get(path, &q).await?;
        out.extend(p.records);
        if !p.has_next_page {
            return Ok(out);
        }
        page += 1;
    }
}

/// The users with their businesses, by batch gets.
async fn with_businesses(c: &NexudusClient, listed: &[User]) -> Result<Vec<User>, NexudusError> {
    let ids: Vec<i64> = listed.iter().map(|u| u.id).collect();
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(BATCH) {
        let q = [("id", wire::batch_query(chunk))];
        let users: Vec<User> = c.get(wire::USERS, &q).await?;
        out.extend(users);
    }
    Ok(out)
}

/// Reads the whole estate of the login's reseller.
pub async fn snapshot(
    c: &NexudusClient,
    time_scale: f64,
) -> Result<(Snapshot, Learned), NexudusError> {
    let q = [("page", "1".to_string()), ("size", "2".to_string())];
    let resellers: Page<Reseller> = c.get(wire::RESELLERS, &q).await?;
    let [reseller] = resellers.records.as_slice() else {
        return Err(NexudusError::Setup(format!(
            "the login sees {} reseller records; partnerctl needs a login of exactly one reseller",
            resellers.records.len()
        )));
    };
    let by_reseller = [("ResellerAccount_Reseller", reseller.id.to_string())];
    let accounts: Vec<ResellerAccount> = all(c, wire::RESELLER_ACCOUNTS, &by_reseller).await?;
    let businesses: Vec<Business> = all(c, wire::BUSINESSES, &[]).await?;
    let listed: Vec<User> = all(c, wire::USERS, &[]).await?;
    let users = with_businesses(c, &listed).await?;
    Ok(assemble(
        reseller,
        &accounts,
        &businesses,
        &users,
        time_scale,
    ))
}

/// The live model of what was read.
pub fn assemble(
    reseller: &Reseller,
    accounts: &[ResellerAccount],
    businesses: &[Business],
    users: &[User],
    time_scale: f64,
) -> (Snapshot, Learned) {
    let partner_id = reseller.business_id.to_string();
    let partner = live::PartnerInfo {
        id: partner_id.clone(),
        name: reseller.name.clone(),
        manageable: reseller.approved,
        support_level: if reseller.approved {
            "approved"
        } else {
            "not approved"
        }
        .into(),
    };
    let out = accounts_of(accounts, businesses, &partner_id);
    let live_users = users_of(users, &partner_id, &out);
    let learned = Learned {
        names: out.iter().map(|a| (a.id.clone(), a.name.clone())).collect(),
        logins: users
            .iter()
            .map(|u| (u.email.to_lowercase(), u.id))
            .collect(),
    };
    let snapshot = Snapshot {
        partner,
        accounts: out,
        users: live_users,
        services: Vec::new(),
        catalog: Vec::new(),
        limits: limits(time_scale),
        read: None,
    };
    (snapshot, learned)
}

/// The reseller's customers (its reseller accounts) and, below each, its networks and their
/// sub-accounts (businesses whose root location is the one above).
fn accounts_of(
    accounts: &[ResellerAccount],
    businesses: &[Business],
    partner_id: &str,
) -> Vec<live::Account> {
    let by_id: HashMap<i64, &Business> = businesses.iter().map(|b| (b.id, b)).collect();
    let mut children: HashMap<i64, Vec<&Business>> = HashMap::new();
    for b in businesses {
        if let Some(root) = b.root_location_id {
            children.entry(root).or_default().push(b);
        }
    }
    let mut out = Vec::new();
    for ra in accounts {
        let Some(b) = by_id.get(&ra.business_id) else {
            continue;
        };
        out.push(account(
            b,
            AccountKind::Customer,
            partner_id,
            ra.can_manage_account,
        ));
        for n in children.get(&b.id).into_iter().flatten() {
            out.push(account(n, AccountKind::Network, &b.id.to_string(), true));
            for s in children.get(&n.id).into_iter().flatten() {
                out.push(account(s, AccountKind::SubAccount, &n.id.to_string(), true));
            }
        }
    }
    out
}

/// One live user per login and business it belongs to, for the partner's business and the
/// accounts read; a login's other businesses are not the partner's concern.
fn users_of(users: &[User], partner_id: &str, accounts: &[live::Account]) -> Vec<live::User> {
    let known: HashSet<&str> = accounts.iter().map(|a| a.id.as_str()).collect();
    let mut live_users = Vec::new();
    for u in users {
        for b in u.businesses.iter().flatten() {
            let account_id = b.to_string();
            if account_id == partner_id || known.contains(account_id.as_str()) {
                live_users.push(live::User {
                    id: format!("{}/{}", u.id, account_id),
                    account_id,
                    email: u.email.clone(),
                    name: u.full_name.clone(),
                    role: if u.is_admin {
                        Role::Admin
                    } else {
                        Role::Member
                    },
                    status: if u.active {
                        UserStatus::Active
                    } else {
                        UserStatus::Invited
                    },
                    etag: u.updated_on.clone(),
                });
            }
        }
    }
    live_users
}

/// The API's published limits, per minute and per (scaled) day.
fn limits(time_scale: f64) -> live::Limits {
    let per_minute = |w: wire::Window| {
        let n = f64::from(w.requests) * 60_000.0 / w.millis as f64 * time_scale;
        Some(n.round() as u32)
    };
    live::Limits {
        reads_per_minute: per_minute(wire::LIMITS.all[1]),
        writes_per_minute: per_minute(wire::LIMITS.writes[0]),
        writes_per_day: Some(wire::LIMITS.writes[1].requests),
        day_millis: Some((wire::DAY_MILLIS as f64 / time_scale).round() as u64),
    }
}

fn account(b: &Business, kind: AccountKind, parent_id: &str, manageable: bool) -> live::Account {
    live::Account {
        id: b.id.to_string(),
        kind,
        parent_id: parent_id.to_string(),
        external_key: None,
        name: b.name.clone(),
        contact: None,
        country: b.country_code.clone(),
        timezone: b.time_zone.clone(),
        labels: Default::default(),
        etag: b.updated_on.clone(),
        manageable,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn business(id: i64, name: &str, root: Option<i64>) -> Business {
        Business {
            id,
            unique_id: String::new(),
            name: name.into(),
            root_location_id: root,
            web_address: None,
            email_contact: None,
            country_code: Some("GB".into()),
            time_zone: Some("Europe/London".into()),
            suspended: false,
            created_on: String::new(),
            updated_on: "t1".into(),
        }
    }

    #[test]
    fn the_tree_is_built_from_reseller_accounts_and_root_locations() {
        let reseller = Reseller {
            id: 1,
            unique_id: String::new(),
            name: "Acme Partners".into(),
            business_id: 10,
            approved: true,
        };
        let ra = |id: i64, business_id: i64, manage: bool| ResellerAccount {
            id,
            unique_id: String::new(),
            reseller_id: 1,
            business_id,
            business_name: String::new(),
            can_manage_account: manage,
            provides_first_line_support: false,
            notes: None,
            scope_of_work: None,
            created_on: String::new(),
            updated_on: String::new(),
        };
        let businesses = [
            business(10, "Acme Partners HQ", None),
            business(20, "Contoso", None),
            business(21, "Contoso Network", Some(20)),
            business(22, "Contoso Paris", Some(21)),
            business(30, "Fabrikam", None),
            business(99, "Someone else's", None),
        ];
        let user = |id: i64, email: &str, admin: bool, active: bool, b: Vec<i64>| User {
            id,
            unique_id: String::new(),
            full_name: "N".into(),
            email: email.into(),
            is_admin: admin,
            active,
            businesses: Some(b),
            added_businesses: None,
            removed_businesses: None,
            created_on: String::new(),
            updated_on: "u".into(),
        };
        let users = [
            user(1, "ops@acme.example", true, true, vec![10]),
            user(2, "jane@contoso.example", true, false, vec![20, 22, 99]),
        ];
        let (s, learned) = assemble(
            &reseller,
            &[ra(100, 20, false), ra(101, 30, true)],
            &businesses,
            &users,
            1.0,
        );
        let kinds: Vec<(String, AccountKind, String, bool)> = s
            .accounts
            .iter()
            .map(|a| (a.name.clone(), a.kind, a.parent_id.clone(), a.manageable))
            .collect();
        assert_eq!(
            kinds,
            [
                ("Contoso".into(), AccountKind::Customer, "10".into(), false),
                (
                    "Contoso Network".into(),
                    AccountKind::Network,
                    "20".into(),
                    true
                ),
                (
                    "Contoso Paris".into(),
                    AccountKind::SubAccount,
                    "21".into(),
                    true
                ),
                ("Fabrikam".into(), AccountKind::Customer, "10".into(), true),
            ]
        );
        let u: Vec<(&str, &str, Role, UserStatus)> = s
            .users
            .iter()
            .map(|u| (u.id.as_str(), u.account_id.as_str(), u.role, u.status))
            .collect();
        assert_eq!(
            u,
            [
                ("1/10", "10", Role::Admin, UserStatus::Active),
                ("2/20", "20", Role::Admin, UserStatus::Invited),
                ("2/22", "22", Role::Admin, UserStatus::Invited),
            ]
        );
        assert_eq!(s.partner.id, "10");
        assert_eq!(learned.names["21"], "Contoso Network");
        assert_eq!(s.limits.writes_per_minute, Some(60));
        assert_eq!(s.limits.writes_per_day, Some(5_000));
    }
}
