//! Stage `apply`, the DAG walk (like Terraform's `dag/walk.go`): which operations are ready,
//! and what a completion or a failure releases. A failure skips only its transitive dependents.
//! Pure bookkeeping; the scheduler in `mod.rs` does the I/O.

use std::collections::VecDeque;

use super::{Failure, OpState};
use crate::plan::Operation;

/// The state of a walk over a plan's operations.
pub(super) struct Walk {
    states: Vec<Option<OpState>>,
    waiting: Vec<usize>,
    dependents: Vec<Vec<usize>>,
    ready: VecDeque<usize>,
    /// Operations done, failed and skipped so far.
    pub(super) done: usize,
    pub(super) failed: usize,
    pub(super) skipped: usize,
}

impl Walk {
    /// A walk over `ops`, whose `depends_on` point to earlier or later indexes of `ops`.
    pub(super) fn new(ops: &[Operation]) -> Self {
        let n = ops.len();
        let waiting: Vec<usize> = ops.iter().map(|o| o.depends_on.len()).collect();
        let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (i, op) in ops.iter().enumerate() {
            for &d in &op.depends_on {
                dependents[d].push(i);
            }
        }
        let ready = (0..n).filter(|&i| waiting[i] == 0).collect();
        Walk {
            states: vec![None; n],
            waiting,
            dependents,
            ready,
            done: 0,
            failed: 0,
            skipped: 0,
        }
    }

    /// The next operation whose dependencies are all done, in plan order among the ready ones.
    pub(super) fn next_ready(&mut self) -> Option<usize> {
        while let Some(i) = self.ready.pop_front() {
            if self.states[i].is_none() {
                return Some(i);
            }
        }
        None
    }

    /// Records `i` as done and releases the operations waiting only for it.
    pub(super) fn done(&mut self, i: usize) {
        self.states[i] = Some(OpState::Done);
        self.done += 1;
        for &d in &self.dependents[i] {
            self.waiting[d] -= 1;
            if self.waiting[d] == 0 {
                self.ready.push_back(d);
            }
        }
    }

    /// Records `i` as failed and every operation depending on it (transitively) as skipped.
    pub(super) fn failed(&mut self, i: usize, failure: Failure) {
        self.states[i] = Some(OpState::Failed(failure));
        self.failed += 1;
        self.skip_dependents(i);
    }

    /// Records operations as left to a person (`(operation, manual step)` pairs), before the
    /// walk starts; what depends on them is skipped, waiting for the nearest manual step above
    /// it (a sub-account's users for the sub-account's step, not its network's).
    pub(super) fn manual(&mut self, steps: impl IntoIterator<Item = (usize, usize)>) {
        let steps: Vec<(usize, usize)> = steps.into_iter().collect();
        for &(i, step) in &steps {
            self.states[i] = Some(OpState::Manual { step });
        }
        for &(i, _) in &steps {
            self.skip_dependents(i);
        }
    }

    fn skip_dependents(&mut self, i: usize) {
        let mut stack = self.dependents[i].clone();
        while let Some(d) = stack.pop() {
            if self.states[d].is_none() {
                self.states[d] = Some(OpState::Skipped { because: i });
                self.skipped += 1;
                stack.extend(self.dependents[d].iter().copied());
            }
        }
    }

    /// One state per operation; the ones never reached are "not started".
    pub(super) fn into_states(self) -> Vec<OpState> {
        self.states
            .into_iter()
            .map(|s| s.unwrap_or(OpState::NotStarted))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{AccountRef, Change, Operation, UserRef};

    fn op(depends_on: Vec<usize>) -> Operation {
        let user = UserRef {
            id: "u".into(),
            email: "a@b.example".into(),
        };
        let mut o = Operation::new(AccountRef::Partner, Change::Resend { user });
        o.depends_on = depends_on;
        o
    }

    #[test]
    fn a_failure_skips_only_its_dependents() {
        // 0 → 1 → 2, and 3 independent.
        let ops = vec![op(vec![]), op(vec![0]), op(vec![1]), op(vec![])];
        let mut w = Walk::new(&ops);
        assert_eq!(w.next_ready(), Some(0));
        assert_eq!(w.next_ready(), Some(3));
        assert_eq!(w.next_ready(), None);
        w.done(0);
        assert_eq!(w.next_ready(), Some(1));
        w.failed(1, super::super::Failure::transient("boom"));
        w.done(3);
        assert_eq!(w.next_ready(), None);
        assert_eq!((w.done, w.failed, w.skipped), (2, 1, 1));
        let states = w.into_states();
        assert_eq!(states[2], OpState::Skipped { because: 1 });
        assert_eq!(states[3], OpState::Done);
    }

    /// What depends on a manual step waits for the nearest one above it: a sub-account's
    /// users for the sub-account's step, not for its network's; each is counted once.
    #[test]
    fn dependents_wait_for_the_nearest_manual_step() {
        // 0 network (step 1) → 1 sub-account (step 2) → 2 its user; 0 → 3 the network's user.
        let ops = vec![op(vec![]), op(vec![0]), op(vec![1]), op(vec![0])];
        let mut w = Walk::new(&ops);
        w.manual([(0, 1), (1, 2)]);
        assert_eq!(w.next_ready(), None);
        assert_eq!(w.skipped, 2);
        assert_eq!(
            w.into_states(),
            [
                OpState::Manual { step: 1 },
                OpState::Manual { step: 2 },
                OpState::Skipped { because: 1 },
                OpState::Skipped { because: 0 },
            ]
        );
    }

    #[test]
    fn an_operation_waits_for_all_its_dependencies() {
        let ops = vec![op(vec![]), op(vec![]), op(vec![0, 1])];
        let mut w = Walk::new(&ops);
        assert_eq!(w.next_ready(), Some(0));
        assert_eq!(w.next_ready(), Some(1));
        w.done(1);
        assert_eq!(w.next_ready(), None);
        w.done(0);
        assert_eq!(w.next_ready(), Some(2));
        w.done(2);
        assert!(w.into_states().iter().all(|s| *s == OpState::Done));
    }
}
