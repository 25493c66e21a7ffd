//! Stage `config`, the files: finds them ([`discover`]) and reads them ([`load`]), the only
//! I/O of the stage, then hands their texts to [`super::load`] (pure); a table's bytes become
//! text through [`super::decode`] (pure). For `validate` ([`check_for`]), a CSV table is not
//! read into memory: its file is kept open and read from its start, a buffer at a time, for
//! each pass the loader makes over it.
//!
//! What is pointed at may be hostile (links, special files, huge files), so the walk visits no
//! directory twice (by device and inode: a link to a parent, a sibling or itself is followed at
//! most once), reads only regular files (a FIFO, a socket or a device is a located problem,
//! never opened) and reads at most [`MAX_FILE_BYTES`] of one file.

use std::collections::HashSet;
use std::fs::{File, Metadata};
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use super::decode::{Decoded, Encoding, decode_owned, detect};
use super::load::{Checked, Input, check_inputs, check_owned, load_owned};
use super::yaml::Pos;
use super::{Catalog, Desired, Location, Needs, Problem, ProblemKind, Problems, Source};

/// The largest configuration file read, in bytes (256 MiB). A configuration of 100,000
/// customers is about 40 MB of YAML in all, so even written as one file it is well below this;
/// what is above is not a configuration (or should be split into several files).
pub const MAX_FILE_BYTES: u64 = 256 * 1024 * 1024;

/// What identifies a file or directory: its device and inode (where the platform has them).
#[cfg(unix)]
type Identity = (u64, u64);
#[cfg(not(unix))]
type Identity = PathBuf;

#[cfg(unix)]
fn identity(meta: &Metadata, _path: &Path) -> Identity {
    use std::os::unix::fs::MetadataExt;
    (meta.dev(), meta.ino())
}

#[cfg(not(unix))]
fn identity(_meta: &Metadata, path: &Path) -> Identity {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// What a file that is not a regular file (nor a directory) is, for messages.
fn special_kind(meta: &Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = meta.file_type();
        if t.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if t.is_socket() {
            return "a socket";
        }
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
    }
    let _ = meta;
    "neither a file nor a directory"
}

/// Is this the name of a file the loader reads below a directory? `*.yaml` and `*.yml`
/// exactly (in that case), and tables `*.csv` in any case.
fn is_config_name(path: &Path) -> bool {
    is_yaml_name(path) || is_table_name(path)
}

/// Is this the name of a table (`*.csv`), or of a workbook of tables (`*.xlsx`), in any case?
pub fn is_table_name(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv") || is_workbook_ext(e))
}

fn is_workbook_ext(e: &std::ffi::OsStr) -> bool {
    e.eq_ignore_ascii_case("xlsx")
}

/// Is this a `*.yaml` or `*.yml` name, as the loader matches them (that case exactly)?
pub fn is_yaml_name(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "yaml" || e == "yml")
}

/// Is this entry skipped by the walk (a hidden file or directory)?
pub fn is_hidden(name: &std::ffi::OsStr) -> bool {
    name.as_encoded_bytes().starts_with(b".")
}

/// Finds the config files named by `paths`: files as given, directories searched recursively for
/// `*.yaml`/`*.yml`, `*.csv` and `*.xlsx` (hidden entries skipped, links followed but no directory
/// visited twice), sorted. Unreadable paths, and paths that are not regular files, become
/// problems.
pub fn discover(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<Problem>) {
    let mut walk = Walk::default();
    for path in paths {
        match std::fs::metadata(path) {
            Err(e) => walk.problem(path, ProblemKind::Io(e.to_string())),
            Ok(meta) if meta.is_dir() => {
                let (before, found) = (walk.files.len(), walk.found);
                // A directory already walked as part of an earlier path had its files found
                // (or their absence reported) then.
                let walked = walk.dirs.contains(&identity(&meta, path));
                walk.dir(path, &meta);
                walk.files[before..].sort();
                let quiet = walk.problems.iter().any(|p| p.is_below(path));
                if walk.found == found && !walked && !quiet {
                    walk.problem(path, ProblemKind::NoFiles);
                }
            }
            Ok(meta) if meta.is_file() => walk.file(path, &meta),
            Ok(meta) => walk.problem(path, ProblemKind::NotAFile(special_kind(&meta))),
        }
    }
    (walk.files, walk.problems)
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

impl Problem {
    /// Is this a problem of `dir` or of something below it?
    fn is_below(&self, dir: &Path) -> bool {
        Path::new(&self.location.path).starts_with(dir)
    }
}

/// The walk of [`discover`]: what it found, and what it has been through.
#[derive(Default)]
struct Walk {
    /// The files found, in the order found (each directory's sorted by [`discover`]).
    files: Vec<PathBuf>,
    problems: Vec<Problem>,
    /// Every directory visited: none is visited twice.
    dirs: HashSet<Identity>,
    /// Every file found: none is read twice (through a link, or named twice).
    seen: HashSet<Identity>,
    /// How many times a file was found (a file found again counts again).
    found: usize,
}

impl Walk {
    fn problem(&mut self, path: &Path, kind: ProblemKind) {
        self.problems.push(whole_file(path, kind));
    }

    fn file(&mut self, path: &Path, meta: &Metadata) {
        self.found += 1;
        if self.seen.insert(identity(meta, path)) {
            self.files.push(path.to_path_buf());
        }
    }

    /// Every config file below `root` (whose metadata is `meta`), each directory's entries by
    /// name, and every directory that can be reached without a link before any reached through
    /// one: a file is found, and named in messages, by its own path where it has one, whatever
    /// order the file system lists entries in. A loop of links ends where it comes back to a
    /// directory already visited.
    fn dir(&mut self, root: &Path, meta: &Metadata) {
        // Directories to visit: those reached without a link first (depth first), then those
        // reached through one.
        let mut direct = vec![(root.to_path_buf(), identity(meta, root))];
        let mut linked: Vec<(PathBuf, Identity)> = Vec::new();
        while let Some((dir, id)) = direct.pop().or_else(|| linked.pop()) {
            if !self.dirs.insert(id) {
                continue;
            }
            let mut entries = match read_entries(&dir) {
                Ok(entries) => entries,
                Err(e) => {
                    self.problem(&dir, ProblemKind::Io(e.to_string()));
                    continue;
                }
            };
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            let (mut below, mut through_link) = (Vec::new(), Vec::new());
            for (name, kind) in entries {
                if is_hidden(&name) {
                    continue;
                }
                let path = dir.join(&name);
                let meta = if kind.is_symlink() {
                    match std::fs::metadata(&path) {
                        Ok(meta) => meta,
                        // A link that cannot be followed (it leads nowhere, or to itself) is a
                        // problem where a file would have been read, and nothing elsewhere.
                        Err(e) if is_config_name(&path) => {
                            let to = std::fs::read_link(&path)
                                .map(|t| t.display().to_string())
                                .unwrap_or_else(|_| "?".into());
                            let why = format!("a link to {to} that cannot be followed: {e}");
                            self.problem(&path, ProblemKind::Io(why));
                            continue;
                        }
                        Err(_) => continue,
                    }
                } else if kind.is_dir() || is_config_name(&path) {
                    match std::fs::symlink_metadata(&path) {
                        Ok(meta) => meta,
                        Err(e) => {
                            self.problem(&path, ProblemKind::Io(e.to_string()));
                            continue;
                        }
                    }
                } else {
                    continue;
                };
                if meta.is_dir() {
                    let id = identity(&meta, &path);
                    if !self.dirs.contains(&id) {
                        let to = if kind.is_symlink() {
                            &mut through_link
                        } else {
                            &mut below
                        };
                        to.push((path, id));
                    }
                } else if is_config_name(&path) {
                    if meta.is_file() {
                        self.file(&path, &meta);
                    } else {
                        self.problem(&path, ProblemKind::NotAFile(special_kind(&meta)));
                    }
                }
            }
            // By name: the first subdirectory is popped next.
            direct.extend(below.into_iter().rev());
            linked.extend(through_link.into_iter().rev());
        }
    }
}

/// The names and types (links not followed) of a directory's entries.
fn read_entries(dir: &Path) -> std::io::Result<Vec<(std::ffi::OsString, std::fs::FileType)>> {
    std::fs::read_dir(dir)?
        .map(|entry| {
            let entry = entry?;
            Ok((entry.file_name(), entry.file_type()?))
        })
        .collect()
}

/// Opens `path` for reading without waiting for anything: a FIFO put where the walk saw a
/// regular file opens at once (and is then refused for what it is) instead of blocking until
/// something writes to it. Reading a regular file is the same either way.
fn open_now(path: &Path) -> io::Result<(File, Metadata)> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path)?;
    let meta = file.metadata()?;
    Ok((file, meta))
}

/// The bytes of the regular file `path`, at most [`MAX_FILE_BYTES`] long.
fn read_bytes(path: &Path) -> Result<Vec<u8>, ProblemKind> {
    let io = |e: std::io::Error| ProblemKind::Io(e.to_string());
    let (file, meta) = open_now(path).map_err(io)?;
    if !meta.is_file() {
        return Err(ProblemKind::NotAFile(special_kind(&meta)));
    }
    let too_large = |size: u64| ProblemKind::TooLarge {
        size,
        limit: MAX_FILE_BYTES,
    };
    if meta.len() > MAX_FILE_BYTES {
        return Err(too_large(meta.len()));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    // A file that grows while it is read is still read only up to the limit.
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_large(bytes.len() as u64));
    }
    Ok(bytes)
}

/// The sources of the file `path`: a YAML file's text (UTF-8), or a table's (in any encoding
/// [`decode_owned`] reads) when its name is a table's or `table`; or its problem, located at its row
/// when it has one.
fn read_sources(path: &Path, table: bool) -> Result<Vec<Source>, Box<Problem>> {
    let shown = path.display().to_string();
    let bytes = read_bytes(path).map_err(|kind| Box::new(whole_file(path, kind)))?;
    if path.extension().is_some_and(is_workbook_ext) {
        return match super::xlsx::sheets(&bytes) {
            Ok(sheets) => Ok(sheets
                .into_iter()
                .map(|s| Source {
                    path: super::sheet_path(&shown, &s.name),
                    text: s.text,
                })
                .collect()),
            Err(e) => Err(Box::new(whole_file(path, ProblemKind::Workbook(e)))),
        };
    }
    if table || is_table_name(path) {
        return match decode_owned(bytes) {
            Ok(text) => Ok(vec![Source { path: shown, text }]),
            Err((pos, kind)) => Err(Box::new(Problem {
                location: Location { path: shown, pos },
                column: None,
                kind,
            })),
        };
    }
    match String::from_utf8(bytes) {
        Ok(text) => Ok(vec![Source { path: shown, text }]),
        Err(e) => Err(Box::new(whole_file(
            path,
            ProblemKind::Io(format!("not UTF-8 text ({e})")),
        ))),
    }
}

/// The table `path` (`partnerctl import`) as sources, or its problems.
pub fn read_table(path: &Path) -> Result<Vec<Source>, Problems> {
    let meta = std::fs::metadata(path)
        .map_err(|e| Problems(vec![whole_file(path, ProblemKind::Io(e.to_string()))]))?;
    if !meta.is_file() {
        let kind = ProblemKind::NotAFile(special_kind(&meta));
        return Err(Problems(vec![whole_file(path, kind)]));
    }
    read_sources(path, true).map_err(|p| Problems(vec![*p]))
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
    read_then(paths, |sources| load_owned(sources, catalog, needs))
}

/// What `validate` needs of a configuration: [`load_for`]'s checks, and what it holds counted
/// (the customers of tables are counted as they are read, not kept). A CSV table is never in
/// memory whole: it is read a buffer at a time from its file, which is kept open, for each
/// pass over it. (For a provider that keeps one role and one name per login, whose checks need
/// every user at once, the configuration is loaded whole, as [`load_for`] loads it.)
pub fn check_for(
    paths: &[PathBuf],
    catalog: Option<&Catalog>,
    needs: Needs,
) -> Result<Checked, Problems> {
    if needs.one_login {
        return read_then(paths, |sources| check_owned(sources, catalog, needs));
    }
    let read = |path: &Path| {
        if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
        {
            return Ok(vec![FileInput::Sheet(Sheet::new(path)?)]);
        }
        let sources = read_sources(path, false)?;
        Ok(sources.into_iter().map(FileInput::Text).collect())
    };
    read_with_then(paths, read, |inputs| check_inputs(inputs, catalog, needs))
}

/// A configuration file as `validate` reads it: its text, or a CSV table read from its file.
enum FileInput {
    Text(Source),
    Sheet(Sheet),
}

impl Input for FileInput {
    fn path(&self) -> &str {
        match self {
            FileInput::Text(s) => &s.path,
            FileInput::Sheet(s) => &s.path,
        }
    }

    fn text(&self) -> &str {
        match self {
            FileInput::Text(s) => &s.text,
            FileInput::Sheet(_) => "",
        }
    }

    fn open(&self) -> io::Result<Box<dyn Read + '_>> {
        match self {
            FileInput::Text(s) => s.open(),
            FileInput::Sheet(s) => s.text(),
        }
    }
}

/// A CSV table whose file is open: its encoding found once ([`detect`]), then read from its
/// start, a buffer at a time, each time it is gone through. Every pass reads the file that
/// was opened and checked to be a regular file (a path replaced meanwhile is not read), and at
/// most [`MAX_FILE_BYTES`] of it.
struct Sheet {
    /// The path as shown in messages.
    path: String,
    file: File,
    encoding: Encoding,
}

impl Sheet {
    /// Opens the table `path` and finds its encoding; or its problem, located at its row when
    /// it has one.
    fn new(path: &Path) -> Result<Sheet, Box<Problem>> {
        let shown = path.display().to_string();
        let whole = |kind| Box::new(whole_file(path, kind));
        let io = |e: io::Error| whole(ProblemKind::Io(e.to_string()));
        let (file, meta) = open_now(path).map_err(io)?;
        if !meta.is_file() {
            return Err(whole(ProblemKind::NotAFile(special_kind(&meta))));
        }
        let too_large = |size: u64| {
            whole(ProblemKind::TooLarge {
                size,
                limit: MAX_FILE_BYTES,
            })
        };
        if meta.len() > MAX_FILE_BYTES {
            return Err(too_large(meta.len()));
        }
        // A file that grows while it is read is still read only up to the limit.
        let mut at = At::new(&file, MAX_FILE_BYTES + 1);
        let found = detect(&mut at).map_err(io)?;
        if at.furthest > MAX_FILE_BYTES {
            return Err(too_large(at.furthest));
        }
        match found {
            Ok(encoding) => Ok(Sheet {
                path: shown,
                file,
                encoding,
            }),
            Err((pos, kind)) => Err(Box::new(Problem {
                location: Location { path: shown, pos },
                column: None,
                kind,
            })),
        }
    }

    /// The table's text from its start.
    fn text(&self) -> io::Result<Box<dyn Read + '_>> {
        let bytes = io::BufReader::with_capacity(64 * 1024, At::new(&self.file, MAX_FILE_BYTES));
        Ok(Box::new(Decoded::new(bytes, self.encoding)))
    }
}

/// Reads a file from an offset of its own, up to `end`, without moving the file's cursor:
/// several readers of one open file do not disturb each other.
struct At<'a> {
    file: &'a File,
    pos: u64,
    end: u64,
    /// The furthest offset read to.
    furthest: u64,
}

impl<'a> At<'a> {
    fn new(file: &'a File, end: u64) -> Self {
        At {
            file,
            pos: 0,
            end,
            furthest: 0,
        }
    }
}

impl Read for At<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let left = self.end.saturating_sub(self.pos);
        let want = usize::try_from(left).map_or(out.len(), |l| l.min(out.len()));
        if want == 0 {
            return Ok(0);
        }
        let n = read_at(self.file, &mut out[..want], self.pos)?;
        self.pos += n as u64;
        self.furthest = self.furthest.max(self.pos);
        Ok(n)
    }
}

impl Seek for At<'_> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let to = match to {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
            SeekFrom::End(d) => self.file.metadata()?.len().checked_add_signed(d),
        };
        self.pos = to.ok_or_else(|| io::Error::from(io::ErrorKind::InvalidInput))?;
        Ok(self.pos)
    }
}

#[cfg(unix)]
fn read_at(file: &File, buf: &mut [u8], pos: u64) -> io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(file, buf, pos)
}

#[cfg(windows)]
fn read_at(file: &File, buf: &mut [u8], pos: u64) -> io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(file, buf, pos)
}

#[cfg(not(any(unix, windows)))]
fn read_at(mut file: &File, buf: &mut [u8], pos: u64) -> io::Result<usize> {
    file.seek(SeekFrom::Start(pos))?;
    file.read(buf)
}

/// Reads the configuration files named by `paths` and hands them to `then`; every problem of
/// reading them with those of `then`.
fn read_then<T>(
    paths: &[PathBuf],
    then: impl FnOnce(Vec<Source>) -> Result<T, Problems>,
) -> Result<T, Problems> {
    read_with_then(paths, |f| read_sources(f, false), then)
}

/// [`read_then`], each file read by `read`.
fn read_with_then<I, T>(
    paths: &[PathBuf],
    read: impl Fn(&Path) -> Result<Vec<I>, Box<Problem>>,
    then: impl FnOnce(Vec<I>) -> Result<T, Problems>,
) -> Result<T, Problems> {
    let (files, mut io_problems) = discover(paths);
    let mut sources = Vec::new();
    for f in files {
        match read(&f) {
            Ok(mut s) => sources.append(&mut s),
            Err(problem) => io_problems.push(*problem),
        }
    }
    if sources.is_empty() && !io_problems.is_empty() {
        return Err(Problems(io_problems));
    }
    match then(sources) {
        Ok(desired) if io_problems.is_empty() => Ok(desired),
        Ok(_) => Err(Problems(io_problems)),
        Err(Problems(mut rest)) => {
            io_problems.append(&mut rest);
            Err(Problems(io_problems))
        }
    }
}

#[cfg(test)]
mod tests;
