//! Tenancy: partners are isolated from each other (404, never 403), and a partner that is not
//! manageable may not write inside its customers.

use serde_json::{Value, json};

use super::s;
use crate::support::{LISTS, Sandbox};

#[tokio::test]
async fn two_partners_cannot_see_each_other() {
    let sb = Sandbox::start();
    let a = sb.partner("Partner A", true);
    let b = sb.partner("Partner B", true);
    let cust = a.customer("contoso").await;
    let id = s(&cust["id"]);
    let etag = s(&cust["etag"]);
    let user = a.invite(&id, "x@contoso.example", "X").await;
    let account = format!("/v1/accounts/{id}");
    let cards = format!("{account}/services/cards");
    a.put(&cards, json!({"settings": {}}))
        .await
        .status_ok(201, "Service");

    // A sees its objects (passing case).
    a.get(&account).await.ok("Account");
    for (path, schema) in LISTS {
        assert_eq!(a.list_all(path, schema, 100).await.len(), 1, "{path}");
    }

    // B sees nothing, and A's objects are 404 (never 403) for B (failing case).
    for (path, schema) in LISTS {
        assert!(b.list_all(path, schema, 100).await.is_empty(), "{path}");
    }
    assert!(
        b.list_all(&format!("/v1/users?account_id={id}"), "UserPage", 100)
            .await
            .is_empty()
    );
    let user_path = format!("/v1/users/{}", s(&user["id"]));
    let user_etag = s(&user["etag"]);
    let foreign: [(&str, &str, Option<Value>, Option<&str>); 8] = [
        ("GET", &account, None, None),
        (
            "PATCH",
            &account,
            Some(json!({"name": "stolen"})),
            Some(&etag),
        ),
        ("DELETE", &account, None, Some(&etag)),
        (
            "POST",
            &format!("{account}/users"),
            Some(json!({"email": "y@b.example", "name": "Y"})),
            None,
        ),
        ("PUT", &cards, Some(json!({"settings": {}})), None),
        ("GET", &cards, None, None),
        ("GET", &user_path, None, None),
        ("DELETE", &user_path, None, Some(&user_etag)),
    ];
    for (method, path, body, if_match) in foreign {
        let headers: Vec<(&str, &str)> = if_match.map(|e| ("If-Match", e)).into_iter().collect();
        b.call(method, path, body.as_ref(), &headers)
            .await
            .err(404, "not-found");
    }
    b.post(
        "/v1/accounts",
        json!({"kind": "network", "parent_id": id, "name": "N"}),
    )
    .await
    .err(400, "validation-failed");
    // The same external key is free for another partner.
    b.customer("contoso").await;
    // A still has exactly its own.
    assert_eq!(
        a.list_all("/v1/accounts", "AccountPage", 100).await.len(),
        1
    );
}

#[tokio::test]
async fn manageable_gate_blocks_writes_inside_customers() {
    let sb = Sandbox::start();
    let open = sb.partner("Open", true);
    let closed = sb.partner("Closed", false);
    assert_eq!(
        closed.get("/v1/partner").await.ok("Partner")["manageable"],
        false
    );

    // Passing: a manageable partner may do everything.
    let oc = open.customer("c").await;
    let ocid = s(&oc["id"]);
    open.invite(&ocid, "u@c.example", "U").await;
    open.put(
        &format!("/v1/accounts/{ocid}/services/cards"),
        json!({"settings": {}}),
    )
    .await
    .status_ok(201, "Service");
    open.child("network", &ocid, "c-net").await;

    // A non-manageable partner may create customers, and manage its own partner-level users ...
    let cc = closed.customer("c").await;
    let ccid = s(&cc["id"]);
    let pid = s(&closed.get("/v1/partner").await.ok("Partner")["id"]);
    closed
        .post(
            &format!("/v1/accounts/{pid}/users"),
            json!({"email": "ops@closed.example", "name": "Ops", "role": "admin"}),
        )
        .await
        .status_ok(201, "User");
    // ... but nothing inside a customer.
    closed
        .post(
            &format!("/v1/accounts/{ccid}/users"),
            json!({"email": "u@c.example", "name": "U"}),
        )
        .await
        .err(403, "management-disabled");
    closed
        .put(
            &format!("/v1/accounts/{ccid}/services/cards"),
            json!({"settings": {}}),
        )
        .await
        .err(403, "management-disabled");
    closed
        .delete(&format!("/v1/accounts/{ccid}/services/cards"), None)
        .await
        .err(403, "management-disabled");
    closed
        .post(
            "/v1/accounts",
            json!({"kind": "network", "parent_id": ccid, "name": "N"}),
        )
        .await
        .err(403, "management-disabled");
    assert!(
        closed
            .list_all("/v1/accounts?kind=network", "AccountPage", 10)
            .await
            .is_empty()
    );
    assert_eq!(closed.list_all("/v1/users", "UserPage", 10).await.len(), 1);
}
