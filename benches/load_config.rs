//! Loads a configuration as `plan` and `apply` do before they read the live state (files read,
//! every problem checked, every customer kept with the defaults merged), with the binary's
//! allocator, and prints what it holds: the memory of reading a configuration without the
//! planner's, for `benches/sheet_memory.sh` (BENCHMARKS.md, "Large sheets").
//!
//! `cargo run --release --example load-config -- PATH...`

/// As the binary: mimalloc.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let paths: Vec<std::path::PathBuf> = std::env::args_os().skip(1).map(Into::into).collect();
    match partnerctl::config::load(&paths) {
        Ok(desired) => {
            println!("loaded: {}", desired.counts());
            // Left to the process exit, as `plan` leaves it.
            std::mem::forget(desired);
            std::process::ExitCode::SUCCESS
        }
        Err(problems) => {
            eprintln!("{problems}");
            std::process::ExitCode::FAILURE
        }
    }
}
