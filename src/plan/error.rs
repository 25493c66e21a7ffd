//! Stage `plan`, errors: why a plan cannot be made. Every error found is reported at once.

use crate::config::{Location, Problem};
use crate::vocab::AccountKind;
use crate::vocab::diagnostic::Diagnostic;

/// `path:line:col: ` before a message, when the place is known.
fn at(location: &Option<Location>) -> String {
    location
        .as_ref()
        .map(|l| format!("{l}: "))
        .unwrap_or_default()
}

/// A reason the plan cannot be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlanError {
    /// The config's partner name differs from the token's partner.
    #[error(
        "the configuration is for partner `{config}`, but the token belongs to partner `{live}`; use the token of `{config}` or fix `partner.name`"
    )]
    PartnerName {
        /// Name in the config.
        config: String,
        /// Name of the token's partner.
        live: String,
    },
    /// An account exists under another parent; the API cannot move accounts.
    #[error(
        "{}{address} exists under {live_parent}, but the configuration puts it under {desired_parent}; the API cannot move accounts: move it back in the configuration, or delete and re-create it by changing its key",
        at(location)
    )]
    Moved {
        /// Where the account is declared (its `key`), when known.
        location: Option<Location>,
        /// The account.
        address: String,
        /// Where it is.
        live_parent: String,
        /// Where the config wants it.
        desired_parent: String,
    },
    /// An account exists with another kind; the API cannot change kinds.
    #[error(
        "{}`{key}` is a {live_kind} in the live state but a {desired_kind} in the configuration; the API cannot change an account's kind: use another key for the {desired_kind}",
        at(location)
    )]
    KindChanged {
        /// Where the account is declared (its `key`), when known.
        location: Option<Location>,
        /// The key.
        key: String,
        /// Live kind.
        live_kind: AccountKind,
        /// Desired kind.
        desired_kind: AccountKind,
    },
    /// Several unkeyed live accounts could be adopted.
    #[error("{}{address}: {} live accounts without a key have this kind, parent and name ({}); say which one this is with `adopt: <id>` on the account in the configuration", at(location), ids.len(), ids.join(", "))]
    AmbiguousAdoption {
        /// Where the account is declared (its `key`), when known.
        location: Option<Location>,
        /// The desired account.
        address: String,
        /// Candidate ids.
        ids: Vec<String>,
    },
    /// An `adopt` id the live state contradicts.
    #[error("{}{address}: adopt: {problem}", at(location))]
    Adopt {
        /// Where `adopt` is written, when known.
        location: Option<Location>,
        /// The desired account.
        address: String,
        /// What is wrong.
        problem: AdoptProblem,
    },
    /// A customer to create without the contact the provider stores (and needs to create it).
    #[error(
        "{}{address}: creating this customer needs its contact, which the provider stores, and the configuration gives none: add `contact: {{ name: ..., email: ... }}` to it",
        at(location)
    )]
    NoContact {
        /// Where the customer is declared (its `key`), when known.
        location: Option<Location>,
        /// The customer.
        address: String,
    },
    /// A `--target` address that names no account.
    #[error("--target {target}: no such account in the configuration or the live state{}", match closest {
        Some(c) => format!("; did you mean {c}?"),
        None => "; give an address such as customer.KEY or sub_account.KEY, a key, or `partner`".to_string(),
    })]
    UnknownTarget {
        /// The address given.
        target: String,
        /// The closest known address.
        closest: Option<String>,
    },
    /// A `--target` key or id that several accounts have.
    #[error("--target {target}: several accounts have this key or id ({}); give the full address of one", .addresses.join(", "))]
    AmbiguousTarget {
        /// The key or id given.
        target: String,
        /// The addresses of the accounts that have it.
        addresses: Vec<String>,
    },
    /// A problem of the configuration found against the live state (a service the live
    /// catalog does not have, or settings its schema rejects), where it is written.
    #[error("{0}")]
    Configuration(Problem),
}

/// Located when it concerns a place in the configuration (its message starts with it).
impl Diagnostic for PlanError {
    fn location(&self) -> Option<Location> {
        let at = match self {
            PlanError::Moved { location, .. }
            | PlanError::KindChanged { location, .. }
            | PlanError::AmbiguousAdoption { location, .. }
            | PlanError::Adopt { location, .. }
            | PlanError::NoContact { location, .. } => location.as_ref(),
            PlanError::Configuration(p) => Some(&p.location),
            PlanError::PartnerName { .. }
            | PlanError::UnknownTarget { .. }
            | PlanError::AmbiguousTarget { .. } => None,
        };
        at.cloned()
    }
}

/// Why an `adopt` id cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdoptProblem {
    /// No live account of the partner has the id.
    #[error(
        "the partner has no live account `{id}`; copy the id from `partnerctl export` or the vendor's dashboard"
    )]
    NotFound {
        /// The id given.
        id: String,
    },
    /// The live account is of another kind.
    #[error("live account `{id}` is a {live}, not a {desired}")]
    Kind {
        /// The id given.
        id: String,
        /// Its kind.
        live: AccountKind,
        /// The desired kind.
        desired: AccountKind,
    },
    /// The live account is under another parent.
    #[error("live account `{id}` is under {live_parent}, not under {desired_parent}")]
    Parent {
        /// The id given.
        id: String,
        /// Where it is.
        live_parent: String,
        /// Where the configuration puts it.
        desired_parent: String,
    },
    /// The live account already has another key.
    #[error("live account `{id}` is already managed as `{key}`; use that key, or remove `adopt`")]
    Keyed {
        /// The id given.
        id: String,
        /// Its key.
        key: String,
    },
    /// The key is already on another live account.
    #[error(
        "the key is already on live account `{owner}`, not on `{id}`; remove `adopt`, or use another key"
    )]
    KeyElsewhere {
        /// The id given.
        id: String,
        /// The account that has the key.
        owner: String,
    },
    /// Another desired account adopts the same live account.
    #[error("live account `{id}` is adopted by another account of the configuration too")]
    Twice {
        /// The id given.
        id: String,
    },
}

/// Every planning error found.
#[derive(Debug, Clone, PartialEq, Default, thiserror::Error)]
pub struct PlanErrors(pub Vec<PlanError>);

impl std::fmt::Display for PlanErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        one_per_line(f, &self.0)
    }
}

/// Writes `items` one per line (no trailing newline).
pub(super) fn one_per_line<T: std::fmt::Display>(
    f: &mut std::fmt::Formatter<'_>,
    items: &[T],
) -> std::fmt::Result {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            writeln!(f)?;
        }
        write!(f, "{item}")?;
    }
    Ok(())
}
