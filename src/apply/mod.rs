//! Stage `apply`: executes a plan's DAG through a [`Provider`].
//!
//! - At most `parallelism` operations in flight; each starts as soon as its dependencies are
//!   done (no level barriers), in plan order among the ready ones.
//! - Adaptive concurrency: when the provider reports throttling, the limit halves (down to 1);
//!   after as many clean completions as the current limit, it grows by one again.
//! - A failed operation skips only its transitive dependents (like Terraform's `dag/walk.go`);
//!   independent work goes on.
//! - Idempotency keys derive from the plan digest and the operation, so every retry of an
//!   operation of one plan reuses its key.
//! - A stop request (Ctrl-C) stops starting operations; in-flight ones finish.
//!
//! Rooms: `dag` (the walk), `limit` (adaptive concurrency), `progress` (stderr); this file
//! schedules. May import: `plan`, `provider`. May touch: the provider (network), stderr.

mod dag;
mod limit;
mod progress;

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use tokio::task::JoinSet;

use crate::plan::{AccountRef, Action, Operation, Plan};
use crate::provider::{Outcome, Provider, Remedy, Resolved};
use dag::Walk;
use limit::AdaptiveLimit;

pub use progress::{Bar, Lines, Progress, Silent};

/// What became of one operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpState {
    /// Performed.
    Done,
    /// The provider refused or failed it.
    Failed(Failure),
    /// Not attempted because an operation it depends on failed (its index).
    Skipped {
        /// The failed operation it (transitively) depended on.
        because: usize,
    },
    /// Not started because the apply was interrupted.
    NotStarted,
    /// Left to a person: the vendor's API cannot do it (manual step `step`, from 1).
    Manual {
        /// Its number in the plan's runbook.
        step: usize,
    },
}

/// Why an operation failed, and what it takes to succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The provider's message.
    pub message: String,
    /// Whether a re-run may succeed, or a person must fix something first.
    pub remedy: Remedy,
    /// Whether it stops the apply from starting further operations (the vendor's write
    /// budget is spent).
    pub halts: bool,
}

impl Failure {
    /// A failure a re-run may get past.
    pub fn transient(message: impl Into<String>) -> Self {
        Failure {
            message: message.into(),
            remedy: Remedy::Rerun,
            halts: false,
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// The outcome of an apply.
#[derive(Debug, Clone)]
pub struct Report {
    /// One state per operation of the plan.
    pub states: Vec<OpState>,
    /// Wall time.
    pub elapsed: Duration,
    /// Whether a stop request ended it early.
    pub interrupted: bool,
    /// Why it stopped starting operations before the end (`--max-writes`, a spent budget).
    pub halted: Option<String>,
    /// Retries the provider made.
    pub retries: u64,
    /// Throttled responses the provider saw.
    pub throttled: u64,
    /// Lowest concurrency limit reached by adaptation.
    pub min_parallelism: usize,
    /// For each operation: the live id of what it created (creations that finished).
    pub created: Vec<Option<String>>,
}

impl Report {
    /// The report of an apply with nothing to do.
    pub fn nothing() -> Self {
        Report {
            states: Vec::new(),
            elapsed: Duration::ZERO,
            interrupted: false,
            halted: None,
            retries: 0,
            throttled: 0,
            min_parallelism: 0,
            created: Vec::new(),
        }
    }

    /// How many operations are in a state matching `pred`.
    pub fn count(&self, pred: impl Fn(&OpState) -> bool) -> usize {
        self.states.iter().filter(|s| pred(s)).count()
    }

    /// Everything done, nothing failed, skipped or left?
    pub fn success(&self) -> bool {
        self.states.iter().all(|s| *s == OpState::Done)
    }
}

/// The idempotency key of operation `index` of the plan with `digest`.
pub fn idempotency_key(digest: &str, index: usize, action: Action, address: &str) -> String {
    let h = Sha256::digest(format!("{digest}\n{index}\n{}\n{address}", action.as_str()));
    let hex = format!("{h:x}");
    format!("pctl-{}", &hex[..40])
}

/// Live ids of accounts: known at plan time, or learnt from creations during the apply; and
/// what the provider noted in its read, handed back with every operation.
struct Ids {
    partner_id: String,
    created: HashMap<String, String>,
    private: crate::live::Private,
}

impl Ids {
    fn resolve(&self, r: &AccountRef) -> Option<String> {
        match r {
            AccountRef::Partner => Some(self.partner_id.clone()),
            AccountRef::Account { id: Some(id), .. } => Some(id.clone()),
            AccountRef::Account { key: Some(k), .. } => self.created.get(k).cloned(),
            AccountRef::Account { .. } => None,
        }
    }

    fn for_op(&self, op: &Operation) -> Resolved {
        Resolved {
            account_id: self.resolve(&op.account),
            parent_id: op.parent().and_then(|p| self.resolve(p)),
            private: self.private.clone(),
        }
    }

    /// Remembers the id a creation returned; returns it.
    fn learn(&mut self, op: &Operation, outcome: Outcome) -> Option<String> {
        let id = outcome.created_id?;
        if let (Action::Create, Some(key)) = (op.action(), op.account.key()) {
            self.created.insert(key.to_string(), id.clone());
        }
        Some(id)
    }
}

type Tasks = JoinSet<Result<Outcome, Failure>>;

/// Starts operation `i` on the provider.
fn start<P>(
    tasks: &mut Tasks,
    provider: &P,
    plan: &Arc<Plan>,
    i: usize,
    ids: Resolved,
    key: String,
) -> tokio::task::Id
where
    P: Provider + Clone + Send + Sync + 'static,
{
    let (provider, plan) = (provider.clone(), Arc::clone(plan));
    let handle = tasks.spawn(async move {
        let op = &plan.operations[i];
        provider.execute(op, &ids, &key).await.map_err(|e| Failure {
            remedy: P::remedy(&e),
            halts: P::halts(&e),
            message: e.to_string(),
        })
    });
    handle.id()
}

/// How fast and how far one apply may go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pace {
    /// Most operations in flight.
    pub parallelism: usize,
    /// Most operations (write calls) started in this run (`--max-writes`).
    pub max_writes: Option<usize>,
}

impl From<usize> for Pace {
    fn from(parallelism: usize) -> Self {
        Pace {
            parallelism,
            max_writes: None,
        }
    }
}

/// Why no further operation may start because of `--max-writes`: that many have started.
fn halt_reason(pace: &Pace, started: usize) -> Option<String> {
    let max = pace.max_writes?;
    (started >= max).then(|| format!("--max-writes {max} reached"))
}

/// The operation a finished task ran, and its outcome.
fn outcome_of(
    joined: Result<(tokio::task::Id, Result<Outcome, Failure>), tokio::task::JoinError>,
    task_op: &HashMap<tokio::task::Id, usize>,
) -> (usize, Result<Outcome, Failure>) {
    match joined {
        Ok((id, r)) => (task_op[&id], r),
        // A panicked task fails its operation (and skips its dependents), not the apply.
        Err(e) => (
            task_op[&e.id()],
            Err(Failure::transient(format!("internal error: {e}"))),
        ),
    }
}

/// Executes `plan` through `provider` with at most `pace.parallelism` operations in flight,
/// until done, until `stop` completes, until `pace.max_writes` operations have started or until
/// the provider says its write budget is spent (then in-flight operations finish and the rest
/// is reported as not started, with the reason in [`Report::halted`]).
pub async fn run<P>(
    provider: P,
    plan: Arc<Plan>,
    digest: &str,
    pace: impl Into<Pace>,
    progress: &mut dyn Progress,
    stop: impl Future<Output = ()>,
) -> Report
where
    P: Provider + Clone + Send + Sync + 'static,
{
    let pace = pace.into();
    let parallelism = pace.parallelism;
    let mut started = 0usize;
    let mut halted: Option<String> = None;
    let start_time = Instant::now();
    let mut walk = Walk::new(&plan.operations);
    walk.manual(
        plan.manual
            .iter()
            .enumerate()
            .map(|(n, s)| (s.operation, n + 1)),
    );
    let mut created: Vec<Option<String>> = vec![None; plan.operations.len()];
    let mut limit = AdaptiveLimit::new(parallelism, provider.throttle_events());
    let mut ids = Ids {
        partner_id: plan.partner.id.clone(),
        created: HashMap::new(),
        private: plan.private.clone(),
    };
    let mut tasks: Tasks = JoinSet::new();
    let mut task_op: HashMap<tokio::task::Id, usize> = HashMap::new();
    let mut stopping = false;
    tokio::pin!(stop);
    loop {
        while !stopping && halted.is_none() && tasks.len() < limit.current() {
            halted = halt_reason(&pace, started);
            if halted.is_some() {
                break;
            }
            let Some(i) = walk.next_ready() else { break };
            started += 1;
            let op = &plan.operations[i];
            let key = idempotency_key(digest, i, op.action(), &op.address);
            let id = start(&mut tasks, &provider, &plan, i, ids.for_op(op), key);
            task_op.insert(id, i);
        }
        if tasks.is_empty() {
            break;
        }
        let joined = tokio::select! {
            // A stop request wins over a completion, so no new operation starts after it.
            biased;
            () = &mut stop, if !stopping => {
                stopping = true;
                tracing::warn!("stop requested: finishing {} in-flight operation(s)", tasks.len());
                continue;
            }
            j = tasks.join_next_with_id() => j,
        };
        let Some(joined) = joined else { break };
        let (i, outcome) = outcome_of(joined, &task_op);
        match outcome {
            Ok(out) => {
                created[i] = ids.learn(&plan.operations[i], out);
                walk.done(i);
            }
            Err(failure) => {
                if failure.halts && halted.is_none() {
                    halted = Some(failure.message.clone());
                }
                walk.failed(i, failure);
            }
        }
        limit.observe(provider.throttle_events());
        progress.update(walk.done, walk.failed, walk.skipped, tasks.len());
    }
    progress.finish();
    Report {
        states: walk.into_states(),
        elapsed: start_time.elapsed(),
        interrupted: stopping,
        halted,
        retries: provider.retries(),
        throttled: provider.throttle_events(),
        min_parallelism: limit.lowest(),
        created,
    }
}

#[cfg(test)]
mod tests;
