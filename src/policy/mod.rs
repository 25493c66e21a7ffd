//! Stage `policy`: policies as code. Rego files, evaluated by `regorus`, judge one input
//! document (the configuration as loaded, the plan as `plan --format json` writes it, and the
//! target) by the conventions conftest users know: the rules `deny` and `warn` of package
//! `partnerctl`, or of any package under it, are sets of messages (strings, or objects with a
//! `msg` and an optional `address`). A denial refuses the plan like a guard; a warning is shown
//! and kept in the JSON plan.
//!
//! Rooms:
//! - `files`: finding and reading policy files (a file, or the `*.rego` below a directory),
//!   and their digests, which saved plans record;
//! - `input`: the input document policies see;
//! - `reach`: what of the input the policies can reach, read off their syntax trees (what
//!   none can reach is never converted);
//! - `value`: documents as the engine's values, built without JSON text in between;
//! - `eval`: parsing (syntax errors located `file.rego:line:col: message`), and evaluating
//!   `deny` and `warn` within a time budget;
//! - `testing`: the `test_` rules of policy tests, run as `opa test` runs them.
//!
//! May touch: the policy files and directories it is given (read only), and threads of its
//! own: for an evaluation as many as there are cores, abandoned when they outlive its time
//! budget, and for converting a large plan's operations. The policies themselves reach
//! neither the network nor the file system: regorus is built without `http.send` and
//! `opa.runtime` (a call to either is an error naming where it is), and no builtin it keeps
//! reads a file.
//!
//! May import: `config` (the configuration the input shows), `live` (the partner), `vocab`.

mod eval;
mod files;
mod input;
mod reach;
mod testing;
mod value;

use std::fmt;
use std::time::Duration;

use crate::vocab::diagnostic::{Diagnostic, Location, Pos};

pub use eval::{Finding, Outcome, Policies};
pub use files::{Digest, PolicyFile, Selection, find};
pub use input::{Configuration, Input, Target};
pub use reach::Reach;
pub use testing::{TestOutcome, TestResult, run_tests};

/// The time budget of one plan's policy evaluation when none is given (`--policy-timeout`).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// The largest policy file read, in bytes.
pub const MAX_POLICY_BYTES: u64 = 1024 * 1024;

/// What went wrong with policies: reading, parsing or evaluating them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// A path given does not exist or cannot be read.
    #[error("{path}: cannot read the policy: {reason}")]
    Read {
        /// The path as given.
        path: String,
        /// Why.
        reason: String,
    },
    /// A directory given holds no policy file.
    #[error(
        "{path}: no policy file (*.rego) in this directory; give a .rego file or a directory holding some"
    )]
    Empty {
        /// The directory.
        path: String,
    },
    /// A policy file larger than [`MAX_POLICY_BYTES`].
    #[error("{path}: the policy is {bytes} bytes, more than the {MAX_POLICY_BYTES} read")]
    TooLarge {
        /// The file.
        path: String,
        /// Its size.
        bytes: u64,
    },
    /// Rego that does not parse, or that refers to what does not exist (an unknown function,
    /// such as `http.send`): located where regorus found it.
    #[error("{path}:{line}:{col}: {message}")]
    Located {
        /// The policy file.
        path: String,
        /// Line, from 1.
        line: u32,
        /// Column, from 1.
        col: u32,
        /// What is wrong.
        message: String,
    },
    /// A policy file whose `deny` or `warn` would never be evaluated: its package is not
    /// `partnerctl` nor under it.
    #[error(
        "{path}: package {package} declares `{rule}`, which partnerctl never evaluates: write `package partnerctl` (or a package under it, such as `package partnerctl.admins`)"
    )]
    OutsidePackage {
        /// The policy file.
        path: String,
        /// Its package.
        package: String,
        /// `deny` or `warn`.
        rule: &'static str,
    },
    /// An evaluation that failed without a location.
    #[error("{policy}: evaluating {rule} failed: {message}")]
    Evaluation {
        /// The policy files declaring the rule.
        policy: String,
        /// The rule (`data.partnerctl.admins.deny`).
        rule: String,
        /// regorus's message.
        message: String,
    },
    /// A `deny` or `warn` that is not a set (or array) of messages.
    #[error(
        "{policy}: {rule} is {found}, not a set of messages: write `{short} contains msg if {{ ... }}`"
    )]
    NotASet {
        /// The policy files declaring the rule.
        policy: String,
        /// The rule.
        rule: String,
        /// The rule's last name (`deny`).
        short: &'static str,
        /// What it is instead.
        found: String,
    },
    /// A message that is neither a string nor an object with a string `msg`.
    #[error(
        "{policy}: a message of {rule} is {found}; a message is a string, or an object with a string `msg` and an optional string `address`"
    )]
    BadMessage {
        /// The policy files declaring the rule.
        policy: String,
        /// The rule.
        rule: String,
        /// The message as JSON.
        found: String,
    },
    /// A document that cannot be an input (not expected of partnerctl's own documents: their
    /// maps have string keys).
    #[error("the policies' input could not be made: {0}")]
    Input(String),
    /// The evaluation outlived its time budget and was stopped.
    #[error(
        "{policy}: evaluating {rule} was stopped: the policies took longer than --policy-timeout ({}); make the policy cheaper, or raise --policy-timeout",
        seconds(*.budget)
    )]
    Timeout {
        /// The policy files declaring the rule being evaluated.
        policy: String,
        /// The rule being evaluated.
        rule: String,
        /// The budget.
        budget: Duration,
    },
}

/// Located at the place a parse error is, and otherwise at the policy file (or files) the
/// problem is of, as a whole (the message starts with it).
impl Diagnostic for PolicyError {
    fn location(&self) -> Option<Location> {
        let (path, line, col) = match self {
            PolicyError::Located {
                path, line, col, ..
            } => (path, *line as usize, *col as usize),
            PolicyError::Read { path, .. }
            | PolicyError::Empty { path }
            | PolicyError::TooLarge { path, .. }
            | PolicyError::OutsidePackage { path, .. } => (path, 0, 0),
            PolicyError::Evaluation { policy, .. }
            | PolicyError::NotASet { policy, .. }
            | PolicyError::BadMessage { policy, .. }
            | PolicyError::Timeout { policy, .. } => (policy, 0, 0),
            PolicyError::Input(_) => return None,
        };
        Some(Location {
            path: path.clone(),
            pos: Pos { line, col },
        })
    }
}

/// Several [`PolicyError`]s: everything found wrong, not only the first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicyErrors(pub Vec<PolicyError>);

impl fmt::Display for PolicyErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for e in &self.0 {
            writeln!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for PolicyErrors {}

/// `2.5 s`, `5 s`.
pub(crate) fn seconds(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{s:.0} s")
    } else {
        format!("{s} s")
    }
}

#[cfg(test)]
mod tests;
