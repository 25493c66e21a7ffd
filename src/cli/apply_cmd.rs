//! Edge: `apply`, from a configuration or a saved plan: plan, check, confirm, execute, report.

use std::collections::HashMap;
use std::path::Path;

use super::plan_cmd::{connect_and_plan, load_config, plan_key, plan_or_report, report_refusals};
use super::policy_cmd::{Judge, report_denials};
use super::{ApplyArgs, EXIT_ERROR, EXIT_OK, GlobalArgs, ReportFormat, runtime, use_color};
use crate::apply;
use crate::config;
use crate::endpoint;
use crate::output::{self, print_stdout};
use crate::plan::{self, SavedPlan};
use crate::provider::{Remedy, Target};
use crate::render::{self, Verdict};
use crate::vocab::diagnostic::Diagnostic;

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

/// Reads a saved plan and checks it before anything is read from the API: its digest, its
/// signature (with `PARTNERCTL_PLAN_KEY`), the options that lower a guard, and the endpoint.
/// (The partner is checked once it is read.)
fn open_saved(global: &GlobalArgs, args: &ApplyArgs, file: &Path) -> anyhow::Result<SavedPlan> {
    let key = plan_key()?;
    let text = std::fs::read_to_string(file)
        .map_err(|e| anyhow::anyhow!("cannot read the plan {}: {e}", file.display()))?;
    let saved = SavedPlan::from_json(&text, key.as_ref())
        .map_err(|e| anyhow::anyhow!("{}: {e}; nothing was changed", file.display()))?;
    if key.is_none() && saved.is_signed() {
        anyhow::bail!(
            "{} is signed, and PARTNERCTL_PLAN_KEY is not set, so its signature cannot be checked; set PARTNERCTL_PLAN_KEY to the key `partnerctl plan -o` signed it with. Nothing was changed.",
            file.display()
        );
    }
    if let Err(errors) = saved.check_options(&args.flags.options()) {
        for e in &errors {
            output::error(&format!("{}: {e}", file.display()));
        }
        let flags: String = saved
            .guard_flags()
            .iter()
            .map(|f| format!(" {f}"))
            .collect();
        anyhow::bail!(
            "the options given are not those the plan was reviewed with; nothing was changed. To apply it: `partnerctl apply --plan {}{flags}`",
            file.display()
        );
    }
    let now = match endpoint::choose(global.endpoint.as_deref(), endpoint::ci_from_env())? {
        endpoint::Choice::Embedded { .. } => plan::EMBEDDED_ENDPOINT.to_string(),
        endpoint::Choice::Remote { url } => plan::bound_endpoint(&url, false),
    };
    saved
        .check_endpoint(&now)
        .map_err(|e| anyhow::anyhow!("{}: {e}. Nothing was changed.", file.display()))?;
    Ok(saved)
}

pub(super) fn apply_command(global: &GlobalArgs, args: &ApplyArgs) -> anyhow::Result<u8> {
    // The plan's own options: part of what was reviewed. (The options that lower a guard are
    // given again instead; see `open_saved`.)
    let flags = &args.flags;
    let plans_own = flags.prune
        || flags.prune_accounts
        || flags.refuse_near_misses
        || !flags.targets.is_empty();
    if args.plan.is_some() && plans_own {
        anyhow::bail!(
            "--prune, --prune-accounts, --refuse-near-misses and --target cannot be combined with --plan: they are part of the reviewed plan, saved with it; to change them, run `partnerctl plan -o` with them and review that plan"
        );
    }
    let saved = match &args.plan {
        Some(file) => Some(open_saved(global, args, file)?),
        None => None,
    };
    // The policies are read, and checked against those of a saved plan, before the API.
    let (desired, options, targets, judge) = match (&saved, &args.plan) {
        (Some(s), Some(file)) => {
            let judge = Judge::for_saved(global, &args.policy, s, file)?;
            match config::load_sources_for(&s.sources, None, global.needs()) {
                Ok(d) => (d, s.options, s.context.targets.clone(), judge),
                Err(problems) => {
                    output::diagnostics(&problems.0);
                    anyhow::bail!("the configuration saved in the plan is invalid");
                }
            }
        }
        _ => {
            let desired = load_config(&args.paths, global.needs());
            let judge = Judge::load(global, &args.policy);
            match (desired, judge) {
                (Some(d), Some(j)) => (d, args.flags.options(), args.flags.targets.clone(), j),
                _ => return Ok(EXIT_ERROR),
            }
        }
    };
    let rt = runtime()?;
    let bound = |partner: &crate::live::PartnerInfo| match (&saved, &args.plan) {
        (Some(s), Some(file)) => s
            .check_partner(partner)
            .map_err(|e| anyhow::anyhow!("{}: {e}. Nothing was changed.", file.display())),
        _ => Ok(()),
    };
    let mut judge = judge;
    let (conn, live, plan) = judge.while_reading(&desired, || {
        connect_and_plan(&rt, global, &desired, options, &targets, bound)
    })?;
    let saved = saved.as_ref().map(|s| (s, &live));
    let code = apply_planned(global, args, &rt, &conn, plan, saved, &desired, &mut judge);
    rt.block_on(conn.close())?;
    code
}

/// The saved plan to execute, judged against the live state of now (`now`: what its
/// configuration plans against `live`); `None` after saying why it is stale.
fn still_applicable(
    args: &ApplyArgs,
    saved: &SavedPlan,
    now: &plan::Plan,
    live: &crate::live::Snapshot,
) -> Option<plan::Applicable> {
    match saved.against(now, live) {
        Ok(applicable) => Some(applicable),
        Err(stale) => {
            output::error(&format!(
                "plan is stale: {}: {stale}\nNothing was changed. Run `partnerctl plan -o` again and review the new plan.",
                args.plan
                    .as_ref()
                    .map_or_else(String::new, |p| p.display().to_string()),
            ));
            None
        }
    }
}

/// What the configuration needs now besides a saved plan's operations: how many changes, a
/// few of them, and what to do.
fn needed_elsewhere(elsewhere: &[(String, plan::Action)]) -> Option<String> {
    const NAMED: usize = 3;
    let n = elsewhere.len();
    if n == 0 {
        return None;
    }
    let named: Vec<String> = elsewhere
        .iter()
        .take(NAMED)
        .map(|(address, action)| format!("{address} ({})", action.as_str()))
        .collect();
    let more = if n > NAMED { ", …" } else { "" };
    Some(format!(
        "{n} change{} {} needed now that this plan did not include ({}{more}); run `partnerctl plan` to review {}.\n",
        if n == 1 { "" } else { "s" },
        if n == 1 { "is" } else { "are" },
        named.join(", "),
        if n == 1 { "it" } else { "them" },
    ))
}

/// Asks for confirmation unless approved; `Ok(false)` (after saying why) when not confirmed.
fn approved(args: &ApplyArgs, saved: Option<&SavedPlan>) -> anyhow::Result<bool> {
    use std::io::IsTerminal;
    if saved.is_some() || args.auto_approve {
        return Ok(true);
    }
    if !std::io::stdin().is_terminal() {
        output::error(
            "refusing to apply without confirmation: stdin is not a terminal. Pass --auto-approve, or save the plan with `partnerctl plan -o FILE` for review and run `partnerctl apply --plan FILE`. Nothing was changed.",
        );
        return Ok(false);
    }
    if !confirm()? {
        output::note("Apply cancelled; nothing was changed.");
        return Ok(false);
    }
    Ok(true)
}

/// Progress on stderr: none with `-q`, a bar on a terminal, else a line every five seconds.
fn progress(global: &GlobalArgs, total: usize) -> Box<dyn apply::Progress> {
    use std::io::IsTerminal;
    if global.quiet {
        Box::new(apply::Silent)
    } else if std::io::stderr().is_terminal() {
        Box::new(apply::Bar::new(total))
    } else {
        let every = std::time::Duration::from_secs(5);
        Box::new(apply::Lines::new(total, every, Box::new(output::note)))
    }
}

/// Completes on the first Ctrl-C (the apply then starts nothing new); a second one quits.
async fn interrupted() {
    let _ = tokio::signal::ctrl_c().await;
    output::note(
        "\nInterrupted: finishing in-flight operations, starting no new ones… (Ctrl-C again to quit at once)",
    );
    tokio::spawn(async {
        let _ = tokio::signal::ctrl_c().await;
        output::note(
            "Interrupted twice: quitting with operations in flight; re-run `partnerctl apply` to converge.",
        );
        std::process::exit(130);
    });
}

/// Text for people: stdout, or stderr when stdout carries the JSON report.
fn human(json: bool, text: &str) -> anyhow::Result<()> {
    if json {
        output::note(text);
        Ok(())
    } else {
        Ok(print_stdout(text)?)
    }
}

/// The JSON apply report: on stdout with `--format json`, in the file of `--report`.
fn write_report(
    args: &ApplyArgs,
    plan: &plan::Plan,
    target: &Target,
    report: &apply::Report,
) -> anyhow::Result<()> {
    let doc = render::apply_report_json(plan, target, report);
    if args.format == ReportFormat::Json {
        print_stdout(&doc)?;
    }
    if let Some(file) = &args.report {
        // Replaced whole, never written through a link in its place.
        super::replace::replace(file, &doc)
            .map_err(|e| anyhow::anyhow!("cannot write the report to {}: {e}", file.display()))?;
    }
    Ok(())
}

/// Every failed operation on stderr; one the API refused for its values as a configuration
/// problem, at the place its account is declared.
fn report_failures(plan: &plan::Plan, report: &apply::Report, desired: &config::Desired) {
    let to_fix = |s: &apply::OpState| matches!(s, apply::OpState::Failed(f) if f.remedy == Remedy::FixConfiguration);
    // Where each account is declared, gathered once and only when some place is to be shown.
    let declared_at: HashMap<&str, &config::AccountSpan> = if report.states.iter().any(to_fix) {
        desired
            .walk()
            .filter_map(|n| Some((n.key, n.at?)))
            .collect()
    } else {
        HashMap::new()
    };
    for (op, state) in plan.operations.iter().zip(&report.states) {
        let apply::OpState::Failed(failure) = state else {
            continue;
        };
        let what = format!("{} ({}): {failure}", op.address, op.action().as_str());
        let location = match &op.account {
            plan::AccountRef::Account { key: Some(k), .. } if to_fix(state) => declared_at
                .get(k.as_str())
                .map(|at| desired.location(at.file, at.key)),
            _ => None,
        };
        output::diagnostic(&Failed { location, what });
    }
}

/// A failed operation: one the API refused for its values at the place its account is
/// declared, as a configuration problem.
struct Failed {
    location: Option<config::Location>,
    what: String,
}

impl std::fmt::Display for Failed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.location {
            Some(at) => write!(f, "{at}: {}", self.what),
            None => f.write_str(&self.what),
        }
    }
}

impl Diagnostic for Failed {
    fn location(&self) -> Option<config::Location> {
        self.location.clone()
    }
}

/// The part of `apply` after planning: checks (the guards, the policies), confirmation,
/// execution and report.
#[allow(clippy::too_many_arguments)]
fn apply_planned(
    global: &GlobalArgs,
    args: &ApplyArgs,
    rt: &tokio::runtime::Runtime,
    conn: &endpoint::Connection,
    plan: Result<plan::Plan, plan::PlanErrors>,
    saved: Option<(&SavedPlan, &crate::live::Snapshot)>,
    desired: &config::Desired,
    judge: &mut Judge,
) -> anyhow::Result<u8> {
    let Some(plan) = plan_or_report(plan) else {
        return Ok(EXIT_ERROR);
    };
    // A saved plan: its operations, when each one's objects are as they were.
    let (plan, elsewhere) = match saved {
        Some((s, live)) => match still_applicable(args, s, &plan, live) {
            Some(applicable) => (applicable.plan, needed_elsewhere(&applicable.elsewhere)),
            None => return Ok(EXIT_ERROR),
        },
        None => (plan, None),
    };
    let saved = saved.map(|(s, _)| s);
    let refusals = plan.check_safety().err();
    let Ok(policy) = judge.plan(desired, &plan, &conn.target, refusals.as_ref()) else {
        return Ok(EXIT_ERROR);
    };
    let denied = policy.as_ref().filter(|o| o.denied());
    let json = args.format == ReportFormat::Json;
    let color = !json && use_color(global.color);
    let verdict = Verdict {
        refusals: refusals.as_ref(),
        policy: policy.as_ref(),
    };
    human(json, &render::text(&plan, &conn.target, verdict, color))?;
    if refusals.is_some() || denied.is_some() {
        if saved.is_some() && refusals.is_some() {
            output::error(
                "the guards refuse the saved plan against the live state of now (it changed since the plan was made); run `partnerctl plan -o` again and review the new plan.",
            );
        } else if saved.is_some() {
            output::error(
                "the policies deny the saved plan against the live state of now (it changed since the plan was made); run `partnerctl plan -o` again and review the new plan.",
            );
        }
        if let Some(r) = &refusals {
            report_refusals(r);
        }
        if let Some(outcome) = denied {
            report_denials(outcome);
        }
        return Ok(EXIT_ERROR);
    }
    if plan.is_empty() {
        let report = apply::Report::nothing();
        write_report(args, &plan, &conn.target, &report)?;
        if let Some(note) = &elsewhere {
            human(json, note)?;
        }
        return Ok(EXIT_OK);
    }
    if !approved(args, saved)? {
        return Ok(EXIT_ERROR);
    }
    let digest = match saved {
        Some(s) => s.digest.clone(),
        None => plan::plan_digest(&plan, &desired.sources),
    };
    let plan = std::sync::Arc::new(plan);
    let mut progress = progress(global, plan.operations.len());
    let report = rt.block_on(apply::run(
        conn.provider.clone(),
        std::sync::Arc::clone(&plan),
        &digest,
        apply::Pace {
            parallelism: usize::from(args.parallelism),
            max_writes: args.max_writes.map(|n| n as usize),
        },
        progress.as_mut(),
        interrupted(),
    ));
    human(json, &render::apply_report(&plan, &report))?;
    if let Some(note) = &elsewhere {
        human(json, note)?;
    }
    write_report(args, &plan, &conn.target, &report)?;
    report_failures(&plan, &report, desired);
    Ok(if report.success() {
        EXIT_OK
    } else {
        EXIT_ERROR
    })
}
