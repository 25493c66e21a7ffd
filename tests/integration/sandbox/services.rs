//! Services: settings validated against the catalog's schemas, one service per type per account,
//! ETags and deletion.

use serde_json::json;

use super::s;
use crate::support::{Api, Sandbox};

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

    invalid_settings_are_refused(&api, &base).await;
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

/// Settings of the wrong type, unknown settings and values outside their pattern are refused with
/// the pointer of the culprit, and so is an unknown service type (`base`:
/// `/v1/accounts/{id}/services`).
async fn invalid_settings_are_refused(api: &Api, base: &str) {
    let schedule = json!({"name": "x", "days": ["mon"], "from": "25:00", "to": "18:00"});
    for (ty, settings, pointer) in [
        (
            "cards",
            json!({"layout_approval": "yes"}),
            "/settings/layout_approval",
        ),
        ("cards", json!({"colour": "red"}), "/settings"),
        (
            "access-control",
            json!({"schedules": [schedule]}),
            "/settings/schedules/0/from",
        ),
    ] {
        let e = api
            .put(&format!("{base}/{ty}"), json!({"settings": settings}))
            .await
            .err(400, "validation-failed");
        assert_eq!(e["errors"][0]["pointer"], pointer);
    }
    api.put(&format!("{base}/teleport"), json!({"settings": {}}))
        .await
        .err(400, "unknown-service-type");
}
