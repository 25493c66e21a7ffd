//! Scale "L" (see BENCHMARKS.md): a sandbox holding 10,000 customers, 1,000 networks × 3 sub-accounts,
//! 30,001 users and 20,000 services is read by a plan in at most 80 requests (≈ objects / 1000),
//! and the plan of the matching configuration is empty. Wall time lives in BENCHMARKS.md.

use partnerctl::api::{Client, Secret};
use partnerctl::config::{Source, load_sources};
use partnerctl::plan::{Options, plan};
use partnerctl::provider::HttpProvider;
use partnerctl::provider::Provider;
use partnerctl::sandbox::server;
use partnerctl::testkit::{Scale, generate, seed};

#[test]
fn plan_of_scale_l_reads_in_at_most_80_requests() {
    let sources: Vec<Source> = generate(&Scale::L)
        .into_iter()
        .map(|(path, text)| Source { path, text })
        .collect();
    let desired = load_sources(&sources).expect("generated config is valid");
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sandbox.db");
    let (seeded, token) = seed(&db, &desired).expect("seed");
    assert_eq!(
        (seeded.accounts, seeded.users, seeded.services),
        (14_000, 30_001, 20_000)
    );

    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let running = server::spawn(server::ServeOptions::new("127.0.0.1:0", db.clone()))
            .await
            .unwrap();
        let client = Client::new(&running.url(), Secret::new(token)).unwrap();
        let provider = HttpProvider::new(client);
        let snapshot = provider.snapshot().await.unwrap();
        let requests = provider
            .client()
            .stats()
            .requests
            .load(std::sync::atomic::Ordering::Relaxed);
        assert_eq!(snapshot.accounts.len(), 14_000);
        assert_eq!(snapshot.users.len(), 30_001);
        assert_eq!(snapshot.services.len(), 20_000);
        // 14 + 31 + 20 list pages, plus partner, limits and the catalog.
        assert!(requests <= 80, "{requests} requests");
        assert_eq!(requests, 14 + 31 + 20 + 3);
        let p = plan(&desired, &snapshot, Options::default()).unwrap();
        assert!(p.is_empty(), "{} operations", p.operations.len());
        assert_eq!(p.pending_invitations, 30_001);
        running.shutdown().await.unwrap();
    });
}
