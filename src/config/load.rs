//! Stage `config`, loading: parses, checks and merges config texts ([`load_sources`], pure;
//! the files are found and read by [`super::files`]) into one [`Desired`] state with
//! `defaults` applied.
//!
//! Files are parsed, shape-checked and typed on their own, on as many threads as there are
//! cores, a few files ahead of the checks across files (which go in file order on the calling
//! thread); each file's tree is dropped once those checks are done with it, so the trees of a
//! large configuration are never all in memory at once (see `check_and_merge`). A table is read
//! and checked a chunk of rows at a time ([`table::read`]), so a large one is never all in
//! memory as a tree either. Users tables are read last, once every account they may name is
//! known, and their users added to those accounts.
//!
//! The passes read each file through [`Input`]: a [`Source`] in memory, or (for `validate`) a
//! CSV table that `super::files` reads again from its file for each pass, so that its text is
//! never in memory whole; the reading is theirs, the checks here stay the same. Account keys
//! given twice are found from fingerprints of the keys (`check::keys`), with one more pass over
//! the files, for those keys alone, when two fingerprints are the same.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io;
use std::path::Path;
use std::sync::OnceLock;

use super::User;
use super::yaml::{self, Pos};
use super::{
    AccountSpan, At, Catalog, ConfigFile, Customer, Defaults, Desired, FileId, Location, Needs,
    Problem, ProblemKind, Problems, Service, ServiceSpan, Source, check, schema,
};
use super::{parallel, table};
use crate::vocab::Role;
use crate::vocab::rules::email_key;

/// Is this source a table (a customer table or a users table, in a file or a workbook)?
pub(super) fn is_table(src: &(impl Input + ?Sized)) -> bool {
    super::is_table_name(Path::new(super::source_file(src.path())))
}

/// A configuration file as the checks read it: a [`Source`], whose text is in memory, or a
/// table on disk that is read from its start, a buffer at a time, for each pass over it (see
/// `super::files`), so that a table of any size is never in memory whole.
pub(super) trait Input: Sync {
    /// The path as shown in messages.
    fn path(&self) -> &str;
    /// The whole text, when it is in memory (YAML files' always is); empty otherwise.
    fn text(&self) -> &str;
    /// The text from its start.
    fn open(&self) -> io::Result<Box<dyn io::Read + '_>>;
}

impl Input for Source {
    fn path(&self) -> &str {
        &self.path
    }

    fn text(&self) -> &str {
        &self.text
    }

    fn open(&self) -> io::Result<Box<dyn io::Read + '_>> {
        Ok(Box::new(self.text.as_bytes()))
    }
}

/// Parses, validates and merges config texts (pure). Reports every problem of every file.
pub fn load_sources(sources: &[Source]) -> Result<Desired, Problems> {
    load_sources_with(sources, None)
}

/// [`load_sources`], also checking every service against `catalog` when one is given.
pub fn load_sources_with(
    sources: &[Source],
    catalog: Option<&Catalog>,
) -> Result<Desired, Problems> {
    load_sources_for(sources, catalog, Needs::default())
}

/// [`load_sources_with`], for a provider that needs what `needs` says.
pub fn load_sources_for(
    sources: &[Source],
    catalog: Option<&Catalog>,
    needs: Needs,
) -> Result<Desired, Problems> {
    let merged = check_and_merge(sources, catalog, needs, true)?;
    one_login(merged.with_sources(sources.to_vec()), needs)
}

/// [`load_sources_for`], keeping the sources given (read from files) without a copy.
pub(super) fn load_owned(
    sources: Vec<Source>,
    catalog: Option<&Catalog>,
    needs: Needs,
) -> Result<Desired, Problems> {
    let merged = check_and_merge(&sources, catalog, needs, true)?;
    one_login(merged.with_sources(sources), needs)
}

/// [`load_owned`] for `validate`, which needs to know only that the configuration is valid and
/// what it holds: the customers of tables are counted and dropped as they are read, so a
/// table of any size takes no more memory than its text and its keys. (The checks of one
/// role and one name per login, which need every user, are made as [`load_owned`] makes them.)
pub(super) fn check_owned(
    sources: Vec<Source>,
    catalog: Option<&Catalog>,
    needs: Needs,
) -> Result<Checked, Problems> {
    if needs.one_login {
        let desired = load_owned(sources, catalog, needs)?;
        return Ok(Checked {
            counts: desired.counts(),
            files: desired.sources.len(),
            warnings: desired.warnings,
        });
    }
    check_inputs(sources, catalog, needs)
}

/// [`check_owned`] without the checks of one role and one name per login, of any inputs (a
/// table on disk is read a buffer at a time, each time it is gone through).
pub(super) fn check_inputs<S: Input>(
    sources: Vec<S>,
    catalog: Option<&Catalog>,
    needs: Needs,
) -> Result<Checked, Problems> {
    let files = sources.len();
    let mut merged = check_and_merge(&sources, catalog, needs, false)?;
    drop(sources);
    let warnings = std::mem::take(&mut merged.warnings);
    let counted = merged.counted;
    let mut counts = merged.with_sources(Vec::new()).counts();
    counts.add(counted);
    Ok(Checked {
        counts,
        files,
        warnings,
    })
}

/// What `validate` learns of a valid configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    /// What it holds.
    pub counts: super::Counts,
    /// How many sources it was read from.
    pub files: usize,
    /// Its warnings.
    pub warnings: Vec<Problem>,
}

/// `desired`, unless `needs` wants one role and one name per email and it has more.
fn one_login(desired: Desired, needs: Needs) -> Result<Desired, Problems> {
    if !needs.one_login {
        return Ok(desired);
    }
    let problems = check_logins(&desired);
    if problems.is_empty() {
        Ok(desired)
    } else {
        Err(problems)
    }
}

/// The header of each source that is a table (`None` for YAML files), which names the column
/// of each of its cells.
type Columns = Vec<Option<table::Header>>;

/// A [`Desired`] state but for its sources.
struct Merged {
    partner: super::Partner,
    customers: Vec<Customer>,
    warnings: Vec<Problem>,
    /// The header of each source that is a table.
    headers: Columns,
    /// What was counted and dropped instead of kept (for `validate`).
    counted: super::Counts,
}

impl Merged {
    fn with_sources(self, sources: Vec<Source>) -> Desired {
        Desired {
            partner: self.partner,
            customers: self.customers,
            sources,
            warnings: self.warnings,
            headers: self.headers,
        }
    }
}

/// What one file gives on its own, worked out apart from the other files (in parallel with
/// them): its tree, its parse and shape problems, and, when it has none of those, its typed
/// content and where its accounts are.
struct FileWork {
    /// The document, kept until its customers are checked; `None` for a file that contributes
    /// no mapping (a syntax error, an empty file, a document that is not a mapping).
    doc: Option<yaml::Node>,
    /// Parse and shape problems.
    problems: Vec<(Pos, ProblemKind)>,
    /// The typed file and its accounts, or why the tree did not read as one (at the document's
    /// position); `None` without a document or with problems.
    typed: Option<Result<Typed, (Pos, String)>>,
}

/// A file's typed content, each account and service with its span.
struct Typed {
    file: ConfigFile,
    /// What a table held that was counted instead of kept in `file`.
    counted: super::Counts,
}

/// A YAML file's document (if it contributes a mapping) and parse problems.
type Parsed = (Option<yaml::Node>, Vec<(Pos, ProblemKind)>);

/// Parses one YAML file: its document when it contributes a mapping, and its parse problems.
fn parse_one(src: &impl Input) -> Parsed {
    let text = src.text();
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    match yaml::parse(text) {
        Err(errs) => {
            let problems = errs.into_iter().map(|(pos, e)| (pos, e.into())).collect();
            (None, problems)
        }
        // An empty file contributes nothing; that is allowed (e.g. a placeholder).
        Ok(None) => (None, Vec::new()),
        Ok(Some(doc)) if doc.as_map().is_none() => {
            let kind = ProblemKind::NotAMapping(doc.value.describe());
            (None, vec![(doc.pos, kind)])
        }
        Ok(Some(doc)) => (Some(doc), Vec::new()),
    }
}

/// Every tree of a source: a YAML file's document, or a table's chunks of rows (each with the
/// positions of its keys derived from names), handed to `visit` in order. Returns the table's
/// header (`None` for YAML).
fn each_doc(src: &impl Input, visit: &mut DocVisit<'_>) -> Columns1 {
    if is_table(src) {
        // A table that cannot be read again gives no tree (it was read once before).
        let input = src.open().ok()?;
        let read = table::read(input, false, &mut |chunk| {
            visit(&chunk.doc, &|p| chunk.derived.contains(&p));
        });
        return read.header;
    }
    if let (Some(doc), _) = parse_one(src) {
        visit(&doc, &|_| false);
    }
    None
}

/// What [`each_doc`] hands every tree to: the tree, and which of its positions are keys
/// derived from names.
type DocVisit<'a> = dyn FnMut(&yaml::Node, &dyn Fn(Pos) -> bool) + 'a;

/// A file's typed content, or why its tree did not read as one (at the document's position).
type TypedOr = Result<Typed, (Pos, String)>;

/// One source's entry of [`Columns`].
type Columns1 = Option<table::Header>;

/// Parses one YAML file ([`parse_one`]), checks its document's shape (and its services
/// against `catalog`, when one is given) and, when it has no problem, reads its typed content
/// (with `defaults` applied to its customers, when they are known: [`apply_defaults`]) and its
/// accounts' locations. Tables are read later, row by row ([`table_pass`]): this gives nothing
/// for them.
fn work_on(
    shape: &check::Shape<'_>,
    catalog: Option<&Catalog>,
    id: FileId,
    src: &impl Input,
    defaults: Option<&Defaults>,
) -> FileWork {
    if is_table(src) {
        return FileWork {
            doc: None,
            problems: Vec::new(),
            typed: None,
        };
    }
    let (doc, problems) = parse_one(src);
    let mut work = FileWork {
        doc,
        problems,
        typed: None,
    };
    if let Some(doc) = &work.doc {
        shape.check(doc, &mut work.problems);
        if let Some(catalog) = catalog {
            check::services(catalog, doc, &mut work.problems);
        }
    }
    if let (Some(doc), true) = (&work.doc, work.problems.is_empty()) {
        work.typed = Some(match yaml::from_node::<ConfigFile>(doc) {
            Ok(mut file) => {
                with_spans(id, doc, &mut file);
                if let Some(d) = defaults {
                    for c in &mut file.customers {
                        apply_defaults(c, d);
                    }
                }
                Ok(Typed {
                    file,
                    counted: super::Counts::default(),
                })
            }
            Err(e) => Err((doc.pos, e.to_string())),
        });
    }
    work
}

/// Could this text declare a top-level entry other than `customers` (`version`, `partner`,
/// `defaults`: what the header checks read)? A sound test on the text alone: a mapping key's
/// characters are written out in the text, unless a double-quoted scalar spells them with `\`
/// escapes. Customer tables have only customers.
fn may_have_header(src: &impl Input) -> bool {
    static NAMES: OnceLock<Vec<String>> = OnceLock::new();
    let names = NAMES.get_or_init(|| {
        schema()
            .get("properties")
            .and_then(serde_json::Value::as_object)
            .map(|p| p.keys().filter(|k| *k != "customers").cloned().collect())
            .unwrap_or_default()
    });
    let text = src.text();
    !is_table(src) && (text.contains('\\') || names.iter().any(|n| text.contains(n.as_str())))
}

/// Parses, validates and merges config texts, every file on its own first (in parallel), then
/// the checks across files, in file order, in two passes: the headers (`version`, `partner`,
/// `defaults`) of every file, then the customers of every file, with what the headers said.
///
/// Only the few files that may declare a header ([`may_have_header`]) are parsed before the
/// second pass; every other file is parsed while that pass goes on, a few files ahead of it, and
/// its tree is dropped as soon as its customers are checked: the trees of a large configuration
/// are never all in memory at once. The typed content is read on the side, and used only when
/// no file has a problem.
///
/// `keep`: the customers of tables are kept (else only counted, for `validate`).
fn check_and_merge<S: Input>(
    sources: &[S],
    catalog: Option<&Catalog>,
    needs: Needs,
    keep: bool,
) -> Result<Merged, Problems> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(16));
    let shape = check::Shape::new(schema());
    let is_head: Vec<bool> = sources.iter().map(may_have_header).collect();
    let heads: Vec<usize> = (0..sources.len()).filter(|&i| is_head[i]).collect();
    let mut early: Vec<Option<FileWork>> = (0..sources.len()).map(|_| None).collect();
    parallel::in_order(
        heads.len(),
        threads,
        &|n| work_on(&shape, catalog, heads[n], &sources[heads[n]], None),
        &mut |n, work| early[heads[n]] = Some(work),
    );
    // The last `defaults` is the one a valid configuration has (only header files have one).
    let defaults = early
        .iter()
        .flatten()
        .filter_map(|w| w.typed.as_ref()?.as_ref().ok()?.file.defaults.as_ref())
        .next_back()
        .cloned()
        .unwrap_or_default();
    for w in early.iter_mut().flatten() {
        if let Some(Ok(t)) = &mut w.typed {
            let customers = t.file.customers.iter_mut();
            customers.for_each(|c| apply_defaults(c, &defaults));
        }
    }

    let locate = |file: FileId, pos: Pos| Location {
        path: sources[file].path().to_string(),
        pos,
    };
    let mut sink: check::Sink = Vec::new();
    let mut columns: Columns = Vec::with_capacity(sources.len());
    let mut typed = Vec::with_capacity(sources.len());
    let mut any_yaml_error = false;
    let mut relations: check::Sink = Vec::new();
    let users_tables: Vec<bool> = sources
        .iter()
        .map(|s| is_table(s) && users_table(s))
        .collect();
    let mut sheet_users = Vec::new();
    let mut counted = super::Counts::default();
    {
        let mut sem = check::Semantics::new(&mut relations, &locate);
        sem.needs(needs);
        if users_tables.contains(&true) {
            sem.track_users();
        }
        for &id in &heads {
            if let Some(doc) = early[id].as_ref().and_then(|w| w.doc.as_ref()) {
                sem.header(id, doc);
            }
        }
        let rest = |id: usize| {
            (!is_head[id]).then(|| work_on(&shape, catalog, id, &sources[id], Some(&defaults)))
        };
        let mut done = |id: usize, work: Option<FileWork>| {
            let work = work.or_else(|| early[id].take());
            let FileWork {
                doc,
                problems,
                typed: t,
            } = work.expect("every file is worked on once");
            if users_tables[id] {
                // Read once every account is known, below.
                columns.push(None);
                typed.push(None);
                return;
            }
            if is_table(&sources[id]) {
                let pass = TablePass {
                    shape: &shape,
                    catalog,
                    strict: needs.strict,
                    defaults: &defaults,
                    keep,
                };
                let (header, t) = pass.run(id, &sources[id], &mut sem, &mut sink);
                if let Some(Ok(t)) = &t {
                    counted.add(t.counted);
                }
                columns.push(header);
                typed.push(t);
                return;
            }
            any_yaml_error |= problems
                .iter()
                .any(|(_, k)| matches!(k, ProblemKind::Yaml(_)));
            sink.extend(problems.into_iter().map(|(pos, k)| (id, pos, k)));
            columns.push(None);
            if let Some(doc) = doc {
                sem.customers(id, &doc);
            }
            typed.push(t);
        };
        parallel::in_order(sources.len(), threads, &rest, &mut done);
        for id in (0..sources.len()).filter(|&id| users_tables[id]) {
            let (header, users) = users_pass(id, &sources[id], needs.strict, &mut sem, &mut sink);
            columns[id] = header;
            if keep {
                sheet_users.extend(users);
            } else {
                counted.users += users.len();
            }
        }
        repeated_keys(&mut sem, sources);
        // A file that did not parse may be the one declaring `partner`: do not claim it is
        // missing.
        if !any_yaml_error {
            sem.finish((!sources.is_empty()).then_some(0));
        }
    }
    // Each file's parse and shape problems come before its relation problems, as they were
    // found (the sort below keeps that order among problems at one position).
    sink.append(&mut relations);
    if sources.is_empty() {
        sink.push((usize::MAX, Pos::default(), ProblemKind::PartnerMissing));
    }
    if sink.iter().any(|p| !p.2.is_warning()) {
        return Err(into_problems(sources, &columns, sink));
    }
    let mut merged = merge(sources, typed)?;
    add_users(&mut merged, sheet_users);
    merged.counted = counted;
    merged.warnings = into_problems(sources, &columns, sink).0;
    merged.headers = columns;
    Ok(merged)
}

/// Reads and checks the users table `src` (file `id`), once every account is known to `sem`,
/// its problems into `sink` and `sem`'s: its header, and its users with their account's key
/// (lower case, `partner` for the partner).
fn users_pass(
    id: FileId,
    src: &impl Input,
    strict: bool,
    sem: &mut check::Semantics<'_>,
    sink: &mut check::Sink,
) -> (Columns1, Vec<(String, User)>) {
    let mut users = Vec::new();
    let input = match src.open() {
        Ok(input) => input,
        Err(e) => {
            sink.push((id, Pos { line: 1, col: 1 }, ProblemKind::Io(e.to_string())));
            return (None, users);
        }
    };
    let read = table::read(input, strict, &mut |chunk| {
        sink.extend(chunk.problems.into_iter().map(|(pos, k)| (id, pos, k)));
        sem.users_table(id, &chunk.doc);
        for u in chunk.doc.list("users") {
            let text = |k: &str| {
                u.get(k)
                    .and_then(yaml::Node::as_str)
                    .unwrap_or_default()
                    .trim()
            };
            let role = if text("role").eq_ignore_ascii_case("admin") {
                Role::Admin
            } else {
                Role::Member
            };
            let user = User {
                email: text("email").to_string(),
                name: text("name").to_string(),
                role,
            };
            users.push((text("account").to_lowercase(), user));
        }
    });
    sink.extend(read.problems.into_iter().map(|(pos, k)| (id, pos, k)));
    (read.header, users)
}

/// Adds the users of users tables to their accounts (each account's after its own).
fn add_users(merged: &mut Merged, users: Vec<(String, User)>) {
    if users.is_empty() {
        return;
    }
    let mut by_account: HashMap<String, Vec<User>> = HashMap::new();
    for (account, user) in users {
        by_account.entry(account).or_default().push(user);
    }
    let mut add = |key: &str, to: &mut Vec<User>| {
        if let Some(mut users) = by_account.remove(key) {
            to.append(&mut users);
        }
    };
    add("partner", &mut merged.partner.users);
    for c in &mut merged.customers {
        add(&c.key, &mut c.users);
        for n in &mut c.networks {
            add(&n.key, &mut n.users);
            for s in &mut n.sub_accounts {
                add(&s.key, &mut s.users);
            }
        }
    }
}

/// How a table is read and checked, a chunk of rows at a time: each chunk's tree is checked
/// like a YAML file's (shape, services, values and relations), typed while no problem has been
/// found anywhere, then dropped.
struct TablePass<'a> {
    shape: &'a check::Shape<'a>,
    catalog: Option<&'a Catalog>,
    strict: bool,
    defaults: &'a Defaults,
    /// Keep the customers (else count them, and keep no account's location either).
    keep: bool,
}

impl TablePass<'_> {
    /// Reads and checks the table `src` (file `id`), its problems into `sink` and `sem`'s:
    /// its header, and its typed customers with their locations unless a problem was found.
    fn run(
        &self,
        id: FileId,
        src: &impl Input,
        sem: &mut check::Semantics<'_>,
        sink: &mut check::Sink,
    ) -> (Columns1, Option<TypedOr>) {
        let mut customers = Vec::new();
        let mut counted = super::Counts::default();
        let mut failed = None;
        let input = match src.open() {
            Ok(input) => input,
            Err(e) => {
                sink.push((id, Pos { line: 1, col: 1 }, ProblemKind::Io(e.to_string())));
                return (None, None);
            }
        };
        let read = table::read(input, self.strict, &mut |chunk| {
            let mut problems = chunk.problems;
            self.shape.check(&chunk.doc, &mut problems);
            if let Some(catalog) = self.catalog {
                check::services(catalog, &chunk.doc, &mut problems);
            }
            sink.extend(problems.into_iter().map(|(pos, k)| (id, pos, k)));
            sem.customers(id, &chunk.doc);
            let clean = !sem.found_any() && sink.iter().all(|p| p.2.is_warning());
            if !clean || failed.is_some() {
                customers = Vec::new();
                return;
            }
            match yaml::from_node::<ConfigFile>(&chunk.doc) {
                Ok(mut file) => {
                    if self.keep {
                        with_spans(id, &chunk.doc, &mut file);
                    }
                    for mut c in file.customers {
                        apply_defaults(&mut c, self.defaults);
                        if self.keep {
                            customers.push(c);
                        } else {
                            counted.add(super::Counts::of(&c));
                        }
                    }
                }
                Err(e) => failed = Some((chunk.doc.pos, e.to_string())),
            }
        });
        sink.extend(read.problems.into_iter().map(|(pos, k)| (id, pos, k)));
        let typed = match failed {
            Some(e) => Err(e),
            None => Ok(Typed {
                file: ConfigFile {
                    version: None,
                    partner: None,
                    defaults: None,
                    customers,
                },
                counted,
            }),
        };
        (read.header, Some(typed))
    }
}

/// The problems of the services of a loaded configuration against `catalog` (the live
/// catalog, before planning), each located where the service is written, as [`load_sources`]
/// locates problems. Empty when every service fits the catalog.
pub fn check_services(desired: &Desired, catalog: &Catalog) -> Problems {
    let sink = check::services_of_model(desired, catalog);
    into_problems(&desired.sources, &desired.headers, sink)
}

/// For providers that keep one role and one name per login: the places where an email is
/// given another role or name than elsewhere, each located as [`load_sources`] locates
/// problems and naming the others. Empty when every email has one role and one name (found
/// from the loaded state alone; the files are read again only to locate what differs).
pub fn check_logins(desired: &Desired) -> Problems {
    let mut first: HashMap<String, (Role, &str)> = HashMap::new();
    let mut differing: HashSet<String> = HashSet::new();
    for u in desired.users() {
        let email = email_key(u.email.trim());
        match first.get(&email) {
            Some(&(role, name)) if role != u.role || name != u.name => {
                differing.insert(email);
            }
            Some(_) => {}
            None => {
                first.insert(email, (u.role, u.name.as_str()));
            }
        }
    }
    if differing.is_empty() {
        return Problems::default();
    }
    let sources = &desired.sources;
    let mut listings = check::Listings::of(differing);
    let mut columns: Columns = Vec::with_capacity(sources.len());
    for (id, src) in sources.iter().enumerate() {
        columns.push(each_doc(src, &mut |doc, _| listings.collect(id, doc)));
    }
    let locate = |file: FileId, pos: Pos| Location {
        path: sources[file].path().to_string(),
        pos,
    };
    let mut sink: check::Sink = Vec::new();
    listings.conflicts(&locate, &mut sink);
    into_problems(sources, &columns, sink)
}

/// The problems of `sink`, in file and position order, each once, located in `sources` (a
/// table's cell with its column).
pub(super) fn into_problems<S: Input>(
    sources: &[S],
    columns: &Columns,
    mut sink: check::Sink,
) -> Problems {
    sink.sort_by_key(|a| (a.0, a.1));
    // Problems at one place are few: each is kept unless the same was kept there before.
    let mut kept: check::Sink = Vec::with_capacity(sink.len());
    for p in sink {
        let mut here = kept.iter().rev().take_while(|k| (k.0, k.1) == (p.0, p.1));
        if !here.any(|k| k.2 == p.2) {
            kept.push(p);
        }
    }
    Problems(
        kept.into_iter()
            .map(|(file, pos, kind)| {
                let path = sources.get(file).map(|s| s.path());
                let header = columns.get(file).and_then(Option::as_ref);
                Problem::at(path, header, pos, kind)
            })
            .collect(),
    )
}

/// Merges the typed files, `defaults` already applied (only called when no problem was found).
fn merge<S: Input>(
    sources: &[S],
    typed: Vec<Option<Result<Typed, (Pos, String)>>>,
) -> Result<Merged, Problems> {
    let mut partner = None;
    let mut lists = Vec::with_capacity(typed.len());
    for (id, t) in typed.into_iter().enumerate() {
        let t = match t {
            None => continue,
            Some(Ok(t)) => t,
            Some(Err((pos, e))) => {
                let internal = vec![(id, pos, ProblemKind::Internal(e))];
                return Err(into_problems(sources, &Vec::new(), internal));
            }
        };
        if t.file.partner.is_some() {
            partner = t.file.partner;
        }
        lists.push(t.file.customers);
    }
    // Validation finds one partner; a `partner:` it let through without a value (null) still
    // has none here: the same problem, never a panic.
    let Some(partner) = partner else {
        // Located at the top of the first file, as a problem must be.
        let missing = vec![(0, Pos { line: 1, col: 1 }, ProblemKind::PartnerMissing)];
        return Err(into_problems(sources, &Vec::new(), missing));
    };
    Ok(Merged {
        partner,
        customers: concat(lists),
        warnings: Vec::new(),
        headers: Vec::new(),
        counted: super::Counts::default(),
    })
}

/// The lists one after the other, made in the longest one (the customers of a large table are
/// moved, never copied, so they are never in memory twice).
fn concat(mut lists: Vec<Vec<Customer>>) -> Vec<Customer> {
    let Some(longest) = (0..lists.len()).max_by_key(|&i| lists[i].len()) else {
        return Vec::new();
    };
    let mut out = std::mem::take(&mut lists[longest]);
    let (before, after) = lists.split_at_mut(longest);
    let count = |l: &[Vec<Customer>]| l.iter().map(Vec::len).sum::<usize>();
    let ahead = count(before);
    out.reserve_exact(ahead + count(after));
    for l in before {
        out.append(l);
    }
    out.rotate_right(ahead);
    for l in after {
        out.append(l);
    }
    out
}

/// Puts on each account and service of `file`, read from `doc` of source `id`, where it is
/// written there.
fn with_spans(id: FileId, doc: &yaml::Node, file: &mut ConfigFile) {
    fn services(id: FileId, node: &yaml::Node, services: &mut [Service]) {
        for (s, n) in services.iter_mut().zip(node.list("services")) {
            s.at = At(Some(ServiceSpan::of(id, n)));
        }
    }
    if let (Some(d), Some(node)) = (&mut file.defaults, doc.get("defaults")) {
        services(id, node, &mut d.services);
    }
    for (c, node) in file.customers.iter_mut().zip(doc.list("customers")) {
        c.at = At(AccountSpan::of(id, node));
        services(id, node, &mut c.services);
        for (n, node) in c.networks.iter_mut().zip(node.list("networks")) {
            n.at = At(AccountSpan::of(id, node));
            services(id, node, &mut n.services);
            for (s, node) in n.sub_accounts.iter_mut().zip(node.list("sub_accounts")) {
                s.at = At(AccountSpan::of(id, node));
                services(id, node, &mut s.services);
            }
        }
    }
}

/// Merges `defaults` into a customer and lets networks and sub-accounts inherit country and
/// timezone from their parent.
fn apply_defaults(c: &mut Customer, d: &Defaults) {
    if c.country.is_none() {
        c.country.clone_from(&d.country);
    }
    if c.timezone.is_none() {
        c.timezone.clone_from(&d.timezone);
    }
    if !d.labels.is_empty() {
        let mut labels: BTreeMap<String, String> = d.labels.clone();
        labels.append(&mut c.labels);
        c.labels = labels;
    }
    if !d.services.is_empty() {
        let inherited: Vec<&Service> = d
            .services
            .iter()
            .filter(|s| !c.services.iter().any(|o| o.service_type == s.service_type))
            .collect();
        // At its size: the services of every customer of a large table add up.
        let mut services = Vec::with_capacity(inherited.len() + c.services.len());
        services.extend(inherited.into_iter().cloned());
        services.append(&mut c.services);
        c.services = services;
    }
    for n in &mut c.networks {
        if n.country.is_none() {
            n.country.clone_from(&c.country);
        }
        if n.timezone.is_none() {
            n.timezone.clone_from(&c.timezone);
        }
        for s in &mut n.sub_accounts {
            if s.country.is_none() {
                s.country.clone_from(&n.country);
            }
            if s.timezone.is_none() {
                s.timezone.clone_from(&n.timezone);
            }
        }
    }
}

/// The problems of account keys declared twice, once every file was checked: when a key's
/// fingerprint was declared more than once, every file is gone through again for the texts of
/// the keys with such fingerprints.
fn repeated_keys<S: Input>(sem: &mut check::Semantics<'_>, sources: &[S]) {
    let Some(mut texts) = sem.key_texts() else {
        return;
    };
    for (id, src) in sources.iter().enumerate() {
        each_doc(src, &mut |doc, derived| texts.collect(id, doc, derived));
    }
    sem.repeated_keys(texts);
}

/// Is the table `src` a users table (by its header)?
fn users_table(src: &impl Input) -> bool {
    src.open()
        .is_ok_and(|input| table::kind(input) == Some(table::TableKind::Users))
}

/// Customer tables read on their own (`partnerctl import`: a table, or a workbook's sheets),
/// with the users of users tables added to those customers: their customers as written (no
/// defaults merged: the configuration they join has them) and their warnings, or every problem of every row (warnings among them). A row without a
/// country or time zone is accepted, as the configuration's defaults may give them. `strict`:
/// unknown columns are errors.
pub fn load_tables(sources: &[Source], strict: bool) -> Result<TableContent, Problems> {
    let locate = |file: FileId, pos: Pos| Location {
        path: sources[file].path().to_string(),
        pos,
    };
    let shape = check::Shape::new(schema());
    let defaults = Defaults::default();
    let pass = TablePass {
        shape: &shape,
        catalog: None,
        strict,
        defaults: &defaults,
        keep: true,
    };
    let mut sink: check::Sink = Vec::new();
    let mut relations: check::Sink = Vec::new();
    let mut columns: Columns = Vec::with_capacity(sources.len());
    let mut customers = Vec::new();
    let mut users = Vec::new();
    {
        let mut sem = check::Semantics::new(&mut relations, &locate);
        sem.assume_defaults();
        sem.importing();
        let is_users: Vec<bool> = sources.iter().map(users_table).collect();
        for (id, source) in sources.iter().enumerate() {
            if is_users[id] {
                columns.push(None);
                continue;
            }
            let (header, typed) = pass.run(id, source, &mut sem, &mut sink);
            columns.push(header);
            match typed {
                Some(Ok(t)) => customers.extend(t.file.customers),
                Some(Err((pos, e))) => sink.push((id, pos, ProblemKind::Internal(e))),
                None => {}
            }
        }
        for id in (0..sources.len()).filter(|&id| is_users[id]) {
            let (header, rows) = users_pass(id, &sources[id], strict, &mut sem, &mut sink);
            columns[id] = header;
            users.extend(rows);
        }
        repeated_keys(&mut sem, sources);
    }
    sink.append(&mut relations);
    if sink.iter().any(|p| !p.2.is_warning()) {
        return Err(into_problems(sources, &columns, sink));
    }
    let mut by_key: HashMap<String, Vec<User>> = HashMap::new();
    for (account, user) in users {
        by_key.entry(account).or_default().push(user);
    }
    for c in &mut customers {
        if let Some(mut u) = by_key.remove(&c.key) {
            c.users.append(&mut u);
        }
    }
    Ok(TableContent {
        customers,
        warnings: into_problems(sources, &columns, sink).0,
    })
}

/// What [`load_tables`] reads.
#[derive(Debug, Default)]
pub struct TableContent {
    /// The customers, as written.
    pub customers: Vec<Customer>,
    /// What is worth knowing but did not stop the table (unknown columns).
    pub warnings: Vec<Problem>,
}
