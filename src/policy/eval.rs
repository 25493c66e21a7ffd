//! Stage `policy`, evaluation: policy files parsed into one regorus engine (every syntax
//! error located `file.rego:line:col: message`), the `deny` and `warn` rules of package
//! `partnerctl` and the packages under it found, and evaluated over an input within a time
//! budget. Evaluation runs on threads of its own, as many as there are cores, each taking the
//! next rule not yet taken: regorus's execution timer stops a long evaluation where the
//! interpreter checks it, and a thread that still runs past the budget (one builtin call
//! building a huge value is not interrupted) is abandoned, its result never read.

use std::collections::BTreeMap;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use regorus::utils::limits::ExecutionTimerConfig;
use regorus::{Engine, LimitError, Value};
use serde::{Deserialize, Serialize};

use super::files::{Digest, PolicyFile};
use super::input::Input;
use super::reach::Reach;
use super::{PolicyError, PolicyErrors};

/// The package every policy is in, or under.
const ROOT_PACKAGE: &str = "partnerctl";

/// The rules partnerctl evaluates.
const RULES: [&str; 2] = ["deny", "warn"];

/// Interpreter steps between two looks at the clock.
const CHECK_INTERVAL: u32 = 256;

/// How long past its budget an evaluation thread is waited for before it is abandoned.
const GRACE: Duration = Duration::from_millis(250);

/// What one policy said: its message, and the operation or account it names.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Finding {
    /// The policy file that says it (several, comma-separated, when more than one file
    /// declares the rule of that package).
    pub policy: String,
    /// The message.
    pub message: String,
    /// The operation or account it is about (an address such as `customer.contoso`), when
    /// the policy names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
}

/// What the policies said about one input.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// The policies evaluated.
    pub policies: Vec<Digest>,
    /// The denials: the plan is refused when there is any.
    pub denials: Vec<Finding>,
    /// The warnings.
    pub warnings: Vec<Finding>,
    /// What the policies printed (`print(...)`), each line prefixed `file.rego:line:`.
    pub prints: Vec<String>,
}

impl Outcome {
    /// Does any policy deny?
    pub fn denied(&self) -> bool {
        !self.denials.is_empty()
    }
}

/// One rule to evaluate: `data.<package>.<rule>`, and the files that declare it.
#[derive(Debug, Clone)]
struct Rule {
    /// The path to evaluate.
    path: String,
    /// `deny` or `warn`.
    name: &'static str,
    /// The files declaring it, comma-separated.
    files: String,
}

/// A set of policies, parsed and ready to evaluate.
#[derive(Debug, Clone)]
pub struct Policies {
    files: Vec<PolicyFile>,
    pub(super) engine: Engine,
    rules: Vec<Rule>,
    reach: Reach,
}

/// A fresh engine: Rego v1 (OPA 1.0's syntax), `print` output gathered.
pub(super) fn engine() -> Engine {
    let mut engine = Engine::new();
    engine.set_gather_prints(true);
    engine
}

/// regorus's message (`\n--> file:line:col\n  |\n...\nerror: text`) as one line:
/// `file:line:col: text`; any other message as it is, on one line.
pub(super) fn located(message: &str, fallback: impl FnOnce(String) -> PolicyError) -> PolicyError {
    let at = message
        .lines()
        .find_map(|l| l.trim_start().strip_prefix("--> "))
        .and_then(|at| {
            let mut parts = at.rsplitn(3, ':');
            let col = parts.next()?.trim().parse().ok()?;
            let line = parts.next()?.trim().parse().ok()?;
            Some((parts.next()?.to_string(), line, col))
        });
    let text = message
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("error: "))
        .map(str::to_string);
    match (at, text) {
        (Some((path, line, col)), Some(text)) => PolicyError::Located {
            path,
            line,
            col,
            message: text,
        },
        _ => fallback(message.split_whitespace().collect::<Vec<_>>().join(" ")),
    }
}

/// `data.a.b` for the components `a`, `b`; a component that is not a name is quoted
/// (`data.a["b-c"]`).
pub(super) fn rule_path(components: &[String], rule: &str) -> String {
    let mut path = String::from("data");
    for c in components.iter().map(String::as_str).chain([rule]) {
        let name = c
            .chars()
            .next()
            .is_some_and(|f| f.is_ascii_alphabetic() || f == '_')
            && c.chars().all(|x| x.is_ascii_alphanumeric() || x == '_');
        if name {
            path.push('.');
            path.push_str(c);
        } else {
            path.push_str(&format!("[{}]", serde_json::Value::from(c)));
        }
    }
    path
}

impl Policies {
    /// The policies `paths` name (as [`find`](super::find) finds them), read and parsed:
    /// every file that cannot be read and every file that does not parse is reported.
    pub fn load(paths: &[std::path::PathBuf]) -> Result<Policies, PolicyErrors> {
        let (files, mut errors) = super::files::read_all(paths, super::Selection::Policies);
        match Policies::new(files) {
            Ok(p) if errors.is_empty() => Ok(p),
            Ok(_) => Err(PolicyErrors(errors)),
            Err(more) => {
                errors.extend(more.0);
                Err(PolicyErrors(errors))
            }
        }
    }

    /// Parses `files` into one engine and finds the rules to evaluate. Every file that does
    /// not parse is reported, and every file declaring `deny` or `warn` outside package
    /// `partnerctl`.
    pub fn new(files: Vec<PolicyFile>) -> Result<Policies, PolicyErrors> {
        let mut engine = engine();
        let mut errors = Vec::new();
        for f in &files {
            if let Err(e) = engine.add_policy(f.path.clone(), f.text.clone()) {
                errors.push(located(&e.to_string(), |message| PolicyError::Read {
                    path: f.path.clone(),
                    reason: message,
                }));
            }
        }
        if !errors.is_empty() {
            return Err(PolicyErrors(errors));
        }
        let packages = engine
            .get_policy_package_components()
            .map_err(|e| PolicyErrors(vec![located(&e.to_string(), |m| evaluation("", "", m))]))?;
        // Per package, per rule, the files declaring it.
        let mut declared: BTreeMap<(Vec<String>, &'static str), Vec<String>> = BTreeMap::new();
        for p in &packages {
            for rule in RULES {
                // A rule name is always a valid selector: an error here means no module.
                if !engine
                    .has_declared_rule_rooted_at(&p.source_file, rule)
                    .unwrap_or(false)
                {
                    continue;
                }
                if p.components.first().map(String::as_str) != Some(ROOT_PACKAGE) {
                    errors.push(PolicyError::OutsidePackage {
                        path: p.source_file.clone(),
                        package: p.components.join("."),
                        rule,
                    });
                    continue;
                }
                declared
                    .entry((p.components.clone(), rule))
                    .or_default()
                    .push(p.source_file.clone());
            }
        }
        if !errors.is_empty() {
            return Err(PolicyErrors(errors));
        }
        let rules = declared
            .into_iter()
            .map(|((components, name), files)| Rule {
                path: rule_path(&components, name),
                name,
                files: files.join(", "),
            })
            .collect();
        let reach = engine
            .get_ast_as_json()
            .map_or_else(|_| Reach::everything(), |ast| Reach::of_policies(&ast));
        Ok(Policies {
            files,
            engine,
            rules,
            reach,
        })
    }

    /// What the policies can reach of their input: what an input made for them needs to
    /// hold (the rest is never converted).
    pub fn reach(&self) -> &Reach {
        &self.reach
    }

    /// The files, with their digests.
    pub fn digests(&self) -> Vec<Digest> {
        self.files.iter().map(PolicyFile::digest).collect()
    }

    /// Is there any policy?
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Evaluates every `deny` and `warn` over `input`, all of them within `budget`. Every
    /// rule that fails, or is stopped for the budget, is reported (a thread stopped for the
    /// budget evaluates none of its other rules).
    ///
    /// The input is borrowed, and shared with the evaluating threads: the caller decides
    /// when it is freed (a large one, object by object, takes a while; a process about to end
    /// may rather leave it to the exit).
    pub fn evaluate(&self, input: &Input, budget: Duration) -> Result<Outcome, PolicyErrors> {
        let mut outcome = Outcome {
            policies: self.digests(),
            ..Outcome::default()
        };
        if self.rules.is_empty() {
            return Ok(outcome);
        }
        let threads = std::thread::available_parallelism()
            .map_or(1, std::num::NonZeroUsize::get)
            .clamp(1, self.rules.len());
        let paths = self.rules.iter().map(|r| r.path.clone()).collect();
        let results = shared(&self.engine, input.value(), paths, threads, budget);
        let mut errors = Vec::new();
        for (rule, result) in self.rules.iter().zip(results) {
            let Some((result, prints)) = result else {
                continue;
            };
            outcome.prints.extend(prints);
            let found = match result {
                Evaluated::Value(v) => v,
                Evaluated::Failed(message) => {
                    errors.push(located(&message, |m| {
                        evaluation(&rule.files, &rule.path, m)
                    }));
                    continue;
                }
                Evaluated::TimedOut => {
                    errors.push(PolicyError::Timeout {
                        policy: rule.files.clone(),
                        rule: rule.path.clone(),
                        budget,
                    });
                    continue;
                }
            };
            let into = if rule.name == "deny" {
                &mut outcome.denials
            } else {
                &mut outcome.warnings
            };
            if let Err(e) = findings(rule, found, into) {
                errors.push(e);
            }
        }
        if errors.is_empty() {
            Ok(outcome)
        } else {
            Err(PolicyErrors(errors))
        }
    }
}

pub(super) fn evaluation(policy: &str, rule: &str, message: String) -> PolicyError {
    PolicyError::Evaluation {
        policy: policy.to_string(),
        rule: rule.to_string(),
        message,
    }
}

/// The messages of a rule's value: a set or array of strings, or of objects with a string
/// `msg` and an optional string `address`; undefined is none.
fn findings(rule: &Rule, value: Value, into: &mut Vec<Finding>) -> Result<(), PolicyError> {
    let items: Vec<Value> = match value {
        Value::Undefined => return Ok(()),
        Value::Set(s) => s.iter().cloned().collect(),
        Value::Array(a) => a.iter().cloned().collect(),
        other => {
            return Err(PolicyError::NotASet {
                policy: rule.files.clone(),
                rule: rule.path.clone(),
                short: rule.name,
                found: describe(&other),
            });
        }
    };
    let bad = |v: &Value| PolicyError::BadMessage {
        policy: rule.files.clone(),
        rule: rule.path.clone(),
        found: v.to_json_str().unwrap_or_default(),
    };
    let mut found = Vec::with_capacity(items.len());
    for item in &items {
        let finding = match item {
            Value::String(s) => Finding {
                policy: rule.files.clone(),
                message: s.to_string(),
                address: None,
            },
            Value::Object(o) => {
                let text = |key: &str| o.get(&Value::from(key)).cloned();
                let message = match text("msg") {
                    Some(Value::String(s)) => s.to_string(),
                    _ => return Err(bad(item)),
                };
                let address = match text("address") {
                    None | Some(Value::Null) => None,
                    Some(Value::String(s)) => Some(s.to_string()),
                    Some(_) => return Err(bad(item)),
                };
                Finding {
                    policy: rule.files.clone(),
                    message,
                    address,
                }
            }
            _ => return Err(bad(item)),
        };
        found.push(finding);
    }
    found.sort();
    found.dedup();
    into.extend(found);
    Ok(())
}

/// What a value is, for a message: `true`, `a string`, `an object`, ...
fn describe(v: &Value) -> String {
    match v {
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".to_string(),
        Value::Number(_) => "a number".to_string(),
        Value::String(_) => "a string".to_string(),
        Value::Object(_) => "an object".to_string(),
        _ => "not a set".to_string(),
    }
}

/// What became of one evaluation.
#[derive(Debug, Clone)]
pub(super) enum Evaluated {
    /// Its value (`Undefined` when the rule is).
    Value(Value),
    /// regorus's error message.
    Failed(String),
    /// Stopped for the budget, by the execution timer or by abandoning the thread.
    TimedOut,
}

/// The evaluations of [`bounded`]: one per path, until one timed out (the rest never ran),
/// each with what the policies printed during it.
pub(super) type Results = Vec<(Evaluated, Vec<String>)>;

/// Evaluates `path` with `engine` (its input set), stopped by regorus's execution timer at
/// `deadline`.
fn evaluate_one(engine: &mut Engine, path: &str, deadline: Instant) -> Evaluated {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Evaluated::TimedOut;
    }
    engine.set_execution_timer_config(ExecutionTimerConfig {
        limit: left,
        check_interval: NonZeroU32::new(CHECK_INTERVAL).expect("not zero"),
    });
    match engine.eval_rule(path.to_string()) {
        Ok(v) => Evaluated::Value(v),
        Err(e) if e.downcast_ref::<LimitError>().is_some() => Evaluated::TimedOut,
        Err(e) => Evaluated::Failed(e.to_string()),
    }
}

/// An evaluation thread: the interpreter recurses with the depth of the policy's expressions.
fn thread() -> std::thread::Builder {
    std::thread::Builder::new()
        .name("policy".into())
        .stack_size(16 * 1024 * 1024)
}

/// Evaluates `paths` with clones of `engine` over `input` on `threads` threads of their own,
/// all within `budget`. Each thread takes the next rule not yet taken when it is done with one:
/// what a rule costs is not known beforehand, and one rule may take most of the time. A thread
/// stopped for the budget takes no other rule (the rules nobody took have no result); past
/// the budget and a short grace for the timer to stop them, the threads still running are
/// abandoned, never waited for, and the rules they were evaluating reported stopped.
pub(super) fn shared(
    engine: &Engine,
    input: Value,
    paths: Vec<String>,
    threads: usize,
    budget: Duration,
) -> Vec<Option<(Evaluated, Vec<String>)>> {
    let deadline = Instant::now() + budget;
    let count = paths.len();
    let paths: Arc<[String]> = paths.into();
    let taken = Arc::new(AtomicUsize::new(0));
    let (send, receive) = mpsc::channel::<(usize, Evaluated, Vec<String>)>();
    let mut started = 0;
    for _ in 0..threads {
        let mut engine = engine.clone();
        let (input, paths, taken, send) = (
            input.clone(),
            Arc::clone(&paths),
            Arc::clone(&taken),
            send.clone(),
        );
        let spawned = thread().spawn(move || {
            engine.set_input(input);
            loop {
                let i = taken.fetch_add(1, Ordering::SeqCst);
                let Some(path) = paths.get(i) else {
                    return;
                };
                let evaluated = evaluate_one(&mut engine, path, deadline);
                let prints = engine.take_prints().unwrap_or_default();
                let stop = matches!(evaluated, Evaluated::TimedOut);
                if send.send((i, evaluated, prints)).is_err() || stop {
                    return;
                }
            }
        });
        started += usize::from(spawned.is_ok());
    }
    drop(send);
    let mut results = vec![None; count];
    if started == 0 {
        results[0] = Some((
            Evaluated::Failed("cannot start the evaluation thread".into()),
            Vec::new(),
        ));
        return results;
    }
    loop {
        let wait = deadline.saturating_duration_since(Instant::now()) + GRACE;
        match receive.recv_timeout(wait) {
            Ok((i, evaluated, prints)) => results[i] = Some((evaluated, prints)),
            // Every thread is done.
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                // Still running past the budget: abandoned, the rules taken and not done
                // reported stopped.
                let taken = taken.load(Ordering::SeqCst).min(count);
                for result in &mut results[..taken] {
                    if result.is_none() {
                        *result = Some((Evaluated::TimedOut, Vec::new()));
                    }
                }
                break;
            }
        }
    }
    results
}

/// Evaluates `paths` in turn with `engine` over `input`, on a thread of its own, each within
/// `each`. Past it (and a short grace for the timer to stop it), the thread is abandoned.
pub(super) fn bounded(
    mut engine: Engine,
    input: Option<Value>,
    paths: Vec<String>,
    each: Duration,
) -> Results {
    let (send, receive) = mpsc::channel::<(Evaluated, Vec<String>)>();
    let count = paths.len();
    let worker = thread().spawn(move || {
        if let Some(input) = input {
            engine.set_input(input);
        }
        for path in paths {
            let evaluated = evaluate_one(&mut engine, &path, Instant::now() + each);
            let prints = engine.take_prints().unwrap_or_default();
            let stop = matches!(evaluated, Evaluated::TimedOut);
            if send.send((evaluated, prints)).is_err() || stop {
                return;
            }
        }
    });
    let mut results = Results::new();
    if worker.is_err() {
        results.push((
            Evaluated::Failed("cannot start the evaluation thread".into()),
            Vec::new(),
        ));
        return results;
    }
    for _ in 0..count {
        match receive.recv_timeout(each + GRACE) {
            Ok((evaluated, prints)) => {
                let stop = matches!(evaluated, Evaluated::TimedOut);
                results.push((evaluated, prints));
                if stop {
                    break;
                }
            }
            Err(_) => {
                // Still running past its budget (or gone): abandoned, never waited for.
                results.push((Evaluated::TimedOut, Vec::new()));
                break;
            }
        }
    }
    results
}
