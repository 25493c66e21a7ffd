//! Accounts: required fields, kinds and parents, unique external keys, ETags and deletion.

use std::collections::HashSet;

use serde_json::{Value, json};

use super::s;
use crate::support::{Sandbox, customer_body};

/// The JSON pointers of a validation problem's field errors.
fn pointers(problem: &Value) -> HashSet<String> {
    problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| s(&f["pointer"]))
        .collect()
}

#[tokio::test]
async fn customer_creation_requires_every_field_with_valid_values() {
    let sb = Sandbox::start();
    let api = sb.partner("P", true);
    let p = api.get("/v1/partner").await.ok("Partner");
    let e = api
        .post("/v1/accounts", json!({"kind": "customer", "name": "C"}))
        .await
        .err(400, "validation-failed");
    assert_eq!(
        pointers(&e),
        HashSet::from(["/contact".into(), "/country".into(), "/timezone".into()])
    );
    let e = api
        .post(
            "/v1/accounts",
            json!({"kind": "customer", "name": "C", "contact": {"name": "J", "email": "not-an-email"}, "country": "XX", "timezone": "Mars/Olympus"}),
        )
        .await
        .err(400, "validation-failed");
    assert_eq!(
        pointers(&e),
        HashSet::from([
            "/contact/email".into(),
            "/country".into(),
            "/timezone".into()
        ])
    );
    let e = api
        .post(
            "/v1/accounts",
            json!({"kind": "customer", "name": "C", "bogus": 1}),
        )
        .await
        .err(400, "validation-failed");
    assert_eq!(e["errors"][0]["pointer"], "/bogus");
    api.post("/v1/accounts", json!({"kind": "planet", "name": "C"}))
        .await
        .err(400, "validation-failed");
    let mut bad_key = customer_body("x");
    bad_key["external_key"] = json!("Not Valid");
    api.post("/v1/accounts", bad_key)
        .await
        .err(400, "validation-failed");

    let c = api.customer("ok").await;
    assert_eq!(
        c["parent_id"], p["id"],
        "a customer's parent is the partner"
    );
    assert_eq!(c["kind"], "customer");
    assert_eq!(c["labels"]["tier"], "gold");
    let mut explicit = customer_body("explicit-parent");
    explicit["parent_id"] = p["id"].clone();
    api.post("/v1/accounts", explicit)
        .await
        .status_ok(201, "Account");
    let mut wrong = customer_body("wrong-parent");
    wrong["parent_id"] = c["id"].clone();
    api.post("/v1/accounts", wrong)
        .await
        .err(400, "validation-failed");
}

#[tokio::test]
async fn hierarchy_of_kinds_and_parents() {
    let sb = Sandbox::start();
    let api = sb.partner("P", true);
    let cust = api.customer("c").await;
    let cid = s(&cust["id"]);
    let net = api.child("network", &cid, "c-net").await;
    let nid = s(&net["id"]);
    let sub = api.child("sub_account", &nid, "c-paris").await;
    assert_eq!(sub["parent_id"], net["id"]);
    assert_eq!(net["parent_id"], cust["id"]);
    // Created without a country or time zone, they take their parent's.
    assert_eq!(net["country"], cust["country"]);
    assert_eq!(sub["timezone"], cust["timezone"]);

    for (kind, parent) in [
        ("network", &nid),
        ("sub_account", &cid),
        ("network", &s(&sub["id"])),
    ] {
        let e = api
            .post(
                "/v1/accounts",
                json!({"kind": kind, "parent_id": parent, "name": "bad"}),
            )
            .await
            .err(400, "validation-failed");
        assert_eq!(e["errors"][0]["pointer"], "/parent_id");
    }
    api.post("/v1/accounts", json!({"kind": "network", "name": "orphan"}))
        .await
        .err(400, "validation-failed");
    api.post(
        "/v1/accounts",
        json!({"kind": "network", "parent_id": "acc_missing", "name": "x"}),
    )
    .await
    .err(400, "validation-failed");

    let nets = api
        .list_all("/v1/accounts?kind=network", "AccountPage", 10)
        .await;
    assert_eq!(nets.len(), 1);
    let kids = api
        .list_all(&format!("/v1/accounts?parent_id={nid}"), "AccountPage", 10)
        .await;
    assert_eq!(kids.len(), 1);
    assert_eq!(kids[0]["id"], sub["id"]);
    let by_key = api
        .list_all("/v1/accounts?external_key=c-paris", "AccountPage", 10)
        .await;
    assert_eq!(by_key[0]["id"], sub["id"]);
    api.get("/v1/accounts?kind=planet")
        .await
        .err(400, "invalid-query");

    // An account cannot move or change kind.
    api.patch(
        &format!("/v1/accounts/{nid}"),
        json!({"parent_id": cid}),
        Some(&s(&net["etag"])),
    )
    .await
    .err(400, "validation-failed");
}

#[tokio::test]
async fn external_key_is_unique_per_partner() {
    let sb = Sandbox::start();
    let api = sb.partner("P", true);
    let first = api.customer("contoso").await;
    let e = api
        .post("/v1/accounts", customer_body("contoso"))
        .await
        .err(409, "external-key-taken");
    assert_eq!(e["existing_id"], first["id"]);
    assert!(s(&e["detail"]).contains(&s(&first["id"])));
    let e = api
        .post("/v1/accounts", json!({"kind": "network", "parent_id": first["id"], "external_key": "contoso", "name": "N"}))
        .await
        .err(409, "external-key-taken");
    assert_eq!(e["existing_id"], first["id"]);
    let other = api.customer("fabrikam").await;
    let e = api
        .patch(
            &format!("/v1/accounts/{}", s(&other["id"])),
            json!({"external_key": "contoso"}),
            Some(&s(&other["etag"])),
        )
        .await
        .err(409, "external-key-taken");
    assert_eq!(e["existing_id"], first["id"]);
    // Clearing a key then reusing it works; keyless accounts never conflict.
    let cleared = api
        .patch(
            &format!("/v1/accounts/{}", s(&first["id"])),
            json!({"external_key": null}),
            Some(&s(&first["etag"])),
        )
        .await
        .ok("Account");
    assert_eq!(cleared["external_key"], Value::Null);
    api.post("/v1/accounts", customer_body("contoso"))
        .await
        .status_ok(201, "Account");
    for _ in 0..2 {
        let mut b = customer_body("x");
        b.as_object_mut().unwrap().remove("external_key");
        api.post("/v1/accounts", b).await.status_ok(201, "Account");
    }
}

#[tokio::test]
async fn if_match_etags_and_delete_with_children() {
    let sb = Sandbox::start();
    let api = sb.partner("P", true);
    let c = api.customer("c").await;
    let path = format!("/v1/accounts/{}", s(&c["id"]));
    let got = api.get(&path).await;
    let etag = got.header("etag").expect("ETag header");
    assert!(
        etag.starts_with('"') && etag.ends_with('"'),
        "strong, quoted ETag: {etag}"
    );
    assert_eq!(got.ok("Account")["etag"], etag.as_str());

    api.patch(&path, json!({"name": "Renamed"}), None)
        .await
        .err(428, "precondition-required");
    api.patch(&path, json!({"name": "Renamed"}), Some("\"nope\""))
        .await
        .err(412, "precondition-failed");
    api.patch(
        &path,
        json!({"name": "Renamed"}),
        Some(&format!("W/{etag}")),
    )
    .await
    .err(412, "precondition-failed");
    let r = api
        .patch(
            &path,
            json!({"name": "Renamed", "labels": {"a": "b"}}),
            Some(&etag),
        )
        .await;
    let new_etag = r.header("etag").unwrap();
    let changed = r.ok("Account");
    assert_eq!(changed["name"], "Renamed");
    assert_eq!(changed["labels"], json!({"a": "b"}));
    assert_ne!(new_etag, etag);
    assert_eq!(changed["created_at"], c["created_at"]);
    // The old ETag is stale now.
    api.patch(&path, json!({"name": "Again"}), Some(&etag))
        .await
        .err(412, "precondition-failed");
    api.patch(&path, json!({"country": "gb"}), Some(&new_etag))
        .await
        .err(400, "validation-failed");

    let net = api.child("network", &s(&c["id"]), "n").await;
    api.delete(&path, None)
        .await
        .err(428, "precondition-required");
    let e = api
        .delete(&path, Some(&new_etag))
        .await
        .err(409, "has-children");
    assert_eq!(e["existing_id"], net["id"]);
    api.delete(
        &format!("/v1/accounts/{}", s(&net["id"])),
        Some("\"stale\""),
    )
    .await
    .err(412, "precondition-failed");
    assert_eq!(
        api.delete(
            &format!("/v1/accounts/{}", s(&net["id"])),
            Some(&s(&net["etag"]))
        )
        .await
        .status,
        204
    );
    assert_eq!(api.delete(&path, Some(&new_etag)).await.status, 204);
    api.get(&path).await.err(404, "not-found");
    assert!(
        api.list_all("/v1/accounts", "AccountPage", 10)
            .await
            .is_empty()
    );
}
