//! Stage `render`, the markdown format for pull-request comments: a heading, a summary table
//! and the text plan in a collapsible block. Pure.

use std::fmt::Write as _;

use super::{cost_line, summary_line, text};
use crate::plan::{Plan, Refusals};
use crate::provider::Target;

/// The markdown format: a heading, a summary table and the text plan in a collapsible block.
pub fn markdown(plan: &Plan, target: &Target, refusals: Option<&Refusals>) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "### partnerctl plan for `{}`\n",
        plan.partner.name.replace('`', "'")
    );
    for u in plan.unmanaged.iter().filter(|u| u.is_admin()) {
        let _ = writeln!(
            out,
            "> **Access risk:** an admin the configuration does not list: {}\n",
            super::text::unmanaged_label(u)
        );
    }
    for w in &plan.near_misses {
        let _ = writeln!(out, "> **Warning:** {w}\n");
    }
    if let Some(r) = refusals {
        for refusal in &r.0 {
            let _ = writeln!(out, "> **Refused:** {refusal}");
        }
        out.push('\n');
    }
    if plan.is_empty() {
        let _ = writeln!(out, "{}\n", summary_line(plan));
    } else {
        out.push_str("| action | count |\n|---|---:|\n");
        for (a, n) in plan.counts() {
            let _ = writeln!(out, "| `{} {}` | {n} |", a.symbol(), a.as_str());
        }
        let _ = writeln!(out, "| **writes** | **{}** |\n", plan.writes());
        let _ = writeln!(out, "{}", summary_line(plan));
        if let Some(c) = cost_line(plan) {
            let _ = writeln!(out, "{c}");
        }
        out.push('\n');
    }
    let details = diff_columns(&text(plan, target, None, false));
    let _ = writeln!(
        out,
        "<details><summary>Details ({} operation{}, {} unmanaged)</summary>\n\n```diff\n{}```\n\n</details>",
        plan.operations.len(),
        if plan.operations.len() == 1 { "" } else { "s" },
        plan.unmanaged.len(),
        details.replace("```", "'''")
    );
    out
}

/// Moves each line's change symbol to the first column, where a `diff` code block colours it
/// (`~` and `>` become `!`, which highlighters show as "changed").
fn diff_columns(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 64);
    for line in text.lines() {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        match trimmed.chars().next() {
            Some(c @ ('+' | '-' | '~' | '>')) if trimmed[1..].starts_with(' ') => {
                let sym = if c == '~' || c == '>' { '!' } else { c };
                out.push(sym);
                out.push_str(&" ".repeat(indent));
                out.push(' ');
                out.push_str(&trimmed[1..]);
            }
            _ => {
                out.push(' ');
                out.push_str(line);
            }
        }
        out.push('\n');
    }
    out
}
