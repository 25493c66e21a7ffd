//! Running the `partnerctl` binary under test.

use std::process::Command;

/// Path of the binary under test.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_partnerctl")
}

/// A `partnerctl` command with a clean, explicit environment.
pub fn partnerctl() -> Command {
    let mut c = Command::new(bin());
    c.env_clear()
        .env("RUST_LOG", "warn")
        .env("NO_COLOR", "1")
        .env("CI", "true");
    c
}
