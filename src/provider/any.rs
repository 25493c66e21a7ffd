//! Stage `provider`, the provider chosen at run time: one of the implementations, behind the
//! same boundary, so the commands never know which vendor they talk to. The list of
//! implementations is written once, in the `providers!` call below; the enum of providers, the
//! enum of their errors and every delegating method of [`Provider`] are made from it.

use crate::api::ApiError;
use crate::live::Snapshot;
use crate::plan::{Capabilities, Operation};
use crate::provider::nexudus::NexudusProvider;
use crate::provider::nexudus::error::NexudusError;
use crate::provider::{HttpProvider, Outcome, Provider, Remedy, Resolved};

/// Makes [`AnyProvider`] (one variant per provider), [`AnyError`] (one per provider's error)
/// and their [`Provider`] implementation, each method handing over to the provider inside.
macro_rules! providers {
    ($($(#[doc = $doc:literal])* $variant:ident($provider:ty, $error:ty),)+) => {
        /// Which provider a run uses.
        #[derive(Debug, Clone)]
        pub enum AnyProvider {
            $($(#[doc = $doc])* $variant($provider),)+
        }

        /// The error of whichever provider runs.
        #[derive(Debug, thiserror::Error)]
        pub enum AnyError {
            $($(#[doc = $doc])* #[error(transparent)] $variant(#[from] $error),)+
        }

        impl Provider for AnyProvider {
            type Error = AnyError;

            fn endpoint(&self) -> String {
                match self { $(AnyProvider::$variant(p) => p.endpoint(),)+ }
            }

            async fn snapshot(&self) -> Result<Snapshot, AnyError> {
                match self { $(AnyProvider::$variant(p) => Ok(p.snapshot().await?),)+ }
            }

            async fn execute(
                &self,
                op: &Operation,
                ids: &Resolved,
                idempotency_key: &str,
            ) -> Result<Outcome, AnyError> {
                match self {
                    $(AnyProvider::$variant(p) => Ok(p.execute(op, ids, idempotency_key).await?),)+
                }
            }

            fn capabilities(&self) -> Capabilities {
                match self { $(AnyProvider::$variant(p) => p.capabilities(),)+ }
            }

            fn runbook(&self, op: &Operation, parent_name: Option<&str>) -> (String, Vec<String>) {
                match self { $(AnyProvider::$variant(p) => p.runbook(op, parent_name),)+ }
            }

            fn remedy(error: &AnyError) -> Remedy {
                match error { $(AnyError::$variant(e) => <$provider>::remedy(e),)+ }
            }

            fn halts(error: &AnyError) -> bool {
                match error { $(AnyError::$variant(e) => <$provider>::halts(e),)+ }
            }

            fn throttle_events(&self) -> u64 {
                match self { $(AnyProvider::$variant(p) => p.throttle_events(),)+ }
            }

            fn retries(&self) -> u64 {
                match self { $(AnyProvider::$variant(p) => p.retries(),)+ }
            }
        }
    };
}

providers! {
    /// The partner API contract.
    Http(HttpProvider, ApiError),
    /// The Nexudus REST API.
    Nexudus(NexudusProvider, NexudusError),
}
