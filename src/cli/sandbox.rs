//! `partnerctl sandbox ...`: serve the local partner API, and the admin commands that open its
//! database directly. The sandbox itself is the library module [`crate::sandbox`].

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use axum::http::StatusCode;
use clap::Subcommand;

use crate::output;
use crate::sandbox::{self, DEFAULT_DB, server};
use crate::wire::partner::{AccountKind, Contact, UserStatus};

/// `partnerctl sandbox ...` subcommands.
#[derive(Debug, Subcommand)]
pub enum SandboxCommand {
    /// Run the sandbox API server.
    #[command(
        after_help = "Examples:\n  partnerctl sandbox serve --listen 127.0.0.1:0\n  partnerctl sandbox serve --latency-ms 20 --write-limit 600/min --fail-rate 0.2 --seed 7\n  partnerctl sandbox serve --dialect nexudus --time-scale 60 --writes-per-day 100\n\nThe first line on stdout is `listening on http://ADDR`."
    )]
    Serve(ServeArgs),
    /// Add accounts as the person at the vendor's dashboard would (opens the database
    /// directly).
    #[command(subcommand)]
    Accounts(AccountsCommand),
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

/// `partnerctl sandbox serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// The API to speak: the partner API, or the Nexudus REST API (`/api/token`,
    /// `/api/sys/...`), over the same database.
    #[arg(long, value_enum, default_value_t = DialectArg::PartnerApi)]
    pub dialect: DialectArg,
    /// Address to listen on (port 0 picks a free port; the bound address is printed).
    #[arg(long, default_value = "127.0.0.1:7878")]
    pub listen: String,
    /// SQLite database file (created, with its directory, if missing).
    #[arg(long, default_value = DEFAULT_DB, value_name = "FILE")]
    pub db: PathBuf,
    /// Latency added to every request, in milliseconds.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub latency_ms: u64,
    /// Partner API: writes per minute per partner, e.g. `600/min` (or just `600`); throttled
    /// writes get `--throttle-status` with Retry-After.
    #[arg(long, value_name = "N/min", value_parser = parse_write_limit)]
    pub write_limit: Option<u32>,
    /// Partner API: status of a throttled write, 429 or 409.
    #[arg(long, default_value_t = 429, value_name = "429|409", value_parser = parse_throttle_status)]
    pub throttle_status: u16,
    /// Fraction (0..1) of writes that fail with a 500 or a dropped connection; half of them
    /// after the write committed.
    #[arg(long, default_value_t = 0.0, value_name = "P", value_parser = parse_fraction)]
    pub fail_rate: f64,
    /// Seed of the failure injection (same seed and request order: same failures).
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub seed: u64,
    /// Refuse account and user names longer than N characters (400), to rehearse a vendor
    /// whose limits are stricter than the ones partnerctl checks.
    #[arg(long, value_name = "N")]
    pub max_name_chars: Option<usize>,
    /// Nexudus: divide every rate window by F (60 makes a minute last a second); Retry-After
    /// is scaled too, and X-Retry-After-Ms has the exact wait. So are the window of failed
    /// logins and the lifetime of the tokens POST /api/token grants (and its expires_in).
    #[arg(long, default_value_t = 1.0, value_name = "F", value_parser = crate::endpoint::parse_time_scale)]
    pub time_scale: f64,
    /// Nexudus: writes a minute per reseller, instead of 60.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub writes_per_minute: Option<u32>,
    /// Nexudus: writes a day per reseller, instead of 5,000.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub writes_per_day: Option<u32>,
    /// Nexudus: fraction (0..1) of writes refused as a conflict (HTTP 409 with a body and no
    /// Retry-After; nothing is written), drawn from --seed.
    #[arg(long, default_value_t = 0.0, value_name = "P", value_parser = parse_fraction)]
    pub conflict_rate: f64,
}

/// `--dialect`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DialectArg {
    /// The partner API (schemas/openapi.yaml).
    PartnerApi,
    /// The Nexudus REST API.
    Nexudus,
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
        /// Create it with `manageable: false` (nothing inside customers may change, and no
        /// customer be deleted).
        #[arg(long)]
        not_manageable: bool,
        /// Give it a login (an email) for dialects that sign in with a password (Nexudus:
        /// POST /api/token, or HTTP Basic).
        #[arg(long, value_name = "EMAIL", requires = "password")]
        login: Option<String>,
        /// The login's password (stored as an Argon2id hash).
        #[arg(long, value_name = "P", requires = "login")]
        password: Option<String>,
        /// The login has two-factor authentication: the token grant needs a six-digit `totp`
        /// (any), and HTTP Basic is refused.
        #[arg(long, requires = "login")]
        totp: bool,
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
    /// Revoke every token the partner's logins were granted by a dialect's token endpoint
    /// (Nexudus: POST /api/token); they are refused from then on, also by a running server.
    /// The partner's API tokens (from `partner add` and `partner token`) stay.
    #[command(
        after_help = "Examples:\n  partnerctl sandbox partner revoke-tokens --name 'Acme Partners'\n  partnerctl sandbox partner revoke-tokens --id ptn_0123456789abcdef0123\n\nSays on stderr how many tokens were revoked."
    )]
    RevokeTokens {
        /// The partner's name.
        #[arg(long, required_unless_present = "id", conflicts_with = "id")]
        name: Option<String>,
        /// The partner's id (see `partner list`), when several have its name.
        #[arg(long)]
        id: Option<String>,
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

/// `partnerctl sandbox accounts ...`.
#[derive(Debug, Subcommand)]
pub enum AccountsCommand {
    /// Add an account as the vendor's dashboard would, validated like the API; prints its id
    /// (alone, on stdout; its Nexudus ids go to stderr).
    #[command(
        after_help = "Examples:\n  partnerctl sandbox accounts add --kind customer --name Contoso --contact-name 'Jane Doe' \\\n      --contact-email jane@contoso.example --country GB --timezone Europe/London\n  partnerctl sandbox accounts add --kind network --name 'Contoso North' --parent Contoso"
    )]
    Add(AccountAddArgs),
    /// Set whether a customer lets its partner manage it (the partner API: its `manageable`;
    /// Nexudus: CanManageAccount). While not, nothing inside it may change and it may not be
    /// deleted.
    #[command(
        after_help = "Examples:\n  partnerctl sandbox accounts set-manageable --name Contoso --manageable false"
    )]
    SetManageable {
        /// The customer's name.
        #[arg(long)]
        name: String,
        /// `true` or `false`.
        #[arg(long, value_name = "true|false", action = clap::ArgAction::Set)]
        manageable: bool,
        /// The partner (needed when the database holds several).
        #[arg(long, value_name = "NAME")]
        partner: Option<String>,
        /// SQLite database file.
        #[arg(long, default_value = DEFAULT_DB, value_name = "FILE")]
        db: PathBuf,
    },
}

/// `partnerctl sandbox accounts add`.
#[derive(Debug, clap::Args)]
pub struct AccountAddArgs {
    /// customer, network or sub_account.
    #[arg(long, value_parser = parse_kind)]
    pub kind: AccountKind,
    /// The account's name.
    #[arg(long)]
    pub name: String,
    /// The parent's name: a network's customer, a sub-account's network.
    #[arg(long, value_name = "NAME")]
    pub parent: Option<String>,
    /// The contact's name.
    #[arg(long, value_name = "N", requires = "contact_email")]
    pub contact_name: Option<String>,
    /// The contact's email.
    #[arg(long, value_name = "E", requires = "contact_name")]
    pub contact_email: Option<String>,
    /// Country (ISO 3166-1 alpha-2).
    #[arg(long, value_name = "CC")]
    pub country: Option<String>,
    /// Time zone (IANA name).
    #[arg(long, value_name = "TZ")]
    pub timezone: Option<String>,
    /// A customer that does not let its partner manage it.
    #[arg(long)]
    pub not_manageable: bool,
    /// The partner (needed when the database holds several).
    #[arg(long, value_name = "NAME")]
    pub partner: Option<String>,
    /// SQLite database file.
    #[arg(long, default_value = DEFAULT_DB, value_name = "FILE")]
    pub db: PathBuf,
}

fn parse_kind(s: &str) -> Result<AccountKind, String> {
    AccountKind::parse(s).ok_or_else(|| format!("{s:?}: use customer, network or sub_account"))
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
        SandboxCommand::Serve(args) => serve(args),
        SandboxCommand::Partner(cmd) => partner(cmd),
        SandboxCommand::Accounts(cmd) => accounts(cmd),
        SandboxCommand::Users(UsersCommand::Accept { email, db }) => {
            set_status(&db, &email, UserStatus::Active)
        }
        SandboxCommand::Users(UsersCommand::Expire { email, db }) => {
            set_status(&db, &email, UserStatus::Expired)
        }
        SandboxCommand::Outbox { db } => print_json_lines(&sandbox::outbox(&db)?),
    }
}

fn partner(cmd: PartnerCommand) -> anyhow::Result<()> {
    let token = match cmd {
        PartnerCommand::Add {
            name,
            not_manageable,
            login,
            password,
            totp,
            db,
        } => {
            let login = login
                .zip(password)
                .map(|(login, password)| sandbox::NewLogin {
                    login,
                    password,
                    totp,
                });
            sandbox::add_partner(&db, &name, !not_manageable, login)?
        }
        PartnerCommand::Token { id, db } => sandbox::issue_token(&db, &id)?,
        PartnerCommand::List { db } => return print_json_lines(&sandbox::partners(&db)?),
        PartnerCommand::RevokeTokens { name, id, db } => {
            let which = match (name, id) {
                (_, Some(id)) => sandbox::PartnerRef::Id(id),
                (Some(name), None) => sandbox::PartnerRef::Name(name),
                (None, None) => anyhow::bail!("name the partner with --name or --id"),
            };
            let (p, n) = sandbox::revoke_tokens(&db, which)?;
            let tokens = if n == 1 { "token" } else { "tokens" };
            output::note(&format!(
                "partner {:?} ({}): revoked {n} {tokens} its logins were granted; its API tokens stay",
                p.name, p.id
            ));
            return Ok(());
        }
    };
    println!("{token}");
    Ok(())
}

fn accounts(cmd: AccountsCommand) -> anyhow::Result<()> {
    match cmd {
        AccountsCommand::Add(a) => {
            let contact = a
                .contact_name
                .zip(a.contact_email)
                .map(|(name, email)| Contact { name, email });
            let added = sandbox::add_account(
                &a.db,
                sandbox::NewAccount {
                    partner: a.partner,
                    kind: a.kind,
                    name: a.name,
                    parent: a.parent,
                    contact,
                    country: a.country,
                    timezone: a.timezone,
                    manageable: !a.not_manageable,
                },
            )?;
            println!("{}", added.account.id);
            let link = added
                .link_number
                .map(|n| format!(", reseller account {n}"))
                .unwrap_or_default();
            output::note(&format!(
                "{} {:?}: business {}{link}",
                added.account.kind, added.account.name, added.number
            ));
        }
        AccountsCommand::SetManageable {
            name,
            manageable,
            partner,
            db,
        } => {
            let a = sandbox::set_manageable(&db, partner.as_deref(), &name, manageable)?;
            output::note(&format!(
                "customer {:?} ({}): manageable {manageable}",
                a.name, a.id
            ));
        }
    }
    Ok(())
}

/// One JSON object per line on stdout; a closed pipe ends the output quietly.
fn print_json_lines<T: serde::Serialize>(items: &[T]) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    for item in items {
        if writeln!(out, "{}", serde_json::to_string(item)?).is_err() {
            break; // closed pipe: not an error
        }
    }
    Ok(())
}

/// Moves the invited users with `email` to `to`, saying so on stderr; an error if there is none.
fn set_status(db: &Path, email: &str, to: UserStatus) -> anyhow::Result<()> {
    let changed = sandbox::set_user_status(db, email, &[UserStatus::Invited], to)?;
    anyhow::ensure!(
        !changed.is_empty(),
        "no invited user with email {email:?} in {}; check `partnerctl sandbox outbox --db {}`",
        db.display(),
        db.display()
    );
    for u in &changed {
        output::note(&format!("{} on {}: {}", u.email, u.account_id, to.as_str()));
    }
    Ok(())
}

/// Serves until Ctrl-C or SIGTERM, on the CLI's runtime. The request log goes through the
/// CLI's tracing subscriber (`-v`, or `RUST_LOG=info`).
fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let opts = server::ServeOptions {
        dialect: match args.dialect {
            DialectArg::PartnerApi => server::Dialect::PartnerApi,
            DialectArg::Nexudus => server::Dialect::Nexudus,
        },
        pacing: server::Pacing {
            time_scale: args.time_scale,
            writes_per_minute: args.writes_per_minute,
            writes_per_day: args.writes_per_day,
        },
        listen: args.listen,
        db: args.db,
        latency: Duration::from_millis(args.latency_ms),
        write_limit: args.write_limit,
        throttle_status: StatusCode::from_u16(args.throttle_status)?,
        fail_rate: args.fail_rate,
        seed: args.seed,
        conflict_rate: args.conflict_rate,
        max_name_chars: args.max_name_chars,
    };
    super::runtime()?.block_on(async move {
        let running = server::spawn(opts.clone()).await?;
        {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "listening on {}", running.url());
            let _ = out.flush();
        }
        output::note(&format!(
            "sandbox: database {}, dialect {}",
            opts.db.display(),
            opts.dialect.as_str()
        ));
        shutdown_signal().await?;
        output::note("sandbox: shutting down");
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
