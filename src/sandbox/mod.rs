//! Stage `sandbox`: a local, durable implementation of the partner API (SPEC §8).
//! May touch: the SQLite file, loopback sockets. Shares only [`crate::api::types`] with the client.
//!
//! - [`server`]: the axum server; [`server::spawn`] starts it in-process.
//! - [`store`]: the SQLite store and every rule of SPEC §2/§7.
//! - [`catalog`]: the service types and their settings schemas.
//!
//! Usage:
//!
//! ```text
//! export PARTNERCTL_TOKEN=$(partnerctl sandbox partner add --name 'Acme Partners')
//! partnerctl sandbox serve --listen 127.0.0.1:0          # first stdout line: listening on http://ADDR
//! partnerctl sandbox serve --latency-ms 20 --write-limit 600/min --throttle-status 409 \
//!     --fail-rate 0.2 --seed 7                          # realism knobs
//! partnerctl sandbox users accept --email jane@contoso.example   # or: users expire
//! partnerctl sandbox outbox                              # invitation emails, JSON lines
//! partnerctl sandbox partner list | partner token --id ID
//! RUST_LOG=info partnerctl sandbox serve                 # request log on stderr
//! ```
//!
//! Every command takes `--db FILE` (default `.partnerctl/sandbox.db`). In-process:
//! [`ensure_partner_token`] then [`server::spawn`] (see `RunningSandbox::shutdown`).
//!
//! Design decisions (where the spec is silent):
//! - A customer's `parent_id` is the partner's id (on create it may be omitted).
//! - Users can be invited on the partner itself (account id = partner id); that is not "inside a
//!   customer", so it is allowed for non-manageable partners.
//! - The manageable gate covers everything inside customers: users and services of customers,
//!   networks and sub-accounts, and creating, changing or deleting networks and sub-accounts.
//!   Creating, changing and deleting the customer record itself is allowed.
//! - `If-Match` is required on PATCH/DELETE of accounts and users (428 without it, 412 on
//!   mismatch); on the idempotent service PUT/DELETE it is optional and checked when sent.
//! - Idempotency keys are scoped to the partner; only successful (2xx) responses are
//!   remembered, so a request that failed validation can be corrected and retried with the key.

pub mod catalog;
pub mod error;
pub mod seed;
pub mod server;
pub mod store;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use axum::http::StatusCode;
use clap::Subcommand;

use crate::api::types::UserStatus;

/// Default sandbox database, relative to the working directory.
pub const DEFAULT_DB: &str = ".partnerctl/sandbox.db";

/// `partnerctl sandbox ...` subcommands.
#[derive(Debug, Subcommand)]
pub enum SandboxCommand {
    /// Run the sandbox API server.
    #[command(
        after_help = "Examples:\n  partnerctl sandbox serve --listen 127.0.0.1:0\n  partnerctl sandbox serve --latency-ms 20 --write-limit 600/min --fail-rate 0.2 --seed 7\n\nThe first line on stdout is `listening on http://ADDR`."
    )]
    Serve {
        /// Address to listen on (port 0 picks a free port; the bound address is printed).
        #[arg(long, default_value = "127.0.0.1:7878")]
        listen: String,
        /// SQLite database file (created, with its directory, if missing).
        #[arg(long, default_value = DEFAULT_DB, value_name = "FILE")]
        db: PathBuf,
        /// Latency added to every request, in milliseconds.
        #[arg(long, default_value_t = 0, value_name = "N")]
        latency_ms: u64,
        /// Writes per minute per partner, e.g. `600/min` (or just `600`); throttled writes get
        /// `--throttle-status` with Retry-After.
        #[arg(long, value_name = "N/min", value_parser = parse_write_limit)]
        write_limit: Option<u32>,
        /// Status of a throttled write: 429, or 409 (Nexudus style).
        #[arg(long, default_value_t = 429, value_name = "429|409", value_parser = parse_throttle_status)]
        throttle_status: u16,
        /// Fraction (0..1) of writes that fail with a 500 or a dropped connection; half of them
        /// after the write committed.
        #[arg(long, default_value_t = 0.0, value_name = "P", value_parser = parse_fraction)]
        fail_rate: f64,
        /// Seed of the failure injection (same seed and request order: same failures).
        #[arg(long, default_value_t = 0, value_name = "N")]
        seed: u64,
    },
    /// Manage partners (opens the database directly).
    #[command(subcommand)]
    Partner(PartnerCommand),
    /// Move users through their lifecycle (opens the database directly).
    #[command(subcommand)]
    Users(UsersCommand),
    /// Print the invitation emails of the outbox, oldest first, one JSON object per line.
    Outbox {
        /// SQLite database file.
        #[arg(long, default_value = DEFAULT_DB, value_name = "FILE")]
        db: PathBuf,
    },
}

/// `partnerctl sandbox partner ...`.
#[derive(Debug, Subcommand)]
pub enum PartnerCommand {
    /// Create a partner and print its new API token (alone, on stdout).
    #[command(
        after_help = "Examples:\n  export PARTNERCTL_TOKEN=$(partnerctl sandbox partner add --name 'Acme Partners')"
    )]
    Add {
        /// The partner's name.
        #[arg(long)]
        name: String,
        /// Create it with `manageable: false` (nothing inside customers may change).
        #[arg(long)]
        not_manageable: bool,
        /// SQLite database file.
        #[arg(long, default_value = DEFAULT_DB, value_name = "FILE")]
        db: PathBuf,
    },
    /// Issue one more API token for an existing partner and print it (alone, on stdout).
    #[command(
        after_help = "Examples:\n  export PARTNERCTL_TOKEN=$(partnerctl sandbox partner token --id ptn_0123456789abcdef0123)"
    )]
    Token {
        /// The partner's id (see `partner list`).
        #[arg(long)]
        id: String,
        /// SQLite database file.
        #[arg(long, default_value = DEFAULT_DB, value_name = "FILE")]
        db: PathBuf,
    },
    /// List the partners, one JSON object per line (tokens are never shown).
    List {
        /// SQLite database file.
        #[arg(long, default_value = DEFAULT_DB, value_name = "FILE")]
        db: PathBuf,
    },
}

/// `partnerctl sandbox users ...`.
#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// The user accepts the invitation (invited → active), on every account with that email.
    Accept {
        /// Email (case-insensitive).
        #[arg(long)]
        email: String,
        /// SQLite database file.
        #[arg(long, default_value = DEFAULT_DB, value_name = "FILE")]
        db: PathBuf,
    },
    /// The invitation times out (invited → expired), on every account with that email.
    Expire {
        /// Email (case-insensitive).
        #[arg(long)]
        email: String,
        /// SQLite database file.
        #[arg(long, default_value = DEFAULT_DB, value_name = "FILE")]
        db: PathBuf,
    },
}

fn parse_write_limit(s: &str) -> Result<u32, String> {
    let n = s.strip_suffix("/min").unwrap_or(s);
    n.trim()
        .parse::<u32>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("{s:?} is not a write limit like 600/min"))
}

fn parse_fraction(s: &str) -> Result<f64, String> {
    s.parse::<f64>()
        .ok()
        .filter(|p| (0.0..=1.0).contains(p))
        .ok_or_else(|| format!("{s:?} is not a fraction between 0 and 1 (e.g. 0.2)"))
}

fn parse_throttle_status(s: &str) -> Result<u16, String> {
    match s {
        "429" => Ok(429),
        "409" => Ok(409),
        _ => Err(format!("{s:?}: the throttle status must be 429 or 409")),
    }
}

/// Runs a sandbox subcommand.
pub fn run(cmd: SandboxCommand) -> anyhow::Result<()> {
    match cmd {
        SandboxCommand::Serve {
            listen,
            db,
            latency_ms,
            write_limit,
            throttle_status,
            fail_rate,
            seed,
        } => {
            let opts = server::ServeOptions {
                listen,
                db,
                latency: Duration::from_millis(latency_ms),
                write_limit,
                throttle_status: StatusCode::from_u16(throttle_status)?,
                fail_rate,
                seed,
            };
            serve(opts)
        }
        SandboxCommand::Partner(PartnerCommand::Add {
            name,
            not_manageable,
            db,
        }) => {
            let store = store::Store::open(&db)?;
            let (_, token) = store
                .write(move |tx| store::add_partner(tx, &name, !not_manageable))
                .map_err(error::Error::from)?;
            println!("{token}");
            Ok(())
        }
        SandboxCommand::Partner(PartnerCommand::Token { id, db }) => {
            let store = store::Store::open(&db)?;
            let token = store
                .write(move |tx| {
                    let known = store::list_partners(tx)?.iter().any(|p| p.id == id);
                    if !known {
                        return Err(error::RequestError::not_found("partner", &id));
                    }
                    store::issue_token(tx, &id)
                })
                .map_err(error::Error::from)?;
            println!("{token}");
            Ok(())
        }
        SandboxCommand::Partner(PartnerCommand::List { db }) => {
            let store = store::Store::open(&db)?;
            let partners = store
                .read(store::list_partners)
                .map_err(error::Error::from)?;
            let mut out = std::io::stdout().lock();
            for p in partners {
                if writeln!(out, "{}", serde_json::to_string(&p)?).is_err() {
                    break; // closed pipe: not an error
                }
            }
            Ok(())
        }
        SandboxCommand::Users(UsersCommand::Accept { email, db }) => {
            set_status(&db, &email, &[UserStatus::Invited], UserStatus::Active)
        }
        SandboxCommand::Users(UsersCommand::Expire { email, db }) => {
            set_status(&db, &email, &[UserStatus::Invited], UserStatus::Expired)
        }
        SandboxCommand::Outbox { db } => {
            let store = store::Store::open(&db)?;
            let mails = store.read(store::outbox).map_err(error::Error::from)?;
            let mut out = std::io::stdout().lock();
            for m in mails {
                if writeln!(out, "{}", serde_json::to_string(&m)?).is_err() {
                    break; // closed pipe: not an error
                }
            }
            Ok(())
        }
    }
}

/// For the CLI's embedded default: opens (creating) the sandbox database at `db`, makes sure a
/// partner named `name` exists (created manageable on first use) and returns a fresh API token
/// for it. Blocking; call it before [`server::spawn`] or from `spawn_blocking`.
pub fn ensure_partner_token(db: &Path, name: &str) -> Result<String, error::Error> {
    let store = store::Store::open(db)?;
    let name = name.to_string();
    let (_, token) = store.write(move |tx| store::ensure_partner(tx, &name))?;
    Ok(token)
}

fn set_status(db: &Path, email: &str, from: &[UserStatus], to: UserStatus) -> anyhow::Result<()> {
    let store = store::Store::open(db)?;
    let changed = store
        .write({
            let (email, from) = (email.to_string(), from.to_vec());
            move |tx| store::set_user_status_by_email(tx, &email, &from, to)
        })
        .map_err(error::Error::from)?;
    anyhow::ensure!(
        !changed.is_empty(),
        "no invited user with email {email:?} in {}; check `partnerctl sandbox outbox --db {}`",
        db.display(),
        db.display()
    );
    for u in &changed {
        eprintln!("{} on {}: {}", u.email, u.account_id, to.as_str());
    }
    Ok(())
}

fn serve(opts: server::ServeOptions) -> anyhow::Result<()> {
    // Request log on stderr with RUST_LOG (e.g. RUST_LOG=info); warnings only by default.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr())
        && std::env::var_os("NO_COLOR").is_none();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr)
        .try_init();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let running = server::spawn(opts.clone()).await?;
        {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "listening on {}", running.url());
            let _ = out.flush();
        }
        eprintln!("sandbox: database {}", opts.db.display());
        shutdown_signal().await?;
        eprintln!("sandbox: shutting down");
        running.shutdown().await?;
        Ok(())
    })
}

async fn shutdown_signal() -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r?,
            _ = term.recv() => {}
        }
        Ok(())
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await?;
        Ok(())
    }
}
