//! Stage `provider`, the Nexudus implementation of the provider boundary: the Nexudus REST API
//! as documented ([`crate::wire::nexudus`] has the shapes and the mapping of the partner tree onto it). What
//! the API cannot do is declared as [`Capabilities`]: customers, network accounts and
//! sub-accounts are created (and removed) in the vendor's dashboard, so they are manual steps
//! with a runbook in the dashboard's words; accounts carry no key, so they are matched by name;
//! only names are stored; there are no services. May import: `api`, `live`, `plan`, `vocab`.

pub mod client;
pub mod error;
pub mod pace;
pub mod read;
mod runbook;
mod write;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use client::{Credentials, NexudusClient, Settings};
use error::NexudusError;
use read::Learned;

use crate::live::{Private, Snapshot};
use crate::plan::{Capabilities, Change, Operation, RoleScope};
use crate::provider::{Outcome, Provider, Remedy, Resolved};
use crate::vocab::rules::email_key;

/// The Nexudus provider.
#[derive(Debug, Clone)]
pub struct NexudusProvider {
    client: Arc<NexudusClient>,
    /// Operations on one login, one at a time.
    logins: Arc<write::Logins>,
    time_scale: f64,
    read_deadline: Option<Duration>,
}

impl NexudusProvider {
    /// A provider for the API at `endpoint`.
    pub fn new(
        endpoint: &str,
        credentials: Credentials,
        settings: Settings,
    ) -> Result<Self, NexudusError> {
        Ok(NexudusProvider {
            client: Arc::new(NexudusClient::new(endpoint, credentials, settings)?),
            logins: Arc::default(),
            time_scale: settings.time_scale,
            read_deadline: None,
        })
    }

    /// Bounds the reading of the live state.
    pub fn with_read_deadline(mut self, limit: Duration) -> Self {
        self.read_deadline = Some(limit);
        self
    }

    /// Requests sent so far.
    pub fn requests(&self) -> u64 {
        self.client.stats().requests.load(Ordering::Relaxed)
    }
}

/// The login the read an operation was planned from saw with this email (none when the
/// operation carries no such read: a lookup by email then finds the login).
pub(super) fn known_login(read: &Private, email: &str) -> Option<i64> {
    read.get::<Learned>()?
        .logins
        .get(&email_key(email))
        .copied()
}

impl NexudusProvider {
    /// What the Nexudus API can do: no account is created or deleted through it, accounts
    /// carry no key and only their name is kept, there are no services, `IsAdmin` belongs to
    /// the login, and the business of a customer the reseller may not manage cannot be
    /// changed either.
    pub fn api_capabilities() -> Capabilities {
        Capabilities {
            role_scope: RoleScope::Login,
            closed_records: true,
            ..Capabilities::users_only()
        }
    }
}

impl Provider for NexudusProvider {
    type Error = NexudusError;

    fn endpoint(&self) -> String {
        self.client.endpoint()
    }

    async fn snapshot(&self) -> Result<Snapshot, NexudusError> {
        let (started, sent) = (std::time::Instant::now(), self.requests());
        let read = read::snapshot(&self.client, self.time_scale);
        let mut snapshot = match self.read_deadline {
            None => read.await?,
            Some(limit) => tokio::time::timeout(limit, read)
                .await
                .unwrap_or(Err(NexudusError::ReadDeadline { limit }))?,
        };
        snapshot.read = Some(crate::live::ReadCost {
            requests: self.requests() - sent,
            seconds: started.elapsed().as_secs_f64(),
        });
        Ok(snapshot)
    }

    async fn execute(
        &self,
        op: &Operation,
        ids: &Resolved,
        _idempotency_key: &str,
    ) -> Result<Outcome, NexudusError> {
        self.run(op, ids).await
    }

    fn capabilities(&self) -> Capabilities {
        NexudusProvider::api_capabilities()
    }

    fn runbook(&self, op: &Operation, parent_name: Option<&str>) -> (String, Vec<String>) {
        let parent = match &op.change {
            Change::Create { parent, .. } => parent_name
                .map(str::to_string)
                .unwrap_or_else(|| parent.address()),
            _ => String::new(),
        };
        runbook::runbook(op, &parent)
    }

    fn remedy(error: &NexudusError) -> Remedy {
        error.remedy()
    }

    fn halts(error: &NexudusError) -> bool {
        matches!(error, NexudusError::BudgetSpent { .. })
    }

    fn throttle_events(&self) -> u64 {
        self.client.stats().throttled.load(Ordering::Relaxed)
    }

    fn retries(&self) -> u64 {
        self.client.stats().retries.load(Ordering::Relaxed)
    }
}
