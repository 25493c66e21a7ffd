//! Stage `render`, the access report: who reaches which account and why, as text (grouped by
//! account), JSON (versioned, typed in [`doc`](super::doc)), markdown (a table) or CSV (one grant a row, for spreadsheets and
//! access reviews). Names, emails and addresses go through [`escape`](super::escape): escaped
//! in text, literal in markdown, never a formula in CSV. Pure.

use std::fmt::Write as _;

use super::doc::AccessReport;
use super::escape::{csv_cell, json_pretty, markdown as md, markdown_code, quoted, text as esc};
use crate::access::{Grant, Source};

/// Version of the JSON access report.
pub const ACCESS_FORMAT_VERSION: &str = "1";

/// Output formats of the access report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AccessFormat {
    /// Grouped by account, for people.
    Text,
    /// Versioned JSON.
    Json,
    /// A markdown table.
    Markdown,
    /// One grant a row.
    Csv,
}

fn source_text(s: &Source) -> String {
    match s {
        Source::Direct => "direct".to_string(),
        Source::Inherited(from) => format!("inherited from {from}"),
    }
}

fn status_text(g: &Grant) -> &'static str {
    g.status.map_or("", |s| s.as_str())
}

fn text(grants: &[Grant], origin: &str) -> String {
    let mut out = String::new();
    let mut current: Option<&str> = None;
    for g in grants {
        if current != Some(g.account.as_str()) {
            current = Some(g.account.as_str());
            if g.account_name.is_empty() {
                let _ = writeln!(out, "{}", esc(&g.account));
            } else {
                let _ = writeln!(out, "{} {}", esc(&g.account), quoted(&g.account_name));
            }
        }
        let role = if g.admin { "ADMIN" } else { "member" };
        let mut tail = vec![esc(&source_text(&g.source)).into_owned()];
        if let Some(s) = g.status {
            tail.push(s.as_str().to_string());
        }
        if g.unmanaged {
            tail.push("UNMANAGED: not in the configuration".to_string());
        }
        let _ = writeln!(
            out,
            "  {} {} {role} · {}",
            esc(&g.email),
            quoted(&g.name),
            tail.join(" · ")
        );
    }
    let people: std::collections::BTreeSet<&str> =
        grants.iter().map(|g| g.email.as_str()).collect();
    let admins = grants.iter().filter(|g| g.admin).count();
    let unmanaged = grants.iter().filter(|g| g.unmanaged).count();
    let _ = writeln!(
        out,
        "\n{} grant(s) of {} person(s) ({admins} as admin, {unmanaged} unmanaged), from the {origin}.",
        grants.len(),
        people.len()
    );
    out
}

fn markdown(grants: &[Grant], origin: &str) -> String {
    let mut out = format!(
        "### Access ({} grant(s), from the {origin})\n\n| account | person | role | source | status |\n|---|---|---|---|---|\n",
        grants.len()
    );
    for g in grants {
        let role = if g.admin { "**admin**" } else { "member" };
        let mut status = status_text(g).to_string();
        if g.unmanaged {
            status.push_str(" **unmanaged**");
        }
        let _ = writeln!(
            out,
            "| {} | {} \\<{}\\> | {role} | {} | {} |",
            markdown_code(&g.account, true),
            md(&g.name),
            md(&g.email),
            md(&source_text(&g.source)),
            status.trim()
        );
    }
    out
}

fn csv(grants: &[Grant]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let header = [
        "account",
        "account_name",
        "email",
        "name",
        "role",
        "admin",
        "source",
        "inherited_from",
        "status",
        "unmanaged",
    ];
    let _ = w.write_record(header);
    for g in grants {
        let (source, from) = match &g.source {
            Source::Direct => ("direct", ""),
            Source::Inherited(f) => ("inherited", f.as_str()),
        };
        let cells = [
            g.account.as_str(),
            g.account_name.as_str(),
            g.email.as_str(),
            g.name.as_str(),
            g.role.as_str(),
            if g.admin { "true" } else { "false" },
            source,
            from,
            status_text(g),
            if g.unmanaged { "true" } else { "false" },
        ];
        let _ = w.write_record(cells.map(csv_cell).iter().map(|c| c.as_bytes()));
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// The access report of `grants` in `format`; `origin` says where they come from
/// (`configuration` or `live state`).
pub fn access_report(grants: &[Grant], origin: &str, format: AccessFormat) -> String {
    match format {
        AccessFormat::Text => text(grants, origin),
        AccessFormat::Markdown => markdown(grants, origin),
        AccessFormat::Csv => csv(grants),
        AccessFormat::Json => {
            let mut s = json_pretty(&AccessReport::new(grants, origin));
            s.push('\n');
            s
        }
    }
}
