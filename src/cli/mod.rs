//! Edge of the program: command-line parsing (clap), dispatch to the stages, exit codes.
//! May touch: process arguments, environment, stdout/stderr. `anyhow` lives here and in `main`.

pub mod sandbox;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand, ValueEnum};

use crate::apply;
use crate::config;
use crate::endpoint;
use crate::output::print_stdout;
use crate::plan::{self, SavedPlan};
use crate::provider::Provider;
use crate::render::{self, Format};

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
    /// has at least 10 live objects).
    #[arg(long, default_value_t = plan::DEFAULT_MAX_DELETE_PERCENT, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=100))]
    pub max_delete_percent: u32,
    /// Override the delete-percentage guard.
    #[arg(long)]
    pub force: bool,
}

impl PlanFlags {
    fn options(&self) -> plan::Options {
        plan::Options {
            prune: self.prune || self.prune_accounts,
            prune_accounts: self.prune_accounts,
            max_delete_percent: self.max_delete_percent,
            force: self.force,
        }
    }
}

/// `partnerctl plan`.
#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    /// Config files or directories.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Also save the plan (config, options, operations, digest) for `apply --plan FILE`.
    #[arg(short = 'o', long = "out", value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Exit 2 when there are changes, 0 when there are none (1 on errors).
    #[arg(long)]
    pub detailed_exitcode: bool,
    #[command(flatten)]
    pub flags: PlanFlags,
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
    /// Execute a plan saved by `plan -o FILE` (with its saved options), or refuse if stale.
    #[arg(long, value_name = "FILE")]
    pub plan: Option<PathBuf>,
    /// Do not ask for confirmation.
    #[arg(long)]
    pub auto_approve: bool,
    /// Most operations in flight at once.
    #[arg(long, default_value_t = 8, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=512))]
    pub parallelism: u16,
    #[command(flatten)]
    pub flags: PlanFlags,
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
    /// Show what would change: read the live state and diff it against the configuration.
    #[command(
        after_help = "Examples:\n  partnerctl plan examples/acme\n  partnerctl plan config/ --format markdown > plan.md\n  partnerctl plan config/ -o plan.json --detailed-exitcode\n\nWith no --endpoint / PARTNERCTL_ENDPOINT, runs against the embedded sandbox in .partnerctl/\n(refused when CI is set). Exit codes: 0 success (no changes with --detailed-exitcode),\n1 error or refused, 2 changes present (--detailed-exitcode)."
    )]
    Plan(PlanArgs),
    /// Plan, confirm, then perform the changes in dependency order.
    #[command(
        after_help = "Examples:\n  partnerctl apply examples/acme --auto-approve\n  partnerctl apply config/ --prune --parallelism 32\n  partnerctl plan config/ -o plan.json && partnerctl apply --plan plan.json\n\nWithout --auto-approve, asks for `yes` on a terminal and refuses when stdin is not one.\n--plan FILE re-plans against the live state and refuses with \"plan is stale\" (writing\nnothing) unless the operations are exactly the saved ones. Exit codes: 0 all done,\n1 error, refused, or some operation failed (a re-run converges)."
    )]
    Apply(ApplyArgs),
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
    // Usage errors exit 1, not clap's 2: with --detailed-exitcode, 2 means "changes present",
    // and a typo in a CI script must not read as that.
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EXIT_ERROR } else { EXIT_OK });
        }
    };
    init_tracing(&cli.global);
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// Diagnostics go to stderr; `RUST_LOG` wins over `-v`/`-q`.
fn init_tracing(g: &GlobalArgs) {
    let default = match (g.quiet, g.verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, _) => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_target(false)
        .try_init();
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

fn run(cli: Cli) -> anyhow::Result<u8> {
    let global = cli.global;
    match cli.command {
        Command::Plan(args) => plan_command(&global, &args),
        Command::Apply(args) => apply_command(&global, &args),
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

/// Connects (endpoint or embedded sandbox), reads the live snapshot and plans. The connection
/// stays open (the embedded sandbox keeps running) until the caller closes it.
fn connect_and_plan(
    rt: &tokio::runtime::Runtime,
    global: &GlobalArgs,
    desired: &config::Desired,
    options: plan::Options,
) -> anyhow::Result<(endpoint::Connection, Result<plan::Plan, plan::PlanErrors>)> {
    let choice = endpoint::choose(global.endpoint.as_deref(), endpoint::ci_from_env())?;
    rt.block_on(async {
        let conn = endpoint::connect(
            &choice,
            global.token.as_deref(),
            &desired.partner.name,
            global.quiet,
        )
        .await?;
        match conn.provider.snapshot().await {
            Ok(snapshot) => Ok((conn, plan::plan(desired, &snapshot, options))),
            Err(e) => {
                conn.close().await?;
                Err(e.into())
            }
        }
    })
}

/// The plan, or `None` after printing every planning error.
fn plan_or_report(plan: Result<plan::Plan, plan::PlanErrors>) -> Option<plan::Plan> {
    match plan {
        Ok(p) => Some(p),
        Err(errors) => {
            for e in &errors.0 {
                eprintln!("error: {e}");
            }
            eprintln!("{} planning error(s); nothing was changed", errors.0.len());
            None
        }
    }
}

/// The closing line after a refused plan (the refusals themselves are in the rendered plan).
fn report_refusals(r: &plan::Refusals) {
    eprintln!(
        "error: the plan is refused ({} reason{}); see above. Nothing was changed.",
        r.0.len(),
        if r.0.len() == 1 { "" } else { "s" }
    );
}

/// Loads the configuration, printing its problems; `None` when it is invalid.
fn load_config(paths: &[PathBuf]) -> Option<config::Desired> {
    match config::load(paths) {
        Ok(d) => Some(d),
        Err(problems) => {
            eprint!("{problems}");
            let n = problems.len();
            eprintln!(
                "{n} problem{} found in the configuration; nothing was read from or written to the API",
                if n == 1 { "" } else { "s" }
            );
            None
        }
    }
}

fn plan_command(global: &GlobalArgs, args: &PlanArgs) -> anyhow::Result<u8> {
    let Some(desired) = load_config(&args.paths) else {
        return Ok(EXIT_ERROR);
    };
    let rt = runtime()?;
    let (conn, plan) = connect_and_plan(&rt, global, &desired, args.flags.options())?;
    let target = conn.target.clone();
    rt.block_on(conn.close())?;
    let Some(plan) = plan_or_report(plan) else {
        return Ok(EXIT_ERROR);
    };
    let refusals = plan.check_safety().err();
    let color = args.format == Format::Text && use_color(global.color);
    print_stdout(&render::render(
        &plan,
        &target,
        refusals.as_ref(),
        args.format,
        color,
    ))?;
    if let Some(out) = &args.out {
        let saved = SavedPlan::new(&plan, &desired.sources, &target.endpoint);
        std::fs::write(out, saved.to_json())
            .map_err(|e| anyhow::anyhow!("cannot write the plan to {}: {e}", out.display()))?;
        if !global.quiet {
            eprintln!(
                "Saved the plan to {} ({}); run `partnerctl apply --plan {}` to execute exactly these operations.",
                out.display(),
                saved.short_digest(),
                out.display()
            );
        }
    }
    if let Some(r) = refusals {
        report_refusals(&r);
        return Ok(EXIT_ERROR);
    }
    Ok(if args.detailed_exitcode && !plan.is_empty() {
        EXIT_CHANGES
    } else {
        EXIT_OK
    })
}

/// Asks for `yes` on the terminal. `Ok(false)` when the answer is anything else.
fn confirm() -> anyhow::Result<bool> {
    use std::io::Write;
    let mut err = std::io::stderr().lock();
    write!(
        err,
        "\nDo you want to perform these actions? Only 'yes' will be accepted: "
    )?;
    err.flush()?;
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    Ok(answer.trim() == "yes")
}

fn apply_command(global: &GlobalArgs, args: &ApplyArgs) -> anyhow::Result<u8> {
    if args.plan.is_some() && args.flags.options() != plan::Options::default() {
        anyhow::bail!(
            "--prune, --prune-accounts, --max-delete-percent and --force cannot be combined with --plan: the saved plan carries the options it was made with; pass them to `partnerctl plan -o` instead"
        );
    }
    let saved = match &args.plan {
        Some(file) => {
            let text = std::fs::read_to_string(file)
                .map_err(|e| anyhow::anyhow!("cannot read the plan {}: {e}", file.display()))?;
            Some(SavedPlan::from_json(&text)?)
        }
        None => None,
    };
    let (desired, options) = match &saved {
        Some(s) => match config::load_sources(&s.sources) {
            Ok(d) => (d, s.options),
            Err(problems) => {
                eprint!("{problems}");
                anyhow::bail!("the configuration saved in the plan is invalid");
            }
        },
        None => match load_config(&args.paths) {
            Some(d) => (d, args.flags.options()),
            None => return Ok(EXIT_ERROR),
        },
    };
    let rt = runtime()?;
    let (conn, plan) = connect_and_plan(&rt, global, &desired, options)?;
    let code = apply_planned(global, args, &rt, &conn, plan, saved.as_ref(), &desired);
    rt.block_on(conn.close())?;
    code
}

/// The part of `apply` after planning: checks, confirmation, execution and report.
fn apply_planned(
    global: &GlobalArgs,
    args: &ApplyArgs,
    rt: &tokio::runtime::Runtime,
    conn: &endpoint::Connection,
    plan: Result<plan::Plan, plan::PlanErrors>,
    saved: Option<&SavedPlan>,
    desired: &config::Desired,
) -> anyhow::Result<u8> {
    use std::io::IsTerminal;
    let Some(plan) = plan_or_report(plan) else {
        return Ok(EXIT_ERROR);
    };
    if let Some(s) = saved {
        if s.operations != plan.operations {
            eprintln!(
                "error: plan is stale: the live state or the partner changed since `partnerctl plan -o` wrote {} ({} saved operations, {} needed now); nothing was changed. Run `partnerctl plan -o` again and review the new plan.",
                args.plan
                    .as_ref()
                    .map_or_else(String::new, |p| p.display().to_string()),
                s.operations.len(),
                plan.operations.len()
            );
            return Ok(EXIT_ERROR);
        }
    }
    let refusals = plan.check_safety().err();
    let color = use_color(global.color);
    let target = conn.target.clone();
    print_stdout(&render::text(&plan, &target, refusals.as_ref(), color))?;
    if let Some(r) = refusals {
        report_refusals(&r);
        return Ok(EXIT_ERROR);
    }
    if plan.is_empty() {
        return Ok(EXIT_OK);
    }
    if saved.is_none() && !args.auto_approve {
        if !std::io::stdin().is_terminal() {
            eprintln!(
                "error: refusing to apply without confirmation: stdin is not a terminal. Pass --auto-approve, or save the plan with `partnerctl plan -o FILE` for review and run `partnerctl apply --plan FILE`. Nothing was changed."
            );
            return Ok(EXIT_ERROR);
        }
        if !confirm()? {
            eprintln!("Apply cancelled; nothing was changed.");
            return Ok(EXIT_ERROR);
        }
    }
    let digest = match saved {
        Some(s) => s.digest.clone(),
        None => SavedPlan::digest_of(&plan, &desired.sources),
    };
    let plan = std::sync::Arc::new(plan);
    let total = plan.operations.len();
    let mut progress: Box<dyn apply::Progress> = if global.quiet {
        Box::new(apply::Silent)
    } else if std::io::stderr().is_terminal() {
        Box::new(apply::Bar::new(total))
    } else {
        Box::new(apply::Lines::new(total, std::time::Duration::from_secs(5)))
    };
    let provider = conn.provider.clone();
    let report = rt.block_on(apply::run(
        provider,
        std::sync::Arc::clone(&plan),
        &digest,
        usize::from(args.parallelism),
        progress.as_mut(),
        async {
            let _ = tokio::signal::ctrl_c().await;
            eprintln!(
                "\nInterrupted: finishing in-flight operations, starting no new ones… (Ctrl-C again to quit at once)"
            );
            tokio::spawn(async {
                let _ = tokio::signal::ctrl_c().await;
                eprintln!("Interrupted twice: quitting with operations in flight; re-run `partnerctl apply` to converge.");
                std::process::exit(130);
            });
        },
    ));
    print_stdout(&render::apply_report(&plan, &report))?;
    for (op, state) in plan.operations.iter().zip(&report.states) {
        if let apply::OpState::Failed(msg) = state {
            eprintln!("error: {} ({}): {msg}", op.address, op.action().as_str());
        }
    }
    Ok(if report.success() {
        EXIT_OK
    } else {
        EXIT_ERROR
    })
}

fn validate(paths: &[PathBuf]) -> anyhow::Result<u8> {
    match config::load(paths) {
        Ok(desired) => {
            let files = desired.sources.len();
            print_stdout(&format!(
                "valid: {} ({} file{})\n",
                desired.counts(),
                files,
                if files == 1 { "" } else { "s" }
            ))?;
            Ok(EXIT_OK)
        }
        Err(problems) => {
            eprint!("{problems}");
            let n = problems.len();
            eprintln!("{n} problem{} found", if n == 1 { "" } else { "s" });
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
