//! Test harness: runs the real `partnerctl` binary as a sandbox server on `127.0.0.1:0`, talks
//! to it over HTTP, and validates every response body against `schemas/openapi.yaml`.
//!
//! - [`cli`]: running the binary (the one launcher every test uses).
//! - [`sandbox`]: starting and stopping a real sandbox, and its admin commands.
//! - [`api`]: the HTTP client of one partner.
//! - [`contract`]: checking responses against the OpenAPI document.
//! - [`nexudus`]: the HTTP client of the sandbox's Nexudus dialect, and starting one.
//! - [`fake`]: a scripted HTTP server that records what it receives, for hostile answers.
//! - [`schemas`]: checking the JSON outputs against the committed schemas.

pub mod api;
pub mod cli;
pub mod contract;
pub mod fake;
pub mod nexudus;
pub mod sandbox;
pub mod schemas;

pub use api::{Api, LISTS, customer_body};
pub use contract::assert_valid;
pub use sandbox::Sandbox;
pub use schemas::assert_matches_schema;

/// The example configuration (`examples/acme`), as an absolute path.
pub fn acme() -> String {
    cli::root().join("examples/acme").display().to_string()
}

/// A generated configuration of `scale` in a new temporary directory: the directory (keep it
/// alive) and the configuration's path in it.
pub fn generated(scale: &partnerctl::testkit::Scale) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("config");
    std::fs::create_dir_all(&cfg).unwrap();
    for (name, text) in partnerctl::testkit::generate(scale) {
        std::fs::write(cfg.join(name), text).unwrap();
    }
    (dir, cfg)
}
