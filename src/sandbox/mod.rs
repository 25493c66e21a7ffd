//! Stage `sandbox`: a local, durable implementation of the partner API (SPEC §8).
//! May touch: the SQLite file, loopback sockets. Shares only [`crate::api::types`] with the client.

use clap::Subcommand;

/// `partnerctl sandbox ...` subcommands.
#[derive(Debug, Subcommand)]
pub enum SandboxCommand {
    /// Run the sandbox API server.
    Serve {
        /// Address to listen on (port 0 picks a free port; the bound address is printed).
        #[arg(long, default_value = "127.0.0.1:7878")]
        listen: String,
    },
}

/// Runs a sandbox subcommand.
pub fn run(cmd: SandboxCommand) -> anyhow::Result<()> {
    match cmd {
        SandboxCommand::Serve { .. } => anyhow::bail!("sandbox serve is not implemented yet"),
    }
}
