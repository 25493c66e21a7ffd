//! Stage `render`, the text format: header, the policies' denials and warnings, operations
//! grouped by account in tree order, each account under its ancestry (Terraform-style symbols,
//! setting changes key by key), unmanaged objects, refusals, one summary line and the cost
//! line. Every text from the API or the configuration, and every
//! message quoting one, goes through [`escape`](super::escape): control, bidirectional and
//! zero-width characters show escaped, and the only ESC is the palette's. Pure.

use std::fmt::Write as _;

use serde_json::Value;

use super::escape::{json_line, quoted, text as esc};
use super::tree::{Node, Tree};
use super::{Palette, Verdict, cost_line, summary_line};
use crate::plan::{Change, FieldValue, Operation, Plan, Settings, Unmanaged, UnmanagedObject};
use crate::provider::Target;
use crate::vocab::rules::email_key;

/// A field value for display: strings quoted, contacts as `Name <email>`, labels as `{k=v}`.
fn show(v: FieldValue<'_>) -> String {
    match v {
        FieldValue::None => "(none)".to_string(),
        FieldValue::Text(s) => quoted(s),
        FieldValue::Contact(c) => format!("{} <{}>", esc(&c.name), esc(&c.email)),
        FieldValue::Labels(l) => {
            let parts: Vec<String> = l
                .iter()
                .map(|(k, v)| format!("{}={}", esc(k), esc(v)))
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
    }
}

/// A settings key as shown: bare when it is a plain name, else a JSON string (as its value).
fn setting_key(key: &str) -> String {
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if plain {
        key.to_string()
    } else {
        json_line(key)
    }
}

/// One line of a settings diff, coloured by its symbol.
fn setting_line(out: &mut String, indent: &str, sign: char, text: &str, p: &Palette) {
    let code = match sign {
        '+' => "32",
        '-' => "31",
        _ => "33",
    };
    let _ = writeln!(out, "{indent}{}", p.paint(code, &format!("{sign} {text}")));
}

/// The settings of `before` and `after` compared key by key (in key order): added (`+`),
/// removed (`-`) and changed (`~ key: before → after`) ones, an object changed in both as a
/// diff of its own below its key, other values whole (one line of JSON). Unchanged settings
/// are counted, not shown.
fn object_diff(out: &mut String, before: &Settings, after: &Settings, indent: &str, p: &Palette) {
    let keys: std::collections::BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    let mut unchanged = 0;
    for key in keys {
        let k = setting_key(key);
        match (before.get(key), after.get(key)) {
            (Some(b), Some(a)) if b == a => unchanged += 1,
            (Some(Value::Object(b)), Some(Value::Object(a))) => {
                setting_line(out, indent, '~', &format!("{k}:"), p);
                object_diff(out, b, a, &format!("{indent}    "), p);
            }
            (Some(Value::Array(b)), Some(Value::Array(a))) => {
                setting_line(out, indent, '~', &format!("{k}:"), p);
                list_diff(out, b, a, &format!("{indent}    "), p);
            }
            (Some(b), Some(a)) => {
                let line = format!("{k}: {} → {}", json_line(b), json_line(a));
                setting_line(out, indent, '~', &line, p);
            }
            (Some(b), None) => setting_line(out, indent, '-', &format!("{k}: {}", json_line(b)), p),
            (None, Some(a)) => setting_line(out, indent, '+', &format!("{k}: {}", json_line(a)), p),
            (None, None) => {}
        }
    }
    if unchanged > 0 {
        let line = format!("  ({unchanged} unchanged setting(s) not shown)");
        let _ = writeln!(out, "{indent}{}", p.dim(&line));
    }
}

/// A list changed on both sides, item by item (each item one line of JSON): the items it loses
/// (`-`) and gains (`+`) where they are, found by a diff of the two sequences, so an item that
/// stays is not shown as removed and added again; unchanged items are counted.
fn list_diff(out: &mut String, before: &[Value], after: &[Value], indent: &str, p: &Palette) {
    let (b, a): (Vec<String>, Vec<String>) = (
        before.iter().map(json_line).collect(),
        after.iter().map(json_line).collect(),
    );
    let mut unchanged = 0;
    for op in similar::capture_diff_slices(similar::Algorithm::Myers, &b, &a) {
        for change in op.iter_changes(&b, &a) {
            match change.tag() {
                similar::ChangeTag::Equal => unchanged += 1,
                similar::ChangeTag::Delete => setting_line(out, indent, '-', &change.value(), p),
                similar::ChangeTag::Insert => setting_line(out, indent, '+', &change.value(), p),
            }
        }
    }
    if unchanged > 0 {
        let line = format!("  ({unchanged} unchanged item(s) not shown)");
        let _ = writeln!(out, "{indent}{}", p.dim(&line));
    }
}

/// The settings a service gets (`+`), loses (`-`) or changes (`~`), key by key.
fn settings_diff(
    before: Option<&Settings>,
    after: Option<&Settings>,
    indent: &str,
    p: &Palette,
) -> String {
    let none = Settings::new();
    let mut out = String::new();
    object_diff(
        &mut out,
        before.unwrap_or(&none),
        after.unwrap_or(&none),
        indent,
        p,
    );
    out
}

/// The one-line description of a user or service operation.
fn member_label(op: &Operation) -> String {
    let email = esc(op.change.email().unwrap_or_default());
    match &op.change {
        Change::Invite(p) => format!(
            "invite {} ({}, {})",
            esc(&email_key(&p.email)),
            quoted(&p.name),
            p.role
        ),
        Change::Resend { .. } => format!("resend invitation to {email} (expired)"),
        Change::UpdateUser { .. } => format!("update user {email}"),
        Change::Revoke { status, .. } => format!("revoke invitation of {email} ({status})"),
        Change::RemoveUser { .. } => format!("remove user {email}"),
        Change::AddService { service_type, .. } => format!("add service {}", esc(service_type)),
        Change::UpdateService { service_type, .. } => {
            format!("update service {}", esc(service_type))
        }
        Change::RemoveService { service_type, .. } => {
            format!("remove service {}", esc(service_type))
        }
        other => other.action().as_str().to_string(),
    }
}

/// One line per changed field: its name, the value before and after.
fn field_changes<'a>(
    out: &mut String,
    indent: &str,
    changes: impl IntoIterator<Item = (&'static str, FieldValue<'a>, FieldValue<'a>)>,
) {
    for (field, before, after) in changes {
        let _ = writeln!(out, "{indent}{field}: {} → {}", show(before), show(after));
    }
}

/// The lines under an account's own operation.
fn account_details(out: &mut String, op: &Operation, indent: &str) {
    match &op.change {
        Change::Create { fields, .. } => {
            for (field, value) in fields.entries(fields) {
                if matches!(value, FieldValue::Labels(l) if l.is_empty()) {
                    continue;
                }
                let _ = writeln!(out, "{indent}{field}: {}", show(value));
            }
        }
        Change::Delete {
            name,
            users,
            services,
            ..
        } => {
            let _ = writeln!(
                out,
                "{indent}name: {} · {users} user(s), {services} service(s) go with it",
                show(FieldValue::Text(name))
            );
        }
        _ => field_changes(
            out,
            indent,
            op.changed_fields()
                .into_iter()
                .map(|c| (c.field.as_str(), c.before, c.after)),
        ),
    }
}

/// The lines under a user or service operation.
fn member_details(out: &mut String, op: &Operation, indent: &str, p: &Palette) {
    let (before, after) = match &op.change {
        Change::UpdateUser { before, after, .. } => {
            let name = (before.name != after.name).then_some((
                "name",
                FieldValue::Text(&before.name),
                FieldValue::Text(&after.name),
            ));
            let role = (before.role != after.role).then_some((
                "role",
                FieldValue::Text(before.role.as_str()),
                FieldValue::Text(after.role.as_str()),
            ));
            return field_changes(out, indent, name.into_iter().chain(role));
        }
        Change::AddService { settings, .. } => (None, Some(settings)),
        Change::UpdateService { before, after, .. } => (Some(before), Some(after)),
        Change::RemoveService { settings, .. } => (Some(settings), None),
        _ => return,
    };
    let empty = |v: Option<&Settings>| v.is_none_or(Settings::is_empty);
    if !(empty(before) && empty(after)) {
        out.push_str(&settings_diff(before, after, indent, p));
    }
}

/// One account of the tree: its own operation (if any) as the header, then its users and
/// services; an account that does not change, above changes, as a dim context line.
fn group(out: &mut String, plan: &Plan, node: &Node<'_>, p: &Palette) {
    let account = node.account;
    let indent = "  ".repeat(account.kind().map_or(0, |k| k.depth()));
    let own = node
        .ops
        .iter()
        .copied()
        .find(|&i| plan.operations[i].action().is_account_action());
    match own {
        Some(k) => {
            let op = &plan.operations[k];
            let action = op.action();
            let head = match plan.manual_step(k) {
                Some((n, _)) => format!("({}, manual step {n})", action.as_str()),
                None => format!("({})", action.as_str()),
            };
            let _ = writeln!(
                out,
                "{indent}{} {} {}",
                p.symbol(action),
                p.bold(&esc(&account.address())),
                p.dim(&head)
            );
            account_details(out, op, &format!("{indent}      "));
        }
        None if node.ops.is_empty() => {
            let _ = writeln!(out, "{indent}  {}", p.dim(&esc(&account.address())));
        }
        None => {
            let _ = writeln!(out, "{indent}  {}", p.bold(&esc(&account.address())));
        }
    }
    let members = node.ops.iter().map(|&i| &plan.operations[i]);
    for op in members.filter(|o| !o.action().is_account_action()) {
        let _ = writeln!(
            out,
            "{indent}    {} {}",
            p.symbol(op.action()),
            member_label(op)
        );
        member_details(out, op, &format!("{indent}        "), p);
    }
}

/// The operations, grouped by account in tree order, each account under its ancestry.
fn changes(out: &mut String, plan: &Plan, p: &Palette) {
    let tree = Tree::new(plan);
    for (r, root) in tree.roots().enumerate() {
        if r > 0 {
            out.push('\n');
        }
        for node in tree.walk(root) {
            group(out, plan, node, p);
        }
    }
}

fn header(out: &mut String, plan: &Plan, target: &Target, p: &Palette) {
    let embedded = if target.embedded {
        " (embedded sandbox)"
    } else {
        ""
    };
    let manageable = if plan.partner.manageable {
        ""
    } else {
        " · not manageable"
    };
    let _ = writeln!(
        out,
        "Target: {}{embedded} · partner {} ({}){manageable}",
        esc(&target.endpoint),
        p.bold(&esc(&plan.partner.name)),
        esc(&plan.partner.id),
    );
    if !plan.targets.is_empty() {
        let _ = writeln!(out, "{}", targeted(plan));
    }
    out.push('\n');
}

/// The line that says a plan is restricted to `--target` addresses.
pub(super) fn targeted(plan: &Plan) -> String {
    format!(
        "Targeted: {} (only these accounts, what they contain and what they depend on are planned; the rest of the configuration is not)",
        esc(&plan.targets.join(", "))
    )
}

fn unmanaged(out: &mut String, plan: &Plan, p: &Palette) {
    if plan.unmanaged.is_empty() {
        return;
    }
    if !plan.operations.is_empty() {
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "Unmanaged ({}): live objects not in the configuration, left alone",
        plan.unmanaged.len()
    );
    for u in &plan.unmanaged {
        let reason = p.dim(&format!("— {}", u.reason));
        let risk = if u.is_admin() {
            p.paint("31;1", " [access risk: unmanaged admin]")
        } else {
            String::new()
        };
        let _ = writeln!(out, "  {}{risk} {reason}", unmanaged_label(u));
    }
}

/// What an unmanaged object is, in words people recognise: kind, name, key and id of an
/// account and where it is; email, name, role and state of a user and on which account.
pub(super) fn unmanaged_label(u: &Unmanaged) -> String {
    match &u.object {
        UnmanagedObject::Account {
            kind,
            name,
            key,
            id,
            parent,
        } => {
            let key = key
                .as_ref()
                .map_or_else(|| "no key".to_string(), |k| format!("key {}", esc(k)));
            format!(
                "account {kind} {} ({key}, id {}) under {}",
                show(FieldValue::Text(name)),
                esc(id),
                esc(parent)
            )
        }
        UnmanagedObject::User {
            email,
            name,
            role,
            status,
            account,
        } => format!(
            "{} {} {} ({role}, {status}) on {}",
            u.class,
            esc(email),
            show(FieldValue::Text(name)),
            esc(account)
        ),
        UnmanagedObject::Service {
            service_type,
            account,
        } => format!("service {} on {}", esc(service_type), esc(account)),
    }
}

/// Who gains or loses access: escalations first (marked `!`), then gains (`+`) and losses
/// (`-`), one line a person.
fn access_changes(out: &mut String, plan: &Plan, p: &Palette) {
    if plan.access.is_empty() {
        return;
    }
    let _ = writeln!(out, "\nAccess changes ({} person(s)):", plan.access.len());
    for c in &plan.access {
        let mut what = Vec::new();
        if c.gains > 0 {
            what.push(format!("gains {} account(s)", c.gains));
        }
        if c.loses > 0 {
            what.push(format!("loses {} account(s)", c.loses));
        }
        let email = esc(&c.email);
        let line = match &c.escalation {
            Some(why) => {
                what.insert(0, format!("ESCALATION: {}", esc(why)));
                p.paint("31;1", &format!("! {email} {}", what.join(", ")))
            }
            None if c.loses > 0 && c.gains == 0 => format!("- {email} {}", what.join(", ")),
            None => format!("+ {email} {}", what.join(", ")),
        };
        let _ = writeln!(out, "  {line}");
    }
}

/// The policies' denials and warnings, one line each (policy file, message, the address it
/// names), then a blank line; nothing when they said nothing.
fn policy_findings(out: &mut String, outcome: &crate::policy::Outcome, p: &Palette) {
    let lines = [
        (p.paint("31;1", "Policy denial"), &outcome.denials),
        (p.paint("33;1", "Policy warning"), &outcome.warnings),
    ];
    let mut any = false;
    for (title, findings) in lines {
        for f in findings {
            let at = f
                .address
                .as_deref()
                .map(|a| format!(" — {}", esc(a)))
                .unwrap_or_default();
            let _ = writeln!(out, "{title} ({}): {}{at}", esc(&f.policy), esc(&f.message));
            any = true;
        }
    }
    if any {
        out.push('\n');
    }
}

/// The numbered manual steps, in the vendor's words.
pub fn runbook(plan: &Plan) -> String {
    let mut out = format!(
        "Manual steps ({}): the vendor's API cannot do these. Do them in its dashboard, then run `partnerctl plan` again: it adopts what you created and carries on.\n",
        plan.manual.len()
    );
    for (n, step) in plan.manual.iter().enumerate() {
        let _ = writeln!(out, "  {}. {}", n + 1, esc(&step.title));
        for line in &step.lines {
            let _ = writeln!(out, "       {}", esc(line));
        }
    }
    out
}

/// The text format.
pub fn text(plan: &Plan, target: &Target, verdict: Verdict<'_>, color: bool) -> String {
    let p = Palette { color };
    let mut out = String::new();
    header(&mut out, plan, target, &p);
    if let Some(outcome) = verdict.policy {
        policy_findings(&mut out, outcome, &p);
    }
    let refusals = verdict.refusals;
    let ops = &plan.operations;
    changes(&mut out, plan, &p);
    access_changes(&mut out, plan, &p);
    unmanaged(&mut out, plan, &p);
    if !plan.manual.is_empty() {
        out.push('\n');
        out.push_str(&runbook(plan));
    }
    if !plan.near_misses.is_empty() {
        out.push('\n');
        for w in &plan.near_misses {
            let _ = writeln!(
                out,
                "{} {}",
                p.paint("33;1", "Warning:"),
                esc(&w.to_string())
            );
        }
    }
    if let Some(r) = refusals {
        out.push('\n');
        for refusal in &r.0 {
            let refusal = refusal.to_string();
            let _ = writeln!(out, "{} {}", p.paint("31;1", "Refused:"), esc(&refusal));
        }
    }
    let anything = !ops.is_empty() || !plan.unmanaged.is_empty() || !plan.near_misses.is_empty();
    if anything || refusals.is_some() {
        out.push('\n');
    }
    let _ = writeln!(out, "{}", summary_line(plan));
    if let Some(cost) = cost_line(plan) {
        let _ = writeln!(out, "{cost}");
    }
    out
}
