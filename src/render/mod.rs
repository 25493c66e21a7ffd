//! Stage `render`: a [`Plan`] as text (terminal), JSON (machines, versioned) or markdown
//! (pull-request comments), and the end-of-apply report. Pure: returns strings; the edge
//! writes them. Rooms: `text`, `json`, `markdown`, `report`, `access`, `doc` (the JSON documents
//! typed, and their schemas), and `escape`, through which every output shows text from the API
//! or the configuration (outputs safe to open).
//! May import: `plan`, `apply` (its report), `provider` (the target), `access` (the grants),
//! `live` (the partner), `policy` (what the policies said), `vocab`.

mod access;
pub mod doc;
mod escape;
mod json;
mod markdown;
mod report;
mod text;
mod tree;

use crate::plan::{Action, Plan, Refusals};
use crate::policy::Outcome;
use crate::provider::Target;

pub use access::{ACCESS_FORMAT_VERSION, AccessFormat, access_report};
pub use json::json;
pub use markdown::{markdown, markdown_within};
pub use report::{REPORT_FORMAT_VERSION, apply_report, apply_report_json};
pub use text::{runbook, text};

/// Version of the JSON plan format (bumped on incompatible changes).
pub const JSON_FORMAT_VERSION: &str = "1";

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

/// Default size limit of the markdown format: below GitHub's 65,536 characters per comment,
/// with room for what a workflow adds around it.
pub const DEFAULT_MARKDOWN_LIMIT: usize = 60_000;

/// How to render, besides the format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Colour (text only).
    pub color: bool,
    /// Most characters of the markdown format.
    pub markdown_limit: usize,
    /// Where the full plan is, for a shortened markdown plan to say so.
    pub full_plan: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            color: false,
            markdown_limit: DEFAULT_MARKDOWN_LIMIT,
            full_plan: None,
        }
    }
}

/// What judged a plan: the guards' refusals, and what the policies said (nothing when no
/// policy was given).
#[derive(Debug, Clone, Copy, Default)]
pub struct Verdict<'a> {
    /// The guards' refusals, when they refuse the plan.
    pub refusals: Option<&'a Refusals>,
    /// The policies' denials and warnings, when policies were evaluated.
    pub policy: Option<&'a Outcome>,
}

impl<'a> Verdict<'a> {
    /// The guards' refusals alone (no policy).
    pub fn refusals(refusals: Option<&'a Refusals>) -> Self {
        Verdict {
            refusals,
            policy: None,
        }
    }
}

/// Renders in the given format.
pub fn render(
    plan: &Plan,
    target: &Target,
    verdict: Verdict<'_>,
    format: Format,
    options: &Options,
) -> String {
    match format {
        Format::Text => text(plan, target, verdict, options.color),
        Format::Json => json(plan, target, verdict),
        Format::Markdown => markdown_within(
            plan,
            target,
            verdict,
            options.markdown_limit,
            options.full_plan.as_deref(),
        ),
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
    let admins = match plan.unmanaged_admins() {
        0 => String::new(),
        n => format!(", {n} of them admin{}", if n == 1 { "" } else { "s" }),
    };
    if !plan.unmanaged.is_empty() && !plan.is_empty() {
        tail.push(format!("{} unmanaged{admins}", plan.unmanaged.len()));
    }
    if !plan.manual.is_empty() {
        tail.push(format!("{} manual step(s)", plan.manual.len()));
    }
    if !plan.near_misses.is_empty() {
        tail.push(format!("{} warning(s)", plan.near_misses.len()));
    }
    let tail = if tail.is_empty() {
        String::new()
    } else {
        format!(" · {}", tail.join(" · "))
    };
    if plan.is_empty() && plan.unmanaged.is_empty() {
        return format!("No changes: the live state matches the configuration{tail}.");
    }
    if plan.is_empty() {
        return format!(
            "No changes to make, but the live state has {} unmanaged object(s){admins} that the configuration does not list{tail}.",
            plan.unmanaged.len()
        );
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
    let read = plan
        .read
        .map(|r| {
            format!(
                "reading took {} ({} request{}); ",
                human_seconds(r.seconds),
                r.requests,
                if r.requests == 1 { "" } else { "s" }
            )
        })
        .unwrap_or_default();
    let daily = plan
        .limits
        .writes_per_day
        .map(|d| format!(" and {d} writes/day"))
        .unwrap_or_default();
    let limits = if daily.is_empty() { "limit" } else { "limits" };
    Some(match (plan.min_seconds(), plan.limits.writes_per_minute) {
        (Some(0.0), Some(limit)) => format!(
            "Cost: {read}{writes} write call{}, within the API's {limits} of {limit} writes/min{daily}.",
            if writes == 1 { "" } else { "s" },
        ),
        (Some(secs), Some(limit)) => format!(
            "Cost: {read}{writes} write call{}; at the API's {limits} of {limit} writes/min{daily} the apply takes at least {}.",
            if writes == 1 { "" } else { "s" },
            human_seconds(secs)
        ),
        _ => format!(
            "Cost: {read}{writes} write call{}; the API reports no write limit.",
            if writes == 1 { "" } else { "s" }
        ),
    })
}

fn human_seconds(secs: f64) -> String {
    if secs < 60.0 {
        format!("{secs:.1} s")
    } else if secs < 3600.0 {
        format!("{:.0} min {:.0} s", (secs / 60.0).floor(), secs % 60.0)
    } else if secs < 2.0 * 86_400.0 {
        format!(
            "{:.0} h {:.0} min",
            (secs / 3600.0).floor(),
            ((secs % 3600.0) / 60.0).floor()
        )
    } else {
        format!(
            "{:.0} days {:.0} h",
            (secs / 86_400.0).floor(),
            ((secs % 86_400.0) / 3600.0).floor()
        )
    }
}

#[cfg(test)]
mod tests;
