//! The walk and the reads of configuration files on real directory trees that fight back:
//! links to parents, siblings and themselves, FIFOs, sockets, devices and oversized files.
//! Every load runs on its own thread under a deadline, so a walk that loops or a read that
//! blocks fails the test instead of hanging it.

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use super::*;

const PARTNER: &str = "version: 1\npartner:\n  name: Acme\n";
const CUSTOMER: &str = "customers:\n  - key: c1\n    name: C1\n    contact: { name: J, email: j@c1.example }\n    country: GB\n    timezone: UTC\n";

/// How long one walk and load may take: far more than a tree of a few dozen entries needs.
const DEADLINE: Duration = Duration::from_secs(20);

/// `f()` on another thread, or a panic when it does not finish within [`DEADLINE`] (the
/// thread is left behind, blocked or looping).
fn within<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)));
    });
    match rx.recv_timeout(DEADLINE) {
        Ok(Ok(value)) => value,
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        Err(_) => panic!("{what} did not finish within {DEADLINE:?}"),
    }
}

fn discover_within(paths: Vec<PathBuf>) -> (Vec<PathBuf>, Vec<Problem>) {
    within("discover", move || discover(&paths))
}

fn load_within(paths: Vec<PathBuf>) -> Result<Desired, Problems> {
    within("load", move || load(&paths))
}

fn mkfifo(path: &Path) {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: `c` is a valid NUL-terminated path that outlives the call.
    let rc = unsafe { libc::mkfifo(c.as_ptr(), 0o600) };
    assert_eq!(rc, 0, "mkfifo {}", path.display());
}

fn relative(root: &Path, files: &[PathBuf]) -> Vec<String> {
    files
        .iter()
        .map(|f| f.strip_prefix(root).unwrap().display().to_string())
        .collect()
}

fn messages(problems: &[Problem]) -> Vec<String> {
    problems.iter().map(ToString::to_string).collect()
}

/// Two links to `.`, a link to the parent, a link to a sibling and a link to itself: every
/// directory is walked once, each file is found once and by its own path (not through a link),
/// and the configuration loads.
#[test]
fn links_to_parents_siblings_and_themselves_are_walked_once() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(root.join("partner.yaml"), PARTNER).unwrap();
    std::fs::create_dir(root.join("sub")).unwrap();
    std::fs::write(root.join("sub/c.yaml"), CUSTOMER).unwrap();
    symlink(".", root.join("a")).unwrap();
    symlink(".", root.join("b")).unwrap();
    symlink("..", root.join("sub/up")).unwrap();
    symlink("sub", root.join("_sibling")).unwrap();
    symlink("self", root.join("sub/self")).unwrap();
    symlink("loop.yaml", root.join("loop.yaml")).unwrap();
    let (files, problems) = discover_within(vec![root.to_path_buf()]);
    assert_eq!(relative(root, &files), ["partner.yaml", "sub/c.yaml"]);
    // The link that leads to itself would have been read as a file: it is named.
    let got = messages(&problems);
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(
        got[0].starts_with(&format!(
            "{}: cannot read: a link to loop.yaml that cannot be followed:",
            root.join("loop.yaml").display()
        )),
        "{got:?}"
    );
    std::fs::remove_file(root.join("loop.yaml")).unwrap();
    let desired = load_within(vec![root.to_path_buf()]).unwrap();
    assert_eq!(desired.counts().customers, 1);
}

/// A directory named again, on its own or inside one named before, is not walked again, nor
/// reported as holding no files; one that holds none is.
#[test]
fn a_directory_named_again_is_walked_once_and_not_reported_empty() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(root.join("partner.yaml"), PARTNER).unwrap();
    std::fs::create_dir(root.join("sub")).unwrap();
    std::fs::write(root.join("sub/c.yaml"), CUSTOMER).unwrap();
    std::fs::create_dir(root.join("empty")).unwrap();
    let (files, problems) = discover_within(vec![
        root.to_path_buf(),
        root.join("sub"),
        root.to_path_buf(),
        root.join("sub/c.yaml"),
    ]);
    assert_eq!(relative(root, &files), ["partner.yaml", "sub/c.yaml"]);
    assert!(problems.is_empty(), "{:?}", messages(&problems));
    let (_, problems) = discover_within(vec![root.join("empty")]);
    assert_eq!(
        messages(&problems),
        [format!(
            "{}: no *.yaml or *.yml files in this directory",
            root.join("empty").display()
        )]
    );
}

/// A directory reached through many links to `.` at every level would be walked an exponential
/// number of times if directories were not remembered by device and inode.
#[test]
fn a_lattice_of_links_to_dot_is_walked_once() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(root.join("partner.yaml"), PARTNER).unwrap();
    let mut at = root.to_path_buf();
    for depth in 0..8 {
        for name in ["l1", "l2", "l3"] {
            symlink(".", at.join(name)).unwrap();
        }
        at = at.join(format!("d{depth}"));
        std::fs::create_dir(&at).unwrap();
    }
    std::fs::write(at.join("c.yaml"), CUSTOMER).unwrap();
    let (files, problems) = discover_within(vec![root.to_path_buf()]);
    assert!(problems.is_empty(), "{:?}", messages(&problems));
    assert_eq!(files.len(), 2, "{files:?}");
    assert!(
        files[0].ends_with("d0/d1/d2/d3/d4/d5/d6/d7/c.yaml"),
        "{files:?}"
    );
}

/// A FIFO put where the walk saw a regular file (between the look and the read) is opened
/// without waiting for a writer and refused for what it is, as a whole file and as a table.
#[test]
fn a_fifo_swapped_in_after_the_walk_is_refused_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let (yaml, table) = (dir.path().join("a.yaml"), dir.path().join("c.csv"));
    mkfifo(&yaml);
    mkfifo(&table);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let whole = read_bytes(&yaml).map(|_| ());
        let sheet = Sheet::new(&table).map(|_| ()).map_err(|p| p.to_string());
        let _ = tx.send((whole, sheet));
    });
    // A bound for a failure, not a wait for success: a blocked open never answers.
    let (whole, sheet) = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("opening a FIFO blocked");
    assert!(
        matches!(whole, Err(ProblemKind::NotAFile(what)) if what.contains("FIFO")),
        "{whole:?}"
    );
    let sheet = sheet.unwrap_err();
    assert!(sheet.contains("this is a FIFO (named pipe)"), "{sheet}");
}

/// A FIFO, a socket and a device are problems naming the file and what it is, found with every
/// other problem; none is opened (a FIFO would block the read forever, a device never end).
#[test]
fn special_files_are_located_problems_and_never_opened() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(root.join("partner.yaml"), PARTNER).unwrap();
    mkfifo(&root.join("pipe.yaml"));
    let _socket = std::os::unix::net::UnixListener::bind(root.join("sock.yml")).unwrap();
    symlink("/dev/zero", root.join("zero.yaml")).unwrap();
    // Special files the loader would not read anyway are no problem.
    mkfifo(&root.join("pipe.txt"));
    mkfifo(&root.join(".hidden.yaml"));
    let problems = load_within(vec![root.to_path_buf()]).unwrap_err();
    let at = |name: &str| root.join(name).display().to_string();
    assert_eq!(
        messages(&problems.0),
        [
            format!(
                "{}: cannot read: this is a FIFO (named pipe), not a regular file; a configuration is read only from regular files: remove it or move it out of the configuration",
                at("pipe.yaml")
            ),
            format!(
                "{}: cannot read: this is a socket, not a regular file; a configuration is read only from regular files: remove it or move it out of the configuration",
                at("sock.yml")
            ),
            format!(
                "{}: cannot read: this is a character device, not a regular file; a configuration is read only from regular files: remove it or move it out of the configuration",
                at("zero.yaml")
            ),
        ]
    );
    // Named on the command line, they are refused the same way.
    for path in [root.join("pipe.yaml"), PathBuf::from("/dev/zero")] {
        let problems = load_within(vec![path.clone()]).unwrap_err();
        let got = messages(&problems.0);
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(got[0].contains("not a regular file"), "{got:?}");
    }
}

/// A file over the limit is refused before it is read, with the limit in the message; files
/// of the other paths are still read and checked.
#[test]
fn a_file_over_the_size_limit_is_refused_with_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(root.join("partner.yaml"), PARTNER).unwrap();
    let big = std::fs::File::create(root.join("big.yaml")).unwrap();
    // Sparse: takes no room on the disk.
    big.set_len(MAX_FILE_BYTES + 1).unwrap();
    let problems = load_within(vec![root.to_path_buf()]).unwrap_err();
    assert_eq!(
        messages(&problems.0),
        [format!(
            "{}: cannot read: the file has 268435457 bytes, more than the 268435456 bytes (256 MiB) a configuration file may have; split it into several files in one directory",
            root.join("big.yaml").display()
        )]
    );
    // Emptied, it is read (an empty file contributes nothing).
    big.set_len(0).unwrap();
    load_within(vec![root.to_path_buf()]).unwrap();
}

/// A workbook below a directory is read like a table, its sheets located as `FILE:SHEET!`; a
/// FIFO or an oversized file named like one is refused as any other.
#[test]
fn workbooks_are_found_and_held_to_the_same_limits() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(root.join("partner.yaml"), PARTNER).unwrap();
    let cells: &[(u32, u16, &str)] = &[
        (0, 0, "name"),
        (0, 1, "contact_name"),
        (0, 2, "contact_email"),
        (0, 3, "country"),
        (0, 4, "timezone"),
        (1, 0, "Globex"),
        (1, 1, "Hank"),
        (1, 2, "hank@globex.example"),
        (1, 3, "GB"),
        (1, 4, "Europe/London"),
    ];
    let book = crate::config::xlsx::tests::workbook(&[("Customers", cells)]);
    std::fs::write(root.join("sub.XLSX"), &book).unwrap();
    let desired = load_within(vec![root.to_path_buf()]).unwrap();
    assert_eq!(desired.customers[0].key, "globex");
    let path = format!("{}:Customers!", root.join("sub.XLSX").display());
    assert_eq!(desired.sources[1].path, path);
    let bad: Vec<(u32, u16, &str)> = cells
        .iter()
        .map(|&(r, c, t)| {
            (
                r,
                c,
                if t == "hank@globex.example" {
                    "hank@globex"
                } else {
                    t
                },
            )
        })
        .collect();
    let book = crate::config::xlsx::tests::workbook(&[("Customers", &bad)]);
    std::fs::write(root.join("sub.XLSX"), &book).unwrap();
    let problems = load_within(vec![root.to_path_buf()]).unwrap_err();
    assert_eq!(
        messages(&problems.0),
        [format!(
            "{path}2:3: (column contact_email) invalid email address `hank@globex`: expected a bare address like name@example.com"
        )]
    );
    std::fs::remove_file(root.join("sub.XLSX")).unwrap();
    mkfifo(&root.join("pipe.xlsx"));
    let big = std::fs::File::create(root.join("big.xlsx")).unwrap();
    big.set_len(MAX_FILE_BYTES + 1).unwrap();
    let got = messages(&load_within(vec![root.to_path_buf()]).unwrap_err().0);
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(
        got[1].contains("big.xlsx: cannot read: the file has 268435457 bytes"),
        "{got:?}"
    );
    assert!(
        got[0].contains("pipe.xlsx: cannot read: this is a FIFO"),
        "{got:?}"
    );
}

mod random_trees {
    //! Property: whatever tree of directories, files, links (to parents, siblings, themselves,
    //! nowhere) and special files the loader is pointed at, it finishes within the deadline,
    //! never panics, reads each regular file at most once and nothing else.

    use std::collections::HashSet;
    use std::os::unix::fs::MetadataExt;

    use proptest::prelude::*;

    use super::*;

    /// What to make in the directory `at` (an index into the directories made so far).
    #[derive(Debug, Clone)]
    enum Make {
        Dir {
            at: usize,
            name: usize,
        },
        File {
            at: usize,
            name: usize,
            valid: bool,
        },
        /// A link to the directory `to` made so far (or, past them, to a path leading nowhere,
        /// to itself, to its parent or to `.`).
        Link {
            at: usize,
            name: usize,
            to: usize,
        },
        Fifo {
            at: usize,
            name: usize,
        },
        Socket {
            at: usize,
            name: usize,
        },
    }

    const NAMES: [&str; 10] = [
        "a", "b.yaml", "c.yml", "d.csv", ".e.yaml", "f.YAML", "g", "h.yaml", "i", "j.XLSX",
    ];

    fn make() -> impl Strategy<Value = Make> {
        let at = 0usize..64;
        let name = 0..NAMES.len();
        prop_oneof![
            3 => (at.clone(), name.clone()).prop_map(|(at, name)| Make::Dir { at, name }),
            3 => (at.clone(), name.clone(), any::<bool>())
                .prop_map(|(at, name, valid)| Make::File { at, name, valid }),
            4 => (at.clone(), name.clone(), 0usize..68)
                .prop_map(|(at, name, to)| Make::Link { at, name, to }),
            1 => (at.clone(), name.clone()).prop_map(|(at, name)| Make::Fifo { at, name }),
            1 => (at, name).prop_map(|(at, name)| Make::Socket { at, name }),
        ]
    }

    /// Makes the tree below `root`; the number of regular files it holds.
    fn build(root: &Path, plan: &[Make]) -> usize {
        let mut dirs = vec![root.to_path_buf()];
        let mut files = 0;
        let mut sockets = Vec::new();
        for m in plan {
            let (at, name) = match m {
                Make::Dir { at, name }
                | Make::File { at, name, .. }
                | Make::Link { at, name, .. }
                | Make::Fifo { at, name }
                | Make::Socket { at, name } => (&dirs[at % dirs.len()], NAMES[*name]),
            };
            let path = at.join(name);
            if std::fs::symlink_metadata(&path).is_ok() {
                continue;
            }
            match m {
                Make::Dir { .. } => {
                    std::fs::create_dir(&path).unwrap();
                    dirs.push(path);
                }
                Make::File { valid, .. } => {
                    let text = if *valid { CUSTOMER } else { "customers: [ {\n" };
                    std::fs::write(&path, text).unwrap();
                    files += 1;
                }
                Make::Link { to, .. } => {
                    let target = match to.checked_sub(64) {
                        None => dirs[to % dirs.len()].clone(),
                        Some(0) => PathBuf::from("nowhere"),
                        Some(1) => PathBuf::from(name),
                        Some(2) => PathBuf::from(".."),
                        Some(_) => PathBuf::from("."),
                    };
                    symlink(&target, &path).unwrap();
                }
                Make::Fifo { .. } => mkfifo(&path),
                Make::Socket { .. } => {
                    sockets.push(std::os::unix::net::UnixListener::bind(&path).unwrap());
                }
            }
        }
        files
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(96))]

        #[test]
        fn any_tree_is_loaded_in_bounded_time(plan in proptest::collection::vec(make(), 1..40)) {
            let dir = tempfile::tempdir().unwrap();
            let root = dir.path().join("config");
            std::fs::create_dir(&root).unwrap();
            std::fs::write(root.join("partner.yaml"), PARTNER).unwrap();
            let regular = build(&root, &plan) + 1;
            let (files, problems) = discover_within(vec![root.clone()]);
            let mut seen = HashSet::new();
            for f in &files {
                let meta = std::fs::metadata(f).unwrap();
                prop_assert!(meta.is_file(), "{} is not a regular file", f.display());
                prop_assert!(seen.insert((meta.dev(), meta.ino())), "{} found twice", f.display());
            }
            prop_assert!(files.len() <= regular, "{} files found, {regular} made", files.len());
            for p in &problems {
                prop_assert!(p.location.path.starts_with(&root.display().to_string()), "{p}");
            }
            // Loading reads what was found and nothing else, without panicking.
            let _ = load_within(vec![root]);
        }
    }
}

/// Workbooks as files: whatever the bytes of a `.xlsx` in a configuration directory or given
/// to `import` (random bytes, or a real workbook of random cells with bytes changed and cut
/// short), loading, validating and importing it gives a configuration or problems, never a
/// panic.
mod workbook_files {
    use proptest::prelude::*;

    use super::*;
    use crate::config::xlsx::tests::{Cells, workbook};

    /// One cell: row, column (0-based), text.
    type Cell<'a> = (u32, u16, &'a str);

    /// A cell's text: a column a table knows, a value, or anything.
    fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("name".to_string()),
            Just("contact_name".to_string()),
            Just("Contact_Email".to_string()),
            Just("key".to_string()),
            Just("account".to_string()),
            Just("email".to_string()),
            Just("role".to_string()),
            Just("services".to_string()),
            Just("label:tier".to_string()),
            Just("partner".to_string()),
            Just("x@y.example".to_string()),
            Just("1001".to_string()),
            Just("\"a,b\"\n\"".to_string()),
            any::<String>().prop_map(|s| s.chars().take(12).collect()),
        ]
    }

    /// The bytes of a `.xlsx` file.
    fn bytes() -> impl Strategy<Value = Vec<u8>> {
        let cells = proptest::collection::vec((0u32..6, 0u16..8, text()), 0..24);
        let sheet = prop_oneof![Just("customers"), Just("Users"), Just("Sheet1")];
        let damaged = (
            proptest::collection::vec((sheet, cells), 1..3),
            proptest::collection::vec((any::<usize>(), any::<u8>()), 0..6),
            proptest::option::of(any::<usize>()),
        )
            .prop_map(|(sheets, flips, cut)| {
                let mut seen = std::collections::HashSet::new();
                let sheets: Vec<(&str, Vec<Cell<'_>>)> = sheets
                    .iter()
                    .filter(|(name, _)| seen.insert(*name))
                    .map(|(name, cells)| {
                        let cells = cells.iter().map(|(r, c, t)| (*r, *c, t.as_str())).collect();
                        (*name, cells)
                    })
                    .collect();
                let refs: Vec<(&str, Cells<'_>)> =
                    sheets.iter().map(|(n, c)| (*n, c.as_slice())).collect();
                let mut book = workbook(&refs);
                for (at, b) in flips {
                    let at = at % book.len();
                    book[at] = b;
                }
                if let Some(cut) = cut {
                    book.truncate(cut % (book.len() + 1));
                }
                book
            });
        prop_oneof![proptest::collection::vec(any::<u8>(), 0..2000), damaged]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn any_xlsx_loads_or_is_refused(bytes in bytes()) {
            let dir = tempfile::tempdir().unwrap();
            let root = dir.path().join("config");
            std::fs::create_dir(&root).unwrap();
            std::fs::write(root.join("partner.yaml"), PARTNER).unwrap();
            let book = root.join("book.xlsx");
            std::fs::write(&book, &bytes).unwrap();
            let _ = load_within(vec![root.clone()]);
            let _ = within("validate", move || check_for(&[root], None, Needs::default()));
            if let Ok(sources) = read_table(&book) {
                let _ = crate::config::load_tables(&sources, false);
            }
        }
    }
}

/// What `validate` finds reading the CSV tables a buffer at a time from their files, and what
/// loading them whole finds, beside the acme partner file: the same problems (every one, at
/// its row), or the same counts and warnings.
fn streamed_as_loaded(root: &Path, name: &str, bytes: &[u8]) {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let table = root.join(name);
    std::fs::write(&table, bytes).unwrap();
    let paths = vec![manifest.join("examples/acme/partner.yaml"), table];
    let loaded = load_for(&paths, None, Needs::default());
    let checked = check_for(&paths, None, Needs::default());
    match (loaded, checked) {
        (Ok(d), Ok(c)) => {
            assert_eq!(c.counts, d.counts(), "{name}");
            assert_eq!(c.warnings, d.warnings, "{name}");
        }
        (Err(a), Err(b)) => assert_eq!(messages(&b.0), messages(&a.0), "{name}"),
        (a, b) => panic!(
            "{name}: load {:?}, validate {:?}",
            a.map(|_| ()),
            b.map(|_| ())
        ),
    }
}

fn utf16(text: &str, little: bool) -> Vec<u8> {
    let bom: [u8; 2] = if little { [0xFF, 0xFE] } else { [0xFE, 0xFF] };
    let units = text.encode_utf16().flat_map(|u| {
        if little {
            u.to_le_bytes()
        } else {
            u.to_be_bytes()
        }
    });
    bom.into_iter().chain(units).collect()
}

/// Every committed sheet, as it is and saved again in each encoding a spreadsheet writes.
#[test]
fn validate_reads_sheets_from_their_files_as_loading_reads_them_whole() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sheets");
    let mut sheets: Vec<_> = std::fs::read_dir(&fixtures)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "csv"))
        .collect();
    sheets.sort();
    assert!(sheets.len() >= 9);
    for sheet in sheets {
        let name = sheet.file_name().unwrap().to_string_lossy().into_owned();
        let bytes = std::fs::read(&sheet).unwrap();
        streamed_as_loaded(dir.path(), &name, &bytes);
        if let Ok(text) = crate::config::decode(&bytes) {
            let bom = [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat();
            streamed_as_loaded(dir.path(), &format!("bom-{name}"), &bom);
            streamed_as_loaded(dir.path(), &format!("le-{name}"), &utf16(&text, true));
            streamed_as_loaded(dir.path(), &format!("be-{name}"), &utf16(&text, false));
        }
    }
}

/// A table far larger than what is read of it at a time, in UTF-16 and in Windows-1252, with
/// problems at its start and end and a key given twice far apart.
#[test]
fn a_large_table_is_read_from_its_file_as_loading_reads_it_whole() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("key;name;contact_name;contact_email;country;timezone\r\n");
    for i in 0..20_000 {
        let key = if i == 19_000 { 7 } else { i };
        text.push_str(&format!(
            "k{key};Café {i};Jörg;j{i}@example.com;DE;Europe/Berlin\r\n"
        ));
    }
    text.push_str("late;Late;Jo;not-an-email;DE;Europe/Berlin\r\n");
    assert!(text.len() > 1024 * 1024);
    streamed_as_loaded(dir.path(), "le.csv", &utf16(&text, true));
    let (cp1252, _, _) = encoding_rs::WINDOWS_1252.encode(&text);
    streamed_as_loaded(dir.path(), "cp1252.csv", &cp1252);
    let valid = text.replace("k7;Café 19000", "k19000;Café 19000");
    let valid = valid.replace("not-an-email", "late@example.com");
    streamed_as_loaded(dir.path(), "valid.csv", &utf16(&valid, false));
    let checked = check_for(
        &[
            Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/acme/partner.yaml"),
            dir.path().join("valid.csv"),
        ],
        None,
        Needs::default(),
    );
    assert_eq!(checked.unwrap().counts.customers, 20_001);
}
