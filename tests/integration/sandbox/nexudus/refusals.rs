//! Refusals: business rules answer HTTP 200 with `WasSuccessful: false` (a taken email, a
//! customer that does not let its reseller manage it, a business of another reseller, a
//! reseller not approved), invalid fields HTTP 400 naming the property, unknown records 404,
//! and what only the dashboard may do 405.

use serde_json::{Value, json};

use super::{business_id, home_id};
use crate::support::Sandbox;
use crate::support::nexudus::{LOGIN, Nx};

async fn count_users(nx: &Nx) -> usize {
    nx.list_all("/api/sys/users", 1000).await.len()
}

#[tokio::test]
async fn a_taken_email_and_a_foreign_business_are_refused_with_http_200() {
    let sb = Sandbox::nexudus(&[]);
    let nx = sb.nexudus_partner("Acme", LOGIN);
    sb.add_customer("Open", &[]);
    let other = sb.nexudus_partner("Other", "ops@other.example");
    sb.add_customer("Foreign", &["--partner", "Other"]);
    let open = business_id(&nx, "Open").await;
    let foreign = business_id(&other, "Foreign").await;
    nx.get(&format!("/api/sys/businesses/{foreign}"))
        .await
        .refused(404);
    let ann = json!({"FullName": "Ann", "Email": "ann@example.com", "Businesses": [open]});
    nx.post("/api/sys/users", ann).await.written();
    let dup = nx
        .post(
            "/api/sys/users",
            json!({"FullName": "Ann 2", "Email": "ANN@example.com"}),
        )
        .await
        .refused(200);
    assert_eq!(dup["Status"], 409);
    assert_eq!(dup["Errors"][0]["PropertyName"], "Email", "{dup}");
    let f = json!({"FullName": "F", "Email": "f@example.com", "Businesses": [foreign]});
    let r = nx.post("/api/sys/users", f).await.refused(200);
    assert_eq!(r["Errors"][0]["PropertyName"], "Businesses", "{r}");
    assert_eq!(count_users(&nx).await, 1, "nothing refused was written");
    assert_eq!(count_users(&other).await, 0);
}

#[tokio::test]
async fn writes_inside_a_customer_that_is_not_manageable_are_refused_with_http_200() {
    let sb = Sandbox::nexudus(&[]);
    let nx = sb.nexudus_partner("Acme", LOGIN);
    sb.add_customer("Open", &[]);
    sb.add_customer("Closed", &["--not-manageable"]);
    sb.add_account(&[
        "--kind",
        "network",
        "--name",
        "Closed North",
        "--parent",
        "Closed",
    ]);
    let (open, closed, north) = (
        business_id(&nx, "Open").await,
        business_id(&nx, "Closed").await,
        business_id(&nx, "Closed North").await,
    );
    let ann = json!({"FullName": "Ann", "Email": "ann@example.com", "Businesses": [open]});
    let ann = nx.post("/api/sys/users", ann).await.written();
    for (name, businesses) in [
        ("closed", vec![closed]),
        ("its-network", vec![north]),
        ("mixed", vec![open, north]),
    ] {
        let body = json!({"FullName": "X", "Email": format!("{name}@example.com"), "Businesses": businesses});
        let r = nx.post("/api/sys/users", body).await.refused(200);
        assert_eq!(r["Status"], 403, "{name}: {r}");
    }
    let more = json!({"Id": ann, "FullName": "Ann", "Email": "ann@example.com", "Businesses": [open, closed]});
    assert_eq!(
        nx.put("/api/sys/users", more).await.refused(200)["Status"],
        403
    );
    let rename = json!({"Id": north, "Name": "Renamed", "RootLocationId": closed});
    let r = nx
        .put("/api/sys/businesses", rename.clone())
        .await
        .refused(200);
    assert_eq!(r["Status"], 403);
    assert_eq!(count_users(&nx).await, 1, "nothing refused was written");

    // The customer changes its mind at the dashboard.
    sb.admin(&[
        "accounts",
        "set-manageable",
        "--name",
        "Closed",
        "--manageable",
        "true",
    ])
    .success();
    nx.put("/api/sys/businesses", rename).await.written();
    let x = json!({"FullName": "X", "Email": "x@example.com", "Businesses": [north]});
    nx.post("/api/sys/users", x).await.written();
}

#[tokio::test]
async fn a_reseller_not_approved_manages_nothing_inside_customers() {
    let sb = Sandbox::nexudus(&[]);
    sb.admin(&[
        "partner",
        "add",
        "--name",
        "Acme",
        "--not-manageable",
        "--login",
        LOGIN,
        "--password",
        crate::support::nexudus::PASSWORD,
    ])
    .success();
    let nx = Nx::new(
        &sb.url,
        crate::support::nexudus::Auth::Basic(
            LOGIN.into(),
            crate::support::nexudus::PASSWORD.into(),
        ),
    );
    sb.add_customer("Alpha", &[]);
    let page = nx.get("/api/sys/resellers").await.ok();
    assert_eq!(page["Records"][0]["Approved"], false);
    let (alpha, home) = (business_id(&nx, "Alpha").await, home_id(&nx).await);
    let r = nx
        .post(
            "/api/sys/users",
            json!({"FullName": "A", "Email": "a@example.com", "Businesses": [alpha]}),
        )
        .await
        .refused(200);
    assert_eq!(r["Status"], 403);
    nx.post(
        "/api/sys/users",
        json!({"FullName": "A", "Email": "a@example.com", "Businesses": [home]}),
    )
    .await
    .written();
}

#[tokio::test]
async fn invalid_fields_are_400_with_the_property() {
    let sb = Sandbox::nexudus(&["--max-name-chars", "20"]);
    let nx = sb.nexudus_partner("Acme", LOGIN);
    sb.add_customer("Alpha", &[]);
    let alpha = business_id(&nx, "Alpha").await;
    for (method, path, body, property) in bad_writes(alpha) {
        let r = nx.send(method, path, Some(&body)).await.refused(400);
        assert_eq!(r["Status"], 400);
        let names: Vec<&Value> = r["Errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| &e["PropertyName"])
            .collect();
        assert!(names.contains(&&json!(property)), "{method} {body}: {r}");
    }
    let r = nx.send("POST", "/api/sys/users", None).await.refused(400);
    assert!(r["Message"].as_str().unwrap().contains("body"));
    assert_eq!(count_users(&nx).await, 0);
}

#[tokio::test]
async fn unknown_records_are_404_and_dashboard_acts_405() {
    let sb = Sandbox::nexudus(&[]);
    let nx = sb.nexudus_partner("Acme", LOGIN);
    let home = home_id(&nx).await;
    let r = nx
        .put(
            "/api/sys/users",
            json!({"Id": 999, "FullName": "A", "Email": "a@example.com"}),
        )
        .await
        .refused(404);
    assert_eq!(r["Status"], 404);
    nx.put("/api/sys/businesses", json!({"Id": 999, "Name": "A"}))
        .await
        .refused(404);
    let own = nx
        .put("/api/sys/businesses", json!({"Id": home, "Name": "Acme 2"}))
        .await
        .refused(200);
    assert_eq!(own["Status"], 403, "the reseller's own business: {own}");
    for (method, path) in [
        ("POST", "/api/sys/businesses".to_string()),
        ("DELETE", format!("/api/sys/businesses/{home}")),
        ("POST", "/api/sys/reselleraccounts".to_string()),
        ("DELETE", "/api/sys/reselleraccounts/1".to_string()),
    ] {
        let r = nx.send(method, &path, Some(&json!({}))).await.refused(405);
        assert_eq!(r["Status"], 405, "{method} {path}");
    }
    nx.get("/api/sys/nothing").await.refused(404);
    nx.get("/api/sys/users/abc").await.refused(400);
}

/// Writes with one invalid field each, and the property to blame.
fn bad_writes(alpha: i64) -> Vec<(&'static str, &'static str, Value, &'static str)> {
    let users = "/api/sys/users";
    let businesses = "/api/sys/businesses";
    vec![
        (
            "POST",
            users,
            json!({"FullName": "A", "Email": "nope"}),
            "Email",
        ),
        ("POST", users, json!({"Email": "a@example.com"}), "FullName"),
        (
            "POST",
            users,
            json!({"FullName": " A", "Email": "a@example.com"}),
            "FullName",
        ),
        (
            "POST",
            users,
            json!({"FullName": "x".repeat(21), "Email": "a@example.com"}),
            "FullName",
        ),
        (
            "POST",
            users,
            json!({"FullName": "A", "Email": "a@example.com", "IsAdmin": "yes"}),
            "IsAdmin",
        ),
        (
            "PUT",
            users,
            json!({"FullName": "A", "Email": "a@example.com"}),
            "Id",
        ),
        (
            "PUT",
            businesses,
            json!({"Id": alpha, "Name": "Alpha", "CountryId": -1}),
            "CountryId",
        ),
        (
            "PUT",
            businesses,
            json!({"Id": alpha, "Name": "Alpha", "CountryId": "GB"}),
            "CountryId",
        ),
        (
            "PUT",
            businesses,
            json!({"Id": alpha, "Name": "Alpha", "SimpleTimeZoneId": -1}),
            "SimpleTimeZoneId",
        ),
        (
            "PUT",
            businesses,
            json!({"Id": alpha, "Name": "Alpha", "Email": "nope"}),
            "Email",
        ),
        (
            "PUT",
            businesses,
            json!({"Id": alpha, "Name": "Alpha", "ContactEmail": "nope"}),
            "ContactEmail",
        ),
        ("PUT", businesses, json!({"Id": alpha, "Name": ""}), "Name"),
        (
            "PUT",
            businesses,
            json!({"Id": alpha, "Name": "Alpha", "RootLocationId": 1}),
            "RootLocationId",
        ),
    ]
}
