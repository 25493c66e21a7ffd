//! Idempotency keys: a replay returns the first response, a key reused with another request is
//! refused, keys are per partner, and replayed invitations send no second email.

use serde_json::json;

use super::s;
use crate::support::{Sandbox, customer_body};

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
    let mut invited = Vec::new();
    for _ in 0..2 {
        let body = json!({"email": "u@x.example", "name": "U"});
        let u = api.post_idem(&users, body, "inv-1").await;
        invited.push(u.status_ok(201, "User"));
    }
    assert_eq!(invited[0], invited[1]);
    assert_eq!(api.list_all("/v1/users", "UserPage", 10).await.len(), 1);
    assert_eq!(
        sb.admin(&["outbox"]).stdout.lines().count(),
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
