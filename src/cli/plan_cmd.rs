//! Edge: `validate` and `plan`, and the connect-and-plan step `apply` shares.

use std::mem::ManuallyDrop;
use std::path::{Path, PathBuf};

use super::policy_cmd::{Judge, PolicyArgs, report_denials, report_on_configuration};
use super::{
    EXIT_CHANGES, EXIT_ERROR, EXIT_OK, FormatArgs, GlobalArgs, PlanArgs, ShowArgs, runtime,
    use_color,
};
use crate::config;
use crate::endpoint;
use crate::live::PartnerInfo;
use crate::output::{self, print_stdout};
use crate::plan::{self, PlanKey, SavedPlan};
use crate::policy;
use crate::provider::Provider;
use crate::provider::Target;
use crate::render::{self, Format, Verdict};

/// Connects (endpoint or embedded sandbox), reads the live snapshot, caches its service catalog
/// (see [`super::catalog::save`]) and plans; returns the snapshot too. The connection stays
/// open (the embedded sandbox keeps running) until the caller closes it.
///
/// `check` sees the live partner before anything is planned: an error from it closes the
/// connection and is returned.
pub(super) fn connect_and_plan(
    rt: &tokio::runtime::Runtime,
    global: &GlobalArgs,
    desired: &config::Desired,
    options: plan::Options,
    targets: &[String],
    check: impl FnOnce(&PartnerInfo) -> anyhow::Result<()>,
) -> anyhow::Result<(
    endpoint::Connection,
    crate::live::Snapshot,
    Result<plan::Plan, plan::PlanErrors>,
)> {
    let choice = endpoint::choose(global.endpoint.as_deref(), endpoint::ci_from_env())?;
    rt.block_on(async {
        let conn = endpoint::connect(
            &choice,
            endpoint::EmbeddedPartner::Config(&desired.partner.name),
            &global.connection(),
        )
        .await?;
        match conn.provider.snapshot().await {
            Ok(snapshot) => {
                if let Err(e) = check(&snapshot.partner) {
                    conn.close().await?;
                    return Err(e);
                }
                let provider = &conn.provider;
                let caps = provider.capabilities();
                if caps.services {
                    super::catalog::save(&plan::catalog(&snapshot.catalog), &conn.target);
                }
                let plan = plan::plan_for(desired, &snapshot, options, &caps)
                    .and_then(|p| plan::restrict(p, desired, &snapshot, targets))
                    .map(|p| {
                        plan::with_capabilities(p, &caps, &snapshot, |op, parent| {
                            provider.runbook(op, parent)
                        })
                    });
                Ok((conn, snapshot, plan))
            }
            Err(e) => {
                conn.close().await?;
                Err(e.into())
            }
        }
    })
}

/// The plan, or `None` after printing every planning error.
pub(super) fn plan_or_report(plan: Result<plan::Plan, plan::PlanErrors>) -> Option<plan::Plan> {
    match plan {
        Ok(p) => Some(p),
        Err(errors) => {
            // Located as the configuration's problems are: `path:line:col: message`.
            output::diagnostics(&errors.0);
            output::note(&format!(
                "{} planning error(s); nothing was changed",
                errors.0.len()
            ));
            None
        }
    }
}

/// The closing line after a refused plan (the refusals themselves are in the rendered plan).
pub(super) fn report_refusals(r: &plan::Refusals) {
    output::error(&format!(
        "the plan is refused ({} reason{}); see above. Nothing was changed.",
        r.0.len(),
        if r.0.len() == 1 { "" } else { "s" }
    ));
}

/// Loads the configuration for a provider that needs what `needs` says, printing its problems;
/// `None` when it is invalid.
pub(super) fn load_config(paths: &[PathBuf], needs: config::Needs) -> Option<config::Desired> {
    match config::load_for(paths, None, needs) {
        Ok(d) => {
            warnings(&d);
            Some(d)
        }
        Err(problems) => {
            output::diagnostics(&problems.0);
            let n = problems.errors();
            output::note(&format!(
                "{n} problem{} found in the configuration; nothing was read from or written to the API",
                if n == 1 { "" } else { "s" }
            ));
            None
        }
    }
}

/// Prints the warnings of a configuration that loaded (on stderr, like its problems).
pub(super) fn warnings(desired: &config::Desired) {
    if !desired.warnings.is_empty() {
        output::diagnostics(&desired.warnings);
    }
}

/// Prints `plan` in `format` (colour only for text on a terminal), with its `verdict`.
/// `saved` names the saved plan, which a shortened markdown plan points to.
fn print_plan(
    global: &GlobalArgs,
    plan: &plan::Plan,
    target: &Target,
    verdict: Verdict<'_>,
    format: &FormatArgs,
    saved: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    let options = render::Options {
        color: format.format == Format::Text && use_color(global.color),
        markdown_limit: format.markdown_limit,
        full_plan: saved.map(|f| format!("partnerctl show {}", f.display())),
    };
    let text = render::render(plan, target, verdict, format.format, &options);
    print_stdout(&text)?;
    Ok(())
}

/// The key of `PARTNERCTL_PLAN_KEY` that signs saved plans and verifies them: `None` when the
/// variable is not set; an error when it is set but empty (a CI secret that is not set).
pub(super) fn plan_key() -> anyhow::Result<Option<PlanKey>> {
    match std::env::var_os("PARTNERCTL_PLAN_KEY") {
        None => Ok(None),
        Some(value) => match PlanKey::new(value.into_encoded_bytes()) {
            Some(key) => Ok(Some(key)),
            None => anyhow::bail!(
                "PARTNERCTL_PLAN_KEY is set but empty (in CI: a secret that is not set): set it to the secret that signs and verifies saved plans (e.g. the output of `openssl rand -hex 32`), or unset it to save plans unsigned"
            ),
        },
    }
}

/// `show FILE`: a saved plan rendered again, exactly as `plan` printed it, without the API.
pub(super) fn show_command(global: &GlobalArgs, args: &ShowArgs) -> anyhow::Result<u8> {
    let key = plan_key()?;
    let text = std::fs::read_to_string(&args.file)
        .map_err(|e| anyhow::anyhow!("cannot read the plan {}: {e}", args.file.display()))?;
    let saved = SavedPlan::from_json(&text, key.as_ref())
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.file.display()))?;
    if key.is_none() && saved.is_signed() && !global.quiet {
        output::note(&format!(
            "{} is signed; its signature was not checked (PARTNERCTL_PLAN_KEY is not set), only its digest.",
            args.file.display()
        ));
    }
    let plan = saved.plan();
    let target = Target {
        endpoint: saved.context.endpoint.clone(),
        embedded: saved.context.embedded,
    };
    let refusals = plan.check_safety().err();
    let policy = saved.policy_outcome();
    let verdict = Verdict {
        refusals: refusals.as_ref(),
        policy: policy.as_ref(),
    };
    print_plan(
        global,
        &plan,
        &target,
        verdict,
        &args.format,
        Some(&args.file),
    )?;
    Ok(EXIT_OK)
}

/// The start of every saved plan's text (its first member), whatever its format version.
const SAVED_PLAN_START: &str = "{\n  \"format_version\": \"";

/// Does the regular file `path` start like a saved plan? Reads its first bytes only.
fn is_saved_plan(path: &Path) -> std::io::Result<bool> {
    use std::io::Read;
    let mut head = Vec::with_capacity(256);
    std::fs::File::open(path)?
        .take(256)
        .read_to_end(&mut head)?;
    let head = String::from_utf8_lossy(&head);
    Ok(head.starts_with(SAVED_PLAN_START) && head.contains("\"partnerctl_version\": \""))
}

/// Device and inode of what `path` leads to (where the platform has them).
#[cfg(unix)]
fn file_id(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn file_id(path: &Path) -> Option<PathBuf> {
    std::fs::canonicalize(path).ok()
}

/// Refuses (before anything is read from the API) to save the plan to `out` when that would
/// replace one of the configuration's own files (never allowed), something else than a regular
/// file, or a file that is neither empty nor a saved plan (unless `overwrite`).
fn check_plan_out(out: &Path, desired: &config::Desired, overwrite: bool) -> anyhow::Result<()> {
    let Ok(meta) = std::fs::metadata(out) else {
        // Nothing there (or a link leading nowhere, which the saved plan replaces).
        return Ok(());
    };
    let id = file_id(out);
    if let Some(source) = desired
        .sources
        .iter()
        .find(|s| id.is_some() && file_id(Path::new(config::source_file(&s.path))) == id)
    {
        anyhow::bail!(
            "{} is a file of the configuration being planned ({}); a plan is never saved over it, even with --overwrite. Nothing was planned: choose another -o",
            out.display(),
            source.path
        );
    }
    if !meta.is_file() {
        anyhow::bail!(
            "{} exists and is not a regular file; nothing was planned. Choose another -o",
            out.display()
        );
    }
    // An empty file (made by `mktemp`, say) holds nothing to lose.
    let is_plan = meta.len() == 0
        || is_saved_plan(out).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", out.display()))?;
    if !is_plan && !overwrite {
        anyhow::bail!(
            "{} exists and is not a saved plan; nothing was planned. Pass --overwrite to replace it, or choose another -o",
            out.display()
        );
    }
    Ok(())
}

pub(super) fn plan_command(global: &GlobalArgs, args: &PlanArgs) -> anyhow::Result<u8> {
    // Both read and checked before the API, each reporting every problem.
    let desired = load_config(&args.paths, global.needs());
    let judge = Judge::load(global, &args.policy);
    let (Some(desired), Some(judge)) = (desired, judge) else {
        return Ok(EXIT_ERROR);
    };
    if let Some(out) = &args.out {
        check_plan_out(out, &desired, args.overwrite)?;
    }
    let key = match &args.out {
        Some(_) => plan_key()?,
        None => None,
    };
    // The process ends with this command: its memory goes back at exit at once, rather than
    // object by object (a tenth of a second and more for a large configuration and its plan).
    let desired = ManuallyDrop::new(desired);
    let rt = runtime()?;
    let options = args.flags.options();
    let mut judge = judge;
    let (conn, _, plan) = judge.while_reading(&desired, || {
        connect_and_plan(&rt, global, &desired, options, &args.flags.targets, |_| {
            Ok(())
        })
    })?;
    let target = conn.target.clone();
    rt.block_on(conn.close())?;
    let Some(plan) = plan_or_report(plan) else {
        return Ok(EXIT_ERROR);
    };
    let plan = ManuallyDrop::new(plan);
    let refusals = plan.check_safety().err();
    let Ok(policy) = judge.plan(&desired, &plan, &target, refusals.as_ref()) else {
        return Ok(EXIT_ERROR);
    };
    let denied = policy.as_ref().is_some_and(policy::Outcome::denied);
    // A refused plan is never saved, so the plan names no saved file either.
    let out = args
        .out
        .as_deref()
        .filter(|_| refusals.is_none() && !denied);
    let verdict = Verdict {
        refusals: refusals.as_ref(),
        policy: policy.as_ref(),
    };
    print_plan(global, &plan, &target, verdict, &args.format, out)?;
    if let Some(out) = out {
        let saved = SavedPlan::new(
            &plan,
            &desired.sources,
            &target.endpoint,
            target.embedded,
            policy.as_ref(),
            key.as_ref(),
        );
        // Written beside it and renamed over it: a crash leaves the old file or the new one.
        super::replace::replace(out, saved.to_json())
            .map_err(|e| anyhow::anyhow!("cannot write the plan to {}: {e}", out.display()))?;
        if !global.quiet && plan.is_empty() {
            output::note(&format!(
                "Saved the plan to {} ({}{}): it has no changes, so there is nothing to apply.",
                out.display(),
                saved.short_digest(),
                if saved.is_signed() { ", signed" } else { "" },
            ));
        } else if !global.quiet {
            output::note(&format!(
                "Saved the plan to {} ({}{}); run `partnerctl apply --plan {}{}` to execute exactly these operations.",
                out.display(),
                saved.short_digest(),
                if saved.is_signed() { ", signed" } else { "" },
                out.display(),
                saved
                    .guard_flags()
                    .iter()
                    .map(|f| format!(" {f}"))
                    .collect::<String>()
            ));
        }
    }
    if refusals.is_some() || denied {
        if let Some(out) = &args.out {
            output::error(&format!(
                "the plan was not saved to {}: a refused plan is never saved.",
                out.display()
            ));
        }
        if let Some(r) = &refusals {
            report_refusals(r);
        }
        if let Some(outcome) = policy.as_ref().filter(|o| o.denied()) {
            report_denials(outcome);
        }
        return Ok(EXIT_ERROR);
    }
    if !args.detailed_exitcode {
        return Ok(EXIT_OK);
    }
    let accept = match (args.accept_unmanaged, args.accept_unmanaged_admins) {
        (false, _) => plan::Accept::Nothing,
        (true, false) => plan::Accept::Unmanaged,
        (true, true) => plan::Accept::UnmanagedAndAdmins,
    };
    if !plan.has_drift(accept) {
        return Ok(EXIT_OK);
    }
    if plan.is_empty() && accept == plan::Accept::Unmanaged {
        output::note(&unaccepted_admins(&plan));
    }
    Ok(EXIT_CHANGES)
}

/// Why `--accept-unmanaged` left the exit code at 2 for a plan without operations: the
/// unmanaged admins of the partner and of managed accounts, named.
fn unaccepted_admins(plan: &plan::Plan) -> String {
    let admins = plan.unmanaged_admins_on_managed();
    let names: Vec<String> = admins
        .iter()
        .map(|u| match &u.object {
            plan::UnmanagedObject::User { email, account, .. } => format!("{email} on {account}"),
            _ => u.address.clone(),
        })
        .collect();
    format!(
        "Exit code 2: --accept-unmanaged does not accept unmanaged admins of the partner or of accounts the configuration manages: {}. List them in the configuration or remove them, or pass --accept-unmanaged-admins as well to accept them.",
        names.join(", ")
    )
}

/// `validate [--catalog FILE] [--policy PATH] PATH...`: every problem of the configuration,
/// for the provider `global` chose, its services checked against the chosen catalog; the
/// summary line says which catalog that was. With policies, they judge the configuration
/// alone (no plan): a denial is a problem.
pub(super) fn validate(
    global: &GlobalArgs,
    paths: &[PathBuf],
    catalog: Option<&Path>,
    policy: &PolicyArgs,
) -> anyhow::Result<u8> {
    let chosen = super::catalog::for_validate(catalog)?;
    let found = |problems: &config::Problems| {
        output::diagnostics(&problems.0);
        let n = problems.errors();
        output::note(&format!(
            "{n} problem{} found; {}",
            if n == 1 { "" } else { "s" },
            chosen.clause
        ));
        Ok(EXIT_ERROR)
    };
    let valid = |counts: &dyn std::fmt::Display, files: usize| {
        print_stdout(&format!(
            "valid: {counts} ({files} file{}); {}\n",
            if files == 1 { "" } else { "s" },
            chosen.clause
        ))?;
        Ok(EXIT_OK)
    };
    if policy.policies.is_empty() {
        // Without policies nothing needs the whole configuration at once: tables are checked
        // and counted a chunk of rows at a time.
        return match config::check_for(paths, chosen.catalog.as_ref(), global.needs()) {
            Ok(checked) => {
                if !checked.warnings.is_empty() {
                    output::diagnostics(&checked.warnings);
                }
                valid(&checked.counts, checked.files)
            }
            Err(problems) => found(&problems),
        };
    }
    // Policies judge the configuration as loaded.
    let loaded = config::load_for(paths, chosen.catalog.as_ref(), global.needs());
    let Some(judge) = Judge::load(global, policy) else {
        if let Err(problems) = &loaded {
            output::diagnostics(&problems.0);
        }
        return Ok(EXIT_ERROR);
    };
    match loaded {
        Ok(desired) => {
            // Freed at exit at once, as in `plan_command`.
            let desired = ManuallyDrop::new(desired);
            warnings(&desired);
            let Ok(outcome) = judge.configuration(&desired) else {
                return Ok(EXIT_ERROR);
            };
            if outcome.as_ref().is_some_and(report_on_configuration) {
                let n = outcome.as_ref().map_or(0, |o| o.denials.len());
                output::note(&format!(
                    "{n} policy denial{} of the configuration; {}",
                    if n == 1 { "" } else { "s" },
                    chosen.clause
                ));
                return Ok(EXIT_ERROR);
            }
            valid(&desired.counts(), desired.sources.len())
        }
        Err(problems) => found(&problems),
    }
}
