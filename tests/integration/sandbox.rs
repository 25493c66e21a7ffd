//! Integration tests of the sandbox server (SPEC §7, §8) against the real binary.
//! Every rule is exercised with a passing and a failing case; every response body is validated
//! against `schemas/openapi.yaml` by the harness.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{Api, Sandbox, assert_valid, customer_body};

fn s(v: &Value) -> String {
    v.as_str()
        .unwrap_or_else(|| panic!("not a string: {v}"))
        .to_string()
}

#[tokio::test]
async fn health_auth_and_problem_json_for_unknown_routes_and_methods() {
    let sb = Sandbox::start();
    let api = sb.partner("Acme Partners", true);
    let anon = Api::new(&sb.url, "");
    anon.get("/healthz").await.ok("Health");
    anon.get("/v1/partner").await.err(401, "unauthorized");
    Api::new(&sb.url, "psk_wrong")
        .get("/v1/partner")
        .await
        .err(401, "unauthorized");
    let p = api.get("/v1/partner").await.ok("Partner");
    assert_eq!(p["name"], "Acme Partners");
    assert_eq!(p["manageable"], true);
    api.get("/v1/nope").await.err(404, "not-found");
    let r = api.call("PUT", "/v1/accounts", Some(&json!({})), &[]).await;
    assert!(r.header("allow").is_some_and(|a| a.contains("POST")));
    r.err(405, "method-not-allowed");
    api.call("DELETE", "/v1/partner", None, &[])
        .await
        .err(405, "method-not-allowed");
    api.call(
        "POST",
        "/v1/accounts",
        None,
        &[("content-type", "application/json")],
    )
    .await
    .err(400, "invalid-json");
    let limits = api.get("/v1/limits").await.ok("Limits");
    assert_eq!(limits["writes_per_minute"], Value::Null);
    let types = api.get("/v1/service-types").await.ok("ServiceTypePage");
    let names: Vec<String> = types["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| s(&t["type"]))
        .collect();
    for t in ["cards", "mobile-id", "visitor-management", "access-control"] {
        assert!(names.contains(&t.to_string()), "{t} missing from {names:?}");
    }
}

#[tokio::test]
async fn two_partners_cannot_see_each_other() {
    let sb = Sandbox::start();
    let a = sb.partner("Partner A", true);
    let b = sb.partner("Partner B", true);
    let cust = a.customer("contoso").await;
    let id = s(&cust["id"]);
    let etag = s(&cust["etag"]);
    let user = a
        .post(
            &format!("/v1/accounts/{id}/users"),
            json!({"email": "x@contoso.example", "name": "X"}),
        )
        .await
        .status_ok(201, "User");
    a.put(
        &format!("/v1/accounts/{id}/services/cards"),
        json!({"settings": {}}),
    )
    .await
    .status_ok(201, "Service");

    // A sees its objects (passing case).
    a.get(&format!("/v1/accounts/{id}")).await.ok("Account");
    assert_eq!(
        a.list_all("/v1/accounts", "AccountPage", 100).await.len(),
        1
    );
    assert_eq!(a.list_all("/v1/users", "UserPage", 100).await.len(), 1);
    assert_eq!(
        a.list_all("/v1/services", "ServicePage", 100).await.len(),
        1
    );

    // B sees nothing, and A's objects are 404 (never 403) for B (failing case).
    assert!(
        b.list_all("/v1/accounts", "AccountPage", 100)
            .await
            .is_empty()
    );
    assert!(b.list_all("/v1/users", "UserPage", 100).await.is_empty());
    assert!(
        b.list_all("/v1/services", "ServicePage", 100)
            .await
            .is_empty()
    );
    assert!(
        b.list_all(&format!("/v1/users?account_id={id}"), "UserPage", 100)
            .await
            .is_empty()
    );
    b.get(&format!("/v1/accounts/{id}"))
        .await
        .err(404, "not-found");
    b.patch(
        &format!("/v1/accounts/{id}"),
        json!({"name": "stolen"}),
        Some(&etag),
    )
    .await
    .err(404, "not-found");
    b.delete(&format!("/v1/accounts/{id}"), Some(&etag))
        .await
        .err(404, "not-found");
    b.post(
        &format!("/v1/accounts/{id}/users"),
        json!({"email": "y@b.example", "name": "Y"}),
    )
    .await
    .err(404, "not-found");
    b.put(
        &format!("/v1/accounts/{id}/services/cards"),
        json!({"settings": {}}),
    )
    .await
    .err(404, "not-found");
    b.get(&format!("/v1/accounts/{id}/services/cards"))
        .await
        .err(404, "not-found");
    b.get(&format!("/v1/users/{}", s(&user["id"])))
        .await
        .err(404, "not-found");
    b.delete(
        &format!("/v1/users/{}", s(&user["id"])),
        Some(&s(&user["etag"])),
    )
    .await
    .err(404, "not-found");
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
async fn customer_creation_requires_every_field_with_valid_values() {
    let sb = Sandbox::start();
    let api = sb.partner("P", true);
    let p = api.get("/v1/partner").await.ok("Partner");
    let e = api
        .post("/v1/accounts", json!({"kind": "customer", "name": "C"}))
        .await
        .err(400, "validation-failed");
    let pointers: HashSet<String> = e["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| s(&f["pointer"]))
        .collect();
    assert_eq!(
        pointers,
        HashSet::from(["/contact".into(), "/country".into(), "/timezone".into()])
    );
    let e = api
        .post(
            "/v1/accounts",
            json!({"kind": "customer", "name": "C", "contact": {"name": "J", "email": "not-an-email"}, "country": "XX", "timezone": "Mars/Olympus"}),
        )
        .await
        .err(400, "validation-failed");
    let pointers: HashSet<String> = e["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| s(&f["pointer"]))
        .collect();
    assert_eq!(
        pointers,
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
    assert_eq!(net["country"], Value::Null);

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
async fn service_settings_are_validated_and_one_per_type() {
    let sb = Sandbox::start();
    let api = sb.partner("P", true);
    let c = api.customer("c").await;
    let base = format!("/v1/accounts/{}/services", s(&c["id"]));
    let created = api
        .put(
            &format!("{base}/cards"),
            json!({"settings": {"layout_approval": false}}),
        )
        .await
        .status_ok(201, "Service");
    assert!(api.get(&format!("{base}/cards")).await.header("etag") == Some(s(&created["etag"])));
    let updated = api
        .put(
            &format!("{base}/cards"),
            json!({"settings": {"layout_approval": true, "card_format": "digital"}}),
        )
        .await
        .status_ok(200, "Service");
    assert_ne!(updated["etag"], created["etag"]);
    api.put(&format!("{base}/access-control"), json!({"settings": {"schedules": [{"name": "office", "days": ["mon"], "from": "08:00", "to": "18:00"}]}}))
        .await
        .status_ok(201, "Service");
    let all = api
        .list_all(
            &format!("/v1/services?account_id={}", s(&c["id"])),
            "ServicePage",
            10,
        )
        .await;
    assert_eq!(all.len(), 2, "one service per type: {all:?}");
    assert_eq!(
        api.list_all("/v1/services?type=cards", "ServicePage", 10)
            .await
            .len(),
        1
    );

    let e = api
        .put(
            &format!("{base}/cards"),
            json!({"settings": {"layout_approval": "yes"}}),
        )
        .await
        .err(400, "validation-failed");
    assert_eq!(e["errors"][0]["pointer"], "/settings/layout_approval");
    let e = api
        .put(
            &format!("{base}/cards"),
            json!({"settings": {"colour": "red"}}),
        )
        .await
        .err(400, "validation-failed");
    assert_eq!(e["errors"][0]["pointer"], "/settings");
    let e = api
        .put(&format!("{base}/access-control"), json!({"settings": {"schedules": [{"name": "x", "days": ["mon"], "from": "25:00", "to": "18:00"}]}}))
        .await
        .err(400, "validation-failed");
    assert_eq!(e["errors"][0]["pointer"], "/settings/schedules/0/from");
    api.put(&format!("{base}/teleport"), json!({"settings": {}}))
        .await
        .err(400, "unknown-service-type");
    // Failed writes changed nothing.
    let cur = api.get(&format!("{base}/cards")).await.ok("Service");
    assert_eq!(cur["settings"]["card_format"], "digital");
    // If-Match on a service is checked when sent.
    api.call(
        "PUT",
        &format!("{base}/cards"),
        Some(&json!({"settings": {}})),
        &[("If-Match", "\"stale\"")],
    )
    .await
    .err(412, "precondition-failed");
    api.delete(&format!("{base}/cards"), Some(&s(&cur["etag"])))
        .await;
    api.get(&format!("{base}/cards"))
        .await
        .err(404, "not-found");
    api.delete(&format!("{base}/cards"), None)
        .await
        .err(404, "not-found");
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
    open.post(
        &format!("/v1/accounts/{ocid}/users"),
        json!({"email": "u@c.example", "name": "U"}),
    )
    .await
    .status_ok(201, "User");
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

#[tokio::test]
async fn idempotent_replay_and_key_reuse_with_another_body() {
    let sb = Sandbox::start();
    let api = sb.partner("P", true);
    let first = api
        .post_idem("/v1/accounts", customer_body("a"), "key-1")
        .await;
    assert_eq!(first.header("idempotent-replayed"), None);
    let first_body = first.status_ok(201, "Account");
    let replay = api
        .post_idem("/v1/accounts", customer_body("a"), "key-1")
        .await;
    assert_eq!(
        replay.header("idempotent-replayed").as_deref(),
        Some("true")
    );
    assert_eq!(replay.header("etag"), Some(s(&first_body["etag"])));
    assert_eq!(
        replay.status_ok(201, "Account"),
        first_body,
        "a replay returns the first response"
    );
    assert_eq!(
        api.list_all("/v1/accounts", "AccountPage", 10).await.len(),
        1
    );

    let e = api
        .post_idem("/v1/accounts", customer_body("b"), "key-1")
        .await
        .err(422, "idempotency-key-reused");
    assert!(s(&e["detail"]).contains("key-1"));
    // The same key on another path is another request too.
    api.post_idem(
        &format!("/v1/accounts/{}/users", s(&first_body["id"])),
        json!({"email": "a@b.example", "name": "A"}),
        "key-1",
    )
    .await
    .err(422, "idempotency-key-reused");
    // Keys are per partner: another partner may use the same key.
    let other = sb.partner("Q", true);
    other
        .post_idem("/v1/accounts", customer_body("b"), "key-1")
        .await
        .status_ok(201, "Account");
    // Without a key, the second POST is a conflict, not a replay.
    api.post("/v1/accounts", customer_body("a"))
        .await
        .err(409, "external-key-taken");

    // Invitations are idempotent too.
    let users = format!("/v1/accounts/{}/users", s(&first_body["id"]));
    let u1 = api
        .post_idem(
            &users,
            json!({"email": "u@x.example", "name": "U"}),
            "inv-1",
        )
        .await
        .status_ok(201, "User");
    let u2 = api
        .post_idem(
            &users,
            json!({"email": "u@x.example", "name": "U"}),
            "inv-1",
        )
        .await
        .status_ok(201, "User");
    assert_eq!(u1, u2);
    assert_eq!(api.list_all("/v1/users", "UserPage", 10).await.len(), 1);
    let out = sb.admin(&["outbox"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).lines().count(),
        1,
        "a replay sends no second email"
    );
    // A bad key is rejected.
    api.call(
        "POST",
        "/v1/accounts",
        Some(&customer_body("z")),
        &[("Idempotency-Key", &"k".repeat(300))],
    )
    .await
    .err(400, "invalid-idempotency-key");
}

#[tokio::test]
async fn users_invite_lifecycle_resend_revoke_and_outbox() {
    let sb = Sandbox::start();
    let api = sb.partner("P", true);
    let c = api.customer("c").await;
    let users = format!("/v1/accounts/{}/users", s(&c["id"]));
    let u = api
        .post(
            &users,
            json!({"email": "Jane@Contoso.example", "name": "Jane", "role": "admin"}),
        )
        .await
        .status_ok(201, "User");
    assert_eq!(u["status"], "invited");
    assert_eq!(u["role"], "admin");
    let e = api
        .post(
            &users,
            json!({"email": "jane@contoso.EXAMPLE", "name": "Jane again"}),
        )
        .await
        .err(409, "user-exists");
    assert_eq!(e["existing_id"], u["id"]);
    api.post(&users, json!({"email": "nope", "name": "X"}))
        .await
        .err(400, "validation-failed");
    api.post(
        &users,
        json!({"email": "a@b.example", "name": "X", "role": "owner"}),
    )
    .await
    .err(400, "validation-failed");
    api.post(
        "/v1/accounts/acc_missing/users",
        json!({"email": "a@b.example", "name": "X"}),
    )
    .await
    .err(404, "not-found");
    let m = api
        .post(
            &users,
            json!({"email": "bob@contoso.example", "name": "Bob"}),
        )
        .await
        .status_ok(201, "User");
    assert_eq!(m["role"], "member", "role defaults to member");

    let uid = s(&u["id"]);
    let upath = format!("/v1/users/{uid}");
    api.post(&format!("{upath}/resend"), json!({}))
        .await
        .err(409, "invalid-user-state");

    let out = sb.admin(&["users", "expire", "--email", "JANE@contoso.example"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(api.get(&upath).await.ok("User")["status"], "expired");
    assert_eq!(
        api.list_all("/v1/users?status=expired", "UserPage", 10)
            .await
            .len(),
        1
    );
    let resent = api
        .post(&format!("{upath}/resend"), json!({}))
        .await
        .status_ok(200, "User");
    assert_eq!(resent["status"], "invited");

    let out = sb.admin(&["outbox"]);
    let mails: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        mails.len(),
        3,
        "two invitations and one reminder: {mails:?}"
    );
    assert_eq!(mails[2]["to"], "Jane@Contoso.example");
    assert!(s(&mails[2]["subject"]).starts_with("Reminder"));

    let out = sb.admin(&["users", "accept", "--email", "jane@contoso.example"]);
    assert!(out.status.success());
    let active = api.get(&upath).await.ok("User");
    assert_eq!(active["status"], "active");
    let out = sb.admin(&["users", "accept", "--email", "nobody@nowhere.example"]);
    assert!(!out.status.success(), "accepting an unknown email fails");
    assert!(String::from_utf8_lossy(&out.stderr).contains("nobody@nowhere.example"));

    api.patch(&upath, json!({"role": "member"}), None)
        .await
        .err(428, "precondition-required");
    api.patch(
        &upath,
        json!({"email": "other@x.example"}),
        Some(&s(&active["etag"])),
    )
    .await
    .err(400, "validation-failed");
    let patched = api
        .patch(
            &upath,
            json!({"role": "member", "name": "Jane D"}),
            Some(&s(&active["etag"])),
        )
        .await
        .ok("User");
    assert_eq!(
        (patched["role"].clone(), patched["name"].clone()),
        (json!("member"), json!("Jane D"))
    );
    api.delete(&upath, Some(&s(&active["etag"])))
        .await
        .err(412, "precondition-failed");
    assert_eq!(
        api.delete(&upath, Some(&s(&patched["etag"]))).await.status,
        204
    );
    api.get(&upath).await.err(404, "not-found");
    // Revoking a pending invitation.
    let bob = format!("/v1/users/{}", s(&m["id"]));
    assert_eq!(api.delete(&bob, Some(&s(&m["etag"]))).await.status, 204);
    assert!(api.list_all("/v1/users", "UserPage", 10).await.is_empty());
    // The email can be invited again once removed.
    api.post(
        &users,
        json!({"email": "jane@contoso.example", "name": "Jane"}),
    )
    .await
    .status_ok(201, "User");
}

#[tokio::test]
async fn page_size_and_page_token_are_validated() {
    let sb = Sandbox::start();
    let api = sb.partner("P", true);
    for i in 0..5 {
        api.customer(&format!("c{i}")).await;
    }
    api.get("/v1/accounts?page_size=1001")
        .await
        .err(400, "invalid-page-size");
    api.get("/v1/accounts?page_size=0")
        .await
        .err(400, "invalid-page-size");
    api.get("/v1/users?page_token=garbage")
        .await
        .err(400, "invalid-page-token");
    let all = api
        .get("/v1/accounts?page_size=1000")
        .await
        .ok("AccountPage");
    assert_eq!(all["items"].as_array().unwrap().len(), 5);
    assert!(
        all.get("next_page_token").is_none(),
        "no token on the last page"
    );
    let first = api.get("/v1/accounts?page_size=2").await.ok("AccountPage");
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    assert!(first["next_page_token"].is_string());
    let paged = api.list_all("/v1/accounts", "AccountPage", 2).await;
    assert_eq!(paged.len(), 5);
    let exact = api.list_all("/v1/accounts", "AccountPage", 5).await;
    assert_eq!(exact.len(), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paging_2500_users_while_another_task_inserts_sees_each_exactly_once() {
    let sb = Sandbox::start();
    let api = sb.partner("P", true);
    let c = api.customer("c").await;
    let users = format!("/v1/accounts/{}/users", s(&c["id"]));
    let mut tasks = Vec::new();
    for w in 0..8 {
        let api = api.clone();
        let users = users.clone();
        tasks.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            for i in (w..2500).step_by(8) {
                let u = api
                    .post(
                        &users,
                        json!({"email": format!("u{i}@x.example"), "name": format!("U {i}")}),
                    )
                    .await
                    .status_ok(201, "User");
                ids.push(s(&u["id"]));
            }
            ids
        }));
    }
    let mut before = HashSet::new();
    for t in tasks {
        before.extend(t.await.unwrap());
    }
    assert_eq!(before.len(), 2500);

    let stop = Arc::new(AtomicBool::new(false));
    let (started_tx, started_rx) = tokio::sync::oneshot::channel::<()>();
    let inserter = {
        let (api, users, stop) = (api.clone(), users.clone(), stop.clone());
        tokio::spawn(async move {
            let mut n = 0;
            let mut started = Some(started_tx);
            while !stop.load(Ordering::Relaxed) && n < 2000 {
                api.post(
                    &users,
                    json!({"email": format!("late{n}@x.example"), "name": "Late"}),
                )
                .await
                .status_ok(201, "User");
                n += 1;
                if let Some(tx) = started.take() {
                    let _ = tx.send(());
                }
            }
            n
        })
    };
    // Start paging once the inserter is running, so that inserts interleave with the pages.
    started_rx.await.expect("inserter started");
    let mut seen: HashMap<String, u32> = HashMap::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let url = match &token {
            Some(t) => format!("/v1/users?page_size=50&page_token={t}"),
            None => "/v1/users?page_size=50".to_string(),
        };
        let page = api.get(&url).await.ok("UserPage");
        pages += 1;
        for u in page["items"].as_array().unwrap() {
            *seen.entry(s(&u["id"])).or_default() += 1;
        }
        match page.get("next_page_token").and_then(Value::as_str) {
            Some(t) => token = Some(t.to_string()),
            None => break,
        }
        tokio::task::yield_now().await;
    }
    stop.store(true, Ordering::Relaxed);
    let inserted_meanwhile = inserter.await.unwrap();
    assert!(inserted_meanwhile > 0, "the inserter ran concurrently");
    assert!(pages >= 50);
    for id in &before {
        assert_eq!(
            seen.get(id),
            Some(&1),
            "pre-existing user {id} seen {:?} times",
            seen.get(id)
        );
    }
    assert!(seen.values().all(|n| *n == 1), "no user is repeated");
}

#[tokio::test]
async fn kill_9_after_acknowledged_writes_then_restart_keeps_all_of_them() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("durable.db");
    let mut sb = Sandbox::start_on(&db, &[]);
    let api = sb.partner("P", true);
    let mut acked = Vec::new();
    let c = api.customer("c0").await;
    acked.push(s(&c["id"]));
    let users = format!("/v1/accounts/{}/users", s(&c["id"]));
    for i in 1..150 {
        let a = api.customer(&format!("c{i}")).await;
        acked.push(s(&a["id"]));
        let u = api
            .post(
                &users,
                json!({"email": format!("u{i}@x.example"), "name": "U"}),
            )
            .await
            .status_ok(201, "User");
        acked.push(s(&u["id"]));
    }
    sb.kill9();
    // The server is gone.
    assert!(api.try_call("GET", "/v1/partner", None, &[]).await.is_err());

    let sb2 = Sandbox::start_on(&db, &[]);
    let api2 = Api::new(&sb2.url, &api.token);
    let mut now: HashSet<String> = api2
        .list_all("/v1/accounts", "AccountPage", 1000)
        .await
        .iter()
        .map(|a| s(&a["id"]))
        .collect();
    now.extend(
        api2.list_all("/v1/users", "UserPage", 1000)
            .await
            .iter()
            .map(|u| s(&u["id"])),
    );
    for id in &acked {
        assert!(
            now.contains(id),
            "acknowledged write {id} lost after kill -9"
        );
    }
    assert_eq!(now.len(), acked.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_with_writes_in_flight_loses_no_acknowledged_write() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("inflight.db");
    let mut sb = Sandbox::start_on(&db, &[]);
    let api = sb.partner("P", true);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let mut writers = Vec::new();
    for w in 0..16 {
        let (api, tx) = (Api::new(&api.base, &api.token), tx.clone());
        writers.push(tokio::spawn(async move {
            for i in 0..10_000 {
                let body = customer_body(&format!("w{w}-{i}"));
                match api.try_call("POST", "/v1/accounts", Some(&body), &[]).await {
                    Ok(r) if r.status == 201 => {
                        let _ = tx.send(s(&r.body["id"]));
                    }
                    _ => return, // the server is gone
                }
            }
        }));
    }
    drop(tx);
    let mut acked = Vec::new();
    while acked.len() < 400 {
        acked.push(rx.recv().await.expect("writers stopped early"));
    }
    sb.kill9(); // 16 writes are in flight right now
    for w in writers {
        w.await.unwrap();
    }
    while let Some(id) = rx.recv().await {
        acked.push(id);
    }

    let sb2 = Sandbox::start_on(&db, &[]);
    let api2 = Api::new(&sb2.url, &api.token);
    let now: HashSet<String> = api2
        .list_all("/v1/accounts", "AccountPage", 1000)
        .await
        .iter()
        .map(|a| s(&a["id"]))
        .collect();
    for id in &acked {
        assert!(
            now.contains(id),
            "acknowledged write {id} lost after kill -9"
        );
    }
    assert!(
        now.len() <= acked.len() + 16,
        "at most the in-flight writes may have committed unacknowledged ({} vs {})",
        now.len(),
        acked.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_concurrent_writers_lose_nothing() {
    let sb = Sandbox::start();
    let api = sb.partner("P", true);
    let hub = api.customer("hub").await;
    let users = format!("/v1/accounts/{}/users", s(&hub["id"]));
    let mut tasks = Vec::new();
    for w in 0..64 {
        let api = Api::new(&api.base, &api.token);
        let users = users.clone();
        tasks.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            for i in 0..5 {
                let key = format!("w{w}-c{i}");
                ids.push(s(&api.customer(&key).await["id"]));
                let u = api
                    .post(
                        &users,
                        json!({"email": format!("{key}@x.example"), "name": key}),
                    )
                    .await
                    .status_ok(201, "User");
                ids.push(s(&u["id"]));
            }
            ids
        }));
    }
    let mut acked = HashSet::new();
    for t in tasks {
        acked.extend(t.await.unwrap());
    }
    assert_eq!(acked.len(), 64 * 10);
    let accounts = api.list_all("/v1/accounts", "AccountPage", 1000).await;
    let users_now = api.list_all("/v1/users", "UserPage", 1000).await;
    assert_eq!(accounts.len(), 64 * 5 + 1);
    assert_eq!(users_now.len(), 64 * 5);
    let keys: HashSet<String> = accounts.iter().map(|a| s(&a["external_key"])).collect();
    assert_eq!(keys.len(), accounts.len(), "no duplicate or corrupted keys");
    for a in &accounts {
        let key = s(&a["external_key"]);
        assert_eq!(a["name"], format!("Customer {key}"), "document intact");
    }
    for id in acked {
        assert!(
            accounts
                .iter()
                .chain(&users_now)
                .any(|o| o["id"] == id.as_str()),
            "{id} lost"
        );
    }
}

#[tokio::test]
async fn write_limit_throttles_with_retry_after_429_or_409() {
    for (status, flag) in [(429u16, "429"), (409, "409")] {
        let sb = Sandbox::start_args(&["--write-limit", "6/min", "--throttle-status", flag]);
        let api = sb.partner("P", true);
        assert_eq!(
            api.get("/v1/limits").await.ok("Limits")["writes_per_minute"],
            6
        );
        api.customer("first").await; // passing: within the limit
        let r = api.post("/v1/accounts", customer_body("second")).await;
        let retry: u64 = r
            .header("retry-after")
            .expect("Retry-After")
            .parse()
            .unwrap();
        assert!((1..=10).contains(&retry), "Retry-After {retry}");
        r.err(status, "throttled");
        // Reads are not limited.
        for _ in 0..5 {
            api.get("/v1/accounts").await.ok("AccountPage");
        }
        assert_eq!(
            api.list_all("/v1/accounts", "AccountPage", 10).await.len(),
            1,
            "a throttled write did nothing"
        );
    }
    let sb = Sandbox::start();
    let api = sb.partner("P", true);
    for i in 0..20 {
        api.customer(&format!("c{i}")).await; // without a limit, nothing is throttled
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fail_rate_injects_failures_and_idempotency_keys_recover() {
    let sb = Sandbox::start_args(&["--fail-rate", "0.5", "--seed", "42"]);
    let api = sb.partner("P", true);
    let mut failures = 0;
    let mut dropped = 0;
    for i in 0..30 {
        let key = format!("create-{i}");
        let mut done = false;
        for _ in 0..30 {
            match api
                .try_call(
                    "POST",
                    "/v1/accounts",
                    Some(&customer_body(&format!("c{i}"))),
                    &[("Idempotency-Key", &key)],
                )
                .await
            {
                Ok(r) if r.status == 201 => {
                    r.ok("Account");
                    done = true;
                    break;
                }
                Ok(r) => {
                    r.err(500, "injected-failure");
                    failures += 1;
                }
                Err(_) => dropped += 1,
            }
        }
        assert!(done, "create {i} never succeeded");
    }
    assert!(
        failures > 0 && dropped > 0,
        "both kinds of failure happen ({failures} 500s, {dropped} drops)"
    );
    // Failures after commit + retries with the same key: still exactly one of each.
    let accounts = api.list_all("/v1/accounts", "AccountPage", 1000).await;
    assert_eq!(accounts.len(), 30, "no duplicates, nothing lost");

    // Without a key, a failure after commit makes the retry a conflict: idempotency is what
    // saves the client.
    let mut conflicts = 0;
    for i in 0..20 {
        loop {
            match api
                .try_call(
                    "POST",
                    "/v1/accounts",
                    Some(&customer_body(&format!("nokey{i}"))),
                    &[],
                )
                .await
            {
                Ok(r) if r.status == 201 || r.status == 409 => {
                    conflicts += usize::from(r.status == 409);
                    break;
                }
                _ => continue,
            }
        }
    }
    assert!(
        conflicts > 0,
        "some writes committed although the client saw a failure"
    );
}

#[tokio::test]
async fn fail_rate_is_deterministic_for_a_seed() {
    async fn pattern(seed: &str) -> Vec<bool> {
        let sb = Sandbox::start_args(&["--fail-rate", "0.3", "--seed", seed]);
        let api = sb.partner("P", true);
        let mut out = Vec::new();
        for i in 0..40 {
            let body = customer_body(&format!("c{i}"));
            let key = format!("k{i}");
            let r = api
                .try_call(
                    "POST",
                    "/v1/accounts",
                    Some(&body),
                    &[("Idempotency-Key", &key)],
                )
                .await;
            out.push(matches!(r, Ok(ref r) if r.status == 201));
        }
        out
    }
    let a = pattern("7").await;
    assert_eq!(a, pattern("7").await, "same seed, same failures");
    assert!(a.iter().any(|ok| !ok) && a.iter().any(|ok| *ok));
    assert_ne!(a, pattern("8").await, "another seed, other failures");
}

#[tokio::test]
async fn latency_knob_delays_every_request() {
    let sb = Sandbox::start_args(&["--latency-ms", "120"]);
    let api = sb.partner("P", true);
    let t = Instant::now();
    api.get("/v1/partner").await.ok("Partner");
    api.customer("c").await;
    assert!(
        t.elapsed() >= Duration::from_millis(240),
        "{:?}",
        t.elapsed()
    );
    let fast = Sandbox::start();
    let api = fast.partner("P", true);
    let t = Instant::now();
    api.get("/v1/partner").await.ok("Partner");
    assert!(
        t.elapsed() < Duration::from_millis(120),
        "no latency without the knob: {:?}",
        t.elapsed()
    );
}

#[test]
fn admin_commands_report_errors_and_partner_add_prints_only_the_token() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("a/b/admin.db");
    let out = crate::support::partnerctl()
        .args([
            "sandbox",
            "partner",
            "add",
            "--name",
            "Acme Partners",
            "--db",
        ])
        .arg(&db)
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1);
    assert!(stdout.trim().starts_with("psk_"));
    let out = crate::support::partnerctl()
        .args(["sandbox", "partner", "add", "--name", "  ", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    assert!(!out.status.success(), "a blank name is refused");
    let out = crate::support::partnerctl()
        .args(["sandbox", "partner", "list", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    let listed: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(listed.len(), 1);
    assert_valid("Partner", &listed[0]);
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("psk_"),
        "tokens are never listed"
    );
    let out = crate::support::partnerctl()
        .args([
            "sandbox",
            "partner",
            "token",
            "--id",
            listed[0]["id"].as_str().unwrap(),
            "--db",
        ])
        .arg(&db)
        .output()
        .unwrap();
    assert!(out.status.success());
    let second = String::from_utf8(out.stdout).unwrap();
    assert!(second.trim().starts_with("psk_") && second.trim() != stdout.trim());
    let out = crate::support::partnerctl()
        .args(["sandbox", "partner", "token", "--id", "ptn_nope", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    assert!(!out.status.success(), "no token for an unknown partner");
    let out = crate::support::partnerctl()
        .args(["sandbox", "outbox", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(out.stdout.is_empty());
    let out = crate::support::partnerctl()
        .args([
            "sandbox",
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--throttle-status",
            "418",
            "--db",
        ])
        .arg(&db)
        .output()
        .unwrap();
    assert!(!out.status.success(), "bad throttle status is refused");
    assert_valid("Health", &json!({"status": "ok"}));
}
