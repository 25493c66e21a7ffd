//! Stage `render`, the JSON apply report as a typed document (`apply --format json`,
//! `apply --report FILE`, `format_version` "1"): a summary, and every operation of the plan
//! with what became of it. Pure.

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::json;

use super::common::{Action, Target};
use crate::apply::{OpState, Report};
use crate::plan::Plan;
use crate::provider::{Remedy as ProviderRemedy, Target as ProviderTarget};
use crate::render::REPORT_FORMAT_VERSION;
use crate::render::report::{manual_step, waiting, waits_for};

/// The report of an apply, as `partnerctl apply --format json` and `--report FILE` write it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "partnerctl apply report")]
pub struct ApplyReport<'a> {
    /// The version of this format, bumped on incompatible changes.
    #[schemars(extend("const" = "1"))]
    pub format_version: &'static str,
    /// Where the apply wrote, and for which partner.
    pub target: Target<'a>,
    /// Counts, time, retries and throttling.
    pub summary: Summary<'a>,
    /// Every operation of the plan, in the plan's order, with what became of it.
    pub operations: Vec<Operation<'a>>,
}

/// What the apply amounts to.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Summary<'a> {
    /// Every operation done: nothing failed, skipped, left or waiting for a person.
    pub success: bool,
    /// Whether a stop request (Ctrl-C) ended the apply early.
    pub interrupted: bool,
    /// Why the apply stopped starting operations before the end (`--max-writes`, a spent
    /// budget); null when it did not.
    pub halted: Option<&'a str>,
    /// Operations of the plan.
    pub operations: usize,
    /// Operations done.
    pub done: usize,
    /// Operations that failed.
    pub failed: usize,
    /// Operations skipped: a failure before them, or a manual step they wait for.
    pub skipped: usize,
    /// Of the skipped, those that wait for a manual step (nothing failed).
    pub waiting_for_manual_steps: usize,
    /// Operations not started (the apply was interrupted or halted).
    pub not_started: usize,
    /// Operations left to a person as manual steps.
    pub manual: usize,
    /// Wall time, in seconds.
    pub elapsed_seconds: f64,
    /// Retries of requests.
    pub retries: u64,
    /// Throttled responses.
    pub throttled: u64,
    /// The lowest number of requests in flight the apply went down to.
    pub min_parallelism: usize,
}

/// What became of an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Performed.
    Done,
    /// The API refused it or it failed: see `error` and `remedy`.
    Failed,
    /// Not attempted: see `skipped_because` and `skipped_reason`.
    Skipped,
    /// Not started: the apply was interrupted or halted.
    NotStarted,
    /// Left to a person: see `manual_step`.
    Manual,
}

/// Why an operation was not attempted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum SkippedReason {
    /// An operation it depends on failed.
    DependencyFailed,
    /// Nothing failed: it waits for what a person does at the vendor's dashboard.
    WaitsForManualStep,
}

/// What it takes for a failed operation to succeed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Remedy {
    /// Running apply again may finish it: a timeout, a server error, a concurrent change.
    Rerun,
    /// The API refused the values: the configuration must change first (a re-run would
    /// fail the same way).
    FixConfiguration,
    /// The token or the account's permissions do not allow it.
    FixAccess,
}

impl From<ProviderRemedy> for Remedy {
    fn from(r: ProviderRemedy) -> Self {
        match r {
            ProviderRemedy::Rerun => Remedy::Rerun,
            ProviderRemedy::FixConfiguration => Remedy::FixConfiguration,
            ProviderRemedy::FixAccess => Remedy::FixAccess,
        }
    }
}

/// The operation a skipped one waits for.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Cause<'a> {
    /// Its index.
    pub index: usize,
    /// Its address.
    pub address: &'a str,
    /// The number of its manual step, from 1 (when it is one).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "usize")]
    pub manual_step: Option<usize>,
    /// That step's title (when it is one).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub title: Option<&'a str>,
}

/// One operation of the plan and what became of it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(transform = per_status)]
pub struct Operation<'a> {
    /// Its index in the plan.
    pub index: usize,
    /// What it does.
    pub action: Action,
    /// The object it acts on.
    pub address: &'a str,
    /// The API's message (failed operations).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub error: Option<&'a str>,
    /// What it takes for it to succeed (failed operations).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Remedy")]
    pub remedy: Option<Remedy>,
    /// The operation it waits for: the failure it depends on, or the manual step (skipped
    /// operations).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Cause<'static>")]
    pub skipped_because: Option<Cause<'a>>,
    /// Why it was skipped (skipped operations).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "SkippedReason")]
    pub skipped_reason: Option<SkippedReason>,
    /// The number of the manual step it is, from 1 (manual operations).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "usize")]
    pub manual_step: Option<usize>,
    /// What became of it.
    pub status: Status,
    /// The live id of the account it created (creations done).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub created_id: Option<&'a str>,
}

/// Adds to the schema of an operation what each status holds: a failure its `error` and
/// `remedy`, a skipped operation its `skipped_because` and `skipped_reason`, a manual one its
/// `manual_step`, and no other status any of them; a `created_id` only on a creation done.
fn per_status(schema: &mut schemars::Schema) {
    let fields = |status: &str, names: &[&str]| {
        let forbidden: serde_json::Map<String, serde_json::Value> = names
            .iter()
            .map(|n| ((*n).to_string(), json!(false)))
            .collect();
        json!({
            "if": { "properties": { "status": { "const": status } } },
            "then": { "required": names },
            "else": { "properties": forbidden },
        })
    };
    let created = json!({
        "if": { "required": ["created_id"] },
        "then": {
            "properties": { "status": { "const": "done" }, "action": { "const": "create" } }
        },
    });
    schema.insert(
        "allOf".into(),
        json!([
            fields("failed", &["error", "remedy"]),
            fields("skipped", &["skipped_because", "skipped_reason"]),
            fields("manual", &["manual_step"]),
            created,
        ]),
    );
}

impl<'a> Operation<'a> {
    fn new(plan: &'a Plan, report: &'a Report, index: usize) -> Self {
        let op = &plan.operations[index];
        let mut out = Operation {
            index,
            action: op.action().into(),
            address: &op.address,
            error: None,
            remedy: None,
            skipped_because: None,
            skipped_reason: None,
            manual_step: None,
            status: Status::Done,
            created_id: report.created.get(index).and_then(Option::as_deref),
        };
        match &report.states[index] {
            OpState::Done => {}
            OpState::Failed(error) => {
                out.error = Some(&error.message);
                out.remedy = Some(error.remedy.into());
                out.status = Status::Failed;
            }
            OpState::Skipped { because } => {
                let step = waits_for(report, *because);
                out.skipped_because = Some(Cause {
                    index: *because,
                    address: &plan.operations[*because].address,
                    manual_step: step,
                    title: step
                        .and_then(|s| manual_step(plan, s))
                        .map(|m| m.title.as_str()),
                });
                out.skipped_reason = Some(match step {
                    Some(_) => SkippedReason::WaitsForManualStep,
                    None => SkippedReason::DependencyFailed,
                });
                out.status = Status::Skipped;
            }
            OpState::NotStarted => out.status = Status::NotStarted,
            OpState::Manual { step } => {
                out.manual_step = Some(*step);
                out.status = Status::Manual;
            }
        }
        out
    }
}

impl<'a> ApplyReport<'a> {
    /// The report of applying `plan` against `target`.
    pub fn new(plan: &'a Plan, target: &'a ProviderTarget, report: &'a Report) -> Self {
        let count = |f: &dyn Fn(&OpState) -> bool| report.count(f);
        ApplyReport {
            format_version: REPORT_FORMAT_VERSION,
            target: Target::new(target, &plan.partner),
            summary: Summary {
                success: report.success(),
                interrupted: report.interrupted,
                halted: report.halted.as_deref(),
                operations: plan.operations.len(),
                done: count(&|s| *s == OpState::Done),
                failed: count(&|s| matches!(s, OpState::Failed(_))),
                skipped: count(&|s| matches!(s, OpState::Skipped { .. })),
                waiting_for_manual_steps: waiting(report),
                not_started: count(&|s| *s == OpState::NotStarted),
                manual: count(&|s| matches!(s, OpState::Manual { .. })),
                elapsed_seconds: report.elapsed.as_secs_f64(),
                retries: report.retries,
                throttled: report.throttled,
                min_parallelism: report.min_parallelism,
            },
            operations: (0..plan.operations.len())
                .map(|i| Operation::new(plan, report, i))
                .collect(),
        }
    }
}
