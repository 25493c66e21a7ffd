//! The provider boundary (SPEC §9): `plan` and `apply` reach live state only through
//! [`Provider`], so vendor dialects can be added as further providers without touching planning.
//! The §7 HTTP API is [`crate::api::HttpProvider`].

use std::future::Future;

use crate::live::Snapshot;

/// A source of live state (and, for apply, a sink of operations).
pub trait Provider {
    /// The provider's error.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Where the provider points, for headers and messages (an endpoint URL).
    fn endpoint(&self) -> String;

    /// Reads the whole live state of the token's partner.
    fn snapshot(&self) -> impl Future<Output = Result<Snapshot, Self::Error>> + Send;
}
