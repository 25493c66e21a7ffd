//! Edge: `export`, the writer: puts an export's files into its target directory and removes
//! the configuration files there that the export did not write (customers gone from the live
//! state must not linger). Touches nothing outside the target: a name that would leave it is
//! refused, nothing is written, removed or walked through a link, and only regular, non-hidden
//! `*.yaml`/`*.yml` files (what the loader reads there) are removed, never one this run wrote.
//! Every path is checked before anything is written, so a refusal writes nothing.

use std::collections::{HashMap, HashSet};
use std::fs::Metadata;
use std::io::ErrorKind;
use std::path::{Component, Path, PathBuf};

use crate::config::{is_hidden, is_table_name, is_yaml_name};

/// Why a path in the target cannot be written.
#[derive(Debug, thiserror::Error)]
pub(super) enum Refusal {
    /// A file name that leads outside the target (absolute, or with `..`).
    #[error(
        "{}: the name leads outside {}; export names files only by valid keys, so this is a bug of partnerctl: please report it",
        .path.display(),
        .target.display()
    )]
    Outside {
        /// The name, as the export gave it.
        path: PathBuf,
        /// The target directory.
        target: PathBuf,
    },
    /// A link where a file or a directory is to be written.
    #[error(
        "{} is a link: export writes nothing through a link; remove the link, or choose another -o",
        .0.display()
    )]
    Link(PathBuf),
    /// Something else than what is to be written there.
    #[error("{} is {found}, not {wanted}: remove it, or choose another -o", .path.display())]
    Other {
        /// The path.
        path: PathBuf,
        /// What it is.
        found: &'static str,
        /// What the export would write there.
        wanted: &'static str,
    },
    /// The path could not be examined.
    #[error("cannot examine {}: {source}", .path.display())]
    Examine {
        /// The path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// Why an export was not (wholly) written.
#[derive(Debug, thiserror::Error)]
pub(super) enum WriteError {
    /// Paths that cannot be written safely: nothing was written.
    #[error("nothing was written to {}:\n{}", .target.display(), list(.refusals))]
    Refused {
        /// The target.
        target: PathBuf,
        /// Every path refused.
        refusals: Vec<Refusal>,
    },
    /// A file or directory could not be written.
    #[error("cannot write {}: {source}", .path.display())]
    Write {
        /// The path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A directory of the target could not be listed.
    #[error("cannot list {}: {source}", .path.display())]
    List {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A file that is no longer exported could not be removed.
    #[error("cannot remove {}: {source}", .path.display())]
    Remove {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

fn list(refusals: &[Refusal]) -> String {
    let lines: Vec<String> = refusals.iter().map(|r| format!("  {r}")).collect();
    lines.join("\n")
}

/// What [`write_dir`] did.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Outcome {
    /// Files written or already holding their text, relative to the target.
    pub written: usize,
    /// Files removed, relative to the target, sorted.
    pub removed: Vec<PathBuf>,
    /// Links with a configuration file's name that were left alone (the loader follows them),
    /// relative to the target, sorted.
    pub links_kept: Vec<PathBuf>,
}

/// What a file system entry is, for messages.
fn describe(meta: &Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_dir() {
        return "a directory";
    }
    if t.is_file() {
        return "a regular file";
    }
    if t.is_symlink() {
        return "a link";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if t.is_socket() {
            return "a socket";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
    }
    "a special file"
}

/// What is at `path`, without following a link; `None` when nothing is.
fn entry(path: &Path) -> Result<Option<Metadata>, Refusal> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) => Ok(Some(meta)),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(source) => Err(Refusal::Examine {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Can a regular file be written at `path` (nothing there, or a regular file)?
pub(super) fn check_file(path: &Path) -> Result<(), Refusal> {
    match entry(path)? {
        None => Ok(()),
        Some(meta) if meta.is_file() => Ok(()),
        Some(meta) if meta.file_type().is_symlink() => Err(Refusal::Link(path.to_path_buf())),
        Some(meta) => Err(Refusal::Other {
            path: path.to_path_buf(),
            found: describe(&meta),
            wanted: "a regular file",
        }),
    }
}

/// Is `rel` a name inside a directory (only plain names, no root, no `.` or `..`)?
fn stays_inside(rel: &Path) -> bool {
    rel.components().count() > 0 && rel.components().all(|c| matches!(c, Component::Normal(_)))
}

/// Every refusal for writing the files `rel` below `target`: a name leading outside, a link
/// or something other than a directory on the way, a link or something other than a regular
/// file in the file's place.
fn check_all<'a>(target: &Path, rels: impl Iterator<Item = &'a Path>) -> Vec<Refusal> {
    let mut refusals = Vec::new();
    // Each directory on the way, checked once: whether what is below it needs checking (it is
    // a directory already there, not a link).
    let mut dirs: HashMap<PathBuf, bool> = HashMap::new();
    for rel in rels {
        if !stays_inside(rel) {
            refusals.push(Refusal::Outside {
                path: rel.to_path_buf(),
                target: target.to_path_buf(),
            });
            continue;
        }
        let mut at = target.to_path_buf();
        let mut parts = rel.components().peekable();
        while let Some(part) = parts.next() {
            at.push(part);
            if parts.peek().is_none() {
                if let Err(r) = check_file(&at) {
                    refusals.push(r);
                }
                break;
            }
            let descend = *dirs.entry(at.clone()).or_insert_with(|| match entry(&at) {
                Ok(Some(meta)) if meta.is_dir() => true,
                Ok(None) => false,
                Ok(Some(meta)) if meta.file_type().is_symlink() => {
                    refusals.push(Refusal::Link(at.clone()));
                    false
                }
                Ok(Some(meta)) => {
                    refusals.push(Refusal::Other {
                        path: at.clone(),
                        found: describe(&meta),
                        wanted: "a directory",
                    });
                    false
                }
                Err(r) => {
                    refusals.push(r);
                    false
                }
            });
            // Nothing below a missing or refused directory needs checking.
            if !descend {
                break;
            }
        }
    }
    refusals
}

/// Identifies a directory (device and inode where the platform has them).
#[cfg(unix)]
fn dir_id(meta: &Metadata) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    Some((meta.dev(), meta.ino()))
}

#[cfg(not(unix))]
fn dir_id(_meta: &Metadata) -> Option<(u64, u64)> {
    None
}

/// The regular, non-hidden `*.yaml`/`*.yml` files below `target` (relative to it), walking
/// no link and no directory twice; and the links with such a name, left alone.
fn yaml_files(target: &Path) -> Result<(Vec<PathBuf>, Vec<PathBuf>), WriteError> {
    files_below(target, is_yaml_name)
}

/// The sheets (`*.csv`, `*.xlsx`, regular files or links, none hidden) below `target` that a
/// configuration directory there would read, relative to it, except `ours`. Nothing is read
/// when `target` is not a directory.
pub(super) fn other_tables(target: &Path, ours: &[&str]) -> Result<Vec<PathBuf>, WriteError> {
    if !std::fs::symlink_metadata(target).is_ok_and(|m| m.is_dir()) {
        return Ok(Vec::new());
    }
    let (mut files, links) = files_below(target, is_table_name)?;
    files.extend(links);
    files.retain(|rel| !ours.iter().any(|o| rel == Path::new(o)));
    files.sort();
    Ok(files)
}

/// The regular, non-hidden files below `target` (relative to it) whose name is `wanted`,
/// walking no link and no directory twice; and the links with such a name.
fn files_below(
    target: &Path,
    wanted: fn(&Path) -> bool,
) -> Result<(Vec<PathBuf>, Vec<PathBuf>), WriteError> {
    let (mut files, mut links) = (Vec::new(), Vec::new());
    let mut visited = HashSet::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let dir = target.join(&rel);
        let listing = |source| WriteError::List {
            path: dir.clone(),
            source,
        };
        let meta = std::fs::metadata(&dir).map_err(listing)?;
        if dir_id(&meta).is_some_and(|id| !visited.insert(id)) {
            continue;
        }
        for e in std::fs::read_dir(&dir).map_err(listing)? {
            let e = e.map_err(listing)?;
            let name = e.file_name();
            if is_hidden(&name) {
                continue;
            }
            let kind = e.file_type().map_err(listing)?;
            let rel = rel.join(&name);
            if kind.is_dir() {
                stack.push(rel);
            } else if wanted(&rel) && kind.is_file() {
                files.push(rel);
            } else if wanted(&rel) && kind.is_symlink() {
                links.push(rel);
            }
        }
    }
    files.sort();
    links.sort();
    Ok((files, links))
}

/// Writes `text` to `path` unless the regular file there already holds exactly that (a
/// re-export of an unchanged estate touches nothing).
fn write_if_changed(path: &Path, text: &str) -> std::io::Result<()> {
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        if meta.is_file()
            && meta.len() == text.len() as u64
            && std::fs::read(path)? == text.as_bytes()
        {
            return Ok(());
        }
    }
    super::super::replace::replace(path, text)
}

/// Creates the directories of `rel` below `target` that do not exist (each one checked by
/// [`check_all`] not to be a link).
fn make_dirs(target: &Path, rel: &Path, made: &mut HashSet<PathBuf>) -> Result<(), WriteError> {
    let Some(parent) = rel.parent() else {
        return Ok(());
    };
    let mut at = target.to_path_buf();
    for part in parent.components() {
        at.push(part);
        if made.contains(&at) {
            continue;
        }
        match std::fs::create_dir(&at) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::AlreadyExists && at.is_dir() => {}
            Err(source) => return Err(WriteError::Write { path: at, source }),
        }
        made.insert(at.clone());
    }
    Ok(())
}

/// Writes `files` (paths relative to `target`, and texts) into `target`, then removes the
/// regular `*.yaml`/`*.yml` files below it that it did not write. Nothing is written when a
/// path is refused.
pub(super) fn write_dir(target: &Path, files: &[(PathBuf, &str)]) -> Result<Outcome, WriteError> {
    let refusals = check_all(target, files.iter().map(|(rel, _)| rel.as_path()));
    if !refusals.is_empty() {
        return Err(WriteError::Refused {
            target: target.to_path_buf(),
            refusals,
        });
    }
    std::fs::create_dir_all(target).map_err(|source| WriteError::Write {
        path: target.to_path_buf(),
        source,
    })?;
    let (existing, links_kept) = yaml_files(target)?;
    let mut made = HashSet::new();
    let mut written: HashSet<&Path> = HashSet::new();
    for (rel, text) in files {
        make_dirs(target, rel, &mut made)?;
        let path = target.join(rel);
        write_if_changed(&path, text).map_err(|source| WriteError::Write { path, source })?;
        written.insert(rel);
    }
    let mut removed = Vec::new();
    // A path names one entry (no link is walked or written through), so a file written by
    // this run is never among those removed.
    for rel in existing
        .into_iter()
        .filter(|r| !written.contains(r.as_path()))
    {
        let path = target.join(&rel);
        // Still a regular file (not replaced by a link since it was listed).
        if !std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_file()) {
            continue;
        }
        std::fs::remove_file(&path).map_err(|source| WriteError::Remove { path, source })?;
        removed.push(rel);
    }
    Ok(Outcome {
        written: files.len(),
        removed,
        links_kept,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every path that cannot be written safely is refused in one go, and nothing is written.
    #[test]
    fn every_unsafe_path_is_refused_before_anything_is_written() {
        use std::os::unix::fs::symlink;
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out");
        std::fs::create_dir_all(target.join("customers/b.yaml")).unwrap();
        symlink(dir.path(), target.join("linked")).unwrap();
        symlink(dir.path().join("x"), target.join("partner.yaml")).unwrap();
        std::fs::write(target.join("file"), "").unwrap();
        let files: Vec<(PathBuf, &str)> = [
            "partner.yaml",
            "customers/a.yaml",
            "customers/b.yaml",
            "linked/c.yaml",
            "linked/d.yaml",
            "file/e.yaml",
            "../f.yaml",
            "/abs/g.yaml",
        ]
        .into_iter()
        .map(|p| (PathBuf::from(p), "text\n"))
        .collect();
        let err = write_dir(&target, &files).unwrap_err();
        let WriteError::Refused { refusals, .. } = &err else {
            panic!("{err}");
        };
        let at = |rel: &str| target.join(rel).display().to_string();
        let got: Vec<String> = refusals.iter().map(ToString::to_string).collect();
        assert_eq!(
            got,
            [
                format!(
                    "{} is a link: export writes nothing through a link; remove the link, or choose another -o",
                    at("partner.yaml")
                ),
                format!(
                    "{} is a directory, not a regular file: remove it, or choose another -o",
                    at("customers/b.yaml")
                ),
                format!(
                    "{} is a link: export writes nothing through a link; remove the link, or choose another -o",
                    at("linked")
                ),
                format!(
                    "{} is a regular file, not a directory: remove it, or choose another -o",
                    at("file")
                ),
                format!(
                    "../f.yaml: the name leads outside {}; export names files only by valid keys, so this is a bug of partnerctl: please report it",
                    target.display()
                ),
                format!(
                    "/abs/g.yaml: the name leads outside {}; export names files only by valid keys, so this is a bug of partnerctl: please report it",
                    target.display()
                ),
            ]
        );
        assert!(!target.join("customers/a.yaml").exists());
        assert!(!dir.path().join("f.yaml").exists() && !dir.path().join("c.yaml").exists());
    }

    #[test]
    fn names_leading_outside_are_refused() {
        for rel in [
            "../x.yaml",
            "/abs/x.yaml",
            "customers/../../x.yaml",
            "./x.yaml",
            "",
        ] {
            assert!(!stays_inside(Path::new(rel)), "{rel}");
        }
        for rel in ["x.yaml", "customers/x.yaml"] {
            assert!(stays_inside(Path::new(rel)), "{rel}");
        }
    }
}
