//! Serving the sandbox (axum): options, starting in-process with [`spawn`], stopping. The CLI's
//! `sandbox serve` is a thin wrapper.
//!
//! One store, one router per dialect (see [`super::dialects`]): [`ServeOptions::dialect`]
//! picks it. Shared here: [`knobs`] (latency and failure injection); each dialect throttles in
//! its own way (`--write-limit` for the partner API, the vendor's rate windows for Nexudus).

pub(super) mod knobs;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;

use super::dialects::{nexudus, partner_api};
use super::store::{OpenError, Store};

/// The API a sandbox server speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dialect {
    /// The partner API (`schemas/openapi.yaml`).
    #[default]
    PartnerApi,
    /// The Nexudus REST API (`/api/token`, `/api/sys/...`).
    Nexudus,
}

impl Dialect {
    /// The command-line spelling (`partner-api`, `nexudus`).
    pub fn as_str(self) -> &'static str {
        match self {
            Dialect::PartnerApi => "partner-api",
            Dialect::Nexudus => "nexudus",
        }
    }
}

/// The Nexudus dialect's pacing knobs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pacing {
    /// Every rate window is divided by this (60: a minute lasts a second); `Retry-After` too.
    pub time_scale: f64,
    /// Replaces the 60 writes a minute.
    pub writes_per_minute: Option<u32>,
    /// Replaces the 5,000 writes a day.
    pub writes_per_day: Option<u32>,
}

impl Default for Pacing {
    fn default() -> Self {
        Pacing {
            time_scale: 1.0,
            writes_per_minute: None,
            writes_per_day: None,
        }
    }
}

/// Options of a sandbox server.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The API it speaks.
    pub dialect: Dialect,
    /// Address to bind (`127.0.0.1:0` picks a free port).
    pub listen: String,
    /// SQLite database file (created with its directory).
    pub db: PathBuf,
    /// Added to every request.
    pub latency: Duration,
    /// Partner API: writes per minute per partner (`None`: unlimited).
    pub write_limit: Option<u32>,
    /// Partner API: status of a throttled write, 429 or 409.
    pub throttle_status: StatusCode,
    /// Fraction of writes that fail (half before, half after the commit).
    pub fail_rate: f64,
    /// Seed of the failure injection.
    pub seed: u64,
    /// Nexudus: fraction of writes refused as a conflict (409 with a body, nothing written).
    pub conflict_rate: f64,
    /// A stricter name limit than the API's own (a vendor partnerctl does not know well).
    pub max_name_chars: Option<usize>,
    /// Nexudus: the pacing of its rate windows.
    pub pacing: Pacing,
}

impl ServeOptions {
    /// Defaults: no latency, no limits, no failures, the given address and db.
    pub fn new(listen: impl Into<String>, db: impl Into<PathBuf>) -> Self {
        ServeOptions {
            dialect: Dialect::PartnerApi,
            listen: listen.into(),
            db: db.into(),
            latency: Duration::ZERO,
            write_limit: None,
            throttle_status: StatusCode::TOO_MANY_REQUESTS,
            fail_rate: 0.0,
            seed: 0,
            conflict_rate: 0.0,
            max_name_chars: None,
            pacing: Pacing::default(),
        }
    }
}

/// Why the server could not start, or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// `fail_rate` is not a fraction.
    #[error("--fail-rate must be between 0 and 1")]
    FailRate(f64),
    /// `conflict_rate` is not a fraction.
    #[error("--conflict-rate must be between 0 and 1")]
    ConflictRate(f64),
    /// `time_scale` is not a positive number.
    #[error("--time-scale must be a positive number")]
    TimeScale(f64),
    /// A knob of another dialect than the one served.
    #[error("{knob} does not apply to the {dialect} dialect")]
    Knob {
        /// The knob.
        knob: &'static str,
        /// The dialect served.
        dialect: &'static str,
    },
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
    check_knobs(&opts)?;
    let db = opts.db.clone();
    let store = tokio::task::spawn_blocking(move || Store::open(&db)).await??;
    let listener = tokio::net::TcpListener::bind(&opts.listen)
        .await
        .map_err(|cause| ServeError::Listen {
            addr: opts.listen.clone(),
            cause,
        })?;
    let addr = listener.local_addr()?;
    let store = Arc::new(store);
    let app = match opts.dialect {
        Dialect::PartnerApi => partner_api::router(store, &opts),
        Dialect::Nexudus => nexudus::router(store, &opts),
    };
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

/// Refuses knobs out of range, and knobs of the other dialect.
fn check_knobs(o: &ServeOptions) -> Result<(), ServeError> {
    if !(0.0..=1.0).contains(&o.fail_rate) {
        return Err(ServeError::FailRate(o.fail_rate));
    }
    if !(0.0..=1.0).contains(&o.conflict_rate) {
        return Err(ServeError::ConflictRate(o.conflict_rate));
    }
    let p = o.pacing;
    if !(p.time_scale.is_finite() && p.time_scale > 0.0) {
        return Err(ServeError::TimeScale(p.time_scale));
    }
    let knob = |knob| ServeError::Knob {
        knob,
        dialect: o.dialect.as_str(),
    };
    match o.dialect {
        Dialect::PartnerApi if p.writes_per_minute.is_some() => Err(knob("--writes-per-minute")),
        Dialect::PartnerApi if p.writes_per_day.is_some() => Err(knob("--writes-per-day")),
        Dialect::PartnerApi if p.time_scale != 1.0 => Err(knob("--time-scale")),
        Dialect::PartnerApi if o.conflict_rate != 0.0 => Err(knob("--conflict-rate")),
        Dialect::Nexudus if o.write_limit.is_some() => Err(knob("--write-limit")),
        Dialect::Nexudus if o.throttle_status != StatusCode::TOO_MANY_REQUESTS => {
            Err(knob("--throttle-status"))
        }
        _ => Ok(()),
    }
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
            let p: crate::wire::partner::Partner = http
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
