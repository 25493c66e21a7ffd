//! The sandbox HTTP server (axum): routes, auth, idempotency, knobs.
//!
//! Start it in-process with [`spawn`]; the CLI's `sandbox serve` is a thin wrapper.
//!
//! Layout: `state` (what handlers share), `auth` (bearer tokens), `request`/`reply` (reading
//! bodies and headers, writing responses), `exec` (store calls: reads, and writes with
//! throttle, failure injection and idempotency), `knobs` (latency, write limit, fail rate),
//! `problems` (every error as problem+json), `handlers` (one module per resource).

mod auth;
mod exec;
mod handlers;
mod knobs;
mod problems;
mod reply;
mod request;
mod state;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::middleware;
use axum::routing::{get, post};

use super::store::{OpenError, Store};
use handlers::{accounts, services, users};
use state::AppState;

/// Options of a sandbox server.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Address to bind (`127.0.0.1:0` picks a free port).
    pub listen: String,
    /// SQLite database file (created with its directory).
    pub db: PathBuf,
    /// Added to every request.
    pub latency: Duration,
    /// Writes per minute per partner (`None`: unlimited).
    pub write_limit: Option<u32>,
    /// Status of a throttled write: 429, or 409 (Nexudus style).
    pub throttle_status: StatusCode,
    /// Fraction of writes that fail (half before, half after the commit).
    pub fail_rate: f64,
    /// Seed of the failure injection.
    pub seed: u64,
    /// A stricter name limit than the API's own (a vendor partnerctl does not know well).
    pub max_name_chars: Option<usize>,
}

impl ServeOptions {
    /// Defaults: no latency, no limits, no failures, the given address and db.
    pub fn new(listen: impl Into<String>, db: impl Into<PathBuf>) -> Self {
        ServeOptions {
            listen: listen.into(),
            db: db.into(),
            latency: Duration::ZERO,
            write_limit: None,
            throttle_status: StatusCode::TOO_MANY_REQUESTS,
            fail_rate: 0.0,
            seed: 0,
            max_name_chars: None,
        }
    }
}

/// Why the server could not start, or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// `fail_rate` is not a fraction.
    #[error("--fail-rate must be between 0 and 1")]
    FailRate(f64),
    /// The database could not be opened.
    #[error(transparent)]
    Open(#[from] OpenError),
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {cause}")]
    Listen {
        /// The address.
        addr: String,
        /// The cause (part of the message, not a separate source).
        cause: std::io::Error,
    },
    /// A socket error while serving.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// The server task (or opening the store) panicked or was cancelled.
    #[error(transparent)]
    Task(#[from] tokio::task::JoinError),
}

/// A running sandbox: its address and a way to stop it.
pub struct RunningSandbox {
    /// The bound address.
    pub addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl RunningSandbox {
    /// Base URL, e.g. `http://127.0.0.1:7878`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting connections, lets in-flight requests finish, and waits for the server.
    pub async fn shutdown(mut self) -> Result<(), ServeError> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        (&mut self.task).await??;
        Ok(())
    }

    /// Waits until the server stops by itself (it does not, unless it fails).
    pub async fn wait(mut self) -> Result<(), ServeError> {
        (&mut self.task).await??;
        Ok(())
    }
}

impl Drop for RunningSandbox {
    /// Dropping the handle asks the server to stop (without waiting for it).
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Opens the store, binds the address and serves in a background task of the current runtime.
pub async fn spawn(opts: ServeOptions) -> Result<RunningSandbox, ServeError> {
    if !(0.0..=1.0).contains(&opts.fail_rate) {
        return Err(ServeError::FailRate(opts.fail_rate));
    }
    let db = opts.db.clone();
    let store = tokio::task::spawn_blocking(move || Store::open(&db)).await??;
    let listener = tokio::net::TcpListener::bind(&opts.listen)
        .await
        .map_err(|cause| ServeError::Listen {
            addr: opts.listen.clone(),
            cause,
        })?;
    let addr = listener.local_addr()?;
    let app = router(Arc::new(AppState::new(store, &opts)));
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = rx.await;
            })
            .await
    });
    Ok(RunningSandbox {
        addr,
        shutdown: Some(tx),
        task,
    })
}

fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/healthz", get(handlers::healthz))
        .route("/v1/partner", get(handlers::get_partner))
        .route("/v1/limits", get(handlers::get_limits))
        .route("/v1/service-types", get(handlers::list_service_types))
        .route(
            "/v1/accounts",
            get(accounts::list_accounts).post(accounts::create_account),
        )
        .route(
            "/v1/accounts/{id}",
            get(accounts::get_account)
                .patch(accounts::patch_account)
                .delete(accounts::delete_account),
        )
        .route("/v1/accounts/{id}/users", post(users::invite_user))
        .route("/v1/users", get(users::list_users))
        .route(
            "/v1/users/{id}",
            get(users::get_user)
                .patch(users::patch_user)
                .delete(users::delete_user),
        )
        .route("/v1/users/{id}/resend", post(users::resend_user))
        .route("/v1/services", get(services::list_services))
        .route(
            "/v1/accounts/{id}/services/{type}",
            get(services::get_service)
                .put(services::put_service)
                .delete(services::delete_service),
        )
        .fallback(problems::fallback)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            knobs::latency_layer,
        ))
        .layer(middleware::map_response(problems::problem_layer))
        .with_state(state)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn spawns_in_process_and_shuts_down() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("embedded.db");
        let token = super::super::ensure_partner_token(&db, "Acme Partners").unwrap();
        let again = super::super::ensure_partner_token(&db, "Acme Partners").unwrap();
        assert_ne!(token, again, "a fresh token per call");
        let running = spawn(ServeOptions::new("127.0.0.1:0", &db)).await.unwrap();
        let http = reqwest::Client::new();
        let mut ids = Vec::new();
        for t in [&token, &again] {
            let p: crate::api::types::Partner = http
                .get(format!("{}/v1/partner", running.url()))
                .bearer_auth(t)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            assert_eq!(p.name, "Acme Partners");
            ids.push(p.id);
        }
        assert_eq!(ids[0], ids[1], "both tokens belong to the same partner");
        let url = running.url();
        running.shutdown().await.unwrap();
        assert!(http.get(format!("{url}/healthz")).send().await.is_err());
    }
}
