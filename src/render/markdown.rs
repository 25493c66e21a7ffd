//! Stage `render`, the markdown format for pull-request comments: a heading, a summary table
//! and the text plan in a collapsible block. Text from the API or the configuration, and the
//! messages quoting it, go through [`escape`](super::escape) and render as the literal text they
//! are: no HTML, no line breaks, no links or images, no table cells of their own. The details
//! are the text format, whose values are escaped already, in a code block it cannot close.
//! Pure.

use std::fmt::Write as _;

use super::escape::{markdown as md, markdown_code};
use super::tree::Tree;
use super::{Verdict, cost_line, summary_line, text};
use crate::plan::Plan;
use crate::provider::Target;

/// The markdown format: a heading, a summary table and the text plan in a collapsible block.
pub fn markdown(plan: &Plan, target: &Target, verdict: Verdict<'_>) -> String {
    let mut out = head(plan, verdict, usize::MAX);
    let details = diff_columns(&text(plan, target, Verdict::default(), false));
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

/// The markdown format within `limit` characters (a pull-request comment's size): the whole
/// plan when it fits; otherwise the summary, a table per customer and as much of the details
/// as fits, then a line saying what was left out and where the full plan is (`full_plan`,
/// e.g. the saved plan's `partnerctl show` command).
pub fn markdown_within(
    plan: &Plan,
    target: &Target,
    verdict: Verdict<'_>,
    limit: usize,
    full_plan: Option<&str>,
) -> String {
    let full = markdown(plan, target, verdict);
    if full.chars().count() <= limit {
        return full;
    }
    let where_full = full_plan.map_or_else(
        || "run `partnerctl plan` with `--format text` (or save it with `-o FILE` and `partnerctl show FILE`)".to_string(),
        |f| format!("`{f}`"),
    );
    // Room for the closing lines, whatever they say.
    let reserve = 600 + where_full.chars().count();
    let budget = limit.saturating_sub(reserve);
    let mut out = head(plan, verdict, 10);
    let rows = per_customer(plan);
    let mut table = String::from("| account | + | ~ | - | > |\n|---|---:|---:|---:|---:|\n");
    let mut rows_shown = 0;
    for r in &rows {
        if chars(&out) + chars(&table) + chars(r) > budget / 2 {
            break;
        }
        table.push_str(r);
        rows_shown += 1;
    }
    out.push_str(&table);
    if rows_shown < rows.len() {
        let _ = writeln!(
            out,
            "\n_{} more customer row(s) not shown._",
            rows.len() - rows_shown
        );
    }
    out.push('\n');
    let details =
        diff_columns(&text(plan, target, Verdict::default(), false)).replace("```", "'''");
    let mut shown = String::new();
    for line in details.lines() {
        if chars(&out) + chars(&shown) + chars(line) + 1 > budget {
            break;
        }
        shown.push_str(line);
        shown.push('\n');
    }
    let (shown_lines, all_lines) = (shown.lines().count(), details.lines().count());
    let left_chars = chars(&details) - chars(&shown);
    let _ = writeln!(
        out,
        "<details><summary>Details (the first {shown_lines} of {all_lines} lines)</summary>\n\n```diff\n{shown}```\n\n</details>\n"
    );
    let _ = writeln!(
        out,
        "**Shortened to fit a comment:** {} of {all_lines} lines of details ({left_chars} characters) were left out. The full plan: {where_full}.",
        all_lines - shown_lines
    );
    out
}

fn chars(s: &str) -> usize {
    s.chars().count()
}

/// `| customer.contoso | 3 | 1 | 0 | 0 |` per top-level account (the partner, each customer with
/// its networks and sub-accounts), counting operations by symbol, in the order of the details.
pub(super) fn per_customer(plan: &Plan) -> Vec<String> {
    let tree = Tree::new(plan);
    tree.roots()
        .map(|root| {
            let mut counts = [0usize; 4];
            for node in tree.walk(root) {
                for &i in &node.ops {
                    let k = match plan.operations[i].action().symbol() {
                        '+' => 0,
                        '~' => 1,
                        '-' => 2,
                        _ => 3,
                    };
                    counts[k] += 1;
                }
            }
            let [add, change, remove, other] = counts;
            let a = markdown_code(&root.account.address(), true);
            format!("| {a} | {add} | {change} | {remove} | {other} |\n")
        })
        .collect()
}

/// Heading, the policies' denials and warnings (all of them), access risks and warnings (at
/// most `cap` of each), refusals, the summary table and lines.
fn head(plan: &Plan, verdict: Verdict<'_>, cap: usize) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "### partnerctl plan for {}\n",
        markdown_code(&plan.partner.name, false)
    );
    if !plan.targets.is_empty() {
        let _ = writeln!(out, "> {}\n", md(&super::text::targeted(plan)));
    }
    if let Some(outcome) = verdict.policy {
        policy_findings(&mut out, outcome);
    }
    if !plan.manual.is_empty() {
        let _ = writeln!(
            out,
            "**Manual steps ({}):** the vendor's API cannot do these; do them in its dashboard, then plan again.\n",
            plan.manual.len()
        );
        for step in plan.manual.iter().take(cap.max(50)) {
            let _ = writeln!(out, "1. **{}**", md(&step.title));
            for line in &step.lines {
                let _ = writeln!(out, "   - {}", md(line));
            }
        }
        out.push('\n');
    }
    for c in plan
        .access
        .iter()
        .filter(|c| c.escalation.is_some())
        .take(cap)
    {
        let why = md(c.escalation.as_deref().unwrap_or_default());
        let _ = writeln!(out, "> **Access escalation:** {} — {why}\n", md(&c.email));
    }
    let admins: Vec<_> = plan.unmanaged.iter().filter(|u| u.is_admin()).collect();
    for u in admins.iter().take(cap) {
        let _ = writeln!(
            out,
            "> **Access risk:** an admin the configuration does not list: {}\n",
            md(&super::text::unmanaged_label(u))
        );
    }
    if admins.len() > cap {
        let _ = writeln!(
            out,
            "> **Access risk:** and {} more unmanaged admin(s)\n",
            admins.len() - cap
        );
    }
    for w in plan.near_misses.iter().take(cap) {
        let _ = writeln!(out, "> **Warning:** {}\n", md(&w.to_string()));
    }
    if plan.near_misses.len() > cap {
        let _ = writeln!(
            out,
            "> **Warning:** and {} more near miss(es)\n",
            plan.near_misses.len() - cap
        );
    }
    if let Some(r) = verdict.refusals {
        for refusal in &r.0 {
            let _ = writeln!(out, "> **Refused:** {}", md(&refusal.to_string()));
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
    out
}

/// The policies' denials and warnings, one quoted line each: the policy file, the message and
/// the address it names.
fn policy_findings(out: &mut String, outcome: &crate::policy::Outcome) {
    let lines = [
        ("Policy denial", &outcome.denials),
        ("Policy warning", &outcome.warnings),
    ];
    for (title, findings) in lines {
        for f in findings {
            let at = f
                .address
                .as_deref()
                .map(|a| format!(" — {}", markdown_code(a, false)))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "> **{title}** ({}): {}{at}\n",
                markdown_code(&f.policy, false),
                md(&f.message)
            );
        }
    }
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
