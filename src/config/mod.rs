//! Stage `config`: the desired state (SPEC §3): model, loading, validation with locations.
//!
//! [`load`] reads files (the only I/O here); [`load_sources`] is the pure core that parses,
//! validates (every problem, each `path:line:col: message`) and merges the files into one
//! [`Desired`] state with `defaults` applied.

mod check;
pub mod model;
pub mod yaml;

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

pub use model::{
    ConfigFile, Contact, Customer, Defaults, Network, Partner, Service, SubAccount, User,
};
use yaml::Pos;

use crate::vocab::AccountKind;

/// Index of a source file within one load.
pub type FileId = usize;

/// A place in a config file, shown as `path:line:col`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Location {
    /// The file as the user named it (or as found below a named directory).
    pub path: String,
    /// 1-based line and column.
    pub pos: Pos,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.pos.line == 0 {
            // Whole-file problems (cannot read, no files) have no line.
            write!(f, "{}", self.path)
        } else {
            write!(f, "{}:{}", self.path, self.pos)
        }
    }
}

/// What is wrong, without where. One variant per kind of problem.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProblemKind {
    /// A path could not be read.
    #[error("cannot read: {0}")]
    Io(String),
    /// A named directory holds no `*.yaml`/`*.yml` file.
    #[error("no *.yaml or *.yml files in this directory")]
    NoFiles,
    /// A problem of the YAML text itself.
    #[error(transparent)]
    Yaml(#[from] yaml::YamlError),
    /// A file with no document, or whose document is not a mapping.
    #[error("expected a mapping with `version`, `partner`, `defaults` or `customers`, found {0}")]
    NotAMapping(&'static str),
    /// A field the format does not have.
    #[error("unknown field `{field}`{}; allowed here: {}", suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default(), allowed.join(", "))]
    UnknownField {
        /// The field as written.
        field: String,
        /// The closest allowed name, if any is close.
        suggestion: Option<String>,
        /// Every allowed name here.
        allowed: Vec<String>,
    },
    /// A required field is absent.
    #[error("missing required field `{0}`")]
    MissingField(String),
    /// A value of the wrong type.
    #[error("expected {expected}, found {found}")]
    WrongType {
        /// What the format wants.
        expected: String,
        /// What the file has.
        found: &'static str,
    },
    /// A required text is blank.
    #[error("{0} must not be empty")]
    Empty(&'static str),
    /// An account key that does not match `[a-z0-9][a-z0-9-]{0,62}`.
    #[error(
        "invalid key `{0}`: use 1 to 63 lower-case letters, digits and `-`, starting with a letter or digit"
    )]
    InvalidKey(String),
    /// The same account key twice in the configuration.
    #[error(
        "duplicate account key `{key}`; it is already declared at {first} (keys are unique in the whole configuration)"
    )]
    DuplicateAccountKey {
        /// The key.
        key: String,
        /// The first declaration.
        first: Location,
    },
    /// The same user email twice in one account.
    #[error(
        "duplicate user `{email}` in {account}; already listed at {first} (emails compare case-insensitively)"
    )]
    DuplicateEmail {
        /// The email as written the second time.
        email: String,
        /// The account, for the message.
        account: String,
        /// The first listing.
        first: Location,
    },
    /// The same service type twice in one account.
    #[error(
        "duplicate service `{service_type}` in {account}; already listed at {first} (an account has at most one service per type)"
    )]
    DuplicateService {
        /// The service type.
        service_type: String,
        /// The account, for the message.
        account: String,
        /// The first listing.
        first: Location,
    },
    /// Not an email address.
    #[error("invalid email address `{0}`: expected a bare address like name@example.com")]
    InvalidEmail(String),
    /// Not an ISO 3166-1 alpha-2 code.
    #[error("invalid country `{value}`: expected an ISO 3166-1 alpha-2 code{}", suggestion.as_ref().map(|s| format!(", did you mean `{s}`?")).unwrap_or_else(|| " such as GB, FR or US".to_string()))]
    InvalidCountry {
        /// As written.
        value: String,
        /// A likely intended code.
        suggestion: Option<String>,
    },
    /// Not an IANA timezone name.
    #[error("invalid timezone `{value}`: expected an IANA name{}", suggestion.as_ref().map(|s| format!(", did you mean `{s}`?")).unwrap_or_else(|| " such as Europe/London or America/New_York".to_string()))]
    InvalidTimezone {
        /// As written.
        value: String,
        /// A likely intended name.
        suggestion: Option<String>,
    },
    /// A role other than `admin`/`member`.
    #[error("invalid role `{0}`: expected `admin` or `member`")]
    InvalidRole(String),
    /// `version` other than 1.
    #[error("unsupported version {0}: this partnerctl reads version 1")]
    UnsupportedVersion(String),
    /// `partner` in two files (or twice).
    #[error(
        "`partner` is declared again; it is already declared at {first} (exactly one file declares it)"
    )]
    PartnerTwice {
        /// The first declaration.
        first: Location,
    },
    /// No file declares `partner`.
    #[error(
        "no file declares `partner`; add `partner: {{name: ..., users: [...]}}` to exactly one file"
    )]
    PartnerMissing,
    /// `defaults` twice.
    #[error("`defaults` is declared again; it is already declared at {first} (it may appear once)")]
    DefaultsTwice {
        /// The first declaration.
        first: Location,
    },
    /// A customer without country and no default.
    #[error("customer {0} has no `country` and `defaults` sets none")]
    NoCountry(String),
    /// A customer without timezone and no default.
    #[error("customer {0} has no `timezone` and `defaults` sets none")]
    NoTimezone(String),
    /// The model could not be built although every check passed (a bug; please report it).
    #[error("internal error building the configuration: {0}")]
    Internal(String),
}

/// One located problem.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// Where.
    pub location: Location,
    /// What.
    pub kind: ProblemKind,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.kind)
    }
}

/// Every problem of one load, in file order, then line and column.
#[derive(Debug, Clone, PartialEq, Default, thiserror::Error)]
pub struct Problems(pub Vec<Problem>);

impl Problems {
    /// How many.
    pub fn len(&self) -> usize {
        self.0.len()
    }
    /// None at all?
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// Iterates over them.
    pub fn iter(&self) -> std::slice::Iter<'_, Problem> {
        self.0.iter()
    }
}

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for p in &self.0 {
            writeln!(f, "{p}")?;
        }
        Ok(())
    }
}

/// One config file's name and text.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Source {
    /// The path as shown in messages.
    pub path: String,
    /// The file's contents.
    pub text: String,
}

/// The merged desired state of a whole configuration, `defaults` applied: every customer has a
/// country and timezone, networks and sub-accounts inherit theirs from their parent when unset,
/// labels are merged and default services are added where the customer has none of that type.
#[derive(Debug, Clone, PartialEq)]
pub struct Desired {
    /// The partner account.
    pub partner: Partner,
    /// Customers of all files, in file order.
    pub customers: Vec<Customer>,
    /// The files read, in order, with their text (saved plans carry them).
    pub sources: Vec<Source>,
    /// Where each account's `adopt` is written, by the account's key (for located errors when
    /// the live state disagrees).
    pub adopt_at: BTreeMap<String, Location>,
}

/// Object counts of a desired state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Customer accounts.
    pub customers: usize,
    /// Network accounts.
    pub networks: usize,
    /// Sub-accounts.
    pub sub_accounts: usize,
    /// Users, partner users included.
    pub users: usize,
    /// Services, default services counted on every customer that gets them.
    pub services: usize,
}

impl fmt::Display for Counts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn n(count: usize, one: &str, many: &str) -> String {
            format!("{count} {}", if count == 1 { one } else { many })
        }
        write!(
            f,
            "{}, {}, {}, {}, {}",
            n(self.customers, "customer", "customers"),
            n(self.networks, "network", "networks"),
            n(self.sub_accounts, "sub-account", "sub-accounts"),
            n(self.users, "user", "users"),
            n(self.services, "service", "services"),
        )
    }
}

impl Desired {
    /// Counts every object.
    pub fn counts(&self) -> Counts {
        let mut c = Counts {
            users: self.partner.users.len(),
            ..Counts::default()
        };
        for node in self.walk() {
            match node.kind {
                AccountKind::Customer => c.customers += 1,
                AccountKind::Network => c.networks += 1,
                AccountKind::SubAccount => c.sub_accounts += 1,
            }
            c.users += node.users.len();
            c.services += node.services.len();
        }
        c
    }
}

/// The JSON Schema of one config file, as a `serde_json::Value`.
pub fn schema() -> &'static serde_json::Value {
    static SCHEMA: OnceLock<serde_json::Value> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let generator = schemars::generate::SchemaSettings::draft2020_12().into_generator();
        let schema = generator.into_root_schema_for::<ConfigFile>();
        schema.to_value()
    })
}

/// The JSON Schema as pretty-printed text with a trailing newline (what `partnerctl schema`
/// prints and `schemas/partnerctl.schema.json` holds).
pub fn schema_json() -> String {
    let mut text = serde_json::to_string_pretty(schema()).expect("a JSON value always serializes");
    text.push('\n');
    text
}

/// Finds the config files named by `paths`: files as given, directories searched recursively for
/// `*.yaml`/`*.yml` (hidden entries skipped), sorted. Unreadable paths become problems.
pub fn discover(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<Problem>) {
    let mut files = Vec::new();
    let mut problems = Vec::new();
    let mut seen = HashSet::new();
    for path in paths {
        let here = |kind| Problem {
            location: Location {
                path: path.display().to_string(),
                pos: Pos { line: 0, col: 0 },
            },
            kind,
        };
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
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(path);
        }
    }
    Ok(())
}

/// Reads and validates a configuration given as files and directories.
pub fn load(paths: &[PathBuf]) -> Result<Desired, Problems> {
    let (files, mut io_problems) = discover(paths);
    let mut sources = Vec::new();
    for f in files {
        match std::fs::read(&f) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => sources.push(Source {
                    path: f.display().to_string(),
                    text,
                }),
                Err(e) => io_problems.push(Problem {
                    location: Location {
                        path: f.display().to_string(),
                        pos: Pos { line: 0, col: 0 },
                    },
                    kind: ProblemKind::Io(format!("not UTF-8 text ({e})")),
                }),
            },
            Err(e) => io_problems.push(Problem {
                location: Location {
                    path: f.display().to_string(),
                    pos: Pos { line: 0, col: 0 },
                },
                kind: ProblemKind::Io(e.to_string()),
            }),
        }
    }
    if sources.is_empty() && !io_problems.is_empty() {
        return Err(Problems(io_problems));
    }
    match load_sources(&sources) {
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
    let mut sink: check::Sink = Vec::new();
    let shape = check::Shape::new(schema());
    let mut docs: Vec<Option<yaml::Node>> = Vec::with_capacity(sources.len());
    for (id, src) in sources.iter().enumerate() {
        let text = src.text.strip_prefix('\u{feff}').unwrap_or(&src.text);
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
    let locate = |file: FileId, pos: Pos| Location {
        path: sources[file].path.clone(),
        pos,
    };
    // A file that did not parse may be the one declaring `partner`: do not claim it is missing.
    let all_parsed = !sink
        .iter()
        .any(|(_, _, k)| matches!(k, ProblemKind::Yaml(_)));
    {
        let mut sem = check::Semantics::new(&mut sink, &locate);
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
    if sources.is_empty() {
        sink.push((usize::MAX, Pos::default(), ProblemKind::PartnerMissing));
    }
    if !sink.is_empty() {
        return Err(into_problems(sources, sink));
    }
    build(sources, &docs)
}

fn into_problems(sources: &[Source], mut sink: check::Sink) -> Problems {
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
        let file: ConfigFile = serde_json::from_value(doc.to_json()).map_err(|e| {
            into_problems(
                sources,
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
    Ok(Desired {
        partner,
        customers,
        sources: sources.to_vec(),
        adopt_at: adopt_locations(sources, docs),
    })
}

/// Where each account's `adopt` value is, by the account's key.
fn adopt_locations(sources: &[Source], docs: &[Option<yaml::Node>]) -> BTreeMap<String, Location> {
    fn visit(node: &yaml::Node, path: &str, out: &mut BTreeMap<String, Location>) {
        if let (Some(key), Some(adopt)) = (
            node.get("key").and_then(yaml::Node::as_str),
            node.get("adopt"),
        ) {
            let at = Location {
                path: path.to_string(),
                pos: adopt.pos,
            };
            out.insert(key.to_string(), at);
        }
        for child in node
            .list("networks")
            .iter()
            .chain(node.list("sub_accounts"))
        {
            visit(child, path, out);
        }
    }
    let mut out = BTreeMap::new();
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

/// One account of the desired tree, as [`Desired::walk`] yields it (`defaults` applied).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Node<'a> {
    /// Customer, network or sub-account.
    pub kind: AccountKind,
    /// Position in the walk.
    pub index: usize,
    /// Position of the parent account in the walk; `None` for a customer (its parent is the
    /// partner).
    pub parent: Option<usize>,
    /// Stable identity (the external key).
    pub key: &'a str,
    /// The live id to adopt, if given.
    pub adopt: Option<&'a str>,
    /// Display name.
    pub name: &'a str,
    /// The main contact (customers only).
    pub contact: Option<&'a Contact>,
    /// Country, inherited where unset.
    pub country: Option<&'a str>,
    /// Timezone, inherited where unset.
    pub timezone: Option<&'a str>,
    /// The account's own labels (defaults merged), without the label that records `protect`.
    pub labels: &'a BTreeMap<String, String>,
    /// Never delete this account.
    pub protect: bool,
    /// Users of the account itself.
    pub users: &'a [User],
    /// Services of the account itself.
    pub services: &'a [Service],
}

impl Desired {
    /// Every account of the tree, parents before children: each customer, followed by each of
    /// its networks, each followed by its sub-accounts (files' order). The one walk over the tree
    /// for whoever needs every account.
    pub fn walk(&self) -> Walk<'_> {
        Walk {
            customers: self.customers.iter(),
            networks: [].iter(),
            sub_accounts: [].iter(),
            next: 0,
            customer: 0,
            network: 0,
        }
    }
}

/// The iterator of [`Desired::walk`].
#[derive(Debug, Clone)]
pub struct Walk<'a> {
    customers: std::slice::Iter<'a, Customer>,
    networks: std::slice::Iter<'a, Network>,
    sub_accounts: std::slice::Iter<'a, SubAccount>,
    next: usize,
    /// Index of the customer whose networks are being walked.
    customer: usize,
    /// Index of the network whose sub-accounts are being walked.
    network: usize,
}

impl<'a> Iterator for Walk<'a> {
    type Item = Node<'a>;

    fn next(&mut self) -> Option<Node<'a>> {
        let index = self.next;
        let node = if let Some(s) = self.sub_accounts.next() {
            Node {
                kind: AccountKind::SubAccount,
                index,
                parent: Some(self.network),
                key: &s.key,
                adopt: s.adopt.as_deref(),
                name: &s.name,
                contact: None,
                country: s.country.as_deref(),
                timezone: s.timezone.as_deref(),
                labels: &s.labels,
                protect: s.protect,
                users: &s.users,
                services: &s.services,
            }
        } else if let Some(n) = self.networks.next() {
            self.network = index;
            self.sub_accounts = n.sub_accounts.iter();
            Node {
                kind: AccountKind::Network,
                index,
                parent: Some(self.customer),
                key: &n.key,
                adopt: n.adopt.as_deref(),
                name: &n.name,
                contact: None,
                country: n.country.as_deref(),
                timezone: n.timezone.as_deref(),
                labels: &n.labels,
                protect: n.protect,
                users: &n.users,
                services: &n.services,
            }
        } else {
            let c = self.customers.next()?;
            self.customer = index;
            self.networks = c.networks.iter();
            Node {
                kind: AccountKind::Customer,
                index,
                parent: None,
                key: &c.key,
                adopt: c.adopt.as_deref(),
                name: &c.name,
                contact: Some(&c.contact),
                country: c.country.as_deref(),
                timezone: c.timezone.as_deref(),
                labels: &c.labels,
                protect: c.protect,
                users: &c.users,
                services: &c.services,
            }
        };
        self.next += 1;
        Some(node)
    }
}

#[cfg(test)]
mod tests;
