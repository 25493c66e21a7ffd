//! Stage `policy`, tests: the `test_` rules of policy files, run as `opa test` runs them. A
//! test passes when its rule is defined and not `false`; it fails when undefined or `false`
//! (an expectation did not hold), and errs when its evaluation fails or outlives its time
//! budget. Tests usually live beside their policy, in `*_test.rego` files of a package of
//! their own (`package partnerctl.admins_test`), and give the input with `with input as`.

use std::collections::BTreeSet;
use std::time::Duration;

use super::PolicyErrors;
use super::eval::{Evaluated, bounded, engine, located};
use super::files::PolicyFile;

/// What became of one test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TestOutcome {
    /// Defined and not `false`.
    Passed,
    /// Undefined, or `false`.
    Failed,
    /// Its evaluation failed (the message), or was stopped for the time budget.
    Error(String),
}

/// One test and what became of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestResult {
    /// The file declaring it.
    pub file: String,
    /// The line of its first declaration, from 1.
    pub line: usize,
    /// Its rule (`data.partnerctl.admins_test.test_partner_admin_elsewhere`).
    pub rule: String,
    /// Its name (`test_partner_admin_elsewhere`).
    pub name: String,
    /// What became of it.
    pub outcome: TestOutcome,
    /// What it printed (`print(...)`), each line prefixed `file.rego:line:`.
    pub prints: Vec<String>,
}

/// The test rules a file declares: names starting `test_` at the start of a line, each
/// confirmed a rule of the file by regorus, with the line of its first declaration.
fn declared_tests(engine: &regorus::Engine, file: &PolicyFile) -> Vec<(String, usize)> {
    let mut seen = BTreeSet::new();
    let mut tests = Vec::new();
    for (i, line) in file.text.lines().enumerate() {
        let line = line.trim_start();
        if !line.starts_with("test_") {
            continue;
        }
        let name: String = line
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if seen.contains(&name) {
            continue;
        }
        if engine
            .has_declared_rule_rooted_at(&file.path, &name)
            .unwrap_or(false)
        {
            seen.insert(name.clone());
            tests.push((name, i + 1));
        }
    }
    tests
}

/// Runs every test of `files`, each within `budget`, in file order and, in a file, in the
/// order they are declared. An error when a file does not parse (every such file reported).
pub fn run_tests(files: &[PolicyFile], budget: Duration) -> Result<Vec<TestResult>, PolicyErrors> {
    let mut engine = engine();
    let mut errors = Vec::new();
    for f in files {
        if let Err(e) = engine.add_policy(f.path.clone(), f.text.clone()) {
            errors.push(located(&e.to_string(), |reason| super::PolicyError::Read {
                path: f.path.clone(),
                reason,
            }));
        }
    }
    if !errors.is_empty() {
        return Err(PolicyErrors(errors));
    }
    let packages = engine.get_policy_package_components().unwrap_or_default();
    let mut tests = Vec::new();
    for f in files {
        let Some(package) = packages.iter().find(|p| p.source_file == f.path) else {
            continue;
        };
        for (name, line) in declared_tests(&engine, f) {
            let rule = super::eval::rule_path(&package.components, &name);
            tests.push(TestResult {
                file: f.path.clone(),
                line,
                rule,
                name,
                outcome: TestOutcome::Failed,
                prints: Vec::new(),
            });
        }
    }
    let paths = tests.iter().map(|t| t.rule.clone()).collect();
    let mut results = bounded(engine, None, paths, budget).into_iter();
    for test in &mut tests {
        let (evaluated, prints) = match results.next() {
            Some((e, p)) => (Some(e), p),
            None => (None, Vec::new()),
        };
        test.prints = prints;
        test.outcome = match evaluated {
            Some(Evaluated::Value(regorus::Value::Undefined | regorus::Value::Bool(false))) => {
                TestOutcome::Failed
            }
            Some(Evaluated::Value(_)) => TestOutcome::Passed,
            Some(Evaluated::Failed(message)) => TestOutcome::Error(
                match located(&message, |m| super::eval::evaluation("", "", m)) {
                    super::PolicyError::Evaluation { message, .. } => message,
                    other => other.to_string(),
                },
            ),
            Some(Evaluated::TimedOut) => TestOutcome::Error(format!(
                "stopped after {}: the test took longer than its time budget (--timeout)",
                super::seconds(budget)
            )),
            None => TestOutcome::Error("not run: an earlier test was stopped".to_string()),
        };
    }
    Ok(tests)
}
