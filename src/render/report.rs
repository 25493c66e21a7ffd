//! Stage `render`, the end-of-apply report as text: counts per action done, failures and
//! skipped operations, wall time, retries and throttling. Pure.

use std::fmt::Write as _;

use crate::apply::{OpState, Report};
use crate::plan::{Action, Plan};

/// `Done: 6 create, 10 invite.` from the operations done, or nothing.
fn per_action(plan: &Plan, report: &Report) -> Option<String> {
    let parts: Vec<String> = Action::ALL
        .iter()
        .filter_map(|a| {
            let n = plan
                .operations
                .iter()
                .zip(&report.states)
                .filter(|(o, s)| o.action() == *a && **s == OpState::Done)
                .count();
            (n > 0).then(|| format!("{n} {}", a.as_str()))
        })
        .collect();
    (!parts.is_empty()).then(|| format!("Done: {}.", parts.join(", ")))
}

/// The first line: outcome, counts, time, rate, retries and throttling.
fn headline(report: &Report) -> String {
    let done = report.count(|s| *s == OpState::Done);
    let failed = report.count(|s| matches!(s, OpState::Failed(_)));
    let skipped = report.count(|s| matches!(s, OpState::Skipped { .. }));
    let not_started = report.count(|s| *s == OpState::NotStarted);
    let secs = report.elapsed.as_secs_f64();
    let rate = if secs > 0.0 { done as f64 / secs } else { 0.0 };
    let head = if report.success() {
        "Apply complete"
    } else if report.interrupted {
        "Apply interrupted"
    } else {
        "Apply finished with errors"
    };
    let not_started = if not_started > 0 {
        format!(", {not_started} not started")
    } else {
        String::new()
    };
    let retries = if report.retries == 1 { "y" } else { "ies" };
    let lowered = if report.min_parallelism < 1 || report.throttled == 0 {
        String::new()
    } else {
        format!(" (parallelism went down to {})", report.min_parallelism)
    };
    format!(
        "{head}: {done} done, {failed} failed, {skipped} skipped{not_started} in {secs:.1} s ({rate:.1} ops/s) · {} retr{retries}, {} throttled{lowered}.",
        report.retries, report.throttled,
    )
}

/// A titled list of the operations whose state `pred` describes.
fn list(
    out: &mut String,
    plan: &Plan,
    report: &Report,
    title: &str,
    pred: &dyn Fn(&OpState) -> Option<String>,
) {
    let rows: Vec<String> = plan
        .operations
        .iter()
        .zip(&report.states)
        .filter_map(|(o, s)| {
            pred(s).map(|why| format!("  - {} ({}){why}", o.address, o.action().as_str()))
        })
        .collect();
    if !rows.is_empty() {
        let _ = writeln!(out, "{title} ({}):", rows.len());
        for r in rows {
            let _ = writeln!(out, "{r}");
        }
    }
}

/// The end-of-apply report: counts per action done, failures and skipped operations, wall time,
/// retries and throttling.
pub fn apply_report(plan: &Plan, report: &Report) -> String {
    let mut out = format!("\n{}\n", headline(report));
    if let Some(line) = per_action(plan, report) {
        let _ = writeln!(out, "{line}");
    }
    list(&mut out, plan, report, "Failed", &|s| match s {
        OpState::Failed(m) => Some(format!(": {m}")),
        _ => None,
    });
    let skipped = |s: &OpState| match s {
        OpState::Skipped { because } => Some(format!(" ← {}", plan.operations[*because].address)),
        _ => None,
    };
    list(
        &mut out,
        plan,
        report,
        "Skipped because a dependency failed",
        &skipped,
    );
    let not_started = |s: &OpState| (*s == OpState::NotStarted).then(String::new);
    list(&mut out, plan, report, "Not started", &not_started);
    if !report.success() {
        let _ = writeln!(
            out,
            "Run `partnerctl apply` again to finish: it plans from the live state, so done work is not repeated."
        );
    }
    out
}
