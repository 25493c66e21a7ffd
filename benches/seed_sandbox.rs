//! Seeds a sandbox database with a configuration (one transaction), printing a partner token.
//!
//! `cargo run --release --example seed-sandbox -- DB CONFIG_PATH...`

use partnerctl::config;
use partnerctl::testkit::seed;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let db = args.next().expect("usage: seed-sandbox DB CONFIG_PATH...");
    let paths: Vec<std::path::PathBuf> = args.map(Into::into).collect();
    let desired = config::load(&paths).map_err(|p| anyhow::anyhow!("{p}"))?;
    let (n, token) = seed(std::path::Path::new(&db), &desired)?;
    eprintln!(
        "seeded {db}: {} accounts, {} users, {} services",
        n.accounts, n.users, n.services
    );
    println!("{token}");
    Ok(())
}
