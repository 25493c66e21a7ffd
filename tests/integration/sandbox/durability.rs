//! Durability: an acknowledged write survives `kill -9` of the server, also with writes in flight.

use std::collections::HashSet;

use super::s;
use crate::support::{Api, Sandbox, customer_body};

#[tokio::test]
async fn kill_9_after_acknowledged_writes_then_restart_keeps_all_of_them() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("durable.db");
    let mut sb = Sandbox::start_on(&db, &[]);
    let api = sb.partner("P", true);
    let mut acked = Vec::new();
    let c = api.customer("c0").await;
    acked.push(s(&c["id"]));
    let hub = s(&c["id"]);
    for i in 1..150 {
        let a = api.customer(&format!("c{i}")).await;
        acked.push(s(&a["id"]));
        let u = api.invite(&hub, &format!("u{i}@x.example"), "U").await;
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
