//! Stage `provider`, the provider chosen at run time: one of the implementations, behind the
//! same boundary, so the commands never know which vendor they talk to.

use crate::api::ApiError;
use crate::live::Snapshot;
use crate::plan::{Capabilities, Operation};
use crate::provider::nexudus::NexudusProvider;
use crate::provider::nexudus::error::NexudusError;
use crate::provider::{HttpProvider, Outcome, Provider, Remedy, Resolved};

/// Which provider a run uses.
#[derive(Debug, Clone)]
pub enum AnyProvider {
    /// The partner API contract.
    Http(HttpProvider),
    /// The Nexudus REST API.
    Nexudus(NexudusProvider),
}

/// The error of whichever provider runs.
#[derive(Debug, thiserror::Error)]
pub enum AnyError {
    /// From the partner API.
    #[error(transparent)]
    Http(#[from] ApiError),
    /// From the Nexudus API.
    #[error(transparent)]
    Nexudus(#[from] NexudusError),
}

/// Calls `$call` on the provider inside, converting its error.
macro_rules! both {
    ($self:ident, $p:ident => $call:expr) => {
        match $self {
            AnyProvider::Http($p) => $call.map_err(AnyError::from),
            AnyProvider::Nexudus($p) => $call.map_err(AnyError::from),
        }
    };
}

impl Provider for AnyProvider {
    type Error = AnyError;

    fn endpoint(&self) -> String {
        match self {
            AnyProvider::Http(p) => p.endpoint(),
            AnyProvider::Nexudus(p) => p.endpoint(),
        }
    }

    async fn snapshot(&self) -> Result<Snapshot, AnyError> {
        both!(self, p => p.snapshot().await)
    }

    async fn execute(
        &self,
        op: &Operation,
        ids: &Resolved,
        idempotency_key: &str,
    ) -> Result<Outcome, AnyError> {
        both!(self, p => p.execute(op, ids, idempotency_key).await)
    }

    fn capabilities(&self) -> Capabilities {
        match self {
            AnyProvider::Http(p) => p.capabilities(),
            AnyProvider::Nexudus(p) => p.capabilities(),
        }
    }

    fn runbook(&self, op: &Operation, parent_name: Option<&str>) -> (String, Vec<String>) {
        match self {
            AnyProvider::Http(p) => p.runbook(op, parent_name),
            AnyProvider::Nexudus(p) => p.runbook(op, parent_name),
        }
    }

    fn remedy(error: &AnyError) -> Remedy {
        match error {
            AnyError::Http(e) => HttpProvider::remedy(e),
            AnyError::Nexudus(e) => NexudusProvider::remedy(e),
        }
    }

    fn halts(error: &AnyError) -> bool {
        match error {
            AnyError::Http(e) => HttpProvider::halts(e),
            AnyError::Nexudus(e) => NexudusProvider::halts(e),
        }
    }

    fn throttle_events(&self) -> u64 {
        match self {
            AnyProvider::Http(p) => p.throttle_events(),
            AnyProvider::Nexudus(p) => p.throttle_events(),
        }
    }

    fn retries(&self) -> u64 {
        match self {
            AnyProvider::Http(p) => p.retries(),
            AnyProvider::Nexudus(p) => p.retries(),
        }
    }
}
