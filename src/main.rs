//! Binary entry point: parses nothing itself, hands over to [`partnerctl::cli`].
fn main() -> std::process::ExitCode {
    partnerctl::cli::main()
}
