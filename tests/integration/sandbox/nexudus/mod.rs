//! The sandbox's Nexudus dialect (`sandbox serve --dialect nexudus`) against the real binary:
//! authentication, lists, full-record writes and their refusals, pacing and quotas, failure
//! injection, the admin commands that play the vendor's dashboard, and both dialects over one
//! database. Responses are read into the wire types of `wire::nexudus`.

mod admin;
mod auth;
mod faults;
mod lists;
mod logins;
mod pacing;
mod refusals;
mod writes;

use serde_json::Value;

use crate::support::nexudus::Nx;

/// The id of the only business named `name`.
async fn business_id(nx: &Nx, name: &str) -> i64 {
    let all = nx.list_all("/api/sys/businesses", 1000).await;
    let found: Vec<&Value> = all.iter().filter(|b| b["Name"] == name).collect();
    assert_eq!(found.len(), 1, "one business named {name}: {all:?}");
    found[0]["Id"].as_i64().unwrap()
}

/// The reseller's own business.
async fn home_id(nx: &Nx) -> i64 {
    let page = nx.get("/api/sys/resellers").await.ok();
    page["Records"][0]["BusinessId"].as_i64().unwrap()
}

/// The id of the country whose `TwoDigitsCode` is `code`.
async fn country_id(nx: &Nx, code: &str) -> i64 {
    let page = nx
        .get(&format!("/api/sys/countries?Country_TwoDigitsCode={code}"))
        .await
        .ok();
    assert_eq!(page["TotalItems"], 1, "one country {code}: {page}");
    page["Records"][0]["Id"].as_i64().unwrap()
}

/// The id of the time zone named `name`.
async fn time_zone_id(nx: &Nx, name: &str) -> i64 {
    let page = nx
        .get(&format!(
            "/api/sys/simpletimezones?SimpleTimeZone_Name={name}"
        ))
        .await
        .ok();
    assert_eq!(page["TotalItems"], 1, "one time zone {name}: {page}");
    page["Records"][0]["Id"].as_i64().unwrap()
}
