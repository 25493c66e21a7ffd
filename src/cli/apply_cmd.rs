//! Edge: `apply`, from a configuration or a saved plan: plan, check, confirm, execute, report.

use super::plan_cmd::{NotPlanned, connect_and_plan, load_config, plan_or_report, report_refusals};
use super::{ApplyArgs, EXIT_ERROR, EXIT_OK, GlobalArgs, ReportFormat, runtime, use_color};
use crate::apply;
use crate::config;
use crate::endpoint;
use crate::output::{self, print_stdout};
use crate::plan::{self, SavedPlan};
use crate::provider::{Remedy, Target};
use crate::render;

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

pub(super) fn apply_command(global: &GlobalArgs, args: &ApplyArgs) -> anyhow::Result<u8> {
    let planning_flags =
        args.flags.options() != plan::Options::default() || !args.flags.targets.is_empty();
    if args.plan.is_some() && planning_flags {
        anyhow::bail!(
            "--prune, --prune-accounts, --max-delete-percent, --max-update-percent, --force, --refuse-near-misses and --target cannot be combined with --plan: the saved plan carries the options it was made with; pass them to `partnerctl plan -o` instead"
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
    let (desired, options, targets) = match &saved {
        Some(s) => match config::load_sources_for(&s.sources, None, global.needs()) {
            Ok(d) => {
                let targets = s
                    .context
                    .as_ref()
                    .map(|c| c.targets.clone())
                    .unwrap_or_default();
                (d, s.options, targets)
            }
            Err(problems) => {
                output::problems(&problems.to_string());
                anyhow::bail!("the configuration saved in the plan is invalid");
            }
        },
        None => match load_config(&args.paths, global.needs()) {
            Some(d) => (d, args.flags.options(), args.flags.targets.clone()),
            None => return Ok(EXIT_ERROR),
        },
    };
    let rt = runtime()?;
    let (conn, plan) = connect_and_plan(&rt, global, &desired, options, &targets)?;
    let code = apply_planned(global, args, &rt, &conn, plan, saved.as_ref(), &desired);
    rt.block_on(conn.close())?;
    code
}

/// Refuses (printing why) when the saved plan's operations are not the ones needed now.
fn stale(args: &ApplyArgs, saved: &SavedPlan, plan: &plan::Plan) -> bool {
    if saved.operations == plan.operations {
        return false;
    }
    output::error(&format!(
        "plan is stale: the live state or the partner changed since `partnerctl plan -o` wrote {} ({} saved operations, {} needed now); nothing was changed. Run `partnerctl plan -o` again and review the new plan.",
        args.plan
            .as_ref()
            .map_or_else(String::new, |p| p.display().to_string()),
        saved.operations.len(),
        plan.operations.len()
    ));
    true
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
        std::fs::write(file, &doc)
            .map_err(|e| anyhow::anyhow!("cannot write the report to {}: {e}", file.display()))?;
    }
    Ok(())
}

/// Every failed operation on stderr; one the API refused for its values as a configuration
/// problem, at the place its account is declared.
fn report_failures(plan: &plan::Plan, report: &apply::Report, desired: &config::Desired) {
    for (op, state) in plan.operations.iter().zip(&report.states) {
        let apply::OpState::Failed(failure) = state else {
            continue;
        };
        let what = format!("{} ({}): {failure}", op.address, op.action().as_str());
        let declared = match &op.account {
            plan::AccountRef::Account { key: Some(k), .. } => desired.declared_at.get(k),
            _ => None,
        };
        match (failure.remedy, declared) {
            (Remedy::FixConfiguration, Some(at)) => {
                output::problems(&format!("{at}: {what}"));
            }
            _ => output::error(&what),
        }
    }
}

/// The part of `apply` after planning: checks, confirmation, execution and report.
fn apply_planned(
    global: &GlobalArgs,
    args: &ApplyArgs,
    rt: &tokio::runtime::Runtime,
    conn: &endpoint::Connection,
    plan: Result<plan::Plan, NotPlanned>,
    saved: Option<&SavedPlan>,
    desired: &config::Desired,
) -> anyhow::Result<u8> {
    let Some(plan) = plan_or_report(plan) else {
        return Ok(EXIT_ERROR);
    };
    if saved.is_some_and(|s| stale(args, s, &plan)) {
        return Ok(EXIT_ERROR);
    }
    let refusals = plan.check_safety().err();
    let json = args.format == ReportFormat::Json;
    let color = !json && use_color(global.color);
    human(
        json,
        &render::text(&plan, &conn.target, refusals.as_ref(), color),
    )?;
    if let Some(r) = refusals {
        report_refusals(&r);
        return Ok(EXIT_ERROR);
    }
    if plan.is_empty() {
        let report = apply::Report::nothing();
        write_report(args, &plan, &conn.target, &report)?;
        return Ok(EXIT_OK);
    }
    if !approved(args, saved)? {
        return Ok(EXIT_ERROR);
    }
    let digest = match saved {
        Some(s) => s.digest.clone(),
        None => SavedPlan::digest_of(&plan, &desired.sources),
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
    write_report(args, &plan, &conn.target, &report)?;
    report_failures(&plan, &report, desired);
    Ok(if report.success() {
        EXIT_OK
    } else {
        EXIT_ERROR
    })
}
