//! Stage `render`, the JSON format: stable and versioned (`format_version`), documented in the
//! README and described by `schemas/plan.schema.json`; the document is typed in
//! [`doc`](super::doc). Control, bidirectional and zero-width characters in strings written as
//! `\u` escapes. Pure.

use super::Verdict;
use super::doc::PlanDocument;
use crate::plan::Plan;
use crate::provider::Target;

/// The JSON format (`format_version` "1"), documented in the README.
pub fn json(plan: &Plan, target: &Target, verdict: Verdict<'_>) -> String {
    let mut s = super::escape::json_pretty(&PlanDocument::new(plan, target, verdict));
    s.push('\n');
    s
}
