//! Stage `render`, the end-of-apply report as text: counts per action done, failures and
//! skipped operations, wall time, retries and throttling. Pure.

use std::fmt::Write as _;

use crate::apply::{OpState, Report};
use crate::plan::{Action, Plan};

/// The end-of-apply report: counts per action done, failures and skipped operations, wall time,
/// retries and throttling.
pub fn apply_report(plan: &Plan, report: &Report) -> String {
    let mut out = String::new();
    let done = report.count(|s| *s == OpState::Done);
    let failed = report.count(|s| matches!(s, OpState::Failed(_)));
    let skipped = report.count(|s| matches!(s, OpState::Skipped { .. }));
    let not_started = report.count(|s| *s == OpState::NotStarted);
    let secs = report.elapsed.as_secs_f64();
    let rate = if secs > 0.0 { done as f64 / secs } else { 0.0 };
    let mut per_action: Vec<String> = Vec::new();
    for a in Action::ALL {
        let n = plan
            .operations
            .iter()
            .zip(&report.states)
            .filter(|(o, s)| o.action() == a && **s == OpState::Done)
            .count();
        if n > 0 {
            per_action.push(format!("{n} {}", a.as_str()));
        }
    }
    let head = if report.success() {
        "Apply complete"
    } else if report.interrupted {
        "Apply interrupted"
    } else {
        "Apply finished with errors"
    };
    let _ = writeln!(
        out,
        "\n{head}: {done} done, {failed} failed, {skipped} skipped{} in {secs:.1} s ({rate:.1} ops/s) · {} retr{}, {} throttled{}.",
        if not_started > 0 {
            format!(", {not_started} not started")
        } else {
            String::new()
        },
        report.retries,
        if report.retries == 1 { "y" } else { "ies" },
        report.throttled,
        if report.min_parallelism < 1 || report.throttled == 0 {
            String::new()
        } else {
            format!(" (parallelism went down to {})", report.min_parallelism)
        }
    );
    if !per_action.is_empty() {
        let _ = writeln!(out, "Done: {}.", per_action.join(", "));
    }
    let list = |out: &mut String, title: &str, pred: &dyn Fn(&OpState) -> Option<String>| {
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
    };
    list(&mut out, "Failed", &|s| match s {
        OpState::Failed(m) => Some(format!(": {m}")),
        _ => None,
    });
    list(
        &mut out,
        "Skipped because a dependency failed",
        &|s| match s {
            OpState::Skipped { because } => {
                Some(format!(" ← {}", plan.operations[*because].address))
            }
            _ => None,
        },
    );
    list(&mut out, "Not started", &|s| {
        (*s == OpState::NotStarted).then(String::new)
    });
    if !report.success() {
        let _ = writeln!(
            out,
            "Run `partnerctl apply` again to finish: it plans from the live state, so done work is not repeated."
        );
    }
    out
}
