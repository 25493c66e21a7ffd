//! Stage `provider`, Nexudus reads: the whole estate in as few requests as the API allows —
//! the reseller, then every page (1,000 records) of the country and time zone lists, of its
//! reseller accounts, businesses and users, and the users' businesses by batch gets of 100 ids
//! (lists leave them out) — mapped onto the provider-neutral [`crate::live`] model as `wire`
//! documents. A business's `CountryId` and `SimpleTimeZoneId` become the ISO code and the IANA
//! name through the lists; an id or a name the provider cannot map fails the read, naming the
//! record and the field, instead of being guessed.

use std::collections::{HashMap, HashSet};

use super::client::NexudusClient;
use super::error::NexudusError;
use crate::live::{self, Private, Snapshot};
use crate::vocab::rules::email_key;
use crate::vocab::{AccountKind, Role, UserStatus, rules};
use crate::wire::nexudus::{
    self as wire, Business, Country, Page, Reseller, ResellerAccount, SimpleTimeZone, User,
};

/// Records per list page.
const PAGE_SIZE: u32 = 1_000;
/// Ids per batch get.
const BATCH: usize = 100;

/// What a read learned beyond the snapshot's shared model, kept in the snapshot as the
/// provider's private data: the ids of every login it saw by email (logins of businesses
/// outside the reseller's tree included), so an invitation of a new login needs no lookup
/// first.
#[derive(Debug, Clone, Default)]
pub struct Learned {
    /// Login ids by folded email.
    pub logins: HashMap<String, i64>,
}

/// The country and time zone lists by id: what a business's `CountryId` and
/// `SimpleTimeZoneId` stand for.
#[derive(Debug, Clone, Default)]
pub struct Lookups {
    countries: HashMap<i64, Country>,
    time_zones: HashMap<i64, SimpleTimeZone>,
}

/// An answer the provider does not understand, from the list at `path`.
fn not_understood(path: &str, reason: String) -> NexudusError {
    NexudusError::Decode {
        method: reqwest::Method::GET,
        path: path.into(),
        reason,
    }
}

impl Lookups {
    /// The lists as read.
    pub fn new(countries: Vec<Country>, time_zones: Vec<SimpleTimeZone>) -> Self {
        Lookups {
            countries: countries.into_iter().map(|c| (c.id, c)).collect(),
            time_zones: time_zones.into_iter().map(|z| (z.id, z)).collect(),
        }
    }

    /// The ISO 3166-1 alpha-2 code of `b`'s country (`None`: it has none).
    fn country(&self, b: &Business) -> Result<Option<String>, NexudusError> {
        let Some(id) = b.country_id else {
            return Ok(None);
        };
        let Some(c) = self.countries.get(&id) else {
            return Err(not_understood(
                wire::BUSINESSES,
                format!(
                    "business {} ({:?}) has CountryId {id}, which is not in the country list ({}); partnerctl does not guess a country: run the plan again, and if this persists, set the business's country in the Nexudus dashboard",
                    b.id,
                    b.name,
                    wire::COUNTRIES
                ),
            ));
        };
        match c.two_digits_code.as_deref().map(str::to_ascii_uppercase) {
            Some(code) if rules::valid_country(&code) => Ok(Some(code)),
            other => Err(not_understood(
                wire::COUNTRIES,
                format!(
                    "country {id} ({:?}, the CountryId of business {} {:?}) has TwoDigitsCode {}, not an ISO 3166-1 alpha-2 code; partnerctl does not guess a country: report this answer to partnerctl's maintainers",
                    c.name,
                    b.id,
                    b.name,
                    other.map_or_else(|| "null".to_string(), |o| format!("{o:?}")),
                ),
            )),
        }
    }

    /// The IANA name of `b`'s time zone (`None`: it has none): the record's `Name` when it is
    /// one, else the zone CLDR's table gives a Windows zone name (`GMT Standard Time`) in
    /// `country` (the business's), or world-wide.
    fn time_zone(
        &self,
        b: &Business,
        country: Option<&str>,
    ) -> Result<Option<String>, NexudusError> {
        let Some(id) = b.simple_time_zone_id else {
            return Ok(None);
        };
        let Some(z) = self.time_zones.get(&id) else {
            return Err(not_understood(
                wire::BUSINESSES,
                format!(
                    "business {} ({:?}) has SimpleTimeZoneId {id}, which is not in the time zone list ({}); partnerctl does not guess a time zone: run the plan again, and if this persists, set the business's time zone in the Nexudus dashboard",
                    b.id,
                    b.name,
                    wire::TIME_ZONES
                ),
            ));
        };
        let iana = z.name.as_deref().and_then(|name| {
            if rules::valid_timezone(name) {
                return Some(name.to_string());
            }
            country
                .and_then(|c| localzone::win_zone_to_iana(name, Some(c)))
                .or_else(|| localzone::win_zone_to_iana(name, Some("001")))
                .filter(|iana| rules::valid_timezone(iana))
                .map(str::to_string)
        });
        match (iana, z.name.as_deref()) {
            (Some(iana), _) => Ok(Some(iana)),
            (None, other) => Err(not_understood(
                wire::TIME_ZONES,
                format!(
                    "time zone {id} (the SimpleTimeZoneId of business {} {:?}) has Name {}, neither an IANA time zone name like Europe/London nor a Windows one like GMT Standard Time; partnerctl does not guess which zone it stands for: report this answer to partnerctl's maintainers",
                    b.id,
                    b.name,
                    other.map_or_else(|| "null".to_string(), |o| format!("{o:?}")),
                ),
            )),
        }
    }
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
pub async fn snapshot(c: &NexudusClient, time_scale: f64) -> Result<Snapshot, NexudusError> {
    let q = [("page", "1".to_string()), ("size", "2".to_string())];
    let resellers: Page<Reseller> = c.get(wire::RESELLERS, &q).await?;
    let [reseller] = resellers.records.as_slice() else {
        return Err(NexudusError::Setup(format!(
            "the login sees {} reseller records; partnerctl needs a login of exactly one reseller",
            resellers.records.len()
        )));
    };
    let lookups = Lookups::new(
        all(c, wire::COUNTRIES, &[]).await?,
        all(c, wire::TIME_ZONES, &[]).await?,
    );
    let by_reseller = [("ResellerAccount_Reseller", reseller.id.to_string())];
    let accounts: Vec<ResellerAccount> = all(c, wire::RESELLER_ACCOUNTS, &by_reseller).await?;
    let businesses: Vec<Business> = all(c, wire::BUSINESSES, &[]).await?;
    let listed: Vec<User> = all(c, wire::USERS, &[]).await?;
    let users = with_businesses(c, &listed).await?;
    assemble(
        reseller,
        &accounts,
        &businesses,
        &users,
        &lookups,
        time_scale,
    )
}

/// The live model of what was read (an error for a business whose country or time zone
/// `lookups` cannot map).
pub fn assemble(
    reseller: &Reseller,
    accounts: &[ResellerAccount],
    businesses: &[Business],
    users: &[User],
    lookups: &Lookups,
    time_scale: f64,
) -> Result<Snapshot, NexudusError> {
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
    let out = accounts_of(accounts, businesses, lookups, &partner_id)?;
    let live_users = users_of(users, &partner_id, &out);
    let learned = Learned {
        logins: users.iter().map(|u| (email_key(&u.email), u.id)).collect(),
    };
    Ok(Snapshot {
        partner,
        accounts: out,
        users: live_users,
        services: Vec::new(),
        catalog: Vec::new(),
        limits: limits(time_scale),
        read: None,
        private: Private::new(learned),
    })
}

/// The reseller's customers (its reseller accounts) and, below each, its networks and their
/// sub-accounts (businesses whose root location is the one above).
fn accounts_of(
    accounts: &[ResellerAccount],
    businesses: &[Business],
    lookups: &Lookups,
    partner_id: &str,
) -> Result<Vec<live::Account>, NexudusError> {
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
            lookups,
        )?);
        for n in children.get(&b.id).into_iter().flatten() {
            out.push(account(
                n,
                AccountKind::Network,
                &b.id.to_string(),
                true,
                lookups,
            )?);
            for s in children.get(&n.id).into_iter().flatten() {
                out.push(account(
                    s,
                    AccountKind::SubAccount,
                    &n.id.to_string(),
                    true,
                    lookups,
                )?);
            }
        }
    }
    Ok(out)
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

fn account(
    b: &Business,
    kind: AccountKind,
    parent_id: &str,
    manageable: bool,
    lookups: &Lookups,
) -> Result<live::Account, NexudusError> {
    let country = lookups.country(b)?;
    Ok(live::Account {
        id: b.id.to_string(),
        kind,
        parent_id: parent_id.to_string(),
        external_key: None,
        name: b.name.clone(),
        contact: None,
        timezone: lookups.time_zone(b, country.as_deref())?,
        country,
        labels: Default::default(),
        etag: b.updated_on.clone(),
        manageable,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The ids of the lists below: the vendor's are its own, so not ISO numbers here.
    const GB: i64 = 3;
    const FR: i64 = 4;
    const LONDON: i64 = 70;
    const PARIS: i64 = 71;

    fn business(id: i64, name: &str, root: Option<i64>) -> Business {
        Business {
            id,
            unique_id: String::new(),
            name: name.into(),
            root_location_id: root,
            web_address: None,
            email: None,
            contact_email: None,
            country_id: Some(GB),
            simple_time_zone_id: Some(LONDON),
            suspended: false,
            created_on: String::new(),
            updated_on: "t1".into(),
        }
    }

    fn country(id: i64, code: &str) -> Country {
        Country {
            id,
            unique_id: String::new(),
            name: format!("Country {code}"),
            two_digits_code: Some(code.into()),
            culture: None,
        }
    }

    fn zone(id: i64, name: &str) -> SimpleTimeZone {
        SimpleTimeZone {
            id,
            unique_id: String::new(),
            name: Some(name.into()),
            description: None,
            time_offset: None,
            uses_summer_time: None,
        }
    }

    fn lookups() -> Lookups {
        Lookups::new(
            vec![country(GB, "GB"), country(FR, "FR")],
            vec![zone(LONDON, "Europe/London"), zone(PARIS, "Europe/Paris")],
        )
    }

    fn reseller() -> Reseller {
        Reseller {
            id: 1,
            unique_id: String::new(),
            name: "Acme Partners".into(),
            business_id: 10,
            approved: true,
        }
    }

    fn ra(id: i64, business_id: i64, manage: bool) -> ResellerAccount {
        ResellerAccount {
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
        }
    }

    /// The estate of one customer (business 20) with a network (21) and a sub-account (22),
    /// and a business of someone else's (99), read with `lookups`.
    fn read(
        change: impl Fn(&mut [Business; 4]),
        lookups: &Lookups,
    ) -> Result<Snapshot, NexudusError> {
        let mut businesses = [
            business(20, "Contoso", None),
            business(21, "Contoso Network", Some(20)),
            business(22, "Contoso Paris", Some(21)),
            business(99, "Someone else's", None),
        ];
        change(&mut businesses);
        assemble(
            &reseller(),
            &[ra(100, 20, true)],
            &businesses,
            &[],
            lookups,
            1.0,
        )
    }

    #[test]
    fn the_tree_is_built_from_reseller_accounts_and_root_locations() {
        let reseller = reseller();
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
        let s = assemble(
            &reseller,
            &[ra(100, 20, false), ra(101, 30, true)],
            &businesses,
            &users,
            &lookups(),
            1.0,
        )
        .unwrap();
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
        let learned = s.private.get::<Learned>().expect("the read's logins");
        assert_eq!(learned.logins["jane@contoso.example"], 2);
        assert_eq!(learned.logins.len(), 2);
        assert_eq!(s.limits.writes_per_minute, Some(60));
        assert_eq!(s.limits.writes_per_day, Some(5_000));
    }

    #[test]
    fn country_and_time_zone_ids_become_the_iso_code_and_the_iana_name() {
        let s = read(
            |b| {
                b[1].country_id = None;
                b[1].simple_time_zone_id = None;
                b[2].country_id = Some(FR);
                b[2].simple_time_zone_id = Some(PARIS);
            },
            &lookups(),
        )
        .unwrap();
        let fields: Vec<(&str, Option<&str>, Option<&str>)> = s
            .accounts
            .iter()
            .map(|a| {
                let (c, t) = (a.country.as_deref(), a.timezone.as_deref());
                (a.name.as_str(), c, t)
            })
            .collect();
        assert_eq!(
            fields,
            [
                ("Contoso", Some("GB"), Some("Europe/London")),
                ("Contoso Network", None, None),
                ("Contoso Paris", Some("FR"), Some("Europe/Paris")),
            ]
        );
        // A code in lower case is still the code.
        let lower = Lookups::new(vec![country(GB, "gb")], vec![zone(LONDON, "Europe/London")]);
        let s = read(|_| {}, &lower).unwrap();
        assert_eq!(s.accounts[0].country.as_deref(), Some("GB"));
    }

    /// The message of the read's error.
    #[track_caller]
    fn refused(change: impl Fn(&mut [Business; 4]), lookups: &Lookups) -> String {
        match read(change, lookups) {
            Err(e @ NexudusError::Decode { .. }) => e.to_string(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_id_the_lists_lack_fails_the_read_naming_the_business_and_the_field() {
        let e = refused(|b| b[2].country_id = Some(999), &lookups());
        assert!(
            e.starts_with(
                "GET /api/sys/businesses: unexpected answer: business 22 (\"Contoso Paris\") has CountryId 999, which is not in the country list (/api/sys/countries)"
            ),
            "{e}"
        );
        let e = refused(|b| b[1].simple_time_zone_id = Some(5), &lookups());
        assert!(
            e.starts_with(
                "GET /api/sys/businesses: unexpected answer: business 21 (\"Contoso Network\") has SimpleTimeZoneId 5, which is not in the time zone list (/api/sys/simpletimezones)"
            ),
            "{e}"
        );
        // A business outside the reseller's estate is not the partner's concern.
        let s = read(|b| b[3].country_id = Some(999), &lookups()).unwrap();
        assert_eq!(s.accounts.len(), 3);
    }

    /// A time-zone list that names zones as Windows does becomes IANA names by CLDR's table,
    /// for the business's country where the table has a row for it (Canada's Central Standard
    /// Time is Winnipeg), else world-wide (France has none: Chicago).
    #[test]
    fn windows_zone_names_become_iana_names_by_the_business_country() {
        const CA: i64 = 124;
        let windows = Lookups::new(
            vec![country(GB, "GB"), country(FR, "FR"), country(CA, "CA")],
            vec![
                zone(LONDON, "GMT Standard Time"),
                zone(PARIS, "Central Standard Time"),
            ],
        );
        let s = read(
            |b| {
                b[1].country_id = Some(FR);
                b[1].simple_time_zone_id = Some(PARIS);
                b[2].country_id = Some(CA);
                b[2].simple_time_zone_id = Some(PARIS);
            },
            &windows,
        )
        .unwrap();
        let zones: Vec<Option<&str>> = s.accounts.iter().map(|a| a.timezone.as_deref()).collect();
        assert_eq!(
            zones,
            [
                Some("Europe/London"),
                Some("America/Chicago"),
                Some("America/Winnipeg"),
            ]
        );
    }

    #[test]
    fn a_record_the_provider_cannot_map_fails_the_read_naming_it() {
        let made_up = Lookups::new(
            vec![country(GB, "GB")],
            vec![zone(LONDON, "Greenwich Mean Time Zone")],
        );
        let e = refused(|_| {}, &made_up);
        assert!(
            e.starts_with(
                "GET /api/sys/simpletimezones: unexpected answer: time zone 70 (the SimpleTimeZoneId of business 20 \"Contoso\") has Name \"Greenwich Mean Time Zone\", neither an IANA time zone name"
            ),
            "{e}"
        );
        let mut nameless = zone(LONDON, "");
        nameless.name = None;
        let e = refused(
            |_| {},
            &Lookups::new(vec![country(GB, "GB")], vec![nameless]),
        );
        assert!(e.contains("has Name null, neither an IANA"), "{e}");
        let uk = Lookups::new(vec![country(GB, "UK")], vec![zone(LONDON, "Europe/London")]);
        let e = refused(|_| {}, &uk);
        assert!(
            e.starts_with(
                "GET /api/sys/countries: unexpected answer: country 3 (\"Country UK\", the CountryId of business 20 \"Contoso\") has TwoDigitsCode \"UK\", not an ISO 3166-1 alpha-2 code"
            ),
            "{e}"
        );
    }
}
