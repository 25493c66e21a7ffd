//! Writes a generated configuration (scale "L" of BENCHMARKS.md by default) into a directory.
//!
//! `cargo run --release --example gen-config -- OUT_DIR [CUSTOMERS [USERS_PER_CUSTOMER]]`
//! (networks: one per ten customers, 3 sub-accounts each).

use partnerctl::testkit::{Scale, generate};

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let out = args
        .next()
        .unwrap_or_else(|| "target/generated/L".to_string());
    let mut scale = Scale::L;
    if let Some(n) = args.next() {
        scale.customers = n.parse().expect("CUSTOMERS is a number");
        scale.networks = scale.customers / 10;
    }
    if let Some(n) = args.next() {
        scale.users_per_customer = n.parse().expect("USERS_PER_CUSTOMER is a number");
    }
    std::fs::create_dir_all(&out)?;
    for (name, text) in generate(&scale) {
        std::fs::write(std::path::Path::new(&out).join(name), text)?;
    }
    eprintln!("wrote {} customers to {out}", scale.customers);
    Ok(())
}
