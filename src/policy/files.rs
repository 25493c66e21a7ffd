//! Stage `policy`, files: the policy files a list of paths names (a file as it is; a
//! directory, every `*.rego` below it, sorted, hidden entries and links to directories left
//! out), read with their SHA-256 digests. Reads the files it is given; writes nothing.

use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use super::{MAX_POLICY_BYTES, PolicyError, PolicyErrors};

/// Which files of a directory are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selection {
    /// The policies: every `*.rego` but the tests (`*_test.rego`), as `--policy` reads them.
    Policies,
    /// The policies and their tests, as `partnerctl policy test` reads them.
    WithTests,
}

/// One policy file, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyFile {
    /// Its path as given (below a directory given, joined to it), without `.` components.
    pub path: String,
    /// Its text.
    pub text: String,
    /// The SHA-256 of its bytes, in lower-case hex.
    pub sha256: String,
}

/// A policy file by its path and the digest of its content, as saved plans record it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Digest {
    /// Its path as given, without `.` components.
    pub path: String,
    /// The SHA-256 of its bytes, in lower-case hex.
    pub sha256: String,
}

impl PolicyFile {
    /// Its path and digest.
    pub fn digest(&self) -> Digest {
        Digest {
            path: self.path.clone(),
            sha256: self.sha256.clone(),
        }
    }
}

/// Is this file name a test's (`*_test.rego`)?
fn is_test(name: &str) -> bool {
    name.ends_with("_test.rego")
}

/// `path` as shown and recorded: its components without `.`, joined by `/`.
fn shown(path: &Path) -> String {
    let parts: Vec<String> = path
        .components()
        .filter(|c| !matches!(c, Component::CurDir))
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    match parts.as_slice() {
        [] => ".".to_string(),
        [first, rest @ ..] if first == "/" => format!("/{}", rest.join("/")),
        _ => parts.join("/"),
    }
}

/// Every `*.rego` below `dir` that `selection` takes, sorted by path; hidden entries and
/// links to directories are left out.
fn walk(dir: &Path, selection: Selection, out: &mut Vec<PathBuf>) -> Result<(), PolicyError> {
    let read = |e: std::io::Error| PolicyError::Read {
        path: shown(dir),
        reason: e.to_string(),
    };
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(read)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .map_err(read)?;
    entries.sort();
    for path in entries {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name.starts_with('.') {
            continue;
        }
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if meta.is_dir() {
            walk(&path, selection, out)?;
        } else if name.ends_with(".rego")
            && !(selection == Selection::Policies && is_test(&name))
            && std::fs::metadata(&path).is_ok_and(|m| m.is_file())
        {
            out.push(path);
        }
    }
    Ok(())
}

/// Reads one file, bounded by [`MAX_POLICY_BYTES`].
fn read(path: &Path) -> Result<PolicyFile, PolicyError> {
    let shown = shown(path);
    let bytes = std::fs::metadata(path)
        .map_err(|e| PolicyError::Read {
            path: shown.clone(),
            reason: e.to_string(),
        })?
        .len();
    if bytes > MAX_POLICY_BYTES {
        return Err(PolicyError::TooLarge { path: shown, bytes });
    }
    let text = std::fs::read_to_string(path).map_err(|e| PolicyError::Read {
        path: shown.clone(),
        reason: e.to_string(),
    })?;
    let sha256 = format!("{:x}", Sha256::digest(text.as_bytes()));
    Ok(PolicyFile {
        path: shown,
        text,
        sha256,
    })
}

/// The policy files `paths` name: a file as it is (whatever its name), a directory's
/// `*.rego` files below it as `selection` says. A file named twice is read once. Every path
/// that cannot be read, and every directory without a policy, is an error; all are reported.
pub fn find(paths: &[PathBuf], selection: Selection) -> Result<Vec<PolicyFile>, PolicyErrors> {
    let (files, errors) = read_all(paths, selection);
    if errors.is_empty() {
        Ok(files)
    } else {
        Err(PolicyErrors(errors))
    }
}

/// What [`find`] finds: the files it could read, and every error.
pub(super) fn read_all(
    paths: &[PathBuf],
    selection: Selection,
) -> (Vec<PolicyFile>, Vec<PolicyError>) {
    let mut errors = Vec::new();
    let mut found = Vec::new();
    for path in paths {
        match std::fs::metadata(path) {
            Ok(meta) if meta.is_dir() => {
                let mut below = Vec::new();
                match walk(path, selection, &mut below) {
                    Err(e) => errors.push(e),
                    Ok(()) if below.is_empty() => {
                        errors.push(PolicyError::Empty { path: shown(path) })
                    }
                    Ok(()) => found.extend(below),
                }
            }
            Ok(_) => found.push(path.clone()),
            Err(e) => errors.push(PolicyError::Read {
                path: shown(path),
                reason: e.to_string(),
            }),
        }
    }
    let mut seen = BTreeSet::new();
    let mut files = Vec::new();
    for path in found {
        if !seen.insert(shown(&path)) {
            continue;
        }
        match read(&path) {
            Ok(f) => files.push(f),
            Err(e) => errors.push(e),
        }
    }
    (files, errors)
}
