//! Stage `export`: the live state of a partner as configuration files that plan to zero changes
//! (adoption aside): `build` (the estate, in a stable order; keys derived from names by
//! [`crate::vocab::keys`]),
//! `defaults` (what customers share), and here the files of either layout. Pure: returns file
//! names and texts; the edge writes them. May import: `config` (the model), `live`, `vocab`.

mod build;
mod defaults;
pub mod sheets;

use std::path::PathBuf;

use crate::config::{ConfigFile, Customer};

pub use build::{Carries, Estate, InvalidKey, Summary, estate, estate_keeping};

/// Name of the JSON Schema file an export writes beside its files (directory layout).
pub const SCHEMA_FILE: &str = "partnerctl.schema.json";

/// How the files are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Layout {
    /// One file with everything.
    Single,
    /// `partner.yaml` (partner, its users, defaults) and `customers/<key>.yaml` per customer.
    PerCustomer,
}

/// One file of an export: its path relative to the export's root, and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    /// Relative path.
    pub path: PathBuf,
    /// YAML text.
    pub text: String,
}

fn header(schema: &str, comment: &str) -> String {
    format!("# yaml-language-server: $schema={schema}\n#\n# {comment}\n")
}

fn yaml(file: &ConfigFile) -> String {
    serde_yaml::to_string(file).expect("the configuration model serializes")
}

/// The files of `estate` in `layout`.
pub fn files(estate: &Estate, layout: Layout) -> Vec<File> {
    let head = ConfigFile {
        version: Some(1),
        partner: Some(estate.partner.clone()),
        defaults: estate.defaults.clone(),
        customers: Vec::new(),
    };
    match layout {
        Layout::Single => {
            let all = ConfigFile {
                customers: estate.customers.clone(),
                ..head
            };
            let text = header(SCHEMA_FILE, "Exported by `partnerctl export`.") + &yaml(&all);
            vec![File {
                path: PathBuf::from("partnerctl.yaml"),
                text,
            }]
        }
        Layout::PerCustomer => {
            let text = header(
                SCHEMA_FILE,
                "The partner, its users and the defaults every customer inherits. Exported by `partnerctl export`.",
            ) + &yaml(&head);
            let mut out = vec![File {
                path: PathBuf::from("partner.yaml"),
                text,
            }];
            out.extend(estate.customers.iter().map(customer_file));
            out
        }
    }
}

fn customer_file(c: &Customer) -> File {
    let file = ConfigFile {
        version: None,
        partner: None,
        defaults: None,
        customers: vec![c.clone()],
    };
    let comment = format!("Customer `{}`. Exported by `partnerctl export`.", c.key);
    File {
        path: PathBuf::from("customers").join(format!("{}.yaml", c.key)),
        text: header(&format!("../{SCHEMA_FILE}"), &comment) + &yaml(&file),
    }
}

#[cfg(test)]
mod tests;
