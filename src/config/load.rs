//! Stage `config`, loading: finds the files ([`discover`], [`load`]: the only I/O of the stage),
//! then parses, checks and merges their texts ([`load_sources`], pure) into one [`Desired`]
//! state with `defaults` applied.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use super::table;
use super::yaml::{self, Pos};
use super::{
    Catalog, ConfigFile, Customer, Defaults, Desired, FileId, Location, Problem, ProblemKind,
    Problems, Service, Source, check, schema,
};

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

/// Is this source a customer table?
fn is_table(src: &Source) -> bool {
    Path::new(&src.path)
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
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
    match load_sources_with(&sources, catalog) {
        Ok(desired) if io_problems.is_empty() => Ok(desired),
        Ok(_) => Err(Problems(io_problems)),
        Err(Problems(mut rest)) => {
            io_problems.append(&mut rest);
            Err(Problems(io_problems))
        }
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
    let mut sink: check::Sink = Vec::new();
    let (docs, columns) = parse(sources, &mut sink);
    // A file that did not parse may be the one declaring `partner`: do not claim it is missing.
    let all_parsed = !sink
        .iter()
        .any(|(_, _, k)| matches!(k, ProblemKind::Yaml(_)));
    check_relations(sources, &docs, all_parsed, &mut sink);
    if let Some(catalog) = catalog {
        check_services_of(catalog, &docs, &mut sink);
    }
    if sources.is_empty() {
        sink.push((usize::MAX, Pos::default(), ProblemKind::PartnerMissing));
    }
    if !sink.is_empty() {
        return Err(into_problems(sources, &columns, sink));
    }
    build(sources, &docs)
}

/// The column names of each source's cells (empty for YAML files).
type Columns = Vec<BTreeMap<Pos, String>>;

/// Parses every file (customer tables into the same tree) and checks each document's shape;
/// `None` for a file that contributes no mapping (a syntax error, an empty file, a document that
/// is not a mapping).
fn parse(sources: &[Source], sink: &mut check::Sink) -> (Vec<Option<yaml::Node>>, Columns) {
    let shape = check::Shape::new(schema());
    let mut docs: Vec<Option<yaml::Node>> = Vec::with_capacity(sources.len());
    let mut columns: Columns = Vec::with_capacity(sources.len());
    for (id, src) in sources.iter().enumerate() {
        let text = src.text.strip_prefix('\u{feff}').unwrap_or(&src.text);
        if is_table(src) {
            match table::parse(text) {
                Err(errs) => {
                    sink.extend(errs.into_iter().map(|(pos, k)| (id, pos, k)));
                    docs.push(None);
                    columns.push(BTreeMap::new());
                }
                Ok(t) => {
                    let mut shape_errs = Vec::new();
                    shape.check(&t.doc, &mut shape_errs);
                    sink.extend(shape_errs.into_iter().map(|(pos, k)| (id, pos, k)));
                    docs.push(Some(t.doc));
                    columns.push(t.columns);
                }
            }
            continue;
        }
        columns.push(BTreeMap::new());
        match yaml::parse(text) {
            Err(errs) => {
                sink.extend(errs.into_iter().map(|(pos, e)| (id, pos, e.into())));
                docs.push(None);
            }
            Ok(None) => {
                // An empty file contributes nothing; that is allowed (e.g. a placeholder).
                docs.push(None);
            }
            Ok(Some(doc)) => {
                if doc.as_map().is_none() {
                    sink.push((id, doc.pos, ProblemKind::NotAMapping(doc.value.describe())));
                    docs.push(None);
                    continue;
                }
                let mut shape_errs = Vec::new();
                shape.check(&doc, &mut shape_errs);
                sink.extend(shape_errs.into_iter().map(|(pos, k)| (id, pos, k)));
                docs.push(Some(doc));
            }
        }
    }
    (docs, columns)
}

/// The value and relation checks across every parsed document: headers (`version`, `partner`,
/// `defaults`) of all files first, then their customers; a missing `partner` only when every
/// file parsed.
fn check_relations(
    sources: &[Source],
    docs: &[Option<yaml::Node>],
    all_parsed: bool,
    sink: &mut check::Sink,
) {
    let locate = |file: FileId, pos: Pos| Location {
        path: sources[file].path.clone(),
        pos,
    };
    let mut sem = check::Semantics::new(sink, &locate);
    for (id, doc) in docs.iter().enumerate() {
        if let Some(doc) = doc {
            sem.header(id, doc);
        }
    }
    for (id, doc) in docs.iter().enumerate() {
        if let Some(doc) = doc {
            sem.customers(id, doc);
        }
    }
    if all_parsed {
        sem.finish((!sources.is_empty()).then_some(0));
    }
}

/// Every service of every parsed document against `catalog`.
fn check_services_of(catalog: &Catalog, docs: &[Option<yaml::Node>], sink: &mut check::Sink) {
    for (id, doc) in docs.iter().enumerate() {
        if let Some(doc) = doc {
            let mut found = Vec::new();
            check::services(catalog, doc, &mut found);
            sink.extend(found.into_iter().map(|(pos, k)| (id, pos, k)));
        }
    }
}

/// The problems of the services of config texts against `catalog`, each located as
/// [`load_sources`] locates problems (for a configuration already loaded, whose services a plan
/// found wrong against the live catalog). Empty when every service fits the catalog.
pub fn check_services(sources: &[Source], catalog: &Catalog) -> Problems {
    let mut sink: check::Sink = Vec::new();
    let (docs, columns) = parse(sources, &mut sink);
    sink.clear();
    check_services_of(catalog, &docs, &mut sink);
    into_problems(sources, &columns, sink)
}

fn into_problems(sources: &[Source], columns: &Columns, mut sink: check::Sink) -> Problems {
    sink.sort_by_key(|a| (a.0, a.1));
    sink.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1 && a.2 == b.2);
    Problems(
        sink.into_iter()
            .map(|(file, pos, kind)| Problem {
                location: Location {
                    path: sources
                        .get(file)
                        .map_or_else(|| "(no files)".to_string(), |s| s.path.clone()),
                    pos,
                },
                column: columns.get(file).and_then(|c| c.get(&pos)).cloned(),
                kind,
            })
            .collect(),
    )
}

/// Builds the typed files and merges them (only called when no problem was found).
fn build(sources: &[Source], docs: &[Option<yaml::Node>]) -> Result<Desired, Problems> {
    let mut partner = None;
    let mut defaults = Defaults::default();
    let mut customers = Vec::new();
    for (id, doc) in docs.iter().enumerate() {
        let Some(doc) = doc else { continue };
        let file: ConfigFile = yaml::from_node(doc).map_err(|e| {
            into_problems(
                sources,
                &Vec::new(),
                vec![(id, doc.pos, ProblemKind::Internal(e.to_string()))],
            )
        })?;
        if file.partner.is_some() {
            partner = file.partner;
        }
        if let Some(d) = file.defaults {
            defaults = d;
        }
        customers.extend(file.customers);
    }
    let partner = partner.expect("validation guarantees exactly one partner");
    for c in &mut customers {
        apply_defaults(c, &defaults);
    }
    let [adopt_at, declared_at] = account_locations(sources, docs);
    Ok(Desired {
        partner,
        customers,
        sources: sources.to_vec(),
        adopt_at,
        declared_at,
    })
}

/// Where each account's `adopt` value is, and where the account is declared (its `key`
/// value), by the account's key.
fn account_locations(
    sources: &[Source],
    docs: &[Option<yaml::Node>],
) -> [BTreeMap<String, Location>; 2] {
    fn visit(node: &yaml::Node, path: &str, out: &mut [BTreeMap<String, Location>; 2]) {
        if let Some(key_node) = node.get("key") {
            if let Some(key) = key_node.as_str() {
                let at = |pos| Location {
                    path: path.to_string(),
                    pos,
                };
                if let Some(adopt) = node.get("adopt") {
                    out[0].insert(key.to_string(), at(adopt.pos));
                }
                out[1].insert(key.to_string(), at(key_node.pos));
            }
        }
        for child in node
            .list("networks")
            .iter()
            .chain(node.list("sub_accounts"))
        {
            visit(child, path, out);
        }
    }
    let mut out = [BTreeMap::new(), BTreeMap::new()];
    for (source, doc) in sources.iter().zip(docs) {
        for c in doc.iter().flat_map(|d| d.list("customers")) {
            visit(c, &source.path, &mut out);
        }
    }
    out
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
    let mut labels: BTreeMap<String, String> = d.labels.clone();
    labels.append(&mut c.labels);
    c.labels = labels;
    let own: HashSet<String> = c.services.iter().map(|s| s.service_type.clone()).collect();
    let mut services: Vec<Service> = d
        .services
        .iter()
        .filter(|s| !own.contains(&s.service_type))
        .cloned()
        .collect();
    services.append(&mut c.services);
    c.services = services;
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

/// A customer table read on its own (`partnerctl import`): its customers as written (no
/// defaults merged: the configuration it joins has them), or every problem of every row. A row
/// without a country or time zone is accepted, as the configuration's defaults may give them.
pub fn load_table(source: &Source) -> Result<Vec<Customer>, Problems> {
    let sources = std::slice::from_ref(source);
    let mut sink: check::Sink = Vec::new();
    let (docs, columns) = parse(sources, &mut sink);
    let locate = |file: FileId, pos: Pos| Location {
        path: sources[file].path.clone(),
        pos,
    };
    if let Some(doc) = &docs[0] {
        let mut sem = check::Semantics::new(&mut sink, &locate);
        sem.assume_defaults();
        sem.customers(0, doc);
    }
    if !sink.is_empty() {
        return Err(into_problems(sources, &columns, sink));
    }
    let Some(doc) = &docs[0] else {
        return Ok(Vec::new());
    };
    let file: ConfigFile = yaml::from_node(doc).map_err(|e| {
        into_problems(
            sources,
            &columns,
            vec![(0, doc.pos, ProblemKind::Internal(e.to_string()))],
        )
    })?;
    Ok(file.customers)
}
