//! Edge: `validate` and `plan`, and the connect-and-plan step `apply` shares.

use std::path::PathBuf;

use super::{EXIT_CHANGES, EXIT_ERROR, EXIT_OK, GlobalArgs, PlanArgs, runtime, use_color};
use crate::config;
use crate::endpoint;
use crate::output::print_stdout;
use crate::plan::{self, SavedPlan};
use crate::provider::Provider;
use crate::render::{self, Format};

/// Connects (endpoint or embedded sandbox), reads the live snapshot and plans. The connection
/// stays open (the embedded sandbox keeps running) until the caller closes it.
pub(super) fn connect_and_plan(
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
            endpoint::EmbeddedPartner::Config(&desired.partner.name),
            &global.connection(),
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
pub(super) fn plan_or_report(plan: Result<plan::Plan, plan::PlanErrors>) -> Option<plan::Plan> {
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
pub(super) fn report_refusals(r: &plan::Refusals) {
    eprintln!(
        "error: the plan is refused ({} reason{}); see above. Nothing was changed.",
        r.0.len(),
        if r.0.len() == 1 { "" } else { "s" }
    );
}

/// Loads the configuration, printing its problems; `None` when it is invalid.
pub(super) fn load_config(paths: &[PathBuf]) -> Option<config::Desired> {
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

pub(super) fn plan_command(global: &GlobalArgs, args: &PlanArgs) -> anyhow::Result<u8> {
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

pub(super) fn validate(paths: &[PathBuf]) -> anyhow::Result<u8> {
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
