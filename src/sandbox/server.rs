//! The sandbox HTTP server (axum): routes of SPEC §7, auth, idempotency, knobs.
//!
//! Start it in-process with [`spawn`]; the CLI's `sandbox serve` is a thin wrapper.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequestParts, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::de::DeserializeOwned;

use super::catalog;
use super::error::ApiError;
use super::store::{self, PartnerRow, Store, StoredResponse};
use crate::api::types::{
    AccountCreate, AccountListQuery, AccountPatch, Health, IDEMPOTENCY_KEY_HEADER,
    IDEMPOTENT_REPLAYED_HEADER, Limits, PROBLEM_CONTENT_TYPE, Page, ServiceListQuery, ServicePut,
    ServiceType, UserInvite, UserListQuery, UserPatch,
};

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
        }
    }
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
    pub async fn shutdown(mut self) -> anyhow::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        (&mut self.task).await??;
        Ok(())
    }

    /// Waits until the server stops by itself (it does not, unless it fails).
    pub async fn wait(mut self) -> anyhow::Result<()> {
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
pub async fn spawn(opts: ServeOptions) -> anyhow::Result<RunningSandbox> {
    anyhow::ensure!(
        (0.0..=1.0).contains(&opts.fail_rate),
        "--fail-rate must be between 0 and 1"
    );
    let db = opts.db.clone();
    let store = tokio::task::spawn_blocking(move || Store::open(&db)).await??;
    let listener = tokio::net::TcpListener::bind(&opts.listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", opts.listen))?;
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

// ---------------------------------------------------------------------------------------------
// state and knobs

struct Bucket {
    tokens: f64,
    last: Instant,
}

struct AppState {
    store: Arc<Store>,
    latency: Duration,
    write_limit: Option<u32>,
    throttle_status: StatusCode,
    fail_rate: f64,
    rng: Mutex<(StdRng, u64)>,
    tokens: Mutex<HashMap<String, PartnerRow>>,
    buckets: Mutex<HashMap<String, Bucket>>,
}

/// An injected failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Failure {
    /// Fail before the write: nothing happens.
    Before,
    /// Fail after the write committed: the client does not learn it succeeded.
    After,
}

impl AppState {
    fn new(store: Store, o: &ServeOptions) -> Self {
        AppState {
            store: Arc::new(store),
            latency: o.latency,
            write_limit: o.write_limit.filter(|n| *n > 0),
            throttle_status: o.throttle_status,
            fail_rate: o.fail_rate,
            rng: Mutex::new((StdRng::seed_from_u64(o.seed), 0)),
            tokens: Mutex::new(HashMap::new()),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Token bucket per partner: capacity one second of the rate (at least 1), refilled
    /// continuously at `limit / 60` per second.
    fn throttle(&self, partner_id: &str) -> Result<(), ApiError> {
        let Some(limit) = self.write_limit else {
            return Ok(());
        };
        let rate = f64::from(limit) / 60.0;
        let cap = rate.ceil().max(1.0);
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let b = buckets.entry(partner_id.to_string()).or_insert(Bucket {
            tokens: cap,
            last: now,
        });
        b.tokens = (b.tokens + now.duration_since(b.last).as_secs_f64() * rate).min(cap);
        b.last = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            return Ok(());
        }
        let wait = ((1.0 - b.tokens) / rate).ceil().max(1.0) as u64;
        let mut e = ApiError::new(
            self.throttle_status,
            "throttled",
            format!("write limit of {limit} per minute exceeded; retry after {wait} s"),
        );
        e.retry_after = Some(wait);
        Err(e)
    }

    /// Draws whether this write fails (deterministic for a seed and a request order).
    /// Failures alternate: before the commit, after the commit.
    fn draw_failure(&self) -> Option<(Failure, bool)> {
        if self.fail_rate <= 0.0 {
            return None;
        }
        let mut g = self.rng.lock().unwrap_or_else(|p| p.into_inner());
        let (rng, count) = &mut *g;
        if rng.random::<f64>() >= self.fail_rate {
            return None;
        }
        *count += 1;
        let when = if *count % 2 == 1 {
            Failure::Before
        } else {
            Failure::After
        };
        let drop_connection = (*count / 2) % 2 == 1;
        Some((when, drop_connection))
    }
}

fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/v1/partner", get(get_partner))
        .route("/v1/limits", get(get_limits))
        .route("/v1/service-types", get(list_service_types))
        .route("/v1/accounts", get(list_accounts).post(create_account))
        .route(
            "/v1/accounts/{id}",
            get(get_account).patch(patch_account).delete(delete_account),
        )
        .route("/v1/accounts/{id}/users", post(invite_user))
        .route("/v1/users", get(list_users))
        .route(
            "/v1/users/{id}",
            get(get_user).patch(patch_user).delete(delete_user),
        )
        .route("/v1/users/{id}/resend", post(resend_user))
        .route("/v1/services", get(list_services))
        .route(
            "/v1/accounts/{id}/services/{type}",
            get(get_service).put(put_service).delete(delete_service),
        )
        .fallback(fallback)
        .layer(middleware::from_fn_with_state(state.clone(), latency_layer))
        .layer(middleware::map_response(problem_layer))
        .with_state(state)
}

async fn latency_layer(State(st): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let (method, path) = (req.method().clone(), req.uri().path().to_string());
    if !st.latency.is_zero() && path != "/healthz" {
        tokio::time::sleep(st.latency).await;
    }
    let resp = next.run(req).await;
    tracing::info!(
        target: "partnerctl::sandbox",
        %method,
        %path,
        status = resp.status().as_u16(),
        ms = started.elapsed().as_micros() as f64 / 1000.0,
        "request"
    );
    resp
}

/// Turns every error response that is not yet problem+json (axum's 405, path and body
/// rejections) into one.
async fn problem_layer(resp: Response) -> Response {
    let status = resp.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let is_problem = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(PROBLEM_CONTENT_TYPE.as_bytes()));
    if is_problem {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let text = axum::body::to_bytes(body, 64 * 1024)
        .await
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&text).trim().to_string();
    let (code, detail) = match status {
        StatusCode::METHOD_NOT_ALLOWED => (
            "method-not-allowed",
            "this method is not allowed on this path; the Allow header lists the allowed ones"
                .to_string(),
        ),
        StatusCode::NOT_FOUND => ("not-found", "no such resource".to_string()),
        StatusCode::PAYLOAD_TOO_LARGE => {
            ("payload-too-large", "request body too large".to_string())
        }
        s if s.is_server_error() => (
            "internal",
            if text.is_empty() {
                "internal error".into()
            } else {
                text
            },
        ),
        _ => (
            "bad-request",
            if text.is_empty() {
                "bad request".into()
            } else {
                text
            },
        ),
    };
    let mut out = ApiError::new(status, code, detail).into_response();
    for (k, v) in parts.headers.iter() {
        if k != header::CONTENT_TYPE && k != header::CONTENT_LENGTH {
            out.headers_mut().insert(k.clone(), v.clone());
        }
    }
    out
}

async fn fallback(method: Method, uri: axum::http::Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not-found",
        format!("no route {method} {}; see schemas/openapi.yaml", uri.path()),
    )
}

// ---------------------------------------------------------------------------------------------
// auth

/// The authenticated partner.
struct Auth(PartnerRow);

impl FromRequestParts<Arc<AppState>> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        st: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let unauthorized = |d: &str| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                format!(
                    "{d}; send Authorization: Bearer <token> (from `partnerctl sandbox partner add`)"
                ),
            )
        };
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(|t| t.trim().to_string())
            .ok_or_else(|| unauthorized("missing bearer token"))?;
        if let Some(p) = st
            .tokens
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&token)
        {
            return Ok(Auth(p.clone()));
        }
        let store = st.store.clone();
        let t = token.clone();
        let found = blocking(move || store.read(|c| store::partner_by_token(c, &t))).await?;
        let p = found.ok_or_else(|| unauthorized("unknown token"))?;
        st.tokens
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(token, p.clone());
        Ok(Auth(p))
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(ApiError::internal)?
}

async fn read<T: Send + 'static>(
    st: &Arc<AppState>,
    f: impl FnOnce(&rusqlite::Connection) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let store = st.store.clone();
    blocking(move || store.read(f)).await
}

// ---------------------------------------------------------------------------------------------
// request and response plumbing

fn parse_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid-json",
            "a JSON request body is required",
        ));
    }
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid-json",
            format!("request body is not valid JSON: {e}"),
        )
    })?;
    if !value.is_object() {
        return Err(ApiError::field(
            "",
            "the request body must be a JSON object",
        ));
    }
    serde_json::from_value(value).map_err(|e| {
        let msg = e.to_string();
        let field = |marker: &str| {
            msg.split_once(marker)
                .and_then(|(_, rest)| rest.split_once('`'))
                .map(|(name, _)| format!("/{name}"))
        };
        let pointer = field("missing field `")
            .or_else(|| field("unknown field `"))
            .unwrap_or_default();
        ApiError::field(pointer, msg)
    })
}

fn query<T>(q: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    q.map(|Query(t)| t).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid-query",
            format!("invalid query parameters: {}", e.body_text()),
        )
    })
}

fn if_match(h: &HeaderMap) -> Option<String> {
    h.get(header::IF_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// The idempotency context of a POST: key and request hash.
struct Idem {
    key: String,
    request_sha256: String,
}

fn idem(h: &HeaderMap, method: &str, path: &str, body: &[u8]) -> Result<Option<Idem>, ApiError> {
    let Some(v) = h.get(IDEMPOTENCY_KEY_HEADER) else {
        return Ok(None);
    };
    let key = v
        .to_str()
        .ok()
        .filter(|k| !k.is_empty() && k.len() <= 255)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid-idempotency-key",
                "Idempotency-Key must be 1 to 255 visible ASCII characters",
            )
        })?;
    let mut material = format!("{method} {path}\n").into_bytes();
    material.extend_from_slice(body);
    Ok(Some(Idem {
        key: key.to_string(),
        request_sha256: store::sha256_hex(&material),
    }))
}

/// What a write produced.
struct Reply {
    status: StatusCode,
    body: Option<String>,
    etag: Option<String>,
    location: Option<String>,
    replayed: bool,
}

impl Reply {
    fn json<T: serde::Serialize>(status: StatusCode, v: &T, etag: &str) -> Result<Reply, ApiError> {
        Ok(Reply {
            status,
            body: Some(serde_json::to_string(v).map_err(ApiError::internal)?),
            etag: Some(etag.to_string()),
            location: None,
            replayed: false,
        })
    }

    fn no_content() -> Reply {
        Reply {
            status: StatusCode::NO_CONTENT,
            body: None,
            etag: None,
            location: None,
            replayed: false,
        }
    }

    fn into_response(self) -> Response {
        let mut resp = match self.body {
            Some(b) => {
                (self.status, [(header::CONTENT_TYPE, "application/json")], b).into_response()
            }
            None => self.status.into_response(),
        };
        let h = resp.headers_mut();
        if let Some(e) = self.etag.and_then(|e| HeaderValue::from_str(&e).ok()) {
            h.insert(header::ETAG, e);
        }
        if let Some(l) = self.location.and_then(|l| HeaderValue::from_str(&l).ok()) {
            h.insert(header::LOCATION, l);
        }
        if self.replayed {
            h.insert(IDEMPOTENT_REPLAYED_HEADER, HeaderValue::from_static("true"));
        }
        resp
    }
}

/// A body that fails on first poll: hyper aborts the connection, the client sees a transport
/// error (a "dropped connection").
struct BrokenBody;

impl http_body::Body for BrokenBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        Poll::Ready(Some(Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "injected dropped connection",
        ))))
    }
}

fn injected(failure: Failure, drop_connection: bool) -> Response {
    if drop_connection {
        // Labelled problem+json so that `problem_layer` passes it through untouched.
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            [(header::CONTENT_TYPE, PROBLEM_CONTENT_TYPE)],
            Body::new(BrokenBody),
        )
            .into_response();
    }
    let when = match failure {
        Failure::Before => "before",
        Failure::After => "after",
    };
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "injected-failure",
        format!("injected failure ({when} the write) by --fail-rate; retry with the same Idempotency-Key"),
    )
    .into_response()
}

/// Runs one write: throttle, failure injection, idempotency and the operation, in one
/// transaction (group-committed by the writer thread); answered after the commit.
async fn write(
    st: &Arc<AppState>,
    p: PartnerRow,
    idem: Option<Idem>,
    op: impl FnOnce(&rusqlite::Connection, &PartnerRow) -> Result<Reply, ApiError> + Send + 'static,
) -> Result<Response, ApiError> {
    st.throttle(&p.id)?;
    let failure = st.draw_failure();
    if let Some((Failure::Before, drop_connection)) = failure {
        return Ok(injected(Failure::Before, drop_connection));
    }
    let reply = st
        .store
        .submit(move |tx| {
            if let Some(i) = &idem
                && let Some(prev) = store::idempotency_lookup(tx, &p.id, &i.key, &i.request_sha256)?
            {
                let etag = serde_json::from_str::<serde_json::Value>(&prev.body)
                    .ok()
                    .and_then(|v| v.get("etag").and_then(|e| e.as_str()).map(str::to_string));
                return Ok(Reply {
                    status: StatusCode::from_u16(prev.status).map_err(ApiError::internal)?,
                    body: Some(prev.body),
                    etag,
                    location: None,
                    replayed: true,
                });
            }
            let reply = op(tx, &p)?;
            if let Some(i) = &idem
                && let Some(body) = &reply.body
            {
                let prev = StoredResponse {
                    status: reply.status.as_u16(),
                    body: body.clone(),
                };
                store::idempotency_store(tx, &p.id, &i.key, &i.request_sha256, &prev)?;
            }
            Ok(reply)
        })
        .await
        .map_err(|_| ApiError::internal("the database writer stopped"))??;
    if let Some((Failure::After, drop_connection)) = failure {
        return Ok(injected(Failure::After, drop_connection));
    }
    Ok(reply.into_response())
}

fn json_response(body: String) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

fn object_response<T: serde::Serialize>(v: &T, etag: &str) -> Result<Response, ApiError> {
    Ok(Reply::json(StatusCode::OK, v, etag)?.into_response())
}

// ---------------------------------------------------------------------------------------------
// handlers

async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
    })
}

async fn get_partner(Auth(p): Auth) -> Response {
    Json(p.to_wire()).into_response()
}

async fn get_limits(State(st): State<Arc<AppState>>, Auth(_): Auth) -> Json<Limits> {
    Json(Limits {
        reads_per_minute: None,
        writes_per_minute: st.write_limit,
    })
}

async fn list_service_types(Auth(_): Auth) -> Json<Page<ServiceType>> {
    Json(Page {
        items: catalog::catalog().iter().map(|e| e.info.clone()).collect(),
        next_page_token: None,
    })
}

async fn list_accounts(
    State(st): State<Arc<AppState>>,
    Auth(p): Auth,
    q: Result<Query<AccountListQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let q = query(q)?;
    Ok(json_response(
        read(&st, move |c| store::list_accounts(c, &p, &q)).await?,
    ))
}

async fn create_account(
    State(st): State<Arc<AppState>>,
    Auth(p): Auth,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let req: AccountCreate = parse_body(&body)?;
    let idem = idem(&headers, "POST", "/v1/accounts", &body)?;
    write(&st, p, idem, move |tx, p| {
        let a = store::create_account(tx, p, req)?;
        let mut r = Reply::json(StatusCode::CREATED, &a, &a.etag)?;
        r.location = Some(format!("/v1/accounts/{}", a.id));
        Ok(r)
    })
    .await
}

async fn get_account(
    State(st): State<Arc<AppState>>,
    Auth(p): Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let a = read(&st, move |c| store::get_account(c, &p, &id)).await?;
    object_response(&a, &a.etag)
}

async fn patch_account(
    State(st): State<Arc<AppState>>,
    Auth(p): Auth,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let patch: AccountPatch = parse_body(&body).map_err(|mut e| {
        for f in &mut e.errors {
            if f.pointer == "/kind" || f.pointer == "/parent_id" {
                f.message = "an account's kind and parent cannot change (the API cannot move accounts); delete and re-create it".into();
            }
        }
        e
    })?;
    let im = if_match(&headers);
    write(&st, p, None, move |tx, p| {
        let a = store::patch_account(tx, p, &id, im.as_deref(), patch)?;
        Reply::json(StatusCode::OK, &a, &a.etag)
    })
    .await
}

async fn delete_account(
    State(st): State<Arc<AppState>>,
    Auth(p): Auth,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let im = if_match(&headers);
    write(&st, p, None, move |tx, p| {
        store::delete_account(tx, p, &id, im.as_deref())?;
        Ok(Reply::no_content())
    })
    .await
}

async fn invite_user(
    State(st): State<Arc<AppState>>,
    Auth(p): Auth,
    Path(account_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let req: UserInvite = parse_body(&body)?;
    let idem = idem(
        &headers,
        "POST",
        &format!("/v1/accounts/{account_id}/users"),
        &body,
    )?;
    write(&st, p, idem, move |tx, p| {
        let u = store::invite_user(tx, p, &account_id, req)?;
        let mut r = Reply::json(StatusCode::CREATED, &u, &u.etag)?;
        r.location = Some(format!("/v1/users/{}", u.id));
        Ok(r)
    })
    .await
}

async fn list_users(
    State(st): State<Arc<AppState>>,
    Auth(p): Auth,
    q: Result<Query<UserListQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let q = query(q)?;
    Ok(json_response(
        read(&st, move |c| store::list_users(c, &p, &q)).await?,
    ))
}

async fn get_user(
    State(st): State<Arc<AppState>>,
    Auth(p): Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let u = read(&st, move |c| store::get_user(c, &p, &id)).await?;
    object_response(&u, &u.etag)
}

async fn patch_user(
    State(st): State<Arc<AppState>>,
    Auth(p): Auth,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let patch: UserPatch = parse_body(&body)?;
    let im = if_match(&headers);
    write(&st, p, None, move |tx, p| {
        let u = store::patch_user(tx, p, &id, im.as_deref(), patch)?;
        Reply::json(StatusCode::OK, &u, &u.etag)
    })
    .await
}

async fn delete_user(
    State(st): State<Arc<AppState>>,
    Auth(p): Auth,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let im = if_match(&headers);
    write(&st, p, None, move |tx, p| {
        store::delete_user(tx, p, &id, im.as_deref())?;
        Ok(Reply::no_content())
    })
    .await
}

async fn resend_user(
    State(st): State<Arc<AppState>>,
    Auth(p): Auth,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let idem = idem(&headers, "POST", &format!("/v1/users/{id}/resend"), &body)?;
    write(&st, p, idem, move |tx, p| {
        let u = store::resend_user(tx, p, &id)?;
        Reply::json(StatusCode::OK, &u, &u.etag)
    })
    .await
}

async fn list_services(
    State(st): State<Arc<AppState>>,
    Auth(p): Auth,
    q: Result<Query<ServiceListQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let q = query(q)?;
    Ok(json_response(
        read(&st, move |c| store::list_services(c, &p, &q)).await?,
    ))
}

async fn get_service(
    State(st): State<Arc<AppState>>,
    Auth(p): Auth,
    Path((id, ty)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let s = read(&st, move |c| store::get_service(c, &p, &id, &ty)).await?;
    object_response(&s, &s.etag)
}

async fn put_service(
    State(st): State<Arc<AppState>>,
    Auth(p): Auth,
    Path((id, ty)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let req: ServicePut = parse_body(&body)?;
    let im = if_match(&headers);
    write(&st, p, None, move |tx, p| {
        let (s, created) = store::put_service(tx, p, &id, &ty, im.as_deref(), req)?;
        let status = if created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        };
        Reply::json(status, &s, &s.etag)
    })
    .await
}

async fn delete_service(
    State(st): State<Arc<AppState>>,
    Auth(p): Auth,
    Path((id, ty)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let im = if_match(&headers);
    write(&st, p, None, move |tx, p| {
        store::delete_service(tx, p, &id, &ty, im.as_deref())?;
        Ok(Reply::no_content())
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    use proptest::prelude::*;

    fn json_value() -> impl Strategy<Value = serde_json::Value> {
        use serde_json::json;
        let leaf = prop_oneof![
            Just(json!(null)),
            any::<bool>().prop_map(|b| json!(b)),
            any::<i64>().prop_map(|n| json!(n)),
            prop_oneof![
                Just("customer".to_string()),
                Just("network".to_string()),
                Just("GB".to_string()),
                Just("Europe/London".to_string()),
                Just("a@b.example".to_string()),
                "[a-z0-9-]{0,8}",
                "\\PC{0,12}",
            ]
            .prop_map(|s| json!(s)),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..3).prop_map(serde_json::Value::Array),
                prop::collection::btree_map(
                    prop_oneof![
                        Just("name".to_string()),
                        Just("email".to_string()),
                        Just("kind".to_string()),
                        Just("parent_id".to_string()),
                        Just("contact".to_string()),
                        Just("country".to_string()),
                        Just("timezone".to_string()),
                        Just("labels".to_string()),
                        Just("external_key".to_string()),
                        "[a-z]{1,4}",
                    ],
                    inner,
                    0..6
                )
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        /// Bad input never panics, is never a 5xx, and a rejected request writes nothing.
        #[test]
        fn arbitrary_account_bodies_are_4xx_or_created(bodies in prop::collection::vec(json_value(), 1..8)) {
            let dir = tempfile::tempdir().unwrap();
            let store = Store::open(&dir.path().join("fuzz.db")).unwrap();
            let (partner, _) = store.write(|tx| store::add_partner(tx, "Fuzz", true)).unwrap();
            let p = PartnerRow { id: partner.id, name: partner.name, manageable: true, support_level: partner.support_level };
            let mut created = 0i64;
            for body in bodies {
                let bytes = serde_json::to_vec(&body).unwrap();
                let outcome = parse_body::<AccountCreate>(&bytes).and_then(|req| {
                    let p = p.clone();
                    store.write(move |tx| store::create_account(tx, &p, req))
                });
                match outcome {
                    Ok(_) => created += 1,
                    Err(e) => prop_assert!(e.status.is_client_error(), "{e}"),
                }
            }
            let rows: i64 = store.read(|c| Ok(c.query_row("SELECT count(*) FROM accounts", [], |r| r.get(0))?)).unwrap();
            prop_assert_eq!(rows, created);
        }
    }

    #[tokio::test]
    async fn spawns_in_process_and_shuts_down() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("embedded.db");
        let token = crate::sandbox::ensure_partner_token(&db, "Acme Partners").unwrap();
        let again = crate::sandbox::ensure_partner_token(&db, "Acme Partners").unwrap();
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
