//! Stage `provider`, the partner API contract over HTTP: [`HttpProvider`] reads the live
//! snapshot (`read.rs`) and performs typed operations (`write.rs`) through [`crate::api::Client`].

mod read;
mod write;

use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::api::{ApiError, Client};
use crate::live;
use crate::plan::Operation;
use crate::provider::{Outcome, Provider, Remedy, Resolved};

/// The partner API contract over HTTP.
#[derive(Debug, Clone)]
pub struct HttpProvider {
    client: Client,
    read_deadline: Option<Duration>,
}

impl HttpProvider {
    /// Wraps a client.
    pub fn new(client: Client) -> Self {
        HttpProvider {
            client,
            read_deadline: None,
        }
    }

    /// Bounds the reading of the whole live state: past `limit`, the requests in flight are
    /// dropped and [`ApiError::ReadDeadline`] names the last retry.
    pub fn with_read_deadline(mut self, limit: Duration) -> Self {
        self.read_deadline = Some(limit);
        self
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

    fn remedy(error: &ApiError) -> Remedy {
        if let ApiError::Redirect { .. } = error {
            // The endpoint setting must change: the same answer would come again.
            return Remedy::FixAccess;
        }
        match error.status().map(|s| s.as_u16()) {
            Some(400 | 422) => Remedy::FixConfiguration,
            Some(401 | 403) => Remedy::FixAccess,
            _ => Remedy::Rerun,
        }
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
        let requests = || self.client.stats().requests.load(Ordering::Relaxed);
        let (started, sent) = (std::time::Instant::now(), requests());
        let mut snapshot = match self.read_deadline {
            None => read::snapshot(&self.client).await?,
            Some(limit) => tokio::time::timeout(limit, read::snapshot(&self.client))
                .await
                .unwrap_or_else(|_| {
                    Err(ApiError::ReadDeadline {
                        limit,
                        last_retry: self.client.stats().last_retry(),
                    })
                })?,
        };
        snapshot.read = Some(live::ReadCost {
            requests: requests() - sent,
            seconds: started.elapsed().as_secs_f64(),
        });
        Ok(snapshot)
    }
}

#[cfg(test)]
mod tests;
