//! Binary entry point: parses nothing itself, hands over to [`partnerctl::cli`].

/// mimalloc: a large configuration and its live state are hundreds of thousands of small
/// allocations, made and freed on several threads at once.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    partnerctl::cli::main()
}
