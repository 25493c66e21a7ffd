//! Stage `render`: a [`Plan`] as text (terminal), JSON (machines, versioned) or markdown
//! (pull-request comments). Pure: returns strings; the edge writes them.

use std::fmt::Write as _;

use serde::Serialize;
use serde_json::{Value, json};

use crate::plan::{AccountRef, Action, Operation, Plan, Refusals};
use crate::vocab::AccountKind;

/// Version of the JSON plan format (bumped on incompatible changes).
pub const JSON_FORMAT_VERSION: &str = "1";

/// Where the plan was made, for the header.
#[derive(Debug, Clone, Serialize)]
pub struct Target {
    /// The endpoint URL.
    pub endpoint: String,
    /// True when the endpoint is the embedded local sandbox.
    pub embedded: bool,
}

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Human-readable, grouped by account (colour on a terminal).
    Text,
    /// Stable, versioned JSON (see the README).
    Json,
    /// Markdown for a pull-request comment.
    Markdown,
}

/// Renders in the given format.
pub fn render(
    plan: &Plan,
    target: &Target,
    refusals: Option<&Refusals>,
    format: Format,
    color: bool,
) -> String {
    match format {
        Format::Text => text(plan, target, refusals, color),
        Format::Json => json(plan, target, refusals),
        Format::Markdown => markdown(plan, target, refusals),
    }
}

struct Palette {
    color: bool,
}

impl Palette {
    fn paint(&self, code: &str, s: &str) -> String {
        if self.color {
            format!("\u{1b}[{code}m{s}\u{1b}[0m")
        } else {
            s.to_string()
        }
    }

    fn symbol(&self, action: Action) -> String {
        let c = action.symbol().to_string();
        let code = match action.symbol() {
            '+' => "32",
            '~' => "33",
            '-' => "31",
            _ => "36",
        };
        self.paint(code, &c)
    }

    fn bold(&self, s: &str) -> String {
        self.paint("1", s)
    }

    fn dim(&self, s: &str) -> String {
        self.paint("2", s)
    }
}

fn depth(account: &AccountRef) -> usize {
    match account.kind() {
        None | Some(AccountKind::Customer) => 0,
        Some(AccountKind::Network) => 1,
        Some(AccountKind::SubAccount) => 2,
    }
}

fn is_account_action(a: Action) -> bool {
    matches!(
        a,
        Action::Create | Action::Update | Action::Adopt | Action::Delete
    )
}

/// A scalar for display: strings quoted, others as JSON.
fn show(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "(none)".to_string(),
        Some(Value::Object(o)) if o.contains_key("email") && o.contains_key("name") => format!(
            "{} <{}>",
            o["name"].as_str().unwrap_or_default(),
            o["email"].as_str().unwrap_or_default()
        ),
        Some(Value::Object(o)) if o.values().all(Value::is_string) => {
            let parts: Vec<String> = o
                .iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
        Some(v) => v.to_string(),
    }
}

fn settings_diff(
    before: Option<&Value>,
    after: Option<&Value>,
    indent: &str,
    p: &Palette,
) -> String {
    let pretty = |v: Option<&Value>| {
        v.map(|v| serde_json::to_string_pretty(v).unwrap_or_default() + "\n")
            .unwrap_or_default()
    };
    let (b, a) = (pretty(before), pretty(after));
    let diff = similar::TextDiff::from_lines(&b, &a);
    let mut out = String::new();
    for change in diff.iter_all_changes() {
        let (sign, code) = match change.tag() {
            similar::ChangeTag::Delete => ('-', "31"),
            similar::ChangeTag::Insert => ('+', "32"),
            similar::ChangeTag::Equal => (' ', ""),
        };
        let line = format!("{sign} {}", change.value().trim_end_matches('\n'));
        let line = if code.is_empty() {
            p.dim(&line)
        } else {
            p.paint(code, &line)
        };
        let _ = writeln!(out, "{indent}{line}");
    }
    out
}

fn member_label(op: &Operation) -> String {
    let after = op.after.as_ref();
    let before = op.before.as_ref();
    let field = |v: Option<&Value>, k: &str| {
        v.and_then(|x| x.get(k))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let email = op
        .address
        .rsplit_once(".user[")
        .map(|(_, e)| e.trim_end_matches(']').to_string())
        .unwrap_or_default();
    match op.action {
        Action::Invite => format!(
            "invite {email} (\"{}\", {})",
            field(after, "name"),
            field(after, "role")
        ),
        Action::Resend => format!("resend invitation to {email} (expired)"),
        Action::UpdateUser => format!("update user {email}"),
        Action::Revoke => format!("revoke invitation of {email} ({})", field(before, "status")),
        Action::RemoveUser => format!("remove user {email}"),
        Action::AddService => format!("add service {}", op.service_type.as_deref().unwrap_or("?")),
        Action::UpdateService => {
            format!(
                "update service {}",
                op.service_type.as_deref().unwrap_or("?")
            )
        }
        Action::RemoveService => {
            format!(
                "remove service {}",
                op.service_type.as_deref().unwrap_or("?")
            )
        }
        _ => op.action.as_str().to_string(),
    }
}

/// The text format: header, operations grouped by account in tree order, unmanaged objects,
/// refusals, one summary line and the cost line.
pub fn text(plan: &Plan, target: &Target, refusals: Option<&Refusals>, color: bool) -> String {
    let p = Palette { color };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Target: {}{} · partner {} ({}){}",
        target.endpoint,
        if target.embedded {
            " (embedded sandbox)"
        } else {
            ""
        },
        p.bold(&plan.partner.name),
        plan.partner.id,
        if plan.partner.manageable {
            ""
        } else {
            " · not manageable"
        }
    );
    out.push('\n');
    let mut i = 0;
    let ops = &plan.operations;
    while i < ops.len() {
        let account = &ops[i].account;
        let mut j = i;
        while j < ops.len() && &ops[j].account == account {
            j += 1;
        }
        let indent = "  ".repeat(depth(account));
        if i > 0 && depth(account) == 0 {
            out.push('\n');
        }
        // Group header: the account's own action, if any, else just its address.
        let group = &ops[i..j];
        let head = group.iter().find(|o| is_account_action(o.action));
        match head {
            Some(op) => {
                let _ = writeln!(
                    out,
                    "{indent}{} {} {}",
                    p.symbol(op.action),
                    p.bold(&account.address()),
                    p.dim(&format!("({})", op.action.as_str()))
                );
                let detail_indent = format!("{indent}      ");
                match op.action {
                    Action::Create => {
                        if let Some(Value::Object(after)) = &op.after {
                            for (k, v) in after {
                                if k == "kind" || k == "external_key" {
                                    continue;
                                }
                                if v.as_object().is_some_and(serde_json::Map::is_empty) {
                                    continue;
                                }
                                let _ = writeln!(out, "{detail_indent}{k}: {}", show(Some(v)));
                            }
                        }
                    }
                    Action::Delete => {
                        if let Some(b) = &op.before {
                            let _ = writeln!(
                                out,
                                "{detail_indent}name: {} · {} user(s), {} service(s) go with it",
                                show(b.get("name")),
                                b.get("users").and_then(Value::as_u64).unwrap_or(0),
                                b.get("services").and_then(Value::as_u64).unwrap_or(0)
                            );
                        }
                    }
                    _ => {
                        for (k, b, a) in op.changed_fields() {
                            let _ = writeln!(
                                out,
                                "{detail_indent}{k}: {} → {}",
                                show(b.as_ref()),
                                show(a.as_ref())
                            );
                        }
                    }
                }
            }
            None => {
                let _ = writeln!(out, "{indent}  {}", p.bold(&account.address()));
            }
        }
        for op in group.iter().filter(|o| !is_account_action(o.action)) {
            let _ = writeln!(
                out,
                "{indent}    {} {}",
                p.symbol(op.action),
                member_label(op)
            );
            let detail = format!("{indent}        ");
            match op.action {
                Action::UpdateUser => {
                    for (k, b, a) in op.changed_fields() {
                        let _ = writeln!(
                            out,
                            "{detail}{k}: {} → {}",
                            show(b.as_ref()),
                            show(a.as_ref())
                        );
                    }
                }
                Action::AddService | Action::UpdateService | Action::RemoveService => {
                    let b = op.before.as_ref().and_then(|v| v.get("settings"));
                    let a = op.after.as_ref().and_then(|v| v.get("settings"));
                    let empty = |v: Option<&Value>| {
                        v.is_none_or(|v| v.as_object().is_some_and(serde_json::Map::is_empty))
                    };
                    if !(empty(b) && empty(a)) {
                        out.push_str(&settings_diff(b, a, &detail, &p));
                    }
                }
                _ => {}
            }
        }
        i = j;
    }
    if !plan.unmanaged.is_empty() {
        if !ops.is_empty() {
            out.push('\n');
        }
        let _ = writeln!(
            out,
            "Unmanaged ({}): live objects not in the configuration, left alone",
            plan.unmanaged.len()
        );
        for u in &plan.unmanaged {
            let _ = writeln!(
                out,
                "  {} {} {}",
                u.class,
                u.address,
                p.dim(&format!("— {}", u.reason))
            );
        }
    }
    if let Some(r) = refusals {
        out.push('\n');
        for refusal in &r.0 {
            let _ = writeln!(out, "{} {refusal}", p.paint("31;1", "Refused:"));
        }
    }
    if !ops.is_empty() || !plan.unmanaged.is_empty() || refusals.is_some() {
        out.push('\n');
    }
    let _ = writeln!(out, "{}", summary_line(plan));
    if let Some(cost) = cost_line(plan) {
        let _ = writeln!(out, "{cost}");
    }
    out
}

/// `Plan: 6 to create, 10 to invite, 8 to add-service (24 writes) · 10 invitations pending ·
/// 2 unmanaged.` or `No changes. ...`.
pub fn summary_line(plan: &Plan) -> String {
    let mut tail = Vec::new();
    if plan.pending_invitations > 0 {
        tail.push(format!(
            "{} invitation(s) pending",
            plan.pending_invitations
        ));
    }
    if !plan.unmanaged.is_empty() {
        tail.push(format!("{} unmanaged", plan.unmanaged.len()));
    }
    let tail = if tail.is_empty() {
        String::new()
    } else {
        format!(" · {}", tail.join(" · "))
    };
    if plan.is_empty() {
        return format!("No changes: the live state matches the configuration{tail}.");
    }
    let parts: Vec<String> = plan
        .counts()
        .iter()
        .map(|(a, n)| format!("{n} {}", a.as_str()))
        .collect();
    format!(
        "Plan: {} ({} write{}){tail}.",
        parts.join(", "),
        plan.writes(),
        if plan.writes() == 1 { "" } else { "s" }
    )
}

/// `Cost: 24 write calls; at the API's limit of 600 writes/min the apply takes at least 2.4 s.`
pub fn cost_line(plan: &Plan) -> Option<String> {
    if plan.is_empty() {
        return None;
    }
    let writes = plan.writes();
    Some(match (plan.min_seconds(), plan.limits.writes_per_minute) {
        (Some(secs), Some(limit)) => format!(
            "Cost: {writes} write call{}; at the API's limit of {limit} writes/min the apply takes at least {}.",
            if writes == 1 { "" } else { "s" },
            human_seconds(secs)
        ),
        _ => format!(
            "Cost: {writes} write call{}; the API reports no write limit.",
            if writes == 1 { "" } else { "s" }
        ),
    })
}

fn human_seconds(secs: f64) -> String {
    if secs < 60.0 {
        format!("{secs:.1} s")
    } else if secs < 3600.0 {
        format!("{:.0} min {:.0} s", (secs / 60.0).floor(), secs % 60.0)
    } else {
        format!(
            "{:.0} h {:.0} min",
            (secs / 3600.0).floor(),
            (secs % 3600.0) / 60.0
        )
    }
}

/// The end-of-apply report: counts per action done, failures and skipped operations, wall time,
/// retries and throttling.
pub fn apply_report(plan: &Plan, report: &crate::apply::Report) -> String {
    use crate::apply::OpState;
    let mut out = String::new();
    let done = report.count(|s| *s == OpState::Done);
    let failed = report.count(|s| matches!(s, OpState::Failed(_)));
    let skipped = report.count(|s| matches!(s, OpState::Skipped { .. }));
    let not_started = report.count(|s| *s == OpState::NotStarted);
    let secs = report.elapsed.as_secs_f64();
    let rate = if secs > 0.0 { done as f64 / secs } else { 0.0 };
    let mut per_action: Vec<String> = Vec::new();
    for a in Action::ALL {
        let n = plan
            .operations
            .iter()
            .zip(&report.states)
            .filter(|(o, s)| o.action == a && **s == OpState::Done)
            .count();
        if n > 0 {
            per_action.push(format!("{n} {}", a.as_str()));
        }
    }
    let head = if report.success() {
        "Apply complete"
    } else if report.interrupted {
        "Apply interrupted"
    } else {
        "Apply finished with errors"
    };
    let _ = writeln!(
        out,
        "\n{head}: {done} done, {failed} failed, {skipped} skipped{} in {secs:.1} s ({rate:.1} ops/s) · {} retr{}, {} throttled{}.",
        if not_started > 0 {
            format!(", {not_started} not started")
        } else {
            String::new()
        },
        report.retries,
        if report.retries == 1 { "y" } else { "ies" },
        report.throttled,
        if report.min_parallelism < 1 || report.throttled == 0 {
            String::new()
        } else {
            format!(" (parallelism went down to {})", report.min_parallelism)
        }
    );
    if !per_action.is_empty() {
        let _ = writeln!(out, "Done: {}.", per_action.join(", "));
    }
    let list = |out: &mut String, title: &str, pred: &dyn Fn(&OpState) -> Option<String>| {
        let rows: Vec<String> = plan
            .operations
            .iter()
            .zip(&report.states)
            .filter_map(|(o, s)| {
                pred(s).map(|why| format!("  - {} ({}){why}", o.address, o.action.as_str()))
            })
            .collect();
        if !rows.is_empty() {
            let _ = writeln!(out, "{title} ({}):", rows.len());
            for r in rows {
                let _ = writeln!(out, "{r}");
            }
        }
    };
    list(&mut out, "Failed", &|s| match s {
        OpState::Failed(m) => Some(format!(": {m}")),
        _ => None,
    });
    list(
        &mut out,
        "Skipped because a dependency failed",
        &|s| match s {
            OpState::Skipped { because } => {
                Some(format!(" ← {}", plan.operations[*because].address))
            }
            _ => None,
        },
    );
    list(&mut out, "Not started", &|s| {
        (*s == OpState::NotStarted).then(String::new)
    });
    if !report.success() {
        let _ = writeln!(
            out,
            "Run `partnerctl apply` again to finish: it plans from the live state, so done work is not repeated."
        );
    }
    out
}

/// The JSON format (`format_version` "1"), documented in the README.
pub fn json(plan: &Plan, target: &Target, refusals: Option<&Refusals>) -> String {
    let by_action: serde_json::Map<String, Value> = plan
        .counts()
        .iter()
        .map(|(a, n)| (a.as_str().to_string(), json!(n)))
        .collect();
    let operations: Vec<Value> = plan
        .operations
        .iter()
        .enumerate()
        .map(|(i, op)| {
            let mut v = serde_json::to_value(op).expect("operations serialize");
            if let Value::Object(m) = &mut v {
                m.insert("index".into(), json!(i));
                m.insert("symbol".into(), json!(op.action.symbol().to_string()));
                m.entry("depends_on").or_insert_with(|| json!([]));
            }
            v
        })
        .collect();
    let doc = json!({
        "format_version": JSON_FORMAT_VERSION,
        "target": {
            "endpoint": target.endpoint,
            "embedded": target.embedded,
            "partner": plan.partner,
        },
        "options": plan.options,
        "summary": {
            "changes": !plan.is_empty(),
            "writes": plan.writes(),
            "by_action": by_action,
            "pending_invitations": plan.pending_invitations,
            "unmanaged": plan.unmanaged.len(),
            "writes_per_minute": plan.limits.writes_per_minute,
            "min_seconds": plan.min_seconds(),
        },
        "operations": operations,
        "unmanaged": plan.unmanaged,
        "refusals": refusals.map(|r| r.0.iter().map(ToString::to_string).collect::<Vec<_>>()).unwrap_or_default(),
    });
    let mut s = serde_json::to_string_pretty(&doc).expect("JSON values serialize");
    s.push('\n');
    s
}

/// The markdown format: a heading, a summary table and the text plan in a collapsible block.
pub fn markdown(plan: &Plan, target: &Target, refusals: Option<&Refusals>) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "### partnerctl plan for `{}`\n",
        plan.partner.name.replace('`', "'")
    );
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

#[cfg(test)]
mod tests;
