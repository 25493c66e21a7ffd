//! Stage `apply`: executes a plan's DAG through a [`Provider`] (SPEC §6).
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
//! May touch: the provider (network), the progress sink (stderr).

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use tokio::task::JoinSet;

use crate::plan::{AccountRef, Action, Plan};
use crate::provider::{Provider, Resolved};

/// What became of one operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpState {
    /// Performed.
    Done,
    /// The provider refused or failed it; the message says why.
    Failed(String),
    /// Not attempted because an operation it depends on failed (its index).
    Skipped {
        /// The failed operation it (transitively) depended on.
        because: usize,
    },
    /// Not started because the apply was interrupted.
    NotStarted,
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
    /// Retries the provider made.
    pub retries: u64,
    /// Throttled responses the provider saw.
    pub throttled: u64,
    /// Lowest concurrency limit reached by adaptation.
    pub min_parallelism: usize,
}

impl Report {
    /// How many operations are in a state matching `pred`.
    pub fn count(&self, pred: impl Fn(&OpState) -> bool) -> usize {
        self.states.iter().filter(|s| pred(s)).count()
    }

    /// Everything done, nothing failed, skipped or left?
    pub fn success(&self) -> bool {
        self.states.iter().all(|s| *s == OpState::Done)
    }
}

/// Progress reporting.
pub trait Progress: Send {
    /// Called after every state change.
    fn update(&mut self, done: usize, failed: usize, skipped: usize, in_flight: usize);
    /// Called once at the end.
    fn finish(&mut self);
}

/// No progress output.
pub struct Silent;

impl Progress for Silent {
    fn update(&mut self, _: usize, _: usize, _: usize, _: usize) {}
    fn finish(&mut self) {}
}

/// A terminal progress bar (indicatif) on stderr: counts, rate and ETA.
pub struct Bar {
    bar: indicatif::ProgressBar,
}

impl Bar {
    /// A bar for `total` operations.
    pub fn new(total: usize) -> Self {
        let bar = indicatif::ProgressBar::with_draw_target(
            Some(total as u64),
            indicatif::ProgressDrawTarget::stderr(),
        );
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} ops · ETA {eta} {msg}")
                .expect("static template"),
        );
        Bar { bar }
    }
}

impl Progress for Bar {
    fn update(&mut self, done: usize, failed: usize, skipped: usize, in_flight: usize) {
        let finished = done + failed + skipped;
        self.bar.set_position(finished as u64);
        let rate = finished as f64 / self.bar.elapsed().as_secs_f64().max(1e-3);
        self.bar.set_message(if failed + skipped > 0 {
            format!(
                "· {rate:.0} ops/s · {failed} failed, {skipped} skipped · {in_flight} in flight"
            )
        } else {
            format!("· {rate:.0} ops/s · {in_flight} in flight")
        });
    }

    fn finish(&mut self) {
        self.bar.finish_and_clear();
    }
}

/// Off a terminal (CI logs): one line on stderr every `every`, and a last one at the end.
pub struct Lines {
    total: usize,
    start: Instant,
    last: Instant,
    every: Duration,
    state: (usize, usize, usize, usize),
}

impl Lines {
    /// Lines every `every` for `total` operations.
    pub fn new(total: usize, every: Duration) -> Self {
        let now = Instant::now();
        Lines {
            total,
            start: now,
            last: now,
            every,
            state: (0, 0, 0, 0),
        }
    }

    fn print(&self) {
        let (done, failed, skipped, in_flight) = self.state;
        let finished = done + failed + skipped;
        let secs = self.start.elapsed().as_secs_f64().max(1e-3);
        let rate = finished as f64 / secs;
        let eta = if rate > 0.0 {
            format!("{:.0}s", (self.total - finished) as f64 / rate)
        } else {
            "?".to_string()
        };
        eprintln!(
            "apply: {finished}/{} operations ({done} done, {failed} failed, {skipped} skipped, {in_flight} in flight) · {rate:.1} ops/s · ETA {eta}",
            self.total
        );
    }
}

impl Progress for Lines {
    fn update(&mut self, done: usize, failed: usize, skipped: usize, in_flight: usize) {
        self.state = (done, failed, skipped, in_flight);
        if self.last.elapsed() >= self.every {
            self.last = Instant::now();
            self.print();
        }
    }

    fn finish(&mut self) {
        if self.start.elapsed() >= self.every {
            self.print();
        }
    }
}

/// The idempotency key of operation `index` of the plan with `digest`.
pub fn idempotency_key(digest: &str, index: usize, action: Action, address: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let h = Sha256::digest(format!("{digest}\n{index}\n{}\n{address}", action.as_str()));
    let mut key = String::with_capacity(45);
    key.push_str("pctl-");
    for b in &h[..20] {
        key.push(char::from(HEX[usize::from(b >> 4)]));
        key.push(char::from(HEX[usize::from(b & 15)]));
    }
    key
}

/// Executes `plan` through `provider` with at most `parallelism` operations in flight, until
/// done or until `stop` completes (then in-flight operations finish and the rest is reported
/// as not started).
pub async fn run<P>(
    provider: P,
    plan: Arc<Plan>,
    digest: &str,
    parallelism: usize,
    progress: &mut dyn Progress,
    stop: impl Future<Output = ()>,
) -> Report
where
    P: Provider + Clone + Send + Sync + 'static,
{
    let start = Instant::now();
    let n = plan.operations.len();
    let max = parallelism.max(1);
    let mut states: Vec<Option<OpState>> = vec![None; n];
    let mut waiting: Vec<usize> = plan.operations.iter().map(|o| o.depends_on.len()).collect();
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, op) in plan.operations.iter().enumerate() {
        for &d in &op.depends_on {
            dependents[d].push(i);
        }
    }
    let mut ready: VecDeque<usize> = (0..n).filter(|&i| waiting[i] == 0).collect();
    let mut created: HashMap<String, String> = HashMap::new();
    let mut tasks: JoinSet<Result<crate::provider::Outcome, String>> = JoinSet::new();
    let mut task_op: HashMap<tokio::task::Id, usize> = HashMap::new();
    let mut limit = max;
    let mut min_limit = max;
    let mut clean_streak = 0usize;
    let mut throttles_seen = provider.throttle_events();
    let (mut done, mut failed, mut skipped) = (0usize, 0usize, 0usize);
    let mut stopping = false;
    tokio::pin!(stop);

    loop {
        while !stopping && tasks.len() < limit {
            let Some(i) = ready.pop_front() else { break };
            if states[i].is_some() {
                continue; // skipped meanwhile
            }
            let op = &plan.operations[i];
            let resolve = |r: &AccountRef| -> Option<String> {
                match r {
                    AccountRef::Partner => Some(plan.partner.id.clone()),
                    AccountRef::Account { id: Some(id), .. } => Some(id.clone()),
                    AccountRef::Account { key: Some(k), .. } => created.get(k).cloned(),
                    AccountRef::Account { .. } => None,
                }
            };
            let ids = Resolved {
                account_id: resolve(&op.account),
                parent_id: op.parent().and_then(resolve),
            };
            let key = idempotency_key(digest, i, op.action(), &op.address);
            let (provider, plan) = (provider.clone(), Arc::clone(&plan));
            let handle = tasks.spawn(async move {
                let op = &plan.operations[i];
                provider
                    .execute(op, &ids, &key)
                    .await
                    .map_err(|e| e.to_string())
            });
            task_op.insert(handle.id(), i);
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
        let (i, outcome) = match joined {
            Ok((id, r)) => (task_op[&id], r),
            // A panicked task fails its operation (and skips its dependents), not the apply.
            Err(e) => (task_op[&e.id()], Err(format!("internal error: {e}"))),
        };
        match outcome {
            Ok(out) => {
                states[i] = Some(OpState::Done);
                done += 1;
                let op = &plan.operations[i];
                if let (Action::Create, Some(id), Some(key)) =
                    (op.action(), out.created_id, op.account.key())
                {
                    created.insert(key.to_string(), id);
                }
                for &d in &dependents[i] {
                    waiting[d] -= 1;
                    if waiting[d] == 0 {
                        ready.push_back(d);
                    }
                }
            }
            Err(msg) => {
                states[i] = Some(OpState::Failed(msg));
                failed += 1;
                let mut stack = dependents[i].clone();
                while let Some(d) = stack.pop() {
                    if states[d].is_none() {
                        states[d] = Some(OpState::Skipped { because: i });
                        skipped += 1;
                        stack.extend(dependents[d].iter().copied());
                    }
                }
            }
        }
        // Adaptive concurrency.
        let throttles = provider.throttle_events();
        if throttles > throttles_seen {
            throttles_seen = throttles;
            limit = (limit / 2).max(1);
            min_limit = min_limit.min(limit);
            clean_streak = 0;
        } else {
            clean_streak += 1;
            if clean_streak >= limit && limit < max {
                limit += 1;
                clean_streak = 0;
            }
        }
        progress.update(done, failed, skipped, tasks.len());
    }
    progress.finish();
    Report {
        states: states
            .into_iter()
            .map(|s| s.unwrap_or(OpState::NotStarted))
            .collect(),
        elapsed: start.elapsed(),
        interrupted: stopping,
        retries: provider.retries(),
        throttled: provider.throttle_events(),
        min_parallelism: min_limit,
    }
}

#[cfg(test)]
mod tests;
