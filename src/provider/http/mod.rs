//! Stage `provider`, the partner API contract over HTTP: [`HttpProvider`] reads the live
//! snapshot (`read.rs`) and performs typed operations (`write.rs`) through [`crate::api::Client`].

mod read;
mod write;

use std::sync::atomic::Ordering;

use crate::api::{ApiError, Client};
use crate::live;
use crate::plan::Operation;
use crate::provider::{Outcome, Provider, Resolved};

/// The partner API contract over HTTP.
#[derive(Debug, Clone)]
pub struct HttpProvider {
    client: Client,
}

impl HttpProvider {
    /// Wraps a client.
    pub fn new(client: Client) -> Self {
        HttpProvider { client }
    }

    /// The underlying client (for its counters).
    pub fn client(&self) -> &Client {
        &self.client
    }
}

impl Provider for HttpProvider {
    type Error = ApiError;

    fn execute(
        &self,
        op: &Operation,
        ids: &Resolved,
        idempotency_key: &str,
    ) -> impl std::future::Future<Output = Result<Outcome, ApiError>> + Send {
        self.run(op, ids, idempotency_key)
    }

    fn throttle_events(&self) -> u64 {
        self.client.stats().throttled.load(Ordering::Relaxed)
    }

    fn retries(&self) -> u64 {
        self.client.stats().retries.load(Ordering::Relaxed)
    }

    fn endpoint(&self) -> String {
        self.client.base_url().trim_end_matches('/').to_string()
    }

    async fn snapshot(&self) -> Result<live::Snapshot, ApiError> {
        read::snapshot(&self.client).await
    }
}
