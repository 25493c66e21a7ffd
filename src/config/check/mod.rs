//! Stage `config`, validation: every check on the located YAML tree, so each problem
//! points at the offending node. Pure: no I/O.
//!
//! Two layers, one room each:
//! - `shape`, driven by the generated JSON Schema (the model is the single source of truth):
//!   unknown fields (with the closest allowed name), missing required fields, wrong types;
//! - `rules`, values and relations: key syntax, emails, countries, timezones, roles, `version`,
//!   duplicates (account keys across the whole config, user emails and service types within an
//!   account), `partner`/`defaults` declared once, a customer's contact where the provider
//!   needs one;
//! - `keys`, account keys declared twice, found from fingerprints of the keys and, when two
//!   fingerprints are the same, the texts of those keys alone, read again;
//! - `services`, against a service catalog when one is given: known types (with the closest
//!   known one suggested) and settings their schemas accept; the same check runs on the
//!   loaded model, its services located by their spans;
//! - `logins`, for providers that keep a user's role and name on the login: one role and one
//!   name per email across the whole configuration.

mod keys;
mod logins;
mod rules;
mod services;
mod shape;

#[cfg(test)]
pub(crate) use keys::{Fingerprint, with_fingerprint};
pub(crate) use logins::Listings;
pub(crate) use rules::Semantics;
pub(crate) use services::check as services;
pub(crate) use services::of_model as services_of_model;
pub(crate) use shape::{Shape, closest};

use super::yaml::Pos;
use super::{FileId, ProblemKind};

/// Collects `(file, position, problem)` triples.
pub(crate) type Sink = Vec<(FileId, Pos, ProblemKind)>;
