//! Stage `wire`, the Nexudus dialect: paths, request and response bodies as the Nexudus REST
//! API has them (PascalCase JSON). Shared only by the Nexudus provider and the sandbox's Nexudus
//! router, so both speak exactly this. Pure data; imports nothing of the crate.
//!
//! How partnerctl's tree maps onto it:
//! - the partner is the reseller (`sys/resellers`, one record visible to its login); the
//!   reseller's own business (`Reseller.BusinessId`) holds the partner's users;
//! - a customer is a reseller account (`sys/reselleraccounts`) pointing at its business
//!   (`BusinessId`); `CanManageAccount: false` forbids changes inside it;
//! - a network account is a business whose `RootLocationId` is the customer's business, and a
//!   sub-account a business whose `RootLocationId` is the network's; a business has an `Email`
//!   (the sandbox keeps an account's contact email there) and a `ContactEmail` (a second one),
//!   no contact name, and its country and time zone as ids, `CountryId` and `SimpleTimeZoneId`;
//! - a user (`sys/users`) is one login (by email) with the businesses it may use (`Businesses`)
//!   and one `IsAdmin` flag for all of them; `Active: false` until the person has signed in;
//! - countries and time zones are two read-only lists, [`COUNTRIES`] ([`Country`], whose
//!   `TwoDigitsCode` is the ISO 3166-1 alpha-2 code) and [`TIME_ZONES`] ([`SimpleTimeZone`]).
//!   The vendor's entity reference gives a time zone a `Name`, a `Description`, a `TimeOffset`
//!   and `UsesSummerTime`, and says nothing of IANA names: **the sandbox assumes `Name` is the
//!   IANA time zone name** (`Europe/London`) and serves one record per IANA zone. (An older
//!   page of the vendor's help shows `"Name": "GMT Standard Time"`, a Windows time zone id.)
//!   The provider reads both lists once a read and gives the live model the ISO code and the
//!   IANA name: a `Name` that is a Windows time zone id becomes the IANA zone of CLDR's
//!   Windows table for the business's country (or its world-wide row: one Windows zone stands
//!   for several IANA zones); a business pointing at an id the list lacks, or at a time zone
//!   named neither way, fails the read with the record and the field named, rather than a
//!   guess.
//!
//! Behaviour both sides keep:
//! - `POST /api/token` takes a form-encoded password grant (`grant_type=password`,
//!   `username`, `password`, optional `totp`) and answers [`TokenResponse`]; every other request
//!   carries `Authorization: Bearer <token>` or HTTP Basic with the same login;
//! - lists take `page` (from 1), `size`, `orderBy`, `dir` (1 or -1) and `{Entity}_{Property}`
//!   equality filters (`User_Email`, `ResellerAccount_Business`, `Business_RootLocation`), and
//!   answer [`Page`]; **lists leave out collection fields** (`User.Businesses`), which only a get
//!   by id (`GET /api/sys/users/{id}`) or a batch get (`GET /api/sys/users?id=[1,2,3]`, an
//!   array) return;
//! - writes (`POST` to create, `PUT` of the **complete** record with its `Id` in the body to
//!   update, `DELETE /{id}`) answer [`WriteResult`]; validation failures are HTTP 400 and
//!   refusals of a business rule HTTP **200**, both with `WasSuccessful: false`; a `PUT`
//!   clears every field it leaves out; there are no idempotency keys;
//! - a login's businesses change either by replacing `Businesses` or, without reading and
//!   writing the whole list, by `AddedBusinesses` / `RemovedBusinesses` (with either,
//!   `Businesses` is ignored), so two writers adding a business each never undo each other;
//! - throttling is HTTP 409 with `Retry-After` (seconds) and an empty body, any other 409 has
//!   a body; limits: 60 writes a minute and 5,000 a day, and for all requests 1 per 100 ms,
//!   120 a minute and 5,000 an hour (see [`LIMITS`]).

use serde::{Deserialize, Serialize};

/// Token endpoint (form-encoded password grant).
pub const TOKEN: &str = "/api/token";

/// Header with the exact wait of a throttled request in milliseconds, beside `Retry-After`'s
/// whole seconds (the sandbox sends it, so that clients of a sped-up sandbox wait exactly).
pub const RETRY_AFTER_MS_HEADER: &str = "x-retry-after-ms";
/// The reseller the login belongs to.
pub const RESELLERS: &str = "/api/sys/resellers";
/// The reseller's customers.
pub const RESELLER_ACCOUNTS: &str = "/api/sys/reselleraccounts";
/// Businesses (customers' businesses, network accounts, sub-accounts).
pub const BUSINESSES: &str = "/api/sys/businesses";
/// Logins.
pub const USERS: &str = "/api/sys/users";
/// Countries (read only), what a business's `CountryId` points at.
pub const COUNTRIES: &str = "/api/sys/countries";
/// Time zones (read only here), what a business's `SimpleTimeZoneId` points at.
pub const TIME_ZONES: &str = "/api/sys/simpletimezones";

/// One of the API's rate limits: at most `requests` in any window of `millis` milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Requests allowed in a window.
    pub requests: u32,
    /// The window's length, in milliseconds.
    pub millis: u64,
}

/// The documented limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Windows every request counts against.
    pub all: [Window; 3],
    /// Windows writes (POST, PUT, DELETE) count against as well.
    pub writes: [Window; 2],
}

/// A day, in milliseconds.
pub const DAY_MILLIS: u64 = 86_400_000;

/// The limits of the Nexudus API: 1 request per 100 ms, 120 a minute, 5,000 an hour; writes
/// also 60 a minute and 5,000 a day.
pub const LIMITS: Limits = Limits {
    all: [
        Window {
            requests: 1,
            millis: 100,
        },
        Window {
            requests: 120,
            millis: 60_000,
        },
        Window {
            requests: 5_000,
            millis: 3_600_000,
        },
    ],
    writes: [
        Window {
            requests: 60,
            millis: 60_000,
        },
        Window {
            requests: 5_000,
            millis: DAY_MILLIS,
        },
    ],
};

/// `POST /api/token`'s answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenResponse {
    /// The bearer token.
    pub access_token: String,
    /// Always `bearer`.
    pub token_type: String,
    /// Lifetime in seconds (about 7 days).
    pub expires_in: u64,
    /// For `grant_type=refresh_token`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

/// The token endpoint's error (`{"error": "invalid_grant", ...}`), HTTP 400.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenError {
    /// `invalid_grant`, `unsupported_grant_type`, `invalid_request`.
    pub error: String,
    /// What went wrong.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Page<T> {
    /// The records of this page.
    pub records: Vec<T>,
    /// This page's number, from 1.
    pub current_page: u32,
    /// The page size asked for.
    pub current_page_size: u32,
    /// Sort field.
    #[serde(default)]
    pub current_order_field: Option<String>,
    /// Sort direction: 1 or -1 (some deployments answer "ASC"; read loosely).
    #[serde(default)]
    pub current_sort_direction: Option<serde_json::Value>,
    /// Position of the first record, from 1.
    pub first_item: u64,
    /// Position of the last record.
    pub last_item: u64,
    /// Records in all pages.
    pub total_items: u64,
    /// Pages in all.
    pub total_pages: u32,
    /// Is there a next page?
    pub has_next_page: bool,
    /// Is there a previous page?
    pub has_previous_page: bool,
}

/// The answer to every write.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct WriteResult {
    /// The HTTP status the server meant (also for a refusal sent as HTTP 200).
    pub status: u16,
    /// A summary ("User was successfully created.", or the problems).
    pub message: Option<String>,
    /// The record written: its `Id`.
    pub value: Option<IdValue>,
    /// When it was written.
    #[serde(default)]
    pub updated_on: Option<String>,
    /// Who wrote it.
    #[serde(default)]
    pub updated_by: Option<String>,
    /// The problems, field by field.
    pub errors: Option<Vec<WireError>>,
    /// Did it happen? Check it even on HTTP 200.
    pub was_successful: bool,
}

/// `Value` of a [`WriteResult`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct IdValue {
    /// The record's id.
    pub id: i64,
}

/// One problem of a refused write.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct WireError {
    /// The value sent.
    #[serde(default)]
    pub attempted_value: Option<serde_json::Value>,
    /// What is wrong.
    pub message: String,
    /// The field (`FullName`, `Email`, ...), when one is to blame.
    #[serde(default)]
    pub property_name: Option<String>,
}

/// The reseller (the partner).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Reseller {
    /// Id.
    pub id: i64,
    /// GUID.
    pub unique_id: String,
    /// Display name.
    pub name: String,
    /// The reseller's own business, whose users are the partner's users.
    pub business_id: i64,
    /// Approved by the vendor: without, nothing inside customers can be managed.
    pub approved: bool,
}

/// A reseller account: the link between the reseller and one customer's business.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ResellerAccount {
    /// Id.
    pub id: i64,
    /// GUID.
    pub unique_id: String,
    /// The reseller.
    pub reseller_id: i64,
    /// The customer's business.
    pub business_id: i64,
    /// Its name (read only here; it is the business's).
    pub business_name: String,
    /// May the reseller manage things inside this customer?
    pub can_manage_account: bool,
    /// Does the reseller give first-line support?
    #[serde(default)]
    pub provides_first_line_support: bool,
    /// Free text.
    #[serde(default)]
    pub notes: Option<String>,
    /// Free text.
    #[serde(default)]
    pub scope_of_work: Option<String>,
    /// Created.
    pub created_on: String,
    /// Last changed.
    pub updated_on: String,
}

/// A business: a customer's, a network account or a sub-account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Business {
    /// Id.
    pub id: i64,
    /// GUID.
    #[serde(default)]
    pub unique_id: String,
    /// Display name.
    pub name: String,
    /// The parent business (`None` for a customer's business).
    #[serde(default)]
    pub root_location_id: Option<i64>,
    /// Subdomain slug.
    #[serde(default)]
    pub web_address: Option<String>,
    /// The primary email, shown on the business's profile.
    #[serde(default)]
    pub email: Option<String>,
    /// A secondary contact email.
    #[serde(default)]
    pub contact_email: Option<String>,
    /// Its country: the `Id` of a [`Country`].
    #[serde(default)]
    pub country_id: Option<i64>,
    /// Its time zone: the `Id` of a [`SimpleTimeZone`].
    #[serde(default)]
    pub simple_time_zone_id: Option<i64>,
    /// Suspended by the vendor.
    #[serde(default)]
    pub suspended: bool,
    /// Created.
    #[serde(default)]
    pub created_on: String,
    /// Last changed.
    #[serde(default)]
    pub updated_on: String,
}

/// A country, as the list at [`COUNTRIES`] has it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Country {
    /// Id (a business's `CountryId`).
    pub id: i64,
    /// GUID.
    #[serde(default)]
    pub unique_id: String,
    /// Display name ("United Kingdom").
    #[serde(default)]
    pub name: String,
    /// The ISO 3166-1 alpha-2 code (`GB`).
    #[serde(default)]
    pub two_digits_code: Option<String>,
    /// A BCP 47 culture tag (`en-GB`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub culture: Option<String>,
}

/// A time zone, as the list at [`TIME_ZONES`] has it. What its `Name` holds is the module
/// docs' assumption.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SimpleTimeZone {
    /// Id (a business's `SimpleTimeZoneId`).
    pub id: i64,
    /// GUID.
    #[serde(default)]
    pub unique_id: String,
    /// Its name: an IANA time zone name (`Europe/London`), or what the module docs say.
    #[serde(default)]
    pub name: Option<String>,
    /// Free text ("(UTC) Dublin, Edinburgh, Lisbon, London").
    #[serde(default)]
    pub description: Option<String>,
    /// The offset from UTC (`0:00`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_offset: Option<String>,
    /// Whether it has summer time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uses_summer_time: Option<bool>,
}

/// A login.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct User {
    /// Id (absent when creating).
    #[serde(default)]
    pub id: i64,
    /// GUID.
    #[serde(default)]
    pub unique_id: String,
    /// Full name.
    pub full_name: String,
    /// Email (unique among logins).
    pub email: String,
    /// Administrator of all its businesses.
    #[serde(default)]
    pub is_admin: bool,
    /// Has signed in (an invited login is inactive).
    #[serde(default)]
    pub active: bool,
    /// The businesses it may use. Lists leave it out (`None`); a get by id or a batch get
    /// fills it. In a `PUT` without `AddedBusinesses` or `RemovedBusinesses` it replaces the
    /// list, and `None` clears it like any other omitted field.
    #[serde(default)]
    pub businesses: Option<Vec<i64>>,
    /// In a write: businesses to add to the login's, whatever else was added meanwhile. With
    /// it (or `RemovedBusinesses`), `Businesses` is not a replacement: the list changes only by
    /// what is added and removed. Never in an answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub added_businesses: Option<Vec<i64>>,
    /// In a write: businesses to remove from the login's (see `AddedBusinesses`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removed_businesses: Option<Vec<i64>>,
    /// Created.
    #[serde(default)]
    pub created_on: String,
    /// Last changed.
    #[serde(default)]
    pub updated_on: String,
}

/// `Prop: message; ...`: the problems of a refused write in one line.
pub fn summary(errors: &[WireError]) -> String {
    let parts: Vec<String> = errors
        .iter()
        .map(|e| match &e.property_name {
            Some(p) => format!("{p}: {}", e.message),
            None => e.message.clone(),
        })
        .collect();
    parts.join("; ")
}

/// The query of a batch get: `?id=[1,2,3]`.
pub fn batch_query(ids: &[i64]) -> String {
    let list: Vec<String> = ids.iter().map(i64::to_string).collect();
    format!("[{}]", list.join(","))
}

/// Parses a batch get's `id` parameter (`[1,2,3]`); `None` when malformed.
pub fn parse_batch_query(text: &str) -> Option<Vec<i64>> {
    let inner = text.trim().strip_prefix('[')?.strip_suffix(']')?;
    if inner.trim().is_empty() {
        return Some(Vec::new());
    }
    inner.split(',').map(|s| s.trim().parse().ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_queries_round_trip() {
        assert_eq!(batch_query(&[1, 22, 3]), "[1,22,3]");
        assert_eq!(parse_batch_query("[1, 22,3]"), Some(vec![1, 22, 3]));
        assert_eq!(parse_batch_query("[]"), Some(vec![]));
        assert_eq!(parse_batch_query("1,2"), None);
        assert_eq!(parse_batch_query("[1,x]"), None);
    }

    #[test]
    fn users_are_pascal_case_and_lists_may_omit_businesses() {
        let u: User =
            serde_json::from_str(r#"{"Id":7,"FullName":"A","Email":"a@x.example","IsAdmin":true}"#)
                .unwrap();
        assert_eq!((u.id, u.businesses.as_ref()), (7, None));
        let v = serde_json::to_value(&u).unwrap();
        assert_eq!(v["FullName"], "A");
        assert!(v["Businesses"].is_null());
    }
}
