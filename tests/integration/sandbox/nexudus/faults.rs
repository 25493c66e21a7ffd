//! `--fail-rate` on the Nexudus dialect's writes: failures before and after the commit, as a
//! 500 or a dropped connection. Without idempotency keys, a client that looks a user up by
//! email before creating it again never makes two.

use serde_json::json;

use crate::support::Sandbox;
use crate::support::nexudus::LOGIN;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_retried_after_a_lookup_never_makes_two_users() {
    let sb = Sandbox::nexudus(&["--fail-rate", "0.5", "--seed", "42"]);
    let nx = sb.nexudus_partner("Acme", LOGIN);
    let (mut failures, mut dropped, mut found_after_failure) = (0, 0, 0);
    for i in 0..24 {
        let email = format!("u{i}@example.com");
        let mut failed_before = false;
        for attempt in 0.. {
            assert!(attempt < 40, "user {i} never created");
            let found = nx
                .get(&format!("/api/sys/users?User_Email={email}"))
                .await
                .ok();
            if found["TotalItems"] == 1 {
                found_after_failure += usize::from(failed_before);
                break;
            }
            let body = json!({"FullName": format!("User {i}"), "Email": email});
            match nx.try_send("POST", "/api/sys/users", Some(&body)).await {
                Ok(r) if r.status == 200 => {
                    r.written();
                    break;
                }
                Ok(r) => {
                    assert_eq!(r.status, 500, "{}", r.text);
                    assert_eq!(r.body["WasSuccessful"], false);
                    failures += 1;
                }
                Err(_) => dropped += 1,
            }
            failed_before = true;
        }
    }
    assert!(
        failures > 0 && dropped > 0,
        "{failures} 500s, {dropped} drops"
    );
    assert!(found_after_failure > 0, "some failed writes had committed");
    let users = nx.list_all("/api/sys/users", 1000).await;
    assert_eq!(users.len(), 24, "exactly one user per email");
}
