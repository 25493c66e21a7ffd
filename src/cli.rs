//! Edge of the program: command-line parsing (clap), dispatch to the stages, exit codes.
//! May touch: process arguments, environment, stdout/stderr. `anyhow` lives here and in `main`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand, ValueEnum};

use crate::config;
use crate::output::print_stdout;
use crate::sandbox;

/// Exit code for success (and, with `--detailed-exitcode`, "no changes").
pub const EXIT_OK: u8 = 0;
/// Exit code for an error or a refusal.
pub const EXIT_ERROR: u8 = 1;
/// Exit code for "changes present" (`--detailed-exitcode` only).
pub const EXIT_CHANGES: u8 = 2;

/// Manage a partner/reseller account hierarchy as code.
///
/// The desired layout of partner, customers, networks, sub-accounts, users and services lives in
/// YAML; `plan` shows what would change in the live account, `apply` performs it.
#[derive(Debug, Parser)]
#[command(name = "partnerctl", version, propagate_version = true)]
#[command(
    after_help = "Examples:\n  partnerctl validate examples/acme\n  partnerctl schema > partnerctl.schema.json\n\nExit codes: 0 success, 1 error or refused, 2 changes present (--detailed-exitcode)."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options accepted by every subcommand.
#[derive(Debug, clap::Args)]
pub struct GlobalArgs {
    /// API endpoint URL, or `local` for the embedded sandbox.
    #[arg(long, global = true, env = "PARTNERCTL_ENDPOINT", value_name = "URL")]
    pub endpoint: Option<String>,
    /// API token (prefer the PARTNERCTL_TOKEN environment variable; never echoed).
    #[arg(
        long,
        global = true,
        env = "PARTNERCTL_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub token: Option<String>,
    /// When to colour output (NO_COLOR is honoured by `auto`).
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// More diagnostics on stderr (repeat for more).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Fewer diagnostics on stderr.
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

/// `--color` choices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colour when stdout is a terminal and NO_COLOR is unset.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check configuration files offline (SPEC §3) and report every problem with its location.
    #[command(
        after_help = "Examples:\n  partnerctl validate examples/acme\n  partnerctl validate partner.yaml customers/\n\nExit codes: 0 valid, 1 problems found (each printed as path:line:col: message)."
    )]
    Validate {
        /// Config files or directories (every *.yaml/*.yml below a directory, sorted).
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
    },
    /// Print the JSON Schema of the configuration format.
    #[command(
        after_help = "Examples:\n  partnerctl schema > schemas/partnerctl.schema.json\n\nPoint your editor at it with a first line of:\n  # yaml-language-server: $schema=../schemas/partnerctl.schema.json"
    )]
    Schema,
    /// Print a shell completion script.
    #[command(
        after_help = "Examples:\n  partnerctl completions bash > ~/.local/share/bash-completion/completions/partnerctl\n  partnerctl completions zsh > ~/.zfunc/_partnerctl"
    )]
    Completions {
        /// The shell to generate completions for.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff).
    #[command(after_help = "Examples:\n  partnerctl man > partnerctl.1 && man ./partnerctl.1")]
    Man,
    /// The local partner API server and its admin commands (SPEC §8).
    #[command(
        subcommand,
        after_help = "Examples:\n  partnerctl sandbox serve --listen 127.0.0.1:0\n  export PARTNERCTL_TOKEN=$(partnerctl sandbox partner add --name 'Acme Partners')"
    )]
    Sandbox(sandbox::SandboxCommand),
}

/// Parses the process arguments, runs the command and maps the outcome to an exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<u8> {
    match cli.command {
        Command::Validate { paths } => validate(&paths),
        Command::Schema => {
            print_stdout(&config::schema_json())?;
            Ok(EXIT_OK)
        }
        Command::Completions { shell } => {
            let mut buf = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "partnerctl", &mut buf);
            print_stdout(&String::from_utf8_lossy(&buf))?;
            Ok(EXIT_OK)
        }
        Command::Man => {
            let mut buf = Vec::new();
            clap_mangen::Man::new(Cli::command()).render(&mut buf)?;
            print_stdout(&String::from_utf8_lossy(&buf))?;
            Ok(EXIT_OK)
        }
        Command::Sandbox(cmd) => {
            sandbox::run(cmd)?;
            Ok(EXIT_OK)
        }
    }
}

fn validate(paths: &[PathBuf]) -> anyhow::Result<u8> {
    match config::load(paths) {
        Ok(cfg) => {
            print_stdout(&format!("{}\n", cfg.counts()))?;
            Ok(EXIT_OK)
        }
        Err(problems) => {
            eprint!("{problems}");
            eprintln!("{} problem(s) found", problems.len());
            Ok(EXIT_ERROR)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
