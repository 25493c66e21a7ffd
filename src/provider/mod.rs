//! Stage `provider`: the boundary through which `plan` and `apply` reach live state
//! ([`Provider`]: read a snapshot, execute one operation, report throttling), and its
//! implementations side by side, so vendor dialects can be added as further providers without
//! touching planning or scheduling. [`http::HttpProvider`] speaks the partner API contract
//! through [`crate::api`]; [`nexudus::NexudusProvider`] speaks the Nexudus REST API;
//! [`AnyProvider`] is the one chosen at run time. May import: `api` (the wire), `live`, `plan`
//! (operations), `vocab`.

mod any;
mod factory;
pub mod http;
pub mod nexudus;

use std::future::Future;

use serde::Serialize;

use crate::live::Snapshot;
use crate::plan::{Capabilities, Operation};

pub use any::{AnyError, AnyProvider};
pub use factory::{Access, Credentials, OpenError, ProviderKind};
pub use http::HttpProvider;

/// Where a provider points, for headers and messages.
#[derive(Debug, Clone, Serialize)]
pub struct Target {
    /// The endpoint URL.
    pub endpoint: String,
    /// True when the endpoint is the embedded local sandbox.
    pub embedded: bool,
}

/// Live ids an operation needs, resolved when it starts (accounts created earlier in the same
/// apply are known by then), and what the provider's own read noted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resolved {
    /// The id of the account the operation acts on or in (the partner's id for partner users).
    pub account_id: Option<String>,
    /// For `create`: the parent's id.
    pub parent_id: Option<String>,
    /// What the provider noted in the read the plan was made from ([`Snapshot::private`]).
    pub private: crate::live::Private,
}

/// What an executed operation produced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// For `create`: the new account's id.
    pub created_id: Option<String>,
}

/// What it takes for a failed operation to succeed: running apply again (the failure was
/// transient, or the live state moved), or a fix by a person first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Remedy {
    /// A re-run may succeed: a timeout, a dropped connection, a server error, a conflict
    /// with a concurrent change (the next plan sees it).
    Rerun,
    /// The API refused the values themselves: the configuration must change first.
    FixConfiguration,
    /// The credentials or the account's permissions do not allow it.
    FixAccess,
}

/// A source of live state and a sink of operations.
pub trait Provider {
    /// The provider's error.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Where the provider points, for headers and messages (an endpoint URL).
    fn endpoint(&self) -> String;

    /// Reads the whole live state of the token's partner.
    fn snapshot(&self) -> impl Future<Output = Result<Snapshot, Self::Error>> + Send;

    /// Performs one operation. `idempotency_key` is the same on every attempt of this
    /// operation of this plan, so a retry after an unknown outcome never acts twice.
    fn execute(
        &self,
        op: &Operation,
        ids: &Resolved,
        idempotency_key: &str,
    ) -> impl Future<Output = Result<Outcome, Self::Error>> + Send;

    /// What it takes for an operation that failed with `error` to succeed.
    fn remedy(error: &Self::Error) -> Remedy {
        let _ = error;
        Remedy::Rerun
    }

    /// What the vendor's API can do; what it cannot becomes a manual step or a refusal.
    fn capabilities(&self) -> Capabilities {
        Capabilities::full()
    }

    /// A manual step for `op` in the vendor's own words: a title and the instructions, with
    /// the values to type. Only asked for operations [`Provider::capabilities`] excludes.
    /// `parent_name`: the name of a parent this plan creates too (a live parent's name the
    /// provider knows from its read).
    fn runbook(&self, op: &Operation, parent_name: Option<&str>) -> (String, Vec<String>) {
        let _ = parent_name;
        (
            format!("{} {}", op.action().as_str(), op.address),
            vec!["Do this in the vendor's dashboard.".to_string()],
        )
    }

    /// Does an operation that failed with `error` stop the apply from starting further ones
    /// (the vendor's write budget is spent: every other write would fail the same way)? The
    /// error's message says why, and the apply report shows it.
    fn halts(error: &Self::Error) -> bool {
        let _ = error;
        false
    }

    /// How many throttled responses the provider has seen so far (for adaptive concurrency).
    fn throttle_events(&self) -> u64 {
        0
    }

    /// How many retries the provider has made so far.
    fn retries(&self) -> u64 {
        0
    }
}
