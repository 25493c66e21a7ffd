//! Stage `config`, the files: finds them ([`discover`]) and reads them ([`load`]), the only
//! I/O of the stage, then hands their texts to [`super::load`] (pure).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::load::load_owned;
use super::yaml::Pos;
use super::{Catalog, Desired, Location, Needs, Problem, ProblemKind, Problems, Source};

/// Finds the config files named by `paths`: files as given, directories searched recursively for
/// `*.yaml`/`*.yml` (hidden entries skipped), sorted. Unreadable paths become problems.
pub fn discover(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<Problem>) {
    let mut files = Vec::new();
    let mut problems = Vec::new();
    let mut seen = HashSet::new();
    for path in paths {
        let here = |kind| whole_file(path, kind);
        match std::fs::metadata(path) {
            Err(e) => problems.push(here(ProblemKind::Io(e.to_string()))),
            Ok(meta) if meta.is_dir() => {
                let mut found = Vec::new();
                if let Err(e) = walk_dir(path, &mut found) {
                    problems.push(here(ProblemKind::Io(e.to_string())));
                }
                found.sort();
                if found.is_empty() {
                    problems.push(here(ProblemKind::NoFiles));
                }
                for f in found {
                    if seen.insert(std::fs::canonicalize(&f).unwrap_or_else(|_| f.clone())) {
                        files.push(f);
                    }
                }
            }
            Ok(_) => {
                if seen.insert(std::fs::canonicalize(path).unwrap_or_else(|_| path.clone())) {
                    files.push(path.clone());
                }
            }
        }
    }
    (files, problems)
}

/// A problem of a whole file or directory (no line: it could not be read, or holds no files).
fn whole_file(path: &Path, kind: ProblemKind) -> Problem {
    Problem {
        location: Location {
            path: path.display().to_string(),
            pos: Pos { line: 0, col: 0 },
        },
        column: None,
        kind,
    }
}

fn walk_dir(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let path = entry.path();
        let kind = entry.file_type()?;
        if kind.is_dir() || (kind.is_symlink() && path.is_dir()) {
            walk_dir(&path, out)?;
        } else if path
            .extension()
            .is_some_and(|e| e == "yaml" || e == "yml" || e.eq_ignore_ascii_case("csv"))
        {
            out.push(path);
        }
    }
    Ok(())
}

/// Reads and validates a configuration given as files and directories.
pub fn load(paths: &[PathBuf]) -> Result<Desired, Problems> {
    load_with(paths, None)
}

/// [`load`], also checking every service against `catalog` when one is given.
pub fn load_with(paths: &[PathBuf], catalog: Option<&Catalog>) -> Result<Desired, Problems> {
    load_for(paths, catalog, Needs::default())
}

/// [`load_with`], for a provider that needs what `needs` says (a provider that stores no
/// contacts needs no customer's `contact`).
pub fn load_for(
    paths: &[PathBuf],
    catalog: Option<&Catalog>,
    needs: Needs,
) -> Result<Desired, Problems> {
    let (files, mut io_problems) = discover(paths);
    let mut sources = Vec::new();
    for f in files {
        match std::fs::read(&f) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => sources.push(Source {
                    path: f.display().to_string(),
                    text,
                }),
                Err(e) => io_problems.push(whole_file(
                    &f,
                    ProblemKind::Io(format!("not UTF-8 text ({e})")),
                )),
            },
            Err(e) => io_problems.push(whole_file(&f, ProblemKind::Io(e.to_string()))),
        }
    }
    if sources.is_empty() && !io_problems.is_empty() {
        return Err(Problems(io_problems));
    }
    match load_owned(sources, catalog, needs) {
        Ok(desired) if io_problems.is_empty() => Ok(desired),
        Ok(_) => Err(Problems(io_problems)),
        Err(Problems(mut rest)) => {
            io_problems.append(&mut rest);
            Err(Problems(io_problems))
        }
    }
}
