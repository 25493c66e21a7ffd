//! Tenancy: partners are isolated from each other (404, never 403), and a partner that is not
//! manageable, or a customer that does not let its partner manage it, refuses writes inside
//! the customer and its deletion.

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
    // The customer's own record may change, but deleting it (and all inside it) may not.
    let account = format!("/v1/accounts/{ccid}");
    let cc = closed
        .patch(&account, json!({"name": "Renamed"}), Some(&s(&cc["etag"])))
        .await
        .ok("Account");
    let problem = closed
        .delete(&account, Some(&s(&cc["etag"])))
        .await
        .err(403, "management-disabled");
    let detail = s(&problem["detail"]);
    assert!(
        detail.contains(&format!("customer \"Renamed\" ({ccid})")),
        "{detail}"
    );
    closed.get(&account).await.ok("Account");
}

/// A customer that does not let its partner manage it (its choice at the vendor; here
/// `sandbox accounts set-manageable`) shows `manageable: false`, and every write inside it and
/// its deletion are 403 `management-disabled` naming it; its own record may change, other
/// customers are not concerned, and once it allows it again the writes go through.
#[tokio::test]
async fn a_customer_that_may_not_be_managed_refuses_writes_inside_it() {
    let sb = Sandbox::start();
    let api = sb.partner("Acme", true);
    let c = api.customer("c").await;
    let cid = s(&c["id"]);
    assert_eq!(c["manageable"], true);
    let net = api.child("network", &cid, "c-net").await;
    assert!(net.get("manageable").is_none(), "{net}");
    let nid = s(&net["id"]);
    let user = api.invite(&cid, "u@c.example", "U").await;
    let uid = s(&user["id"]);
    let cards = format!("/v1/accounts/{cid}/services/cards");
    api.put(&cards, json!({"settings": {}}))
        .await
        .status_ok(201, "Service");
    let other = api.customer("d").await;

    let set = |to: &'static str| {
        sb.admin(&[
            "accounts",
            "set-manageable",
            "--name",
            "Customer c",
            "--manageable",
            to,
        ])
        .success();
    };
    set("false");
    let account = format!("/v1/accounts/{cid}");
    let c2 = api.get(&account).await.ok("Account");
    assert_eq!(c2["manageable"], false);
    assert_ne!(
        c2["etag"], c["etag"],
        "the flag is part of the representation"
    );
    let mut before = Vec::new();
    for (path, schema) in LISTS {
        before.push(api.list_all(path, schema, 100).await);
    }

    let network = format!("/v1/accounts/{nid}");
    let user_path = format!("/v1/users/{uid}");
    let (c_etag, n_etag, u_etag) = (s(&c2["etag"]), s(&net["etag"]), s(&user["etag"]));
    let inside: [(&str, &str, Option<Value>, Option<&str>); 11] = [
        (
            "POST",
            &format!("{account}/users"),
            Some(json!({"email": "v@c.example", "name": "V"})),
            None,
        ),
        (
            "POST",
            &format!("{network}/users"),
            Some(json!({"email": "v@c.example", "name": "V"})),
            None,
        ),
        (
            "PATCH",
            &user_path,
            Some(json!({"name": "W"})),
            Some(&u_etag),
        ),
        ("DELETE", &user_path, None, Some(&u_etag)),
        (
            "POST",
            &format!("{user_path}/resend"),
            Some(json!({})),
            None,
        ),
        ("PUT", &cards, Some(json!({"settings": {}})), None),
        ("DELETE", &cards, None, None),
        (
            "POST",
            "/v1/accounts",
            Some(json!({"kind": "sub_account", "parent_id": nid, "name": "S"})),
            None,
        ),
        (
            "PATCH",
            &network,
            Some(json!({"name": "N2"})),
            Some(&n_etag),
        ),
        ("DELETE", &network, None, Some(&n_etag)),
        ("DELETE", &account, None, Some(&c_etag)),
    ];
    for (method, path, body, if_match) in inside {
        let headers: Vec<(&str, &str)> = if_match.map(|e| ("If-Match", e)).into_iter().collect();
        let problem = api
            .call(method, path, body.as_ref(), &headers)
            .await
            .err(403, "management-disabled");
        let detail = s(&problem["detail"]);
        assert!(
            detail.contains(&format!("customer \"Customer c\" ({cid})")),
            "{method} {path}: {detail}"
        );
    }
    for ((path, schema), before) in LISTS.into_iter().zip(before) {
        let after = api.list_all(path, schema, 100).await;
        assert_eq!(after, before, "{path}: nothing refused was written");
    }

    // Its own record may change; another customer is open.
    let c3 = api
        .patch(
            &account,
            json!({"labels": {"tier": "silver"}}),
            Some(&c_etag),
        )
        .await
        .ok("Account");
    assert_eq!(c3["manageable"], false);
    api.invite(&s(&other["id"]), "x@d.example", "X").await;

    set("true");
    assert_eq!(api.get(&account).await.ok("Account")["manageable"], true);
    api.invite(&cid, "v@c.example", "V").await;
    assert_eq!(api.delete(&network, Some(&n_etag)).await.status, 204);
}
