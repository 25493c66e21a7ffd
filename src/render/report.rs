//! Stage `render`, the end-of-apply report as text: counts per action done, failures, skipped
//! operations (those waiting for a manual step apart), wall time, retries and throttling.
//! Addresses and the API's messages show control, bidirectional and zero-width characters
//! escaped. Pure.

use std::fmt::Write as _;

use serde_json::{Value, json};

use super::escape::{json_pretty, text as esc};
use crate::apply::{OpState, Report};
use crate::plan::{Action, ManualStep, Plan};
use crate::provider::{Remedy, Target};

/// Version of the JSON apply report (bumped on incompatible changes).
pub const REPORT_FORMAT_VERSION: &str = "1";

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

/// The manual step an operation skipped because of `because` waits for: its number, if the
/// operation `because` is one.
fn waits_for(report: &Report, because: usize) -> Option<usize> {
    match report.states.get(because) {
        Some(OpState::Manual { step }) => Some(*step),
        _ => None,
    }
}

/// Manual step `step` (numbered from 1) of the plan.
fn manual_step(plan: &Plan, step: usize) -> Option<&ManualStep> {
    step.checked_sub(1).and_then(|k| plan.manual.get(k))
}

/// Operations not attempted because they wait for a manual step (not because of a failure).
fn waiting(report: &Report) -> usize {
    report.count(
        |s| matches!(s, OpState::Skipped { because } if waits_for(report, *because).is_some()),
    )
}

/// The first line: outcome, counts, time, rate, retries and throttling.
fn headline(report: &Report) -> String {
    let done = report.count(|s| *s == OpState::Done);
    let failed = report.count(|s| matches!(s, OpState::Failed(_)));
    let skipped = report.count(|s| matches!(s, OpState::Skipped { .. }));
    let waiting = waiting(report);
    let not_started = report.count(|s| *s == OpState::NotStarted);
    let manual = report.count(|s| matches!(s, OpState::Manual { .. }));
    let secs = report.elapsed.as_secs_f64();
    let rate = if secs > 0.0 { done as f64 / secs } else { 0.0 };
    let head = if report.success() {
        "Apply complete"
    } else if report.interrupted {
        "Apply interrupted"
    } else if report.halted.is_some() {
        "Apply stopped early"
    } else if failed == 0 && not_started == 0 && skipped == waiting {
        // Nothing went wrong: what is left waits for a person.
        "Apply finished up to the manual steps"
    } else {
        "Apply finished with errors"
    };
    let waiting = if waiting > 0 {
        format!(" ({waiting} waiting for manual steps)")
    } else {
        String::new()
    };
    let mut not_started = if not_started > 0 {
        format!(", {not_started} not started")
    } else {
        String::new()
    };
    if manual > 0 {
        not_started.push_str(&format!(", {manual} left as manual steps"));
    }
    let retries = if report.retries == 1 { "y" } else { "ies" };
    let lowered = if report.min_parallelism < 1 || report.throttled == 0 {
        String::new()
    } else {
        format!(" (parallelism went down to {})", report.min_parallelism)
    };
    format!(
        "{head}: {done} done, {failed} failed, {skipped} skipped{waiting}{not_started} in {secs:.1} s ({rate:.1} ops/s) · {} retr{retries}, {} throttled{lowered}.",
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
            pred(s).map(|why| {
                let address = esc(&o.address);
                format!("  - {address} ({}){}", o.action().as_str(), esc(&why))
            })
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
    if let Some(why) = &report.halted {
        let left = report.count(|s| *s == OpState::NotStarted);
        let _ = writeln!(
            out,
            "Stopped starting operations: {}; {left} operation(s) left for the next run.",
            esc(why)
        );
    }
    if let Some(line) = per_action(plan, report) {
        let _ = writeln!(out, "{line}");
    }
    list(&mut out, plan, report, "Failed", &|s| match s {
        OpState::Failed(m) => Some(format!(": {m}")),
        _ => None,
    });
    let skipped = |s: &OpState| match s {
        OpState::Skipped { because } if waits_for(report, *because).is_none() => {
            Some(format!(" ← {}", plan.operations[*because].address))
        }
        _ => None,
    };
    list(
        &mut out,
        plan,
        report,
        "Skipped because a dependency failed",
        &skipped,
    );
    let waits = |s: &OpState| match s {
        OpState::Skipped { because } => waits_for(report, *because).map(|step| {
            let title = manual_step(plan, step).map_or("", |m| m.title.as_str());
            format!(" ← manual step {step}: {title}")
        }),
        _ => None,
    };
    list(&mut out, plan, report, "Waiting for manual steps", &waits);
    let not_started = |s: &OpState| (*s == OpState::NotStarted).then(String::new);
    list(&mut out, plan, report, "Not started", &not_started);
    if !plan.manual.is_empty() {
        out.push('\n');
        out.push_str(&super::text::runbook(plan));
    }
    advice(&mut out, plan, report);
    out
}

/// What to do next: run again when that can help, fix the configuration or the access where
/// the API refused the values or the caller.
fn advice(out: &mut String, plan: &Plan, report: &Report) {
    let failed_with =
        |r: Remedy| report.count(|s| matches!(s, OpState::Failed(f) if f.remedy == r));
    let config = failed_with(Remedy::FixConfiguration);
    if config > 0 {
        let _ = writeln!(
            out,
            "The API refused the values of {config} operation(s): fix the configuration (the problems are listed with their places); running apply again unchanged would fail the same way."
        );
    }
    let access = failed_with(Remedy::FixAccess);
    if access > 0 {
        let _ = writeln!(
            out,
            "The API refused {access} operation(s) for lack of access: check the token and the account's permissions before running apply again."
        );
    }
    let rerun = failed_with(Remedy::Rerun) + report.count(|s| *s == OpState::NotStarted);
    if rerun > 0 && plan.manual.is_empty() {
        let _ = writeln!(
            out,
            "Run `partnerctl apply` again to finish: it plans from the live state, so done work is not repeated."
        );
    }
}

/// One operation's entry in the JSON report.
fn operation_json(plan: &Plan, report: &Report, i: usize) -> Value {
    let op = &plan.operations[i];
    let mut v = json!({
        "index": i,
        "action": op.action().as_str(),
        "address": op.address,
    });
    let m = v.as_object_mut().expect("an object");
    let status = match &report.states[i] {
        OpState::Done => "done",
        OpState::Failed(error) => {
            m.insert("error".into(), json!(error.message));
            m.insert("remedy".into(), json!(error.remedy));
            "failed"
        }
        OpState::Skipped { because } => {
            let mut cause =
                json!({ "index": because, "address": plan.operations[*because].address });
            let reason = match waits_for(report, *because) {
                Some(step) => {
                    cause["manual_step"] = json!(step);
                    if let Some(m) = manual_step(plan, step) {
                        cause["title"] = json!(m.title);
                    }
                    "waits-for-manual-step"
                }
                None => "dependency-failed",
            };
            m.insert("skipped_because".into(), cause);
            m.insert("skipped_reason".into(), json!(reason));
            "skipped"
        }
        OpState::NotStarted => "not-started",
        OpState::Manual { step } => {
            m.insert("manual_step".into(), json!(step));
            "manual"
        }
    };
    m.insert("status".into(), json!(status));
    if let Some(id) = report.created.get(i).cloned().flatten() {
        m.insert("created_id".into(), json!(id));
    }
    v
}

/// The end-of-apply report as versioned JSON: a summary, and every operation with its status,
/// its error, and the id of what it created.
pub fn apply_report_json(plan: &Plan, target: &Target, report: &Report) -> String {
    let count = |f: &dyn Fn(&OpState) -> bool| report.count(f);
    let doc = json!({
        "format_version": REPORT_FORMAT_VERSION,
        "target": {
            "endpoint": target.endpoint,
            "embedded": target.embedded,
            "partner": plan.partner,
        },
        "summary": {
            "success": report.success(),
            "interrupted": report.interrupted,
            "halted": report.halted,
            "operations": plan.operations.len(),
            "done": count(&|s| *s == OpState::Done),
            "failed": count(&|s| matches!(s, OpState::Failed(_))),
            "skipped": count(&|s| matches!(s, OpState::Skipped { .. })),
            "waiting_for_manual_steps": waiting(report),
            "not_started": count(&|s| *s == OpState::NotStarted),
            "manual": count(&|s| matches!(s, OpState::Manual { .. })),
            "elapsed_seconds": report.elapsed.as_secs_f64(),
            "retries": report.retries,
            "throttled": report.throttled,
            "min_parallelism": report.min_parallelism,
        },
        "operations": (0..plan.operations.len()).map(|i| operation_json(plan, report, i)).collect::<Vec<_>>(),
    });
    let mut s = json_pretty(&doc);
    s.push('\n');
    s
}
