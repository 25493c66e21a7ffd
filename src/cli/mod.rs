//! Edge of the program: command-line parsing (clap), dispatch to the stages, exit codes.
//! May touch: process arguments, environment, stdout/stderr. `anyhow` lives here and in `main`.

mod access_cmd;
mod apply_cmd;
mod catalog;
mod export_cmd;
mod global;
mod import_cmd;
mod plan_cmd;
mod policy_cmd;
mod replace;
pub mod sandbox;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand, ValueEnum};

use crate::api::Secret;
use crate::config;
use crate::output::print_stdout;
use crate::plan;
use crate::render::Format;
use crate::render::doc::Document;
use access_cmd::access_command;
use apply_cmd::apply_command;
pub use export_cmd::ExportFormat;
use export_cmd::export_command;
pub use global::LogFormat;
use plan_cmd::{plan_command, show_command, validate};
pub use policy_cmd::{PolicyArgs, PolicyCommand};

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
    pub diagnostics: Diagnostics,
    #[command(subcommand)]
    pub command: Command,
}

/// Options of the diagnostics on stderr, accepted by every subcommand (every one may end with
/// an error line).
#[derive(Debug, clap::Args)]
#[command(next_help_heading = "Diagnostics")]
pub struct Diagnostics {
    /// More diagnostics on stderr (repeat for more).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Fewer diagnostics on stderr.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Format of the diagnostics on stderr: `json` writes one object per line.
    #[arg(long, global = true, env = "PARTNERCTL_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Refuse a configuration that only has warnings (a sheet's unknown columns, which are
    /// otherwise ignored).
    #[arg(long, global = true)]
    pub strict: bool,
}

/// How to reach the API: the options of the subcommands that read or change the live state.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "API options")]
pub struct ApiArgs {
    /// API endpoint URL, or `local` for the embedded sandbox.
    #[arg(long, env = "PARTNERCTL_ENDPOINT", value_name = "URL")]
    pub endpoint: Option<String>,
    /// API token (prefer the PARTNERCTL_TOKEN environment variable; never echoed). With
    /// --provider nexudus, a bearer token used when no login is given.
    #[arg(
        long,
        env = "PARTNERCTL_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub token: Option<Secret>,
    /// Longest wait for one HTTP request, connecting included, in seconds. A request is tried up
    /// to 8 times; each retry is announced on stderr.
    #[arg(long, env = "PARTNERCTL_TIMEOUT", value_name = "SECONDS", default_value = "30", value_parser = global::parse_seconds)]
    pub timeout: std::time::Duration,
    /// Longest time for reading the whole live state, in seconds [default: --timeout × 8
    /// attempts, so 240 at the default timeout].
    #[arg(long, env = "PARTNERCTL_READ_DEADLINE", value_name = "SECONDS", value_parser = global::parse_seconds)]
    pub read_deadline: Option<std::time::Duration>,
    #[command(flatten)]
    pub provider: ProviderArg,
    #[command(flatten)]
    pub nexudus: NexudusLogin,
    /// How fast the API's clock runs (a test knob: a Nexudus sandbox started with
    /// `--time-scale F` runs its rate windows F times faster, and the client must keep pace).
    #[arg(long, env = "PARTNERCTL_NEXUDUS_TIME_SCALE", value_name = "F", hide = true, value_parser = crate::endpoint::parse_time_scale)]
    pub nexudus_time_scale: Option<f64>,
}

/// The Nexudus login, for `--provider nexudus` (prefer the environment variables; none is
/// ever echoed).
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Nexudus sign-in")]
pub struct NexudusLogin {
    /// The Nexudus login's email.
    #[arg(
        long,
        env = "NEXUDUS_USERNAME",
        hide_env_values = true,
        value_name = "EMAIL"
    )]
    pub nexudus_username: Option<String>,
    /// Its password (prefer the NEXUDUS_PASSWORD environment variable).
    #[arg(
        long,
        env = "NEXUDUS_PASSWORD",
        hide_env_values = true,
        value_name = "PASSWORD"
    )]
    pub nexudus_password: Option<Secret>,
    /// The current one-time code, when two-factor sign-in is on.
    #[arg(
        long,
        env = "NEXUDUS_TOTP",
        hide_env_values = true,
        value_name = "CODE"
    )]
    pub nexudus_totp: Option<Secret>,
}

impl ApiArgs {
    /// Who signs in, as the options (or their environment variables) say.
    fn credentials(&self) -> crate::provider::Credentials {
        crate::provider::Credentials {
            token: self.token.clone(),
            nexudus_username: self.nexudus.nexudus_username.clone(),
            nexudus_password: self.nexudus.nexudus_password.clone(),
            nexudus_totp: self.nexudus.nexudus_totp.clone(),
        }
    }
}

/// Which API the endpoint speaks (also what `validate` checks the configuration for).
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct ProviderArg {
    /// Which API the endpoint speaks: `http` (the partner API) or `nexudus` (the Nexudus REST
    /// API; sign in with NEXUDUS_USERNAME and NEXUDUS_PASSWORD, plus NEXUDUS_TOTP when
    /// two-factor sign-in is on, or a bearer token in PARTNERCTL_TOKEN).
    #[arg(long, env = "PARTNERCTL_PROVIDER", value_enum, default_value_t = crate::provider::ProviderKind::Http)]
    pub provider: crate::provider::ProviderKind,
}

/// `--color`, for the subcommands that print a plan.
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct ColorArg {
    /// When to colour output (NO_COLOR is honoured by `auto`).
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

/// The options of a run, whichever subcommand took them: a subcommand that takes no API
/// options runs with none (no endpoint, no token, the default timeout and provider).
#[derive(Debug)]
pub struct GlobalArgs {
    /// API endpoint URL, or `local`.
    pub endpoint: Option<String>,
    /// Who signs in (no secret shows in `Debug`).
    pub credentials: crate::provider::Credentials,
    /// When to colour output.
    pub color: ColorChoice,
    /// More diagnostics (`-v`, counted).
    pub verbose: u8,
    /// Fewer diagnostics (`-q`).
    pub quiet: bool,
    /// Longest wait for one HTTP request.
    pub timeout: std::time::Duration,
    /// Longest time for reading the whole live state.
    pub read_deadline: Option<std::time::Duration>,
    /// Which API the endpoint speaks.
    pub provider: crate::provider::ProviderKind,
    /// The API's clock against the wall clock (1 but for a sped-up sandbox).
    pub time_scale: f64,
    /// Format of the diagnostics on stderr.
    pub log_format: LogFormat,
    /// Refuse a configuration that only has warnings.
    pub strict: bool,
}

/// The default `--timeout`, for subcommands without API options.
const DEFAULT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

impl Cli {
    /// The options of this run, from the diagnostics and what the subcommand took.
    fn options(&self) -> GlobalArgs {
        let (api, provider, color) = match &self.command {
            Command::Plan(a) => (Some(&a.api), None, Some(a.color)),
            Command::Apply(a) => (Some(&a.api), None, Some(a.color)),
            Command::Export(a) => (Some(&a.api), None, None),
            Command::Access(a) => (Some(&a.api), None, None),
            Command::Show(a) => (None, None, Some(a.color)),
            Command::Validate { provider, .. } => (None, Some(*provider), None),
            Command::Import(_)
            | Command::Policy(_)
            | Command::Schema { .. }
            | Command::Completions { .. }
            | Command::Man
            | Command::Sandbox(_) => (None, None, None),
        };
        let d = &self.diagnostics;
        GlobalArgs {
            endpoint: api.and_then(|a| a.endpoint.clone()),
            credentials: api.map(ApiArgs::credentials).unwrap_or_default(),
            color: color.map_or(ColorChoice::Auto, |c| c.color),
            verbose: d.verbose,
            quiet: d.quiet,
            timeout: api.map_or(DEFAULT_TIMEOUT, |a| a.timeout),
            read_deadline: api.and_then(|a| a.read_deadline),
            provider: api
                .map(|a| a.provider)
                .or(provider)
                .map_or(crate::provider::ProviderKind::Http, |p| p.provider),
            time_scale: api.and_then(|a| a.nexudus_time_scale).unwrap_or(1.0),
            log_format: d.log_format,
            strict: d.strict,
        }
    }
}

/// Options of `plan` (and, later, `apply`) that shape the plan.
#[derive(Debug, Clone, clap::Args)]
pub struct PlanFlags {
    /// Remove live users, invitations and services that the configuration does not list.
    #[arg(long)]
    pub prune: bool,
    /// Also delete live accounts the configuration does not list (children first; accounts with
    /// `protect: true` never).
    #[arg(long)]
    pub prune_accounts: bool,
    /// Refuse to delete more than this percentage of accounts, users or services (once a class
    /// has at least 10 live objects). What a deleted account holds counts: its users,
    /// invitations and services, and its child accounts.
    #[arg(long, default_value_t = plan::DEFAULT_MAX_DELETE_PERCENT, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=100))]
    pub max_delete_percent: u32,
    /// Refuse to update more than this percentage of accounts (field updates, adoptions that
    /// change fields), users (name or role) or services (settings), once a class has at least
    /// 10 live objects.
    #[arg(long, default_value_t = plan::DEFAULT_MAX_UPDATE_PERCENT, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=100))]
    pub max_update_percent: u32,
    /// Override the delete- and update-percentage guards.
    #[arg(long)]
    pub force: bool,
    /// Plan only this account (an address such as `customer.contoso`, a key alone such as
    /// `contoso` when one account has it, the live id alone of an account without a key, or
    /// `partner` for the partner's users), what it contains and what it depends on;
    /// repeatable. Nothing outside the targets is planned, pruned or reported.
    #[arg(long = "target", value_name = "ADDRESS")]
    pub targets: Vec<String>,
    /// Refuse the plan when it would create an account whose name is nearly that of an
    /// unmanaged live account (a probable duplicate) instead of only warning.
    #[arg(long)]
    pub refuse_near_misses: bool,
}

impl PlanFlags {
    fn options(&self) -> plan::Options {
        plan::Options {
            prune: self.prune || self.prune_accounts,
            prune_accounts: self.prune_accounts,
            max_delete_percent: self.max_delete_percent,
            max_update_percent: self.max_update_percent,
            force: self.force,
            refuse_near_misses: self.refuse_near_misses,
        }
    }
}

/// `partnerctl plan`.
#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    /// Config files or directories.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Also save the plan (config, options, operations, partner, endpoint, digest; signed with
    /// PARTNERCTL_PLAN_KEY when it is set) for `apply --plan FILE`. A refused plan is not saved.
    #[arg(short = 'o', long = "out", value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// With -o: replace FILE even when it is not a saved plan. A file of the configuration
    /// itself is never replaced.
    #[arg(long, requires = "out")]
    pub overwrite: bool,
    #[command(flatten)]
    pub format: FormatArgs,
    /// Exit 2 when there are changes or live objects the configuration does not list
    /// (unmanaged), 0 when there are neither (1 on errors).
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// With --detailed-exitcode: accept unmanaged live objects (exit 0 when only they differ),
    /// for a configuration that manages part of the estate on purpose. Unmanaged admins of the
    /// partner or of accounts the configuration manages are not accepted (exit 2); admins
    /// inside unmanaged accounts are, and are still listed as access risks.
    #[arg(long)]
    pub accept_unmanaged: bool,
    /// With --accept-unmanaged: accept unmanaged admins of the partner and of accounts the
    /// configuration manages too (people with access the configuration does not grant).
    #[arg(long, requires = "accept_unmanaged")]
    pub accept_unmanaged_admins: bool,
    #[command(flatten)]
    pub flags: PlanFlags,
    #[command(flatten)]
    pub color: ColorArg,
    #[command(flatten)]
    pub policy: PolicyArgs,
    #[command(flatten)]
    pub api: ApiArgs,
}

/// `partnerctl apply`.
#[derive(Debug, clap::Args)]
pub struct ApplyArgs {
    /// Config files or directories.
    #[arg(
        value_name = "PATH",
        required_unless_present = "plan",
        conflicts_with = "plan"
    )]
    pub paths: Vec<PathBuf>,
    /// Execute a plan saved by `plan -o FILE` (with its saved options), or refuse if stale, or
    /// for another partner or endpoint. Options that lowered a guard when it was saved
    /// (--force, a raised --max-delete-percent or --max-update-percent) must be given again.
    #[arg(long, value_name = "FILE")]
    pub plan: Option<PathBuf>,
    /// Do not ask for confirmation.
    #[arg(long)]
    pub auto_approve: bool,
    /// `text`: the plan and the report for people on stdout. `json`: the versioned JSON apply
    /// report on stdout (every operation's status, error and created id), the rest on stderr.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
    /// Also write the JSON apply report to FILE.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Most operations in flight at once.
    #[arg(long, default_value_t = 8, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=512))]
    pub parallelism: u16,
    /// Start at most N operations (write calls) in this run, then stop and report what is
    /// left; a later run continues. For vendors with a daily write budget.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_writes: Option<u32>,
    #[command(flatten)]
    pub flags: PlanFlags,
    #[command(flatten)]
    pub color: ColorArg,
    #[command(flatten)]
    pub policy: PolicyArgs,
    #[command(flatten)]
    pub api: ApiArgs,
}

/// `partnerctl access`.
#[derive(Debug, clap::Args)]
pub struct AccessArgs {
    /// Config files or directories (required without --live; with it, they mark the live
    /// users the configuration does not list as unmanaged).
    #[arg(value_name = "PATH", required_unless_present = "live")]
    pub paths: Vec<PathBuf>,
    /// Read the live state instead of the configuration.
    #[arg(long)]
    pub live: bool,
    /// Only this person (an email, any case): what they reach. An email no user or invitation
    /// has is an error naming the closest one.
    #[arg(long, value_name = "EMAIL")]
    pub user: Option<String>,
    /// Only this account (`customer.contoso`, a key alone such as `contoso` when one account
    /// has it, the live id alone of an account without a key, or `partner`): who reaches it. An
    /// account nobody knows is an error naming the closest one.
    #[arg(long, value_name = "ADDRESS")]
    pub account: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = crate::render::AccessFormat::Text)]
    pub format: crate::render::AccessFormat,
    /// With --live and no configuration: the partner of the embedded sandbox to read.
    #[arg(long, value_name = "NAME")]
    pub partner: Option<String>,
    #[command(flatten)]
    pub api: ApiArgs,
}

/// `partnerctl import`.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// A customer table (`*.csv`, one customer per row), or a workbook (`*.xlsx`) of such
    /// sheets.
    #[arg(value_name = "FILE.csv|FILE.xlsx")]
    pub file: PathBuf,
    /// The configuration directory to write `<name>.yaml` into.
    #[arg(short = 'o', long = "out", value_name = "DIR")]
    pub out: PathBuf,
    /// Overwrite an existing file.
    #[arg(long)]
    pub force: bool,
}

/// `partnerctl show`.
#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// A plan saved by `partnerctl plan -o FILE`.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    #[command(flatten)]
    pub format: FormatArgs,
    #[command(flatten)]
    pub color: ColorArg,
}

/// How `plan` and `show` print the plan.
#[derive(Debug, clap::Args)]
pub struct FormatArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Most characters of the markdown format (a pull-request comment's limit): a longer plan
    /// is summarised per customer and its details cut, saying what was left out.
    #[arg(long, default_value_t = crate::render::DEFAULT_MARKDOWN_LIMIT, value_name = "N")]
    pub markdown_limit: usize,
}

/// `partnerctl export`.
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// Where to write: a file (single layout) or a directory (per-customer layout). Without
    /// it, the single layout goes to stdout.
    #[arg(short = 'o', long = "out", value_name = "FILE|DIR")]
    pub out: Option<PathBuf>,
    /// `single`: one file; `per-customer`: `partner.yaml` and `customers/KEY.yaml`. Default:
    /// per-customer for a directory, single for a file or stdout.
    #[arg(long, value_enum, value_name = "LAYOUT")]
    pub layout: Option<crate::export::Layout>,
    /// Overwrite an existing file; in a directory that is not empty, write there and remove
    /// the other *.yaml/*.yml files a configuration would read there: regular files only, none
    /// hidden, none through a link, each one named on stderr.
    #[arg(long)]
    pub force: bool,
    /// The partner to export from the embedded sandbox, when it holds several (a real API's
    /// token decides by itself).
    #[arg(long, value_name = "NAME")]
    pub partner: Option<String>,
    /// `yaml`; or `csv` / `xlsx`: the customers and users as sheets (`customers.csv` and
    /// `users.csv`, or `customers.xlsx` with both sheets) beside `partner.yaml`, in the
    /// directory -o names; a customer no row can hold keeps its `customers/KEY.yaml`.
    #[arg(long, value_enum, default_value_t = ExportFormat::Yaml)]
    pub format: ExportFormat,
    #[command(flatten)]
    pub api: ApiArgs,
}

/// `apply --format` choices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// For people.
    Text,
    /// The versioned JSON apply report.
    Json,
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
    /// Check configuration files offline and report every problem with its location.
    #[command(
        after_help = "Examples:\n  partnerctl validate examples/acme\n  partnerctl validate partner.yaml customers/\n  partnerctl validate config/ --catalog catalog.json\n\nService types and settings are checked against --catalog FILE, else against the catalog the\nlast plan in this directory cached, else not at all; the last line says which. With\n--provider nexudus (or PARTNERCTL_PROVIDER=nexudus), checks what that provider needs: it\nstores no contacts, so customers need no `contact`. Exit codes: 0 valid, 1 problems found\n(each printed as path:line:col: message)."
    )]
    Validate {
        /// Config files or directories (every *.yaml/*.yml below a directory, sorted).
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
        /// Check service types and settings against this catalog: JSON, a list of service
        /// types as `GET /v1/service-types` returns them (or its whole response). Without it,
        /// the catalog the last `plan` in this directory cached (.partnerctl/catalog.json) is
        /// used when there is one.
        #[arg(long, value_name = "FILE")]
        catalog: Option<PathBuf>,
        #[command(flatten)]
        provider: ProviderArg,
        #[command(flatten)]
        policy: PolicyArgs,
    },
    /// Show what would change: read the live state and diff it against the configuration.
    #[command(
        after_help = "Examples:\n  partnerctl plan examples/acme\n  partnerctl plan config/ --format markdown > plan.md\n  partnerctl plan config/ -o plan.json --detailed-exitcode\n  partnerctl plan config/ --policy policies/\n\nWith no --endpoint / PARTNERCTL_ENDPOINT, runs against the embedded sandbox in .partnerctl/\n(refused when CI is set). Exit codes: 0 success (no changes with --detailed-exitcode),\n1 error or refused, 2 changes present (--detailed-exitcode)."
    )]
    Plan(PlanArgs),
    /// Plan, confirm, then perform the changes in dependency order.
    #[command(
        after_help = "Examples:\n  partnerctl apply examples/acme --auto-approve\n  partnerctl apply config/ --prune --parallelism 32\n  partnerctl plan config/ -o plan.json && partnerctl apply --plan plan.json\n\nWithout --auto-approve, asks for `yes` on a terminal and refuses when stdin is not one.\n--plan FILE executes the saved operations while the objects they act on are as they were,\nand otherwise refuses with \"plan is stale\", naming what changed (writing nothing).\nExit codes: 0 all done, 1 error, refused, or some operation failed (a re-run converges)."
    )]
    Apply(ApplyArgs),
    /// Convert a customer table (CSV) into configuration YAML, for keeping YAML as the source
    /// of truth.
    #[command(
        after_help = "Examples:\n  partnerctl import new-customers.csv -o config/customers/\n\nEvery problem of every row is reported as file.csv:ROW:COL: (column NAME) message, rows\ncounted as a spreadsheet shows them (the header is row 1). The YAML plans exactly like the\ntable: keys derived from names are written out. Exit codes: 0 written, 1 problems or refused."
    )]
    Import(ImportArgs),
    /// Who reaches which account, and why: from the configuration, or the live state.
    #[command(
        after_help = "Examples:\n  partnerctl access config/ --account customer.contoso   # who reaches Contoso\n  partnerctl access config/ --user jane@contoso.example  # what Jane reaches\n  partnerctl access config/ --live --format csv > review.csv\n\nAccess is inherited downward: a partner user reaches every account, a customer user its\nnetworks and sub-accounts, a network user its sub-accounts, a sub-account user only it.\nExit codes: 0 shown, 1 error."
    )]
    Access(AccessArgs),
    /// Render a saved plan again, exactly as `plan` printed it, without contacting the API.
    #[command(
        after_help = "Examples:\n  partnerctl plan config/ -o plan.json\n  partnerctl show plan.json --format markdown > comment.md\n\nExit codes: 0 shown, 1 unreadable, tampered or too old a plan file."
    )]
    Show(ShowArgs),
    /// Write the live state as configuration files that plan to no changes.
    #[command(
        after_help = "Examples:\n  partnerctl export -o config/                 # partner.yaml + customers/<key>.yaml\n  partnerctl export -o estate.yaml --layout single\n  partnerctl export > estate.yaml\n\nAccounts without a key get one derived from their name, so the first apply after an\nexport only adopts them (and re-sends expired invitations). With --provider nexudus, whose\naccounts carry no key, every account is pinned to its live id with `adopt: <id>`, so plans\nfind it by id after a rename in the dashboard; contacts, which Nexudus does not carry, are\nleft out. Refuses to overwrite an existing file or a non-empty directory without --force.\nExit codes: 0 written, 1 error or refused."
    )]
    Export(ExportArgs),
    /// Policies as code: run the policies' tests.
    #[command(
        subcommand,
        after_help = "Examples:\n  partnerctl policy test examples/policies\n\nPolicies are given to validate, plan and apply with --policy PATH."
    )]
    Policy(PolicyCommand),
    /// Print the JSON Schema of the configuration format, or of a JSON output.
    #[command(
        after_help = "Examples:\n  partnerctl schema > schemas/partnerctl.schema.json\n  partnerctl schema plan > schemas/plan.schema.json\n\nPoint your editor at the configuration's with a first line of:\n  # yaml-language-server: $schema=../schemas/partnerctl.schema.json\n\nThe output schemas (draft 2020-12) describe exactly what this version writes: every field\nit always writes is required, and no other field is allowed."
    )]
    Schema {
        /// Which document.
        #[arg(value_enum, default_value_t = SchemaDocument::Config)]
        document: SchemaDocument,
    },
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
    /// The local partner API server and its admin commands.
    #[command(
        subcommand,
        after_help = "Examples:\n  partnerctl sandbox serve --listen 127.0.0.1:0\n  export PARTNERCTL_TOKEN=$(partnerctl sandbox partner add --name 'Acme Partners')"
    )]
    Sandbox(sandbox::SandboxCommand),
}

/// The documents `partnerctl schema` has a JSON Schema of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SchemaDocument {
    /// The configuration files (schemas/partnerctl.schema.json).
    Config,
    /// The JSON plan, `plan --format json` (schemas/plan.schema.json).
    Plan,
    /// The JSON apply report, `apply --format json` and `--report FILE`
    /// (schemas/apply-report.schema.json).
    ApplyReport,
    /// The JSON access report, `access --format json` (schemas/access-report.schema.json).
    AccessReport,
}

/// Parses the process arguments, runs the command and maps the outcome to an exit code.
pub fn main() -> ExitCode {
    // Usage errors exit 1, not clap's 2: with --detailed-exitcode, 2 means "changes present",
    // and a typo in a CI script must not read as that.
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EXIT_ERROR } else { EXIT_OK });
        }
    };
    let global = cli.options();
    global::init_logging(&global);
    crate::output::set_json_logs(global.log_format == LogFormat::Json);
    let log_format = global.log_format;
    match run(&global, cli.command) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            eprintln!("{}", global::error_line(log_format, &err));
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// Colour decision for stdout: `auto` means a terminal and no `NO_COLOR`.
fn use_color(choice: ColorChoice) -> bool {
    use std::io::IsTerminal;
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::stdout().is_terminal()
        }
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

fn run(global: &GlobalArgs, command: Command) -> anyhow::Result<u8> {
    match command {
        Command::Plan(args) => plan_command(global, &args),
        Command::Apply(args) => apply_command(global, &args),
        Command::Validate {
            paths,
            catalog,
            policy,
            ..
        } => validate(global, &paths, catalog.as_deref(), &policy),
        Command::Policy(command) => policy_cmd::run(command),
        Command::Export(args) => export_command(global, &args),
        Command::Show(args) => show_command(global, &args),
        Command::Access(args) => access_command(global, &args),
        Command::Import(args) => import_cmd::import_command(&args, global.strict),
        Command::Schema { document } => {
            let schema = match document {
                SchemaDocument::Config => config::schema_json(),
                SchemaDocument::Plan => Document::Plan.schema_json(),
                SchemaDocument::ApplyReport => Document::ApplyReport.schema_json(),
                SchemaDocument::AccessReport => Document::AccessReport.schema_json(),
            };
            print_stdout(&schema)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn the_api_clock_is_taken_in_range_by_the_commands_that_connect() {
        let scale = |args: &[&str]| {
            Cli::try_parse_from(args)
                .map(|cli| cli.options().connection().access.time_scale)
                .map_err(|e| e.to_string())
        };
        assert_eq!(scale(&["partnerctl", "plan", "x"]), Ok(1.0));
        assert_eq!(
            scale(&["partnerctl", "plan", "x", "--nexudus-time-scale", "60"]),
            Ok(60.0)
        );
        let e = scale(&["partnerctl", "plan", "x", "--nexudus-time-scale", "1e-300"]).unwrap_err();
        assert!(
            e.contains("is not a time scale between 0.001 and 1000000"),
            "{e}"
        );
        assert!(scale(&["partnerctl", "validate", "x", "--nexudus-time-scale", "60"]).is_err());
    }

    #[test]
    fn credentials_come_from_the_api_options_and_never_show() {
        let cli = Cli::try_parse_from([
            "partnerctl",
            "plan",
            "config/",
            "--provider",
            "nexudus",
            "--token",
            "tok-s3cr3t",
            "--nexudus-username",
            "ops@acme.example",
            "--nexudus-password",
            "pw-s3cr3t",
            "--nexudus-totp",
            "otp-s3cr3t",
        ])
        .unwrap();
        let global = cli.options();
        let c = &global.credentials;
        assert_eq!(c.token.as_ref().map(Secret::expose), Some("tok-s3cr3t"));
        assert_eq!(c.nexudus_username.as_deref(), Some("ops@acme.example"));
        assert_eq!(
            c.nexudus_password.as_ref().map(Secret::expose),
            Some("pw-s3cr3t")
        );
        assert_eq!(
            c.nexudus_totp.as_ref().map(Secret::expose),
            Some("otp-s3cr3t")
        );
        let settings = global.connection();
        assert_eq!(&settings.access.credentials, c);
        assert_eq!(settings.provider, crate::provider::ProviderKind::Nexudus);
        assert_eq!(settings.access.time_scale, 1.0);
        let shown = format!("{cli:?} {cli:#?} {global:?} {settings:?}");
        assert!(!shown.contains("s3cr3t"), "{shown}");
        assert!(shown.contains("ops@acme.example"), "{shown}");
        // The API options go after the subcommand, and only the ones that connect take them.
        assert!(Cli::try_parse_from(["partnerctl", "--token", "t", "plan", "x"]).is_err());
        assert!(
            Cli::try_parse_from(["partnerctl", "validate", "x", "--nexudus-password", "p"])
                .is_err()
        );
        for sub in [
            &["plan", "x"][..],
            &["apply", "x"],
            &["export"],
            &["access", "x"],
        ] {
            let mut args = vec!["partnerctl"];
            args.extend(sub);
            args.extend(["--nexudus-password", "pw-s3cr3t"]);
            let global = Cli::try_parse_from(&args).unwrap().options();
            assert_eq!(
                global
                    .credentials
                    .nexudus_password
                    .as_ref()
                    .map(Secret::expose),
                Some("pw-s3cr3t"),
                "{sub:?}"
            );
        }
    }

    #[test]
    fn help_never_shows_a_credentials_value() {
        let mut cmd = Cli::command();
        let plan = cmd.find_subcommand_mut("plan").unwrap();
        let help = plan.render_long_help().to_string();
        for var in [
            "PARTNERCTL_TOKEN",
            "NEXUDUS_USERNAME",
            "NEXUDUS_PASSWORD",
            "NEXUDUS_TOTP",
        ] {
            assert!(help.contains(&format!("[env: {var}]")), "{var}:\n{help}");
        }
        for arg in plan.get_arguments() {
            let id = arg.get_id().as_str();
            if [
                "token",
                "nexudus_username",
                "nexudus_password",
                "nexudus_totp",
            ]
            .contains(&id)
            {
                assert!(arg.is_hide_env_values_set(), "{id}");
            }
        }
    }
}
