//! Writes: `POST` creates a user (inactive, an invitation per business), `PUT` replaces the
//! complete record (omitted fields are cleared), `DELETE` removes a user; both dialects see
//! the same store.

use partnerctl::wire::nexudus::{Business, ResellerAccount, User};
use serde_json::{Value, json};

use super::{business_id, country_id, home_id, time_zone_id};
use crate::support::nexudus::{LOGIN, Nx};
use crate::support::{Api, Sandbox};

async fn user(nx: &Nx, id: i64) -> User {
    serde_json::from_value(nx.get(&format!("/api/sys/users/{id}")).await.ok()).unwrap()
}

#[tokio::test]
async fn a_user_put_replaces_the_record_and_its_businesses() {
    let sb = Sandbox::nexudus(&[]);
    let nx = sb.nexudus_partner("Acme", LOGIN);
    sb.add_customer("Alpha", &[]);
    sb.add_customer("Bravo", &[]);
    let (alpha, bravo) = (
        business_id(&nx, "Alpha").await,
        business_id(&nx, "Bravo").await,
    );
    let id = nx
        .post(
            "/api/sys/users",
            json!({"FullName": "Ann", "Email": "ann@example.com", "IsAdmin": true, "Businesses": [alpha]}),
        )
        .await
        .written();
    let outbox = sb.admin(&["outbox"]).success().stdout;
    assert_eq!(outbox.lines().count(), 1, "one invitation: {outbox}");
    assert!(outbox.contains("ann@example.com") && outbox.contains("Alpha"));
    let mut u = user(&nx, id).await;
    assert!(u.is_admin && !u.active);

    // Add a business, rename: the id stays.
    u.full_name = "Ann Smith".into();
    u.businesses = Some(vec![alpha, bravo]);
    let body = serde_json::to_value(&u).unwrap();
    assert_eq!(nx.put("/api/sys/users", body).await.written(), id);
    let u = user(&nx, id).await;
    assert_eq!(
        (u.full_name.as_str(), u.businesses.clone()),
        ("Ann Smith", Some(vec![alpha, bravo]))
    );
    assert_eq!(sb.admin(&["outbox"]).success().stdout.lines().count(), 2);

    // A PUT without Businesses and IsAdmin clears them.
    let bare = json!({"Id": id, "FullName": "Ann Smith", "Email": "ann@example.com"});
    nx.put("/api/sys/users", bare).await.written();
    let u = user(&nx, id).await;
    assert_eq!((u.businesses, u.is_admin), (Some(vec![]), false));

    // Accepted: active, and businesses added later are active at once (no invitation).
    sb.admin(&["users", "accept", "--email", "ANN@example.com"])
        .code(1);
    let back =
        json!({"Id": id, "FullName": "Ann", "Email": "ann@example.com", "Businesses": [bravo]});
    nx.put("/api/sys/users", back).await.written();
    sb.admin(&["users", "accept", "--email", "ANN@example.com"])
        .success();
    assert!(user(&nx, id).await.active);
    let more = json!({"Id": id, "FullName": "Ann", "Email": "ann@example.com", "Businesses": [bravo, alpha]});
    nx.put("/api/sys/users", more).await.written();
    assert!(user(&nx, id).await.active);
    assert_eq!(sb.admin(&["outbox"]).success().stdout.lines().count(), 3);

    assert_eq!(
        nx.delete(&format!("/api/sys/users/{id}")).await.written(),
        id
    );
    nx.get(&format!("/api/sys/users/{id}")).await.refused(404);
    nx.delete(&format!("/api/sys/users/{id}"))
        .await
        .refused(404);
}

/// `AddedBusinesses` / `RemovedBusinesses` change a login's businesses from what it has when
/// the write arrives (a stale `Businesses` beside them is ignored), so two writers that each
/// read the record and add a business both keep theirs.
#[tokio::test]
async fn added_and_removed_businesses_change_the_list_without_replacing_it() {
    let sb = Sandbox::nexudus(&[]);
    let nx = sb.nexudus_partner("Acme", LOGIN);
    let mut ids = Vec::new();
    for name in ["Alpha", "Bravo", "Charlie"] {
        sb.add_customer(name, &[]);
        ids.push(business_id(&nx, name).await);
    }
    let [alpha, bravo, charlie] = ids[..] else {
        unreachable!()
    };
    let id = nx
        .post(
            "/api/sys/users",
            json!({"FullName": "Ann", "Email": "ann@example.com", "Businesses": [alpha]}),
        )
        .await
        .written();
    // Two writers read the same record, then each adds a business.
    let read = user(&nx, id).await;
    for added in [bravo, charlie] {
        let mut body = serde_json::to_value(&read).unwrap();
        body["AddedBusinesses"] = json!([added]);
        nx.put("/api/sys/users", body).await.written();
    }
    let mut list = user(&nx, id).await.businesses.unwrap();
    list.sort();
    assert_eq!(list, [alpha, bravo, charlie]);
    // Removing one, from a record that still shows only the first business.
    let mut body = serde_json::to_value(&read).unwrap();
    body["RemovedBusinesses"] = json!([bravo]);
    nx.put("/api/sys/users", body).await.written();
    let mut list = user(&nx, id).await.businesses.unwrap();
    list.sort();
    assert_eq!(list, [alpha, charlie]);
    // Neither given: Businesses replaces the list, as before.
    let mut body = serde_json::to_value(&read).unwrap();
    body["Businesses"] = json!([charlie]);
    nx.put("/api/sys/users", body).await.written();
    assert_eq!(user(&nx, id).await.businesses, Some(vec![charlie]));
    // A business of nobody's is refused either way.
    let mut body = serde_json::to_value(&read).unwrap();
    body["AddedBusinesses"] = json!([999_999]);
    nx.put("/api/sys/users", body).await.refused(200);
}

/// A business `PUT` takes the vendor's fields: `Email` (the account's contact email),
/// `ContactEmail`, and the country and time zone by their ids; what it leaves out is cleared,
/// and the partner API sees the same account with the ISO code and the IANA name.
#[tokio::test]
async fn a_business_put_clears_what_it_leaves_out() {
    let sb = Sandbox::nexudus(&[]);
    let (nx, token) = sb.nexudus_partner_token("Acme", LOGIN);
    sb.add_customer("Alpha", &[]);
    let id = business_id(&nx, "Alpha").await;
    let (gb, fr) = (country_id(&nx, "GB").await, country_id(&nx, "FR").await);
    let (london, paris) = (
        time_zone_id(&nx, "Europe/London").await,
        time_zone_id(&nx, "Europe/Paris").await,
    );
    let get = || async {
        let b = nx.get(&format!("/api/sys/businesses/{id}")).await.ok();
        serde_json::from_value::<Business>(b).unwrap()
    };
    let b = get().await;
    assert_eq!(
        (b.email.as_deref(), b.contact_email.as_deref()),
        (Some("jane@alpha.example"), None)
    );
    assert_eq!(
        (b.country_id, b.simple_time_zone_id),
        (Some(gb), Some(london))
    );
    let renamed = json!({"Id": id, "Name": "Alpha Ltd", "CountryId": fr});
    assert_eq!(nx.put("/api/sys/businesses", renamed).await.written(), id);
    let b = get().await;
    assert_eq!(b.name, "Alpha Ltd");
    assert_eq!(
        (b.email.as_deref(), b.country_id, b.simple_time_zone_id),
        (None, Some(fr), None)
    );

    let mut both = serde_json::to_value(&b).unwrap();
    both["Email"] = json!("ops@alpha.example");
    both["ContactEmail"] = json!("desk@alpha.example");
    both["SimpleTimeZoneId"] = json!(paris);
    nx.put("/api/sys/businesses", both).await.written();
    let b: Value = nx.get(&format!("/api/sys/businesses/{id}")).await.ok();
    assert_eq!(
        (&b["Email"], &b["ContactEmail"], &b["SimpleTimeZoneId"]),
        (
            &json!("ops@alpha.example"),
            &json!("desk@alpha.example"),
            &json!(paris)
        )
    );
    for gone in ["EmailContact", "CountryCode", "TimeZone"] {
        assert!(b.get(gone).is_none(), "{gone} is not the vendor's: {b}");
    }

    // The store keeps the ISO code and the IANA name: the partner API shows them.
    let partner_api = Sandbox::start_on(&sb.db, &[]);
    let api = Api::new(&partner_api.url, &token);
    let accounts = api.list_all("/v1/accounts", "AccountPage", 100).await;
    let a = accounts.iter().find(|a| a["name"] == "Alpha Ltd").unwrap();
    assert_eq!(
        (&a["country"], &a["timezone"], &a["contact"]["email"]),
        (
            &json!("FR"),
            &json!("Europe/Paris"),
            &json!("ops@alpha.example")
        )
    );

    // Leaving ContactEmail out clears it too.
    let mut without = serde_json::to_value(get().await).unwrap();
    without.as_object_mut().unwrap().remove("ContactEmail");
    nx.put("/api/sys/businesses", without).await.written();
    assert_eq!(get().await.contact_email, None);
}

#[tokio::test]
async fn a_reseller_account_put_keeps_the_resellers_fields_only() {
    let sb = Sandbox::nexudus(&[]);
    let nx = sb.nexudus_partner("Acme", LOGIN);
    sb.add_customer("Alpha", &[]);
    let page = nx.get("/api/sys/reselleraccounts").await.ok();
    let mut link: ResellerAccount = serde_json::from_value(page["Records"][0].clone()).unwrap();
    link.notes = Some("call first".into());
    link.scope_of_work = Some("all".into());
    link.provides_first_line_support = true;
    let id = link.id;
    nx.put(
        "/api/sys/reselleraccounts",
        serde_json::to_value(&link).unwrap(),
    )
    .await
    .written();
    let got: ResellerAccount = serde_json::from_value(
        nx.get(&format!("/api/sys/reselleraccounts/{id}"))
            .await
            .ok(),
    )
    .unwrap();
    assert_eq!(got, link);
    let mut cleared = serde_json::to_value(&link).unwrap();
    let obj = cleared.as_object_mut().unwrap();
    obj.remove("Notes");
    obj.remove("ProvidesFirstLineSupport");
    nx.put("/api/sys/reselleraccounts", cleared).await.written();
    let got: ResellerAccount = serde_json::from_value(
        nx.get(&format!("/api/sys/reselleraccounts/{id}"))
            .await
            .ok(),
    )
    .unwrap();
    assert_eq!((got.notes, got.provides_first_line_support), (None, false));
    assert_eq!(got.scope_of_work.as_deref(), Some("all"));

    let mut unmanage = link.clone();
    unmanage.can_manage_account = false;
    let r = nx
        .put(
            "/api/sys/reselleraccounts",
            serde_json::to_value(&unmanage).unwrap(),
        )
        .await
        .refused(200);
    assert_eq!(r["Status"], 403, "the customer's choice: {r}");
    let mut moved = link.clone();
    moved.business_id = home_id(&nx).await;
    let r = nx
        .put(
            "/api/sys/reselleraccounts",
            serde_json::to_value(&moved).unwrap(),
        )
        .await
        .refused(400);
    assert_eq!(r["Errors"][0]["PropertyName"], "BusinessId");
}

#[tokio::test]
async fn both_dialects_serve_one_store() {
    let sb = Sandbox::nexudus(&[]);
    let (nx, token) = sb.nexudus_partner_token("Acme", LOGIN);
    let partner_api = Sandbox::start_on(&sb.db, &[]);
    let api = Api::new(&partner_api.url, &token);
    let c = api.customer("alpha").await;
    let c_id = c["id"].as_str().unwrap().to_string();
    api.invite(&c_id, "Ann@example.com", "Ann").await;
    let partner = api.get("/v1/partner").await.ok("Partner");
    api.invite(partner["id"].as_str().unwrap(), "ann@example.com", "Ann")
        .await;

    let alpha = business_id(&nx, "Customer alpha").await;
    let home = home_id(&nx).await;
    let found = nx
        .get("/api/sys/users?User_Email=ann@example.com")
        .await
        .ok();
    assert_eq!(
        found["TotalItems"], 1,
        "one login for both invitations: {found}"
    );
    let id = found["Records"][0]["Id"].as_i64().unwrap();
    let mut want = vec![alpha, home];
    want.sort();
    assert_eq!(user(&nx, id).await.businesses, Some(want));

    // The partner API sees the Nexudus dialect's writes, and the other way round.
    let bob = nx
        .post(
            "/api/sys/users",
            json!({"FullName": "Bob", "Email": "bob@example.com", "IsAdmin": true, "Businesses": [alpha]}),
        )
        .await
        .written();
    let users = api.list_all("/v1/users", "UserPage", 100).await;
    let row = users
        .iter()
        .find(|u| u["email"] == "bob@example.com")
        .expect("bob");
    assert_eq!(
        (row["account_id"].as_str(), row["role"].as_str()),
        (Some(c_id.as_str()), Some("admin"))
    );
    assert_eq!(row["status"], "invited");
    let path = format!("/v1/users/{}", row["id"].as_str().unwrap());
    let etag = row["etag"].as_str().unwrap().to_string();
    api.patch(&path, json!({"role": "member"}), Some(&etag))
        .await
        .ok("User");
    assert!(!user(&nx, bob).await.is_admin);
    api.delete(
        &format!("/v1/accounts/{c_id}"),
        Some(c["etag"].as_str().unwrap()),
    )
    .await;
    assert_eq!(
        user(&nx, bob).await.businesses,
        Some(vec![]),
        "its account is gone"
    );
}
