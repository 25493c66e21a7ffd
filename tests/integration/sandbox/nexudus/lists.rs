//! Lists: the `Page` envelope, paging from 1, sizes capped at 1000, sorting, the equality
//! filters, users without `Businesses` in lists but with them by id and in a batch get, and the
//! read-only country and time zone lists.

use partnerctl::wire::nexudus::{Business, Country, Page, ResellerAccount, SimpleTimeZone, User};
use serde_json::{Value, json};

use super::{business_id, home_id};
use crate::support::Sandbox;
use crate::support::nexudus::{LOGIN, Nx};

fn page<T: serde::de::DeserializeOwned>(v: Value) -> Page<T> {
    serde_json::from_value(v).unwrap()
}

/// Five customers, a network under the first and a sub-account under the network.
fn estate(sb: &Sandbox) {
    for c in ["Alpha", "Bravo", "Charlie", "Delta", "Echo"] {
        sb.add_customer(c, &[]);
    }
    sb.add_account(&[
        "--kind",
        "network",
        "--name",
        "Alpha North",
        "--parent",
        "Alpha",
    ]);
    sb.add_account(&[
        "--kind",
        "sub_account",
        "--name",
        "Alpha N1",
        "--parent",
        "Alpha North",
    ]);
}

#[tokio::test]
async fn lists_are_pages_from_one_sorted_and_filtered() {
    let sb = Sandbox::nexudus(&[]);
    let nx = sb.nexudus_partner("Acme", LOGIN);
    estate(&sb);
    let first: Page<Business> = page(nx.get("/api/sys/businesses?page=1&size=3").await.ok());
    assert_eq!(first.records.len(), 3);
    assert_eq!((first.current_page, first.current_page_size), (1, 3));
    assert_eq!(
        (first.first_item, first.last_item, first.total_items),
        (1, 3, 8)
    );
    assert_eq!(first.total_pages, 3);
    assert!(first.has_next_page && !first.has_previous_page);
    assert_eq!(first.current_order_field.as_deref(), Some("Id"));
    let last: Page<Business> = page(nx.get("/api/sys/businesses?page=3&size=3").await.ok());
    assert_eq!(
        (last.first_item, last.last_item, last.records.len()),
        (7, 8, 2)
    );
    assert!(!last.has_next_page && last.has_previous_page);
    let all = nx.list_all("/api/sys/businesses", 3).await;
    let mut ids: Vec<i64> = all.iter().map(|b| b["Id"].as_i64().unwrap()).collect();
    ids.dedup();
    assert_eq!(ids.len(), 8, "every business once, in id order");
    assert!(ids.windows(2).all(|w| w[0] < w[1]));

    let by_name: Page<Business> = page(
        nx.get("/api/sys/businesses?orderBy=Name&dir=-1&size=1000")
            .await
            .ok(),
    );
    let names: Vec<&str> = by_name.records.iter().map(|b| b.name.as_str()).collect();
    let mut sorted = names.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(names, sorted);
    assert_eq!(by_name.current_sort_direction, Some(json!(-1)));
    let capped: Page<Business> = page(nx.get("/api/sys/businesses?size=5000").await.ok());
    assert_eq!(capped.current_page_size, 1000);

    let alpha = business_id(&nx, "Alpha").await;
    let north = business_id(&nx, "Alpha North").await;
    let under: Page<Business> = page(
        nx.get(&format!(
            "/api/sys/businesses?Business_RootLocation={alpha}"
        ))
        .await
        .ok(),
    );
    assert_eq!(under.records.len(), 1);
    assert_eq!(
        (under.records[0].id, under.records[0].root_location_id),
        (north, Some(alpha))
    );
    let home = home_id(&nx).await;
    let own: Business =
        serde_json::from_value(nx.get(&format!("/api/sys/businesses/{home}")).await.ok()).unwrap();
    assert_eq!((own.name.as_str(), own.root_location_id), ("Acme", None));
}

#[tokio::test]
async fn reseller_accounts_are_the_customers_pointing_at_their_businesses() {
    let sb = Sandbox::nexudus(&[]);
    let nx = sb.nexudus_partner("Acme", LOGIN);
    estate(&sb);
    let links: Page<ResellerAccount> = page(nx.get("/api/sys/reselleraccounts").await.ok());
    assert_eq!(links.total_items, 5, "one reseller account per customer");
    let bravo = business_id(&nx, "Bravo").await;
    let one: Page<ResellerAccount> = page(
        nx.get(&format!(
            "/api/sys/reselleraccounts?ResellerAccount_Business={bravo}"
        ))
        .await
        .ok(),
    );
    assert_eq!(one.records.len(), 1);
    let link = &one.records[0];
    assert_eq!(
        (link.business_name.as_str(), link.can_manage_account),
        ("Bravo", true)
    );
    assert_ne!(
        link.id, link.business_id,
        "a reseller account's id is not its business's"
    );
    let by_id: ResellerAccount = serde_json::from_value(
        nx.get(&format!("/api/sys/reselleraccounts/{}", link.id))
            .await
            .ok(),
    )
    .unwrap();
    assert_eq!(&by_id, link);
    nx.get(&format!("/api/sys/reselleraccounts/{bravo}"))
        .await
        .refused(404);
}

#[tokio::test]
async fn unknown_parameters_and_bad_values_are_400() {
    let sb = Sandbox::nexudus(&[]);
    let nx = sb.nexudus_partner("Acme", LOGIN);
    for (path, property) in [
        ("/api/sys/businesses?Business_Name=x", "Business_Name"),
        ("/api/sys/businesses?page=0", "page"),
        ("/api/sys/businesses?dir=2", "dir"),
        ("/api/sys/businesses?orderBy=Email", "orderBy"),
        (
            "/api/sys/reselleraccounts?ResellerAccount_Business=x",
            "ResellerAccount_Business",
        ),
        ("/api/sys/users?id=1,2", "id"),
    ] {
        let r = nx.get(path).await.refused(400);
        assert_eq!(r["Errors"][0]["PropertyName"], property, "{path}: {r}");
    }
}

#[tokio::test]
async fn user_lists_leave_businesses_out_and_gets_by_id_fill_them() {
    let sb = Sandbox::nexudus(&[]);
    let nx = sb.nexudus_partner("Acme", LOGIN);
    estate(&sb);
    let (alpha, bravo, home) = (
        business_id(&nx, "Alpha").await,
        business_id(&nx, "Bravo").await,
        home_id(&nx).await,
    );
    let ann = create(&nx, "Ann", "Ann@Example.com", &[bravo, alpha]).await;
    let bob = create(&nx, "Bob", "bob@example.com", &[home]).await;
    let list = nx.get("/api/sys/users").await.ok();
    for u in list["Records"].as_array().unwrap() {
        assert!(u["Businesses"].is_null(), "lists leave Businesses out: {u}");
    }
    let batch = nx
        .get(&format!("/api/sys/users?id=[{ann},{bob},999]"))
        .await
        .ok();
    let users: Vec<User> = serde_json::from_value(batch).unwrap();
    assert_eq!(users.len(), 2, "unknown ids are skipped");
    let mut want = vec![alpha, bravo];
    want.sort();
    assert_eq!(users[0].businesses.as_deref(), Some(want.as_slice()));
    assert_eq!(users[1].businesses.as_deref(), Some([home].as_slice()));
    let slash: Vec<User> =
        serde_json::from_value(nx.get(&format!("/api/sys/users/?id=[{bob}]")).await.ok()).unwrap();
    assert_eq!(slash, users[1..]);
    let one: User =
        serde_json::from_value(nx.get(&format!("/api/sys/users/{ann}")).await.ok()).unwrap();
    assert_eq!(one, users[0]);
    assert!(!one.active && !one.is_admin);
    let found: Page<User> = page(
        nx.get("/api/sys/users?User_Email=ann@EXAMPLE.com")
            .await
            .ok(),
    );
    assert_eq!(found.records.len(), 1);
    assert_eq!(
        (found.records[0].id, found.records[0].email.as_str()),
        (ann, "Ann@Example.com")
    );
    let by_email: Page<User> = page(nx.get("/api/sys/users?orderBy=Email&dir=-1").await.ok());
    assert_eq!(by_email.records[0].id, bob);
    nx.get("/api/sys/users/999").await.refused(404);
}

/// Creates a user; its id.
async fn create(nx: &Nx, name: &str, email: &str, businesses: &[i64]) -> i64 {
    nx.post(
        "/api/sys/users",
        json!({"FullName": name, "Email": email, "Businesses": businesses}),
    )
    .await
    .written()
}

/// The country and time zone lists: pages like every list, each record by id, a filter, no
/// writes; the ids are the same in another database.
#[tokio::test]
async fn countries_and_time_zones_are_read_only_lists_with_the_same_ids_everywhere() {
    let sb = Sandbox::nexudus(&[]);
    let nx = sb.nexudus_partner("Acme", LOGIN);
    let countries: Vec<Country> =
        serde_json::from_value(Value::Array(nx.list_all("/api/sys/countries", 100).await)).unwrap();
    assert!(countries.len() > 240, "{}", countries.len());
    let first: Page<Country> = page(nx.get("/api/sys/countries?size=100").await.ok());
    assert_eq!(first.total_items, countries.len() as u64);
    assert!(first.has_next_page);
    let gb: Vec<&Country> = countries
        .iter()
        .filter(|c| c.two_digits_code.as_deref() == Some("GB"))
        .collect();
    assert_eq!(gb.len(), 1);
    let by_id: Country = serde_json::from_value(
        nx.get(&format!("/api/sys/countries/{}", gb[0].id))
            .await
            .ok(),
    )
    .unwrap();
    assert_eq!(&by_id, gb[0]);
    let found: Page<Country> = page(
        nx.get("/api/sys/countries?Country_TwoDigitsCode=gb")
            .await
            .ok(),
    );
    assert_eq!(found.records, [by_id]);
    let by_name: Page<Country> = page(
        nx.get("/api/sys/countries?orderBy=Name&size=1000")
            .await
            .ok(),
    );
    let names: Vec<&str> = by_name.records.iter().map(|c| c.name.as_str()).collect();
    assert!(names.windows(2).all(|w| w[0] <= w[1]), "sorted by name");

    let zones: Vec<SimpleTimeZone> = serde_json::from_value(Value::Array(
        nx.list_all("/api/sys/simpletimezones", 1000).await,
    ))
    .unwrap();
    assert!(zones.len() > 400, "{}", zones.len());
    let found: Page<SimpleTimeZone> = page(
        nx.get("/api/sys/simpletimezones?SimpleTimeZone_Name=europe/london")
            .await
            .ok(),
    );
    let [london] = &found.records[..] else {
        panic!("one zone: {:?}", found.records)
    };
    assert_eq!(london.name.as_deref(), Some("Europe/London"));
    let by_id: SimpleTimeZone = serde_json::from_value(
        nx.get(&format!("/api/sys/simpletimezones/{}", london.id))
            .await
            .ok(),
    )
    .unwrap();
    assert_eq!(&by_id, london);
    nx.get("/api/sys/simpletimezones/1").await.refused(404);
    nx.get("/api/sys/countries/1").await.refused(404);

    for path in ["/api/sys/countries", "/api/sys/simpletimezones"] {
        let body = json!({"Id": 826, "Name": "X"});
        nx.put(path, body.clone()).await.refused(405);
        nx.post(path, body).await.refused(405);
    }
    nx.delete(&format!("/api/sys/countries/{}", gb[0].id))
        .await
        .refused(405);

    // Another database, the same ids.
    let other = Sandbox::nexudus(&[]);
    let nx2 = other.nexudus_partner("Other", LOGIN);
    let again: Vec<Country> =
        serde_json::from_value(Value::Array(nx2.list_all("/api/sys/countries", 1000).await))
            .unwrap();
    assert_eq!(again, countries);
    let again: Vec<SimpleTimeZone> = serde_json::from_value(Value::Array(
        nx2.list_all("/api/sys/simpletimezones", 1000).await,
    ))
    .unwrap();
    assert_eq!(again, zones);
}
