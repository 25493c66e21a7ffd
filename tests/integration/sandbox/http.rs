//! The HTTP surface: health, authentication, problem+json for unknown routes and methods, the
//! catalog, and the validation of paging parameters.

use std::collections::HashSet;

use serde_json::{Value, json};

use super::s;
use crate::support::{Api, Sandbox};

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
    // Exactly the cursors the API issues, as the OpenAPI document's pattern states them.
    for bad in [
        "garbage",
        "c1.",
        "c1.-5",
        "c1.+5",
        "c1.A",
        "c1.1000000000000000",
    ] {
        api.get(&format!("/v1/users?page_token={bad}"))
            .await
            .err(400, "invalid-page-token");
    }
    api.get("/v1/users?page_token=c1.fffffffffffffff")
        .await
        .ok("UserPage");
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

/// The JSON pointers of a problem's field errors.
fn pointers(problem: &Value) -> HashSet<String> {
    problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| s(&f["pointer"]))
        .collect()
}

#[tokio::test]
async fn patches_refuse_nulls_and_unreadable_preconditions_and_check_the_body_first() {
    let sb = Sandbox::start();
    let api = sb.partner("P", true);
    let c = api.customer("c").await;
    let path = format!("/v1/accounts/{}", s(&c["id"]));
    let etag = s(&c["etag"]);
    // A field left out is unchanged, so `null` clears (only the key) or is refused: never
    // quietly ignored.
    let e = api
        .patch(
            &path,
            json!({"name": null, "country": null, "external_key": null}),
            Some(&etag),
        )
        .await
        .err(400, "validation-failed");
    assert_eq!(
        pointers(&e),
        HashSet::from(["/name".into(), "/country".into()])
    );
    let cleared = api
        .patch(&path, json!({"external_key": null}), Some(&etag))
        .await
        .ok("Account");
    assert_eq!(cleared["external_key"], Value::Null);
    // An invalid body is a 400 whatever the precondition says.
    api.patch(&path, json!({"name": " padded"}), Some("\"stale\""))
        .await
        .err(400, "validation-failed");
    // An If-Match the server cannot read is refused, not taken as absent.
    api.patch(&path, json!({"name": "N"}), Some("\"é\""))
        .await
        .err(400, "invalid-if-match");
    api.call(
        "PUT",
        &format!("{path}/services/cards"),
        Some(&json!({})),
        &[("If-Match", "\"é\"")],
    )
    .await
    .err(400, "invalid-if-match");

    let u = api.invite(&s(&c["id"]), "u@c.example", "U").await;
    let upath = format!("/v1/users/{}", s(&u["id"]));
    let e = api
        .patch(&upath, json!({"role": null}), Some(&s(&u["etag"])))
        .await
        .err(400, "validation-failed");
    assert_eq!(pointers(&e), HashSet::from(["/role".into()]));
    api.patch(&upath, json!({"name": ""}), Some("\"stale\""))
        .await
        .err(400, "validation-failed");
    api.patch(&upath, json!({"role": "admin"}), Some(&s(&u["etag"])))
        .await
        .ok("User");
}
