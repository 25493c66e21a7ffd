//! Scheduler tests with a fake provider that checks the DAG contract on every call.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use super::*;
use crate::live::Snapshot;
use crate::plan::testutil::{acme, empty_live};
use crate::plan::{Operation, Options, plan};
use crate::provider::Outcome;

#[derive(Debug, thiserror::Error)]
#[error("fake failure of {0}")]
struct FakeError(String);

#[derive(Default)]
struct Log {
    finished: HashSet<(Action, String)>,
    in_flight: usize,
    max_in_flight: usize,
    calls: usize,
    keys: HashSet<String>,
    /// The ids each operation was given, by address.
    ids: std::collections::HashMap<String, Resolved>,
}

#[derive(Clone)]
struct Fake {
    plan: Arc<Plan>,
    fail: Arc<HashSet<String>>,
    log: Arc<Mutex<Log>>,
    /// When set, the first two calls wait for each other: proof that two ran at once.
    rendezvous: Option<Arc<tokio::sync::Barrier>>,
    /// Calls up to this many report a throttled response.
    throttle_first: usize,
    throttles: Arc<std::sync::atomic::AtomicU64>,
}

impl Fake {
    fn new(plan: &Arc<Plan>, fail: &[&str]) -> Self {
        Fake {
            plan: Arc::clone(plan),
            fail: Arc::new(fail.iter().map(|s| s.to_string()).collect()),
            log: Arc::new(Mutex::new(Log::default())),
            rendezvous: None,
            throttle_first: 0,
            throttles: Arc::new(std::sync::atomic::AtomicU64::new(0)),
        }
    }
}

impl Provider for Fake {
    type Error = FakeError;

    fn throttle_events(&self) -> u64 {
        self.throttles.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn endpoint(&self) -> String {
        "fake".into()
    }

    async fn snapshot(&self) -> Result<Snapshot, FakeError> {
        Ok(empty_live())
    }

    async fn execute(
        &self,
        op: &Operation,
        ids: &Resolved,
        key: &str,
    ) -> Result<Outcome, FakeError> {
        let first_two = {
            let mut log = self.log.lock().unwrap();
            // Every dependency has finished before this operation starts.
            let me = self
                .plan
                .operations
                .iter()
                .position(|o| o.action() == op.action() && o.address == op.address)
                .unwrap();
            for &d in &op.depends_on {
                let dep = &self.plan.operations[d];
                assert!(
                    log.finished.contains(&(dep.action(), dep.address.clone())),
                    "{} started before its dependency {}",
                    op.address,
                    dep.address
                );
            }
            assert!(me < self.plan.operations.len());
            if op.action() != Action::Create {
                assert!(ids.account_id.is_some(), "{} has no account id", op.address);
            } else {
                assert!(ids.parent_id.is_some(), "{} has no parent id", op.address);
            }
            assert!(log.keys.insert(key.to_string()), "idempotency key reused");
            log.ids.insert(op.address.clone(), ids.clone());
            log.calls += 1;
            log.in_flight += 1;
            log.max_in_flight = log.max_in_flight.max(log.in_flight);
            if log.calls <= self.throttle_first {
                self.throttles
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            log.calls <= 2
        };
        if let (Some(b), true) = (&self.rendezvous, first_two) {
            b.wait().await;
        }
        // Let other operations start meanwhile.
        for _ in 0..3 {
            tokio::task::yield_now().await;
        }
        let mut log = self.log.lock().unwrap();
        log.in_flight -= 1;
        if self.fail.contains(&op.address) {
            return Err(FakeError(op.address.clone()));
        }
        log.finished.insert((op.action(), op.address.clone()));
        Ok(Outcome {
            created_id: (op.action() == Action::Create)
                .then(|| format!("id-{}", op.account.key().unwrap())),
        })
    }
}

fn acme_plan() -> Arc<Plan> {
    Arc::new(plan(&acme(), &empty_live(), Options::default()).unwrap())
}

async fn never() {
    std::future::pending::<()>().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_every_operation_after_its_dependencies_within_the_limit() {
    let p = acme_plan();
    for parallelism in [1, 3, 8] {
        let mut fake = Fake::new(&p, &[]);
        if parallelism > 1 {
            fake.rendezvous = Some(Arc::new(tokio::sync::Barrier::new(2)));
        }
        let report = run(
            fake.clone(),
            Arc::clone(&p),
            "d",
            parallelism,
            &mut Silent,
            never(),
        )
        .await;
        assert!(report.success(), "{:?}", report.states);
        let log = fake.log.lock().unwrap();
        assert_eq!(log.calls, 24);
        assert!(log.max_in_flight <= parallelism);
        if parallelism > 1 {
            assert!(log.max_in_flight > 1, "operations ran concurrently");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operations_get_the_ids_of_the_partner_and_of_the_accounts_created_before_them() {
    let p = acme_plan();
    let fake = Fake::new(&p, &[]);
    let report = run(fake.clone(), Arc::clone(&p), "d", 4, &mut Silent, never()).await;
    assert!(report.success());
    let log = fake.log.lock().unwrap();
    let partner = Some(p.partner.id.clone());
    let mut checked = 0;
    for (i, op) in p.operations.iter().enumerate() {
        let got = &log.ids[&op.address];
        let own = |r: &AccountRef| match r {
            AccountRef::Partner => partner.clone(),
            AccountRef::Account { key, .. } => Some(format!("id-{}", key.as_deref().unwrap())),
        };
        let want_account = if op.action() == Action::Create {
            None
        } else {
            own(&op.account)
        };
        assert_eq!(got.account_id, want_account, "{}", op.address);
        assert_eq!(got.parent_id, op.parent().and_then(own), "{}", op.address);
        let created = (op.action() == Action::Create).then(|| own(&op.account).unwrap());
        assert_eq!(report.created[i], created, "{}", op.address);
        checked += 1;
    }
    assert_eq!(checked, 24);
    assert!(
        p.operations
            .iter()
            .any(|o| matches!(o.parent(), Some(AccountRef::Account { .. }))),
        "a creation under an account created in the same apply"
    );
}

#[test]
fn a_failure_shows_the_providers_message() {
    assert_eq!(Failure::transient("HTTP 503").to_string(), "HTTP 503");
    assert_eq!(Failure::transient("x").remedy, Remedy::Rerun);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_skips_only_its_dependents() {
    let p = acme_plan();
    let fake = Fake::new(&p, &["network.contoso-network"]);
    let report = run(fake.clone(), Arc::clone(&p), "d", 4, &mut Silent, never()).await;
    let failed: Vec<&str> = p
        .operations
        .iter()
        .zip(&report.states)
        .filter(|(_, s)| matches!(s, OpState::Failed(_)))
        .map(|(o, _)| o.address.as_str())
        .collect();
    assert_eq!(failed, ["network.contoso-network"]);
    let net = p
        .operations
        .iter()
        .position(|o| o.address == "network.contoso-network")
        .unwrap();
    let skipped: Vec<&str> = p
        .operations
        .iter()
        .zip(&report.states)
        .filter(|(_, s)| **s == OpState::Skipped { because: net })
        .map(|(o, _)| o.address.as_str())
        .collect();
    // The network's own members and both sub-accounts with theirs.
    assert_eq!(skipped.len(), 8, "{skipped:?}");
    assert!(skipped.iter().all(|a| a.contains("network.contoso-network")
        || a.starts_with("sub_account.contoso-")));
    assert_eq!(report.count(|s| *s == OpState::Done), 24 - 1 - 8);
    assert!(!report.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_lets_in_flight_operations_finish_and_starts_no_more() {
    let p = acme_plan();
    let fake = Fake::new(&p, &[]);
    let report = run(fake.clone(), Arc::clone(&p), "d", 2, &mut Silent, async {}).await;
    assert!(report.interrupted);
    let started = fake.log.lock().unwrap().calls;
    assert_eq!(started, 2, "only the first wave started");
    assert_eq!(report.count(|s| *s == OpState::Done), 2);
    assert_eq!(report.count(|s| *s == OpState::NotStarted), 22);
}

#[test]
fn idempotency_keys_are_deterministic_and_distinct() {
    let a = idempotency_key("sha256:x", 0, Action::Create, "customer.a");
    assert_eq!(
        a,
        idempotency_key("sha256:x", 0, Action::Create, "customer.a")
    );
    assert_ne!(
        a,
        idempotency_key("sha256:y", 0, Action::Create, "customer.a")
    );
    assert_ne!(
        a,
        idempotency_key("sha256:x", 1, Action::Create, "customer.a")
    );
    assert!(a.starts_with("pctl-") && a.len() == 45);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_lowers_the_concurrency_limit() {
    let p = acme_plan();
    let mut fake = Fake::new(&p, &[]);
    fake.throttle_first = 3;
    let report = run(fake.clone(), Arc::clone(&p), "d", 8, &mut Silent, never()).await;
    assert!(report.success());
    assert_eq!(report.throttled, 3);
    assert!(report.min_parallelism < 8, "{}", report.min_parallelism);
    assert!(report.min_parallelism >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manual_steps_are_not_executed_and_hold_back_their_dependents() {
    let caps = crate::plan::Capabilities {
        create: vec![crate::vocab::AccountKind::Customer],
        ..crate::plan::Capabilities::full()
    };
    let p = crate::plan::with_capabilities(
        plan(&acme(), &empty_live(), Options::default()).unwrap(),
        &caps,
        &empty_live(),
        |op, _| (op.address.clone(), Vec::new()),
    );
    assert_eq!(p.manual.len(), 3, "the network and its two sub-accounts");
    let p = Arc::new(p);
    let fake = Fake::new(&p, &[]);
    let report = run(fake.clone(), Arc::clone(&p), "d", 4, &mut Silent, never()).await;
    let manual: Vec<&str> = p
        .operations
        .iter()
        .zip(&report.states)
        .filter(|(_, s)| matches!(s, OpState::Manual { .. }))
        .map(|(o, _)| o.address.as_str())
        .collect();
    assert_eq!(
        manual,
        [
            "network.contoso-network",
            "sub_account.contoso-paris",
            "sub_account.contoso-lyon"
        ]
    );
    // The network's and sub-accounts' members wait; everything else is done.
    assert_eq!(report.count(|s| matches!(s, OpState::Skipped { .. })), 6);
    assert_eq!(report.count(|s| *s == OpState::Done), 24 - 3 - 6);
    let log = fake.log.lock().unwrap();
    assert!(
        log.finished
            .iter()
            .all(|(_, a)| !a.starts_with("network.") && !a.starts_with("sub_account."))
    );
    assert!(!report.success());
}

/// The scheduler under every completion order: random DAGs of operations with random latencies
/// (under paused time, so each case is deterministic and instant), failures, panics, manual
/// steps, `--max-writes` and a stop request at a random moment.
mod walk_property {
    use std::collections::{BTreeSet, HashMap};
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use proptest::prelude::*;

    use super::super::*;
    use super::FakeError;
    use crate::live::Snapshot;
    use crate::plan::{Change, ManualStep, UserRef};

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Fate {
        Ok,
        Fail,
        Panic,
        /// Fails so that no further operation may start (a spent write budget).
        Halt,
    }

    #[derive(Debug, Clone)]
    struct Case {
        /// Per operation: its dependencies (earlier indexes), latency in ms and fate.
        ops: Vec<(BTreeSet<usize>, u64, Fate)>,
        manual: BTreeSet<usize>,
        parallelism: usize,
        max_writes: Option<usize>,
        stop_at: Option<u64>,
    }

    fn case() -> impl Strategy<Value = Case> {
        (1usize..24)
            .prop_flat_map(|n| {
                let ops = (0..n)
                    .map(|i| {
                        (
                            proptest::collection::btree_set(0..i.max(1), 0..3.min(i + 1))
                                .prop_map(move |d| d.into_iter().filter(|&x| x < i).collect()),
                            0u64..40,
                            prop_oneof![16 => Just(Fate::Ok), 4 => Just(Fate::Fail), 2 => Just(Fate::Panic), 1 => Just(Fate::Halt)],
                        )
                    })
                    .collect::<Vec<_>>();
                (
                    ops,
                    proptest::collection::btree_set(0..n, 0..3),
                    1usize..6,
                    proptest::option::weighted(0.3, 0..n + 1),
                    proptest::option::weighted(0.3, 0u64..120),
                )
            })
            .prop_map(|(ops, manual, parallelism, max_writes, stop_at)| Case {
                ops,
                manual,
                parallelism,
                max_writes,
                stop_at,
            })
    }

    #[derive(Default)]
    struct Log {
        started: Vec<usize>,
        succeeded: BTreeSet<usize>,
        in_flight: usize,
        max_in_flight: usize,
        order_violations: Vec<String>,
        /// Operations that failed so as to halt, in the order they ended, and when.
        halted_by: Vec<(usize, tokio::time::Instant)>,
    }

    #[derive(Clone)]
    struct Scripted {
        case: Arc<Case>,
        log: Arc<Mutex<Log>>,
    }

    impl Provider for Scripted {
        type Error = FakeError;

        fn halts(error: &FakeError) -> bool {
            error.0.starts_with("halt")
        }

        fn endpoint(&self) -> String {
            "scripted".into()
        }

        async fn snapshot(&self) -> Result<Snapshot, FakeError> {
            unreachable!("the scheduler never reads")
        }

        async fn execute(
            &self,
            op: &Operation,
            _ids: &Resolved,
            _key: &str,
        ) -> Result<Outcome, FakeError> {
            let i: usize = op.address.trim_start_matches("op").parse().unwrap();
            let (deps, latency, fate) = self.case.ops[i].clone();
            {
                let mut log = self.log.lock().unwrap();
                for d in &deps {
                    if !log.succeeded.contains(d) {
                        log.order_violations
                            .push(format!("op{i} started before op{d} succeeded"));
                    }
                }
                // An operation's first poll may come after a halt it was started before (in the
                // same instant); one that starts at a later instant was started after the halt.
                if let Some(&(h, at)) = log.halted_by.first() {
                    if tokio::time::Instant::now() > at {
                        log.order_violations
                            .push(format!("op{i} started after op{h} halted the apply"));
                    }
                }
                log.started.push(i);
                log.in_flight += 1;
                log.max_in_flight = log.max_in_flight.max(log.in_flight);
            }
            tokio::time::sleep(Duration::from_millis(latency)).await;
            let mut log = self.log.lock().unwrap();
            log.in_flight -= 1;
            match fate {
                Fate::Ok => {
                    log.succeeded.insert(i);
                    Ok(Outcome::default())
                }
                Fate::Fail => Err(FakeError(op.address.clone())),
                Fate::Halt => {
                    log.halted_by.push((i, tokio::time::Instant::now()));
                    Err(FakeError(format!("halt by {}", op.address)))
                }
                Fate::Panic => {
                    drop(log);
                    panic!("scripted panic of op{i}")
                }
            }
        }
    }

    fn plan_of(case: &Case) -> Plan {
        let mut plan = super::acme_plan().as_ref().clone();
        plan.operations = case
            .ops
            .iter()
            .enumerate()
            .map(|(i, (deps, _, _))| {
                let user = UserRef {
                    id: format!("u{i}"),
                    email: format!("op{i}@example.com"),
                };
                let mut o = Operation::new(AccountRef::Partner, Change::Resend { user });
                o.address = format!("op{i}");
                o.depends_on = deps.iter().copied().collect();
                o
            })
            .collect();
        plan.manual = case
            .manual
            .iter()
            .map(|&operation| ManualStep {
                operation,
                title: format!("step for op{operation}"),
                lines: Vec::new(),
            })
            .collect();
        plan
    }

    /// Is `of` a transitive dependency of `i`?
    fn depends(case: &Case, i: usize, of: usize) -> bool {
        let mut stack: Vec<usize> = case.ops[i].0.iter().copied().collect();
        while let Some(d) = stack.pop() {
            if d == of {
                return true;
            }
            stack.extend(case.ops[d].0.iter().copied());
        }
        false
    }

    fn run_case(case: Case) -> (Report, Log) {
        let case = Arc::new(case);
        let plan = Arc::new(plan_of(&case));
        let provider = Scripted {
            case: Arc::clone(&case),
            log: Arc::default(),
        };
        let log = Arc::clone(&provider.log);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap();
        let pace = Pace {
            parallelism: case.parallelism,
            max_writes: case.max_writes,
        };
        let stop_at = case.stop_at;
        let report = rt.block_on(async move {
            let stop = async move {
                match stop_at {
                    Some(ms) => tokio::time::sleep(Duration::from_millis(ms)).await,
                    None => std::future::pending().await,
                }
            };
            run(provider, plan, "digest", pace, &mut Silent, stop).await
        });
        let log = std::mem::take(&mut *log.lock().unwrap());
        (report, log)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

        #[test]
        fn every_operation_ends_exactly_once_in_dependency_order(case in case()) {
            let (report, log) = run_case(case.clone());
            let n = case.ops.len();
            prop_assert_eq!(report.states.len(), n);
            prop_assert!(log.order_violations.is_empty(), "{:?}", log.order_violations);
            prop_assert!(log.max_in_flight <= case.parallelism,
                "{} in flight, limit {}", log.max_in_flight, case.parallelism);
            let mut starts: HashMap<usize, usize> = HashMap::new();
            for &i in &log.started {
                *starts.entry(i).or_default() += 1;
            }
            prop_assert!(starts.values().all(|&c| c == 1), "started twice: {:?}", log.started);
            if let Some(max) = case.max_writes {
                prop_assert!(log.started.len() <= max, "{} started, --max-writes {max}", log.started.len());
            }
            let cut_short = report.interrupted || report.halted.is_some();
            // The first failure that halts is the reason given, unless --max-writes came first.
            if let Some((h, _)) = log.halted_by.first() {
                let by_max_writes = report.halted.as_deref().is_some_and(|r| r.starts_with("--max-writes"));
                let reason = format!("fake failure of halt by op{h}");
                prop_assert!(by_max_writes || report.halted.as_deref() == Some(reason.as_str()), "{:?}", report.halted);
            }
            prop_assert!(!report.interrupted || case.stop_at.is_some());
            for (i, state) in report.states.iter().enumerate() {
                let ran = starts.contains_key(&i);
                let fate = case.ops[i].2;
                match state {
                    OpState::Done => prop_assert!(ran && fate == Fate::Ok, "op{i} done"),
                    OpState::Failed(_) => prop_assert!(ran && fate != Fate::Ok, "op{i} failed"),
                    OpState::Manual { step } => {
                        prop_assert!(!ran && case.manual.contains(&i));
                        let nth = case.manual.iter().position(|&m| m == i).unwrap() + 1;
                        prop_assert_eq!(*step, nth);
                    }
                    OpState::Skipped { because } => {
                        prop_assert!(!ran, "op{i} ran but is reported skipped");
                        prop_assert!(depends(&case, i, *because), "op{i} skipped because of op{because}, not a dependency");
                        let cause = &report.states[*because];
                        prop_assert!(matches!(cause, OpState::Failed(_) | OpState::Manual { .. }), "op{} skipped because of op{} in state {:?}", i, because, cause);
                    }
                    OpState::NotStarted => {
                        prop_assert!(!ran && cut_short, "op{i} not started in a run that was not cut short");
                    }
                }
            }
            prop_assert_eq!(report.success(), report.states.iter().all(|s| *s == OpState::Done));
            if !cut_short {
                // Everything whose dependencies all succeeded ran.
                for i in 0..n {
                    let ready = !case.manual.contains(&i)
                        && case.ops[i].0.iter().all(|d| report.states[*d] == OpState::Done);
                    prop_assert_eq!(ready, starts.contains_key(&i), "op{}", i);
                }
            }
        }
    }
}
