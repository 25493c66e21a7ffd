//! Users: invitations (validation, roles, one per email and account), the lifecycle
//! invited → expired → resent → active driven by the admin commands, edits, removal, revocation
//! and the outbox of emails.

use serde_json::{Value, json};

use super::s;
use crate::support::{Api, Sandbox};

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

    let upath = format!("/v1/users/{}", s(&u["id"]));
    let active = expire_resend_and_accept(&sb, &api, &upath).await;
    edit_remove_and_revoke(&api, &upath, &active, &m, &users).await;
}

/// Drives the invited user at `upath` (Jane) through expiry, a resent invitation and acceptance,
/// checking the outbox on the way; returns the active user.
async fn expire_resend_and_accept(sb: &Sandbox, api: &Api, upath: &str) -> Value {
    api.post(&format!("{upath}/resend"), json!({}))
        .await
        .err(409, "invalid-user-state");

    sb.admin(&["users", "expire", "--email", "JANE@contoso.example"])
        .success();
    assert_eq!(api.get(upath).await.ok("User")["status"], "expired");
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

    let mails: Vec<Value> = sb
        .admin(&["outbox"])
        .stdout
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

    sb.admin(&["users", "accept", "--email", "jane@contoso.example"])
        .success();
    let active = api.get(upath).await.ok("User");
    assert_eq!(active["status"], "active");
    let run = sb.admin(&["users", "accept", "--email", "nobody@nowhere.example"]);
    assert_ne!(run.code, 0, "accepting an unknown email fails");
    assert!(run.stderr.contains("nobody@nowhere.example"));
    active
}

/// Edits and removes the active user at `upath`, revokes the pending invitation `bob`, and
/// invites Jane again into `users` (`/v1/accounts/{id}/users`).
async fn edit_remove_and_revoke(api: &Api, upath: &str, active: &Value, bob: &Value, users: &str) {
    api.patch(upath, json!({"role": "member"}), None)
        .await
        .err(428, "precondition-required");
    api.patch(
        upath,
        json!({"email": "other@x.example"}),
        Some(&s(&active["etag"])),
    )
    .await
    .err(400, "validation-failed");
    let patched = api
        .patch(
            upath,
            json!({"role": "member", "name": "Jane D"}),
            Some(&s(&active["etag"])),
        )
        .await
        .ok("User");
    assert_eq!(
        (patched["role"].clone(), patched["name"].clone()),
        (json!("member"), json!("Jane D"))
    );
    api.delete(upath, Some(&s(&active["etag"])))
        .await
        .err(412, "precondition-failed");
    assert_eq!(
        api.delete(upath, Some(&s(&patched["etag"]))).await.status,
        204
    );
    api.get(upath).await.err(404, "not-found");
    // Revoking a pending invitation.
    let bob_path = format!("/v1/users/{}", s(&bob["id"]));
    assert_eq!(
        api.delete(&bob_path, Some(&s(&bob["etag"]))).await.status,
        204
    );
    assert!(api.list_all("/v1/users", "UserPage", 10).await.is_empty());
    // The email can be invited again once removed.
    api.post(
        users,
        json!({"email": "jane@contoso.example", "name": "Jane"}),
    )
    .await
    .status_ok(201, "User");
}
