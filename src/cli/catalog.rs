//! Edge: which service catalog `validate` checks services against (a file given with
//! `--catalog`, else the one the last plan in this directory cached, else none), and writing
//! that cache after a plan read the live one. May touch: `.partnerctl/catalog.json` in the
//! working directory, the named catalog file, the environment (`CI`).

use std::path::Path;

use anyhow::Context;

use crate::config::Catalog;
use crate::endpoint;
use crate::provider::Target;

/// Where a plan caches the live catalog, relative to the working directory (beside the
/// embedded sandbox's `.partnerctl/sandbox.db`).
pub(super) const CACHE: &str = ".partnerctl/catalog.json";

/// The catalog `validate` uses, and the words saying which one it is.
pub(super) struct Chosen {
    /// The catalog, if there is one.
    pub(super) catalog: Option<Catalog>,
    /// The end of validate's summary line: what services were checked against.
    pub(super) clause: String,
}

fn types(catalog: &Catalog) -> String {
    match catalog.len() {
        1 => "1 type".to_string(),
        n => format!("{n} types"),
    }
}

/// `--catalog FILE` (an error when it cannot be used), else the cache of the working directory
/// (ignored with a warning when it cannot be used), else none; the clause for none suggests
/// the cache only where a plan writes it (not under `CI`).
pub(super) fn for_validate(file: Option<&Path>) -> anyhow::Result<Chosen> {
    if let Some(file) = file {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read the catalog {}", file.display()))?;
        let read = Catalog::from_json(&text).with_context(|| {
            format!(
                "{} is not a service catalog; give a list of service types as GET /v1/service-types returns them, or its whole response",
                file.display()
            )
        })?;
        let clause = format!(
            "services checked against the catalog {} ({})",
            file.display(),
            types(&read.catalog)
        );
        return Ok(Chosen {
            catalog: Some(read.catalog),
            clause,
        });
    }
    // Under CI no plan caches the catalog (see [`save`]), so only --catalog can give one.
    let how = if endpoint::ci_from_env() {
        "pass --catalog FILE"
    } else {
        "pass --catalog FILE, or run `partnerctl plan` in this directory once to cache the live one"
    };
    let not_checked = Chosen {
        catalog: None,
        clause: format!("service types and settings not checked: no catalog ({how})"),
    };
    let text = match std::fs::read_to_string(CACHE) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(not_checked),
        Err(e) => {
            tracing::warn!("ignoring the cached service catalog {CACHE}: {e}");
            return Ok(not_checked);
        }
    };
    match Catalog::from_json(&text) {
        Ok(read) => {
            let from = read
                .source
                .map(|s| format!(" from {s}"))
                .unwrap_or_default();
            let clause = format!(
                "services checked against the catalog cached by the last plan ({CACHE}{from}, {})",
                types(&read.catalog)
            );
            Ok(Chosen {
                catalog: Some(read.catalog),
                clause,
            })
        }
        Err(e) => {
            tracing::warn!(
                "ignoring the cached service catalog {CACHE}: {e}; the next `partnerctl plan` replaces it"
            );
            Ok(not_checked)
        }
    }
}

/// Caches the catalog a plan read from `target` for `validate`, except under `CI`: a CI
/// workspace is thrown away after the job, and a file appearing in its checkout could be
/// committed or archived by a later step. Failing to write is a warning, never an error.
pub(super) fn save(catalog: &Catalog, target: &Target) {
    if endpoint::ci_from_env() {
        return;
    }
    let source = if target.embedded {
        "the embedded sandbox".to_string()
    } else {
        target.endpoint.clone()
    };
    if let Err(e) = write_atomically(Path::new(CACHE), &catalog.to_json(&source)) {
        tracing::warn!(
            "could not cache the service catalog in {CACHE} for `partnerctl validate`: {e}"
        );
    }
}

/// Writes `text` to a temporary file beside `path` and renames it over `path`, so that a
/// concurrent reader sees the old or the new file, never half of one.
fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension(format!("json.{}.tmp", std::process::id()));
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}
