//! Concurrency: paging stays exact while another client inserts, and concurrent writers lose
//! nothing.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::{Value, json};

use super::s;
use crate::support::{Api, Sandbox};

/// Invites users `u0` … `u{n-1}` into the account `account_id` with 8 concurrent tasks;
/// returns their ids.
async fn invite_concurrently(api: &Api, account_id: &str, n: usize) -> HashSet<String> {
    let mut tasks = Vec::new();
    for w in 0..8 {
        let api = api.clone();
        let account_id = account_id.to_string();
        tasks.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            for i in (w..n).step_by(8) {
                let email = format!("u{i}@x.example");
                let u = api.invite(&account_id, &email, &format!("U {i}")).await;
                ids.push(s(&u["id"]));
            }
            ids
        }));
    }
    let mut ids = HashSet::new();
    for t in tasks {
        ids.extend(t.await.unwrap());
    }
    ids
}

/// Pages through `/v1/users` 50 at a time, yielding between pages; returns how often each id was
/// seen and the number of pages.
async fn page_users(api: &Api) -> (HashMap<String, u32>, usize) {
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
            None => return (seen, pages),
        }
        tokio::task::yield_now().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paging_2500_users_while_another_task_inserts_sees_each_exactly_once() {
    let sb = Sandbox::start();
    let api = sb.partner("P", true);
    let c = api.customer("c").await;
    let users = format!("/v1/accounts/{}/users", s(&c["id"]));
    let before = invite_concurrently(&api, &s(&c["id"]), 2500).await;
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
    let (seen, pages) = page_users(&api).await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_concurrent_writers_lose_nothing() {
    let sb = Sandbox::start();
    let api = sb.partner("P", true);
    let hub = api.customer("hub").await;
    let hub = s(&hub["id"]);
    let mut tasks = Vec::new();
    for w in 0..64 {
        let api = Api::new(&api.base, &api.token);
        let hub = hub.clone();
        tasks.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            for i in 0..5 {
                let key = format!("w{w}-c{i}");
                ids.push(s(&api.customer(&key).await["id"]));
                let u = api.invite(&hub, &format!("{key}@x.example"), &key).await;
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
