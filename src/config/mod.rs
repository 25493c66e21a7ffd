//! Stage `config`: the desired state: model, loading, validation with locations.
//!
//! [`load`] reads files (the only I/O here); [`load_sources`] is the pure core that parses,
//! validates (every problem, each `path:line:col: message`) and merges the files into one
//! [`Desired`] state with `defaults` applied.
//!
//! Rooms:
//! - this module: [`Source`], [`Desired`] and its [`Counts`], the generated JSON Schema;
//! - [`model`]: the typed config file (serde and schemars), the single source of the schema;
//! - [`catalog`]: the service catalog (types and their settings schemas) services are checked
//!   against;
//! - [`yaml`]: text to a tree with a line and column on every node;
//! - `check`: the checks on that tree (shape from the schema, then values and relations);
//! - `problem`: [`Problem`]s, their [`ProblemKind`] and [`Location`];
//! - `load`: finding and reading files, parsing, checking and merging them;
//! - `walk`: [`Desired::walk`], every account of the tree as a [`Node`].
//!
//! Every public item is re-exported here (`config::X`). The stage imports nothing of the crate
//! but [`vocab`](crate::vocab) (the shared words and value rules).

pub mod catalog;
mod check;
mod decode;
mod files;
mod load;
pub mod model;
mod parallel;
mod problem;
mod span;
pub mod table;
mod walk;
pub mod xlsx;
pub mod yaml;

use std::fmt;
use std::sync::OnceLock;

pub use catalog::{Catalog, CatalogEntry, CatalogError, CatalogFile, SettingsError, Violation};
pub use decode::decode;
pub use files::{
    MAX_FILE_BYTES, check_for, discover, is_hidden, is_table_name, is_yaml_name, load, load_for,
    load_with, read_table,
};
pub use load::{
    Checked, TableContent, check_logins, check_services, load_sources, load_sources_for,
    load_sources_with, load_tables,
};
pub use model::{
    AdoptId, ConfigFile, Contact, Customer, Defaults, Network, Partner, Service, SubAccount, User,
};
pub use problem::{Location, LoginField, Problem, ProblemKind, Problems};
pub use span::{AccountSpan, At, Positions, ServiceSpan};
pub use walk::{Node, Walk};

use crate::vocab::AccountKind;

/// What the provider a configuration is for needs of it beyond the format (known without
/// connecting). The default is what the partner API needs, the most any provider needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Needs {
    /// Every customer has a `contact` (the provider stores one and needs it to create a
    /// customer).
    pub contact: bool,
    /// Every email has one role and one name across the configuration (the provider keeps
    /// them on the login, for every account it belongs to).
    pub one_login: bool,
    /// What is otherwise a warning (a table's unknown columns) is an error (`--strict`).
    pub strict: bool,
}

impl Default for Needs {
    fn default() -> Self {
        Needs {
            contact: true,
            one_login: false,
            strict: false,
        }
    }
}

/// The path of a workbook's sheet as a source: `book.xlsx:SHEET!`, so that its problems read
/// `book.xlsx:SHEET!ROW:COL` (a sheet's name never holds a `:`).
pub fn sheet_path(file: &str, sheet: &str) -> String {
    format!("{file}:{sheet}!")
}

/// The file a source was read from: its path, without the sheet of a workbook's sheet.
pub fn source_file(path: &str) -> &str {
    match path.strip_suffix('!').and_then(|p| p.rsplit_once(':')) {
        Some((file, _sheet)) if is_table_name(std::path::Path::new(file)) => file,
        _ => path,
    }
}

/// Index of a source file within one load.
pub type FileId = usize;

/// One config file's name and text.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Source {
    /// The path as shown in messages (a workbook's sheet: [`sheet_path`]).
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
    /// What is worth knowing but did not stop the configuration from loading (a table's
    /// unknown columns), each located.
    pub warnings: Vec<Problem>,
    /// The header of each source that is a table (`None` for a YAML file), which names the
    /// column of a cell that a problem is in.
    pub headers: Vec<Option<table::Header>>,
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

impl Counts {
    /// Adds `other`'s counts.
    pub fn add(&mut self, other: Counts) {
        self.customers += other.customers;
        self.networks += other.networks;
        self.sub_accounts += other.sub_accounts;
        self.users += other.users;
        self.services += other.services;
    }

    /// The counts of one customer and everything below it.
    pub fn of(c: &Customer) -> Counts {
        let mut n = Counts {
            customers: 1,
            users: c.users.len(),
            services: c.services.len(),
            ..Counts::default()
        };
        for net in &c.networks {
            n.networks += 1;
            n.users += net.users.len();
            n.services += net.services.len();
            for s in &net.sub_accounts {
                n.sub_accounts += 1;
                n.users += s.users.len();
                n.services += s.services.len();
            }
        }
        n
    }
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
    /// Where `pos` of source `file` is, as problems say it.
    pub fn location(&self, file: FileId, pos: yaml::Pos) -> Location {
        problem::location(self.sources.get(file).map(|s| s.path.as_str()), pos)
    }

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

#[cfg(test)]
mod tests;
