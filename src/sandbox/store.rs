//! The sandbox's durable store: SQLite (bundled) in WAL mode with `synchronous=FULL`.
//!
//! Durability: every write runs in one `BEGIN IMMEDIATE` transaction on the single writer
//! connection and is acknowledged only after `COMMIT` returned. In WAL mode with
//! `synchronous=FULL` the commit fsyncs the WAL, so an acknowledged write survives `kill -9` of
//! the process *and* a power loss. (`NORMAL` would survive a process crash too, since the WAL is
//! written before `COMMIT` returns, but could lose the last commits on power loss; fsync costs
//! well under a millisecond here, so we keep the stronger setting.)
//!
//! Concurrency: writes are serialized on one connection owned by a writer thread, which
//! group-commits whatever is queued (each write in its own savepoint, one fsync for the batch,
//! every write answered only after the commit; see [`Store::submit`]). Reads use a small pool
//! of read-only connections that see a consistent snapshot (WAL), run on `spawn_blocking`
//! threads. No lock is held across an `.await`.
//!
//! Objects are stored as their JSON document (`doc`) plus the columns needed for lookups and
//! filters. `seq` (`INTEGER PRIMARY KEY AUTOINCREMENT`) is immutable and increases in commit
//! order, since one connection commits one batch at a time; list endpoints page by `seq`, so
//! concurrent inserts (which always get a larger `seq`) never make a reader skip or repeat an
//! item that existed when it started.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, mpsc};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::http::StatusCode;
use rand::Rng;
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior, params};
use sha2::{Digest, Sha256};
use tokio::sync::oneshot;

use super::catalog;
use super::error::ApiError;
use crate::api::types::{
    Account, AccountCreate, AccountKind, AccountListQuery, AccountPatch, Contact,
    DEFAULT_PAGE_SIZE, FieldError, MAX_PAGE_SIZE, Partner, Service, ServiceListQuery, ServicePut,
    User, UserInvite, UserListQuery, UserPatch, UserStatus,
};

/// How long an idempotency key is remembered.
pub const IDEMPOTENCY_TTL_SECS: i64 = 24 * 3600;

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS partners (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    manageable INTEGER NOT NULL,
    support_level TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS partners_name ON partners(name);
CREATE TABLE IF NOT EXISTS tokens (
    token_sha256 TEXT PRIMARY KEY,
    partner_id TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS accounts (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    partner_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    parent_id TEXT NOT NULL,
    external_key TEXT,
    doc TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS accounts_external_key ON accounts(partner_id, external_key) WHERE external_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS accounts_partner ON accounts(partner_id, seq);
CREATE INDEX IF NOT EXISTS accounts_parent ON accounts(parent_id, seq);
CREATE TABLE IF NOT EXISTS users (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    partner_id TEXT NOT NULL,
    account_id TEXT NOT NULL,
    email_lc TEXT NOT NULL,
    status TEXT NOT NULL,
    doc TEXT NOT NULL,
    UNIQUE (account_id, email_lc)
);
CREATE INDEX IF NOT EXISTS users_partner ON users(partner_id, seq);
CREATE INDEX IF NOT EXISTS users_email ON users(email_lc);
CREATE INDEX IF NOT EXISTS users_account ON users(account_id, seq);
CREATE TABLE IF NOT EXISTS services (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    partner_id TEXT NOT NULL,
    account_id TEXT NOT NULL,
    type TEXT NOT NULL,
    doc TEXT NOT NULL,
    UNIQUE (account_id, type)
);
CREATE INDEX IF NOT EXISTS services_partner ON services(partner_id, seq);
CREATE INDEX IF NOT EXISTS services_account ON services(account_id, seq);
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL,
    partner_id TEXT NOT NULL,
    account_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    to_email TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS idempotency (
    partner_id TEXT NOT NULL,
    key TEXT NOT NULL,
    request_sha256 TEXT NOT NULL,
    status INTEGER NOT NULL,
    body TEXT NOT NULL,
    created_epoch INTEGER NOT NULL,
    PRIMARY KEY (partner_id, key)
);
CREATE INDEX IF NOT EXISTS idempotency_created ON idempotency(created_epoch);
"#;

/// The partner behind a token, as the server needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerRow {
    /// Partner id.
    pub id: String,
    /// Name.
    pub name: String,
    /// The manageable gate.
    pub manageable: bool,
    /// Support level.
    pub support_level: String,
}

impl PartnerRow {
    /// The wire shape.
    pub fn to_wire(&self) -> Partner {
        Partner {
            id: self.id.clone(),
            name: self.name.clone(),
            manageable: self.manageable,
            support_level: self.support_level.clone(),
        }
    }
}

/// The SQLite store.
pub struct Store {
    path: PathBuf,
    jobs: Option<mpsc::Sender<Job>>,
    writer: Option<std::thread::JoinHandle<()>>,
    readers: Mutex<Vec<Connection>>,
}

const READ_POOL_SIZE: usize = 4;
/// Most writes committed together by one group commit.
const MAX_BATCH: usize = 128;

/// Called after the batch's COMMIT with its outcome; delivers the job's result.
type Finisher = Box<dyn FnOnce(Result<(), &rusqlite::Error>) + Send>;
/// A write job: runs on the writer connection inside a savepoint (`None`: the database could
/// not start a transaction); returns whether to keep its changes, and its finisher.
type Job = Box<dyn FnOnce(Option<&Connection>) -> (bool, Finisher) + Send>;

impl Store {
    /// Opens (creating if needed, with its directory) the database at `path`, and starts the
    /// writer thread.
    pub fn open(path: &Path) -> anyhow::Result<Store> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| anyhow::anyhow!("cannot create directory {}: {e}", dir.display()))?;
        }
        let conn = Connection::open(path)
            .map_err(|e| anyhow::anyhow!("cannot open sandbox database {}: {e}", path.display()))?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
        anyhow::ensure!(
            mode.eq_ignore_ascii_case("wal"),
            "database {} cannot use WAL (got {mode})",
            path.display()
        );
        conn.execute_batch("PRAGMA synchronous=FULL;")?;
        conn.execute_batch(SCHEMA)?;
        let (tx, rx) = mpsc::channel::<Job>();
        let writer = std::thread::Builder::new()
            .name("sandbox-writer".into())
            .spawn(move || writer_loop(conn, rx))?;
        Ok(Store {
            path: path.to_path_buf(),
            jobs: Some(tx),
            writer: Some(writer),
            readers: Mutex::new(Vec::new()),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Queues `f` for the writer thread; the receiver yields its result once the transaction
    /// that contains it has been committed (or `f`'s error, its changes rolled back).
    ///
    /// Group commit: the writer runs every queued job (up to 128) in one `BEGIN IMMEDIATE`
    /// transaction, each inside its own savepoint (released on `Ok`, rolled back on `Err`),
    /// then commits once and only then answers every job. So an `Ok` is always durable, one
    /// fsync covers many concurrent writes, and jobs see each other's committed-or-pending
    /// changes in submission order (a single serial order, as with one connection).
    pub fn submit<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, ApiError> + Send + 'static,
    ) -> oneshot::Receiver<Result<T, ApiError>> {
        let (tx, rx) = oneshot::channel();
        self.enqueue(f, move |out| {
            let _ = tx.send(out);
        });
        rx
    }

    /// Runs `f` as one write (see [`Store::submit`]) and waits for the commit. Blocking (on a
    /// std channel, so it may also be called from a runtime thread in a pinch); async code
    /// should await [`Store::submit`] instead.
    pub fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let (tx, rx) = mpsc::sync_channel(1);
        self.enqueue(f, move |out| {
            let _ = tx.send(out);
        });
        rx.recv()
            .unwrap_or_else(|_| Err(ApiError::internal("the database writer stopped")))
    }

    fn enqueue<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, ApiError> + Send + 'static,
        deliver: impl FnOnce(Result<T, ApiError>) + Send + 'static,
    ) {
        let job: Job = Box::new(move |conn| {
            let out = match conn {
                None => Err(ApiError::internal("the database is busy; retry")),
                Some(c) => std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(c)))
                    .unwrap_or_else(|_| Err(ApiError::internal("a write panicked"))),
            };
            let keep = out.is_ok();
            let finish: Finisher = Box::new(move |commit| {
                deliver(match commit {
                    Ok(()) => out,
                    Err(e) => Err(ApiError::internal(format!("commit failed: {e}"))),
                });
            });
            (keep, finish)
        });
        if let Some(jobs) = &self.jobs {
            // If the writer is gone the job is dropped with its sender: the receiver errors.
            let _ = jobs.send(job);
        }
    }

    /// Runs `f` on a read connection (a consistent snapshot for reads inside one statement;
    /// wrap several statements in a transaction yourself if they must agree).
    pub fn read<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let conn = self.readers.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let conn = match conn {
            Some(c) => c,
            None => {
                let c = Connection::open_with_flags(
                    &self.path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY
                        | OpenFlags::SQLITE_OPEN_NO_MUTEX
                        | OpenFlags::SQLITE_OPEN_URI,
                )?;
                c.busy_timeout(std::time::Duration::from_secs(10))?;
                c
            }
        };
        let out = f(&conn);
        let mut pool = self.readers.lock().unwrap_or_else(|p| p.into_inner());
        if pool.len() < READ_POOL_SIZE {
            pool.push(conn);
        }
        out
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        self.jobs.take();
        if let Some(w) = self.writer.take() {
            let _ = w.join();
        }
    }
}

fn writer_loop(mut conn: Connection, rx: mpsc::Receiver<Job>) {
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(j) => batch.push(j),
                Err(_) => break,
            }
        }
        let mut tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
            Ok(tx) => tx,
            Err(e) => {
                for job in batch {
                    let (_, finish) = job(None);
                    finish(Err(&e));
                }
                continue;
            }
        };
        let mut finishers = Vec::with_capacity(batch.len());
        for job in batch {
            match tx.savepoint() {
                Ok(mut sp) => {
                    let (keep, finish) = job(Some(&sp));
                    let kept = if keep { sp.commit() } else { sp.rollback() };
                    match kept {
                        Ok(()) => finishers.push(finish),
                        Err(e) => finish(Err(&e)),
                    }
                }
                Err(e) => {
                    let (_, finish) = job(None);
                    finish(Err(&e));
                }
            }
        }
        let committed = tx.commit();
        for finish in finishers {
            finish(committed.as_ref().map(|_| ()));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// helpers

/// Current time as RFC 3339 UTC with milliseconds.
pub fn now_rfc3339() -> String {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let secs = d.as_secs() as i64;
    let (y, m, day) = civil_from_days(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60,
        d.subsec_millis()
    )
}

/// Seconds since the Unix epoch.
pub fn now_epoch() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

// Howard Hinnant's days-to-civil algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

fn new_id(prefix: &str) -> String {
    let mut rng = rand::rng();
    let n: u128 = rng.random();
    format!("{prefix}_{:020x}", n >> 48)
}

/// Hex SHA-256.
pub fn sha256_hex(data: &[u8]) -> String {
    let digest = Sha256::digest(data);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Strong ETag of a JSON document: a hash of its bytes (with the etag field blank), quoted.
fn etag_of(doc_without_etag: &[u8]) -> String {
    format!("\"{}\"", &sha256_hex(doc_without_etag)[..20])
}

fn set_account_etag(a: &mut Account) -> Result<(), ApiError> {
    a.etag = String::new();
    a.etag = etag_of(&serde_json::to_vec(a).map_err(ApiError::internal)?);
    Ok(())
}

fn set_user_etag(u: &mut User) -> Result<(), ApiError> {
    u.etag = String::new();
    u.etag = etag_of(&serde_json::to_vec(u).map_err(ApiError::internal)?);
    Ok(())
}

fn set_service_etag(s: &mut Service) -> Result<(), ApiError> {
    s.etag = String::new();
    s.etag = etag_of(&serde_json::to_vec(s).map_err(ApiError::internal)?);
    Ok(())
}

fn to_doc<T: serde::Serialize>(v: &T) -> Result<String, ApiError> {
    serde_json::to_string(v).map_err(ApiError::internal)
}

fn from_doc<T: serde::de::DeserializeOwned>(s: &str) -> Result<T, ApiError> {
    serde_json::from_str(s).map_err(|e| ApiError::internal(format!("corrupt stored document: {e}")))
}

/// Checks an `If-Match` header value against the current strong ETag.
/// `None` (header missing) is 428; a mismatch is 412.
pub fn check_if_match(
    if_match: Option<&str>,
    current: &str,
    required: bool,
) -> Result<(), ApiError> {
    let Some(v) = if_match else {
        if required {
            return Err(ApiError::new(
                StatusCode::PRECONDITION_REQUIRED,
                "precondition-required",
                "this request needs an If-Match header with the object's current ETag (read the object first)",
            ));
        }
        return Ok(());
    };
    let matches = v
        .split(',')
        .map(str::trim)
        .any(|t| t == "*" || t == current);
    if matches {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::PRECONDITION_FAILED,
            "precondition-failed",
            format!(
                "If-Match {v} does not match the current ETag {current}: the object changed since you read it; read it again"
            ),
        ))
    }
}

// ---------------------------------------------------------------------------------------------
// validation

fn check_name(errs: &mut Vec<FieldError>, pointer: &str, name: &str) {
    let t = name.trim();
    if t.is_empty() {
        errs.push(fe(pointer, "must not be empty"));
    } else if name.chars().count() > 200 {
        errs.push(fe(pointer, "must be at most 200 characters"));
    } else if t != name {
        errs.push(fe(pointer, "must not start or end with whitespace"));
    }
}

fn check_email(errs: &mut Vec<FieldError>, pointer: &str, email: &str) {
    if !email_address::EmailAddress::is_valid(email) {
        errs.push(fe(
            pointer,
            format!("{email:?} is not a valid email address"),
        ));
    }
}

fn check_country(errs: &mut Vec<FieldError>, pointer: &str, c: &str) {
    if c.len() != 2
        || !c.bytes().all(|b| b.is_ascii_uppercase())
        || rust_iso3166::from_alpha2(c).is_none()
    {
        errs.push(fe(
            pointer,
            format!("{c:?} is not an ISO 3166-1 alpha-2 country code (e.g. GB, FR)"),
        ));
    }
}

fn check_timezone(errs: &mut Vec<FieldError>, pointer: &str, tz: &str) {
    if tz.parse::<chrono_tz::Tz>().is_err() {
        errs.push(fe(
            pointer,
            format!("{tz:?} is not an IANA time zone name (e.g. Europe/London)"),
        ));
    }
}

fn check_external_key(errs: &mut Vec<FieldError>, pointer: &str, key: &str) {
    let b = key.as_bytes();
    let ok = !b.is_empty()
        && b.len() <= 63
        && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-');
    if !ok {
        errs.push(fe(
            pointer,
            format!("{key:?} must match [a-z0-9][a-z0-9-]{{0,62}}"),
        ));
    }
}

fn check_labels(errs: &mut Vec<FieldError>, labels: &std::collections::BTreeMap<String, String>) {
    if labels.len() > 64 {
        errs.push(fe("/labels", "at most 64 labels"));
    }
    for (k, v) in labels {
        let p = format!("/labels/{}", k.replace('~', "~0").replace('/', "~1"));
        if k.is_empty() || k.len() > 63 {
            errs.push(fe(&p, "label keys must be 1 to 63 bytes"));
        }
        if v.len() > 255 {
            errs.push(fe(&p, "label values must be at most 255 bytes"));
        }
    }
}

fn check_contact(errs: &mut Vec<FieldError>, c: &Contact) {
    check_name(errs, "/contact/name", &c.name);
    check_email(errs, "/contact/email", &c.email);
}

fn fe(pointer: &str, message: impl Into<String>) -> FieldError {
    FieldError {
        pointer: pointer.to_string(),
        message: message.into(),
    }
}

// ---------------------------------------------------------------------------------------------
// partners

/// Creates a partner; returns it and its new API token (shown once; only a hash is stored).
pub fn add_partner(
    tx: &Connection,
    name: &str,
    manageable: bool,
) -> Result<(Partner, String), ApiError> {
    let mut errs = Vec::new();
    check_name(&mut errs, "/name", name);
    if !errs.is_empty() {
        return Err(ApiError::validation(errs));
    }
    let p = PartnerRow {
        id: new_id("ptn"),
        name: name.to_string(),
        manageable,
        support_level: if manageable { "standard" } else { "none" }.to_string(),
    };
    tx.execute(
        "INSERT INTO partners (id, name, manageable, support_level, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![p.id, p.name, p.manageable, p.support_level, now_rfc3339()],
    )?;
    let token = issue_token(tx, &p.id)?;
    Ok((p.to_wire(), token))
}

/// Issues one more API token for a partner (a partner may have several); only its hash is
/// stored.
pub fn issue_token(tx: &Connection, partner_id: &str) -> Result<String, ApiError> {
    let token = {
        let mut rng = rand::rng();
        let a: u128 = rng.random();
        let b: u64 = rng.random();
        format!("psk_{a:032x}{b:016x}")
    };
    tx.execute(
        "INSERT INTO tokens (token_sha256, partner_id, created_at) VALUES (?1, ?2, ?3)",
        params![sha256_hex(token.as_bytes()), partner_id, now_rfc3339()],
    )?;
    Ok(token)
}

/// For the CLI's embedded sandbox: the oldest partner named `name` (created, manageable, if
/// there is none) and a fresh token for it.
pub fn ensure_partner(tx: &Connection, name: &str) -> Result<(Partner, String), ApiError> {
    let found = tx
        .prepare_cached("SELECT id, name, manageable, support_level FROM partners WHERE name = ?1 ORDER BY seq LIMIT 1")?
        .query_row([name], |r| {
            Ok(PartnerRow { id: r.get(0)?, name: r.get(1)?, manageable: r.get(2)?, support_level: r.get(3)? })
        })
        .optional()?;
    match found {
        Some(p) => {
            let token = issue_token(tx, &p.id)?;
            Ok((p.to_wire(), token))
        }
        None => add_partner(tx, name, true),
    }
}

/// Every partner, oldest first.
pub fn list_partners(conn: &Connection) -> Result<Vec<Partner>, ApiError> {
    let mut st =
        conn.prepare("SELECT id, name, manageable, support_level FROM partners ORDER BY seq")?;
    let rows = st.query_map([], |r| {
        Ok(Partner {
            id: r.get(0)?,
            name: r.get(1)?,
            manageable: r.get(2)?,
            support_level: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The partner owning `token`, if any.
pub fn partner_by_token(conn: &Connection, token: &str) -> Result<Option<PartnerRow>, ApiError> {
    let mut st = conn.prepare_cached(
        "SELECT p.id, p.name, p.manageable, p.support_level FROM tokens t JOIN partners p ON p.id = t.partner_id WHERE t.token_sha256 = ?1",
    )?;
    Ok(st
        .query_row([sha256_hex(token.as_bytes())], |r| {
            Ok(PartnerRow {
                id: r.get(0)?,
                name: r.get(1)?,
                manageable: r.get(2)?,
                support_level: r.get(3)?,
            })
        })
        .optional()?)
}

// ---------------------------------------------------------------------------------------------
// idempotency

/// A remembered response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    /// HTTP status.
    pub status: u16,
    /// JSON body.
    pub body: String,
}

/// Looks up a live idempotency key: `Ok(Some)` replays, `Err` 422 if the request differs.
pub fn idempotency_lookup(
    tx: &Connection,
    partner_id: &str,
    key: &str,
    request_sha256: &str,
) -> Result<Option<StoredResponse>, ApiError> {
    let mut st = tx.prepare_cached(
        "SELECT request_sha256, status, body FROM idempotency WHERE partner_id = ?1 AND key = ?2 AND created_epoch > ?3",
    )?;
    let row = st
        .query_row(
            params![partner_id, key, now_epoch() - IDEMPOTENCY_TTL_SECS],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, u16>(1)?,
                    r.get::<_, String>(2)?,
                ))
            },
        )
        .optional()?;
    match row {
        None => Ok(None),
        Some((hash, status, body)) if hash == request_sha256 => {
            Ok(Some(StoredResponse { status, body }))
        }
        Some(_) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency-key-reused",
            format!(
                "Idempotency-Key {key:?} was already used with a different request (method, path or body); use a new key for a new request"
            ),
        )),
    }
}

/// Remembers the response to a request under its idempotency key (and forgets expired keys).
pub fn idempotency_store(
    tx: &Connection,
    partner_id: &str,
    key: &str,
    request_sha256: &str,
    resp: &StoredResponse,
) -> Result<(), ApiError> {
    let now = now_epoch();
    tx.prepare_cached("DELETE FROM idempotency WHERE created_epoch <= ?1")?
        .execute([now - IDEMPOTENCY_TTL_SECS])?;
    tx.prepare_cached(
        "INSERT OR REPLACE INTO idempotency (partner_id, key, request_sha256, status, body, created_epoch) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![partner_id, key, request_sha256, resp.status, resp.body, now])?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// pagination

fn encode_cursor(seq: i64) -> String {
    format!("c1.{seq:x}")
}

fn decode_cursor(token: &str) -> Result<i64, ApiError> {
    token
        .strip_prefix("c1.")
        .and_then(|h| i64::from_str_radix(h, 16).ok())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid-page-token",
                "page_token is not a cursor returned by this API; start again without page_token",
            )
        })
}

fn page_size(p: Option<u32>) -> Result<u32, ApiError> {
    match p {
        None => Ok(DEFAULT_PAGE_SIZE),
        Some(n @ 1..=MAX_PAGE_SIZE) => Ok(n),
        Some(n) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid-page-size",
            format!("page_size {n} is out of range: use 1 to {MAX_PAGE_SIZE}"),
        )),
    }
}

/// Runs a page query: `sql` selects `seq, doc` with `?1` = after-seq and `?2` = limit as its
/// last placeholders' meaning given in `args` order; builds `{"items": [...], "next_page_token"}`
/// from the stored documents without re-parsing them.
fn page_query(
    conn: &Connection,
    table: &str,
    filters: &[(&str, SqlValue)],
    size: Option<u32>,
    token: Option<&str>,
) -> Result<String, ApiError> {
    let size = page_size(size)?;
    let after = token.map(decode_cursor).transpose()?.unwrap_or(0);
    let mut sql = format!("SELECT seq, doc FROM {table} WHERE seq > ?1");
    let mut args: Vec<SqlValue> = vec![SqlValue::Integer(after)];
    for (col, v) in filters {
        args.push(v.clone());
        sql.push_str(&format!(" AND {col} = ?{}", args.len()));
    }
    args.push(SqlValue::Integer(i64::from(size) + 1));
    sql.push_str(&format!(" ORDER BY seq LIMIT ?{}", args.len()));
    let mut st = conn.prepare_cached(&sql)?;
    let mut rows = st.query(rusqlite::params_from_iter(args))?;
    let mut out = String::from("{\"items\":[");
    let mut n = 0u32;
    let mut last = 0i64;
    let mut more = false;
    while let Some(r) = rows.next()? {
        if n == size {
            more = true;
            break;
        }
        if n > 0 {
            out.push(',');
        }
        last = r.get(0)?;
        out.push_str(
            r.get_ref(1)?
                .as_str()
                .map_err(|e| ApiError::internal(e.to_string()))?,
        );
        n += 1;
    }
    out.push(']');
    if more {
        out.push_str(&format!(",\"next_page_token\":\"{}\"", encode_cursor(last)));
    }
    out.push('}');
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// accounts

fn load_account(
    conn: &Connection,
    partner_id: &str,
    id: &str,
) -> Result<Option<Account>, ApiError> {
    let mut st =
        conn.prepare_cached("SELECT doc FROM accounts WHERE id = ?1 AND partner_id = ?2")?;
    let doc: Option<String> = st.query_row([id, partner_id], |r| r.get(0)).optional()?;
    doc.map(|d| from_doc(&d)).transpose()
}

/// `GET /v1/accounts/{id}`.
pub fn get_account(conn: &Connection, p: &PartnerRow, id: &str) -> Result<Account, ApiError> {
    load_account(conn, &p.id, id)?.ok_or_else(|| ApiError::not_found("account", id))
}

fn external_key_owner(
    conn: &Connection,
    partner_id: &str,
    key: &str,
) -> Result<Option<String>, ApiError> {
    let mut st =
        conn.prepare_cached("SELECT id FROM accounts WHERE partner_id = ?1 AND external_key = ?2")?;
    Ok(st.query_row([partner_id, key], |r| r.get(0)).optional()?)
}

fn external_key_taken(key: &str, owner: String) -> ApiError {
    ApiError::conflict(
        "external-key-taken",
        format!(
            "external_key {key:?} is already used by account {owner}; adopt or update that account instead"
        ),
        owner,
    )
}

/// `POST /v1/accounts`.
pub fn create_account(
    tx: &Connection,
    p: &PartnerRow,
    req: AccountCreate,
) -> Result<Account, ApiError> {
    let mut errs = Vec::new();
    let parent_id = match req.kind {
        AccountKind::Customer => match req.parent_id {
            None => p.id.clone(),
            Some(x) if x == p.id => x,
            Some(x) => {
                errs.push(fe(
                    "/parent_id",
                    format!(
                        "a customer's parent is the partner {}; got {x:?} (omit parent_id)",
                        p.id
                    ),
                ));
                x
            }
        },
        kind => {
            let want = if kind == AccountKind::Network {
                AccountKind::Customer
            } else {
                AccountKind::Network
            };
            match req.parent_id {
                None => {
                    errs.push(fe(
                        "/parent_id",
                        format!("required: the id of the {want} this {kind} belongs to"),
                    ));
                    String::new()
                }
                Some(x) => {
                    match load_account(tx, &p.id, &x)? {
                        None => errs.push(fe("/parent_id", format!("no account {x:?}"))),
                        Some(parent) if parent.kind != want => errs.push(fe(
                            "/parent_id",
                            format!(
                                "a {kind}'s parent must be a {want}, but {x} is a {}",
                                parent.kind
                            ),
                        )),
                        Some(_) if !p.manageable => return Err(ApiError::management_disabled()),
                        Some(_) => {}
                    }
                    x
                }
            }
        }
    };
    check_name(&mut errs, "/name", &req.name);
    if let Some(k) = &req.external_key {
        check_external_key(&mut errs, "/external_key", k);
    }
    match &req.contact {
        Some(c) => check_contact(&mut errs, c),
        None if req.kind == AccountKind::Customer => {
            errs.push(fe("/contact", "required for customers: {name, email}"))
        }
        None => {}
    }
    match &req.country {
        Some(c) => check_country(&mut errs, "/country", c),
        None if req.kind == AccountKind::Customer => errs.push(fe(
            "/country",
            "required for customers (ISO 3166-1 alpha-2)",
        )),
        None => {}
    }
    match &req.timezone {
        Some(t) => check_timezone(&mut errs, "/timezone", t),
        None if req.kind == AccountKind::Customer => {
            errs.push(fe("/timezone", "required for customers (IANA name)"))
        }
        None => {}
    }
    check_labels(&mut errs, &req.labels);
    if !errs.is_empty() {
        return Err(ApiError::validation(errs));
    }
    if let Some(k) = &req.external_key
        && let Some(owner) = external_key_owner(tx, &p.id, k)?
    {
        return Err(external_key_taken(k, owner));
    }
    let now = now_rfc3339();
    let mut a = Account {
        id: new_id("acc"),
        kind: req.kind,
        parent_id,
        external_key: req.external_key,
        name: req.name,
        contact: req.contact,
        country: req.country,
        timezone: req.timezone,
        labels: req.labels,
        etag: String::new(),
        created_at: now.clone(),
        updated_at: now,
    };
    set_account_etag(&mut a)?;
    tx.prepare_cached(
        "INSERT INTO accounts (id, partner_id, kind, parent_id, external_key, doc) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![a.id, p.id, a.kind.as_str(), a.parent_id, a.external_key, to_doc(&a)?])?;
    Ok(a)
}

fn gate_account(p: &PartnerRow, a: &Account) -> Result<(), ApiError> {
    if !p.manageable && a.kind != AccountKind::Customer {
        return Err(ApiError::management_disabled());
    }
    Ok(())
}

/// `PATCH /v1/accounts/{id}`.
pub fn patch_account(
    tx: &Connection,
    p: &PartnerRow,
    id: &str,
    if_match: Option<&str>,
    patch: AccountPatch,
) -> Result<Account, ApiError> {
    let mut a = get_account(tx, p, id)?;
    gate_account(p, &a)?;
    check_if_match(if_match, &a.etag, true)?;
    let mut errs = Vec::new();
    if let Some(n) = &patch.name {
        check_name(&mut errs, "/name", n);
    }
    if let Some(Some(k)) = &patch.external_key {
        check_external_key(&mut errs, "/external_key", k);
    }
    if let Some(c) = &patch.contact {
        check_contact(&mut errs, c);
    }
    if let Some(c) = &patch.country {
        check_country(&mut errs, "/country", c);
    }
    if let Some(t) = &patch.timezone {
        check_timezone(&mut errs, "/timezone", t);
    }
    if let Some(l) = &patch.labels {
        check_labels(&mut errs, l);
    }
    if !errs.is_empty() {
        return Err(ApiError::validation(errs));
    }
    if let Some(Some(k)) = &patch.external_key
        && let Some(owner) = external_key_owner(tx, &p.id, k)?.filter(|o| o != id)
    {
        return Err(external_key_taken(k, owner));
    }
    if let Some(k) = patch.external_key {
        a.external_key = k;
    }
    if let Some(n) = patch.name {
        a.name = n;
    }
    if patch.contact.is_some() {
        a.contact = patch.contact;
    }
    if patch.country.is_some() {
        a.country = patch.country;
    }
    if patch.timezone.is_some() {
        a.timezone = patch.timezone;
    }
    if let Some(l) = patch.labels {
        a.labels = l;
    }
    a.updated_at = now_rfc3339();
    set_account_etag(&mut a)?;
    tx.prepare_cached("UPDATE accounts SET external_key = ?2, doc = ?3 WHERE id = ?1")?
        .execute(params![a.id, a.external_key, to_doc(&a)?])?;
    Ok(a)
}

/// `DELETE /v1/accounts/{id}`: refuses (409) while the account has child accounts; removes the
/// account's users and services with it.
pub fn delete_account(
    tx: &Connection,
    p: &PartnerRow,
    id: &str,
    if_match: Option<&str>,
) -> Result<(), ApiError> {
    let a = get_account(tx, p, id)?;
    gate_account(p, &a)?;
    check_if_match(if_match, &a.etag, true)?;
    let child: Option<String> = tx
        .prepare_cached("SELECT id FROM accounts WHERE parent_id = ?1 LIMIT 1")?
        .query_row([id], |r| r.get(0))
        .optional()?;
    if let Some(child) = child {
        return Err(ApiError::conflict(
            "has-children",
            format!("account {id} still has child accounts (e.g. {child}); delete them first"),
            child,
        ));
    }
    tx.prepare_cached("DELETE FROM users WHERE account_id = ?1")?
        .execute([id])?;
    tx.prepare_cached("DELETE FROM services WHERE account_id = ?1")?
        .execute([id])?;
    tx.prepare_cached("DELETE FROM accounts WHERE id = ?1")?
        .execute([id])?;
    Ok(())
}

/// `GET /v1/accounts` (raw JSON page).
pub fn list_accounts(
    conn: &Connection,
    p: &PartnerRow,
    q: &AccountListQuery,
) -> Result<String, ApiError> {
    let mut f: Vec<(&str, SqlValue)> = vec![("partner_id", SqlValue::Text(p.id.clone()))];
    if let Some(k) = q.kind {
        f.push(("kind", SqlValue::Text(k.as_str().into())));
    }
    if let Some(x) = &q.parent_id {
        f.push(("parent_id", SqlValue::Text(x.clone())));
    }
    if let Some(x) = &q.external_key {
        f.push(("external_key", SqlValue::Text(x.clone())));
    }
    page_query(conn, "accounts", &f, q.page_size, q.page_token.as_deref())
}

// ---------------------------------------------------------------------------------------------
// users

/// Resolves the account a user lives on: the partner itself or one of its accounts.
/// Returns whether it is inside a customer (subject to the manageable gate) and its name.
fn user_home(
    conn: &Connection,
    p: &PartnerRow,
    account_id: &str,
) -> Result<(bool, String), ApiError> {
    if account_id == p.id {
        return Ok((false, p.name.clone()));
    }
    let a = get_account(conn, p, account_id)?;
    Ok((true, a.name))
}

fn load_user(conn: &Connection, p: &PartnerRow, id: &str) -> Result<User, ApiError> {
    let mut st = conn.prepare_cached("SELECT doc FROM users WHERE id = ?1 AND partner_id = ?2")?;
    let doc: Option<String> = st.query_row([id, &p.id], |r| r.get(0)).optional()?;
    doc.map(|d| from_doc(&d))
        .transpose()?
        .ok_or_else(|| ApiError::not_found("user", id))
}

/// `GET /v1/users/{id}`.
pub fn get_user(conn: &Connection, p: &PartnerRow, id: &str) -> Result<User, ApiError> {
    load_user(conn, p, id)
}

fn save_user(tx: &Connection, u: &mut User) -> Result<(), ApiError> {
    set_user_etag(u)?;
    tx.prepare_cached("UPDATE users SET status = ?2, doc = ?3 WHERE id = ?1")?
        .execute(params![u.id, u.status.as_str(), to_doc(u)?])?;
    Ok(())
}

fn write_invitation(
    tx: &Connection,
    partner_id: &str,
    u: &User,
    account_name: &str,
    resend: bool,
) -> Result<(), ApiError> {
    let subject = format!(
        "{}You're invited to {account_name}",
        if resend { "Reminder: " } else { "" }
    );
    let body = format!(
        "Hello {},\n\nyou have been invited to {account_name} as {}. Accept the invitation to get access.\n",
        u.name,
        u.role.as_str()
    );
    tx.prepare_cached(
        "INSERT INTO outbox (created_at, partner_id, account_id, user_id, to_email, subject, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![now_rfc3339(), partner_id, u.account_id, u.id, u.email, subject, body])?;
    Ok(())
}

/// `POST /v1/accounts/{id}/users`: invite; 409 with the existing id if the email is present.
pub fn invite_user(
    tx: &Connection,
    p: &PartnerRow,
    account_id: &str,
    req: UserInvite,
) -> Result<User, ApiError> {
    let (inside, account_name) = user_home(tx, p, account_id)?;
    if inside && !p.manageable {
        return Err(ApiError::management_disabled());
    }
    let mut errs = Vec::new();
    check_email(&mut errs, "/email", &req.email);
    check_name(&mut errs, "/name", &req.name);
    if !errs.is_empty() {
        return Err(ApiError::validation(errs));
    }
    let email_lc = req.email.to_lowercase();
    let existing: Option<String> = tx
        .prepare_cached("SELECT id FROM users WHERE account_id = ?1 AND email_lc = ?2")?
        .query_row([account_id, &email_lc], |r| r.get(0))
        .optional()?;
    if let Some(existing) = existing {
        return Err(ApiError::conflict(
            "user-exists",
            format!(
                "{} already has a user or invitation for {} ({existing}); update it instead",
                account_id, req.email
            ),
            existing,
        ));
    }
    let mut u = User {
        id: new_id("usr"),
        account_id: account_id.to_string(),
        email: req.email,
        name: req.name,
        role: req.role,
        status: UserStatus::Invited,
        etag: String::new(),
    };
    set_user_etag(&mut u)?;
    tx.prepare_cached(
        "INSERT INTO users (id, partner_id, account_id, email_lc, status, doc) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![u.id, p.id, u.account_id, email_lc, u.status.as_str(), to_doc(&u)?])?;
    write_invitation(tx, &p.id, &u, &account_name, false)?;
    Ok(u)
}

fn gate_user(tx: &Connection, p: &PartnerRow, u: &User) -> Result<String, ApiError> {
    let (inside, name) = user_home(tx, p, &u.account_id)?;
    if inside && !p.manageable {
        return Err(ApiError::management_disabled());
    }
    Ok(name)
}

/// `PATCH /v1/users/{id}`.
pub fn patch_user(
    tx: &Connection,
    p: &PartnerRow,
    id: &str,
    if_match: Option<&str>,
    patch: UserPatch,
) -> Result<User, ApiError> {
    let mut u = load_user(tx, p, id)?;
    gate_user(tx, p, &u)?;
    check_if_match(if_match, &u.etag, true)?;
    if let Some(n) = patch.name {
        let mut errs = Vec::new();
        check_name(&mut errs, "/name", &n);
        if !errs.is_empty() {
            return Err(ApiError::validation(errs));
        }
        u.name = n;
    }
    if let Some(r) = patch.role {
        u.role = r;
    }
    save_user(tx, &mut u)?;
    Ok(u)
}

/// `DELETE /v1/users/{id}`: revokes an invitation or removes a user.
pub fn delete_user(
    tx: &Connection,
    p: &PartnerRow,
    id: &str,
    if_match: Option<&str>,
) -> Result<(), ApiError> {
    let u = load_user(tx, p, id)?;
    gate_user(tx, p, &u)?;
    check_if_match(if_match, &u.etag, true)?;
    tx.prepare_cached("DELETE FROM users WHERE id = ?1")?
        .execute([id])?;
    Ok(())
}

/// `POST /v1/users/{id}/resend`: an expired invitation becomes `invited` again, with a new email.
pub fn resend_user(tx: &Connection, p: &PartnerRow, id: &str) -> Result<User, ApiError> {
    let mut u = load_user(tx, p, id)?;
    let account_name = gate_user(tx, p, &u)?;
    if u.status != UserStatus::Expired {
        return Err(ApiError::conflict(
            "invalid-user-state",
            format!(
                "user {id} is {}; only an expired invitation can be re-sent",
                u.status.as_str()
            ),
            id,
        ));
    }
    u.status = UserStatus::Invited;
    save_user(tx, &mut u)?;
    write_invitation(tx, &p.id, &u, &account_name, true)?;
    Ok(u)
}

/// `GET /v1/users` (raw JSON page).
pub fn list_users(
    conn: &Connection,
    p: &PartnerRow,
    q: &UserListQuery,
) -> Result<String, ApiError> {
    let mut f: Vec<(&str, SqlValue)> = vec![("partner_id", SqlValue::Text(p.id.clone()))];
    if let Some(x) = &q.account_id {
        f.push(("account_id", SqlValue::Text(x.clone())));
    }
    if let Some(x) = &q.email {
        f.push(("email_lc", SqlValue::Text(x.to_lowercase())));
    }
    if let Some(s) = q.status {
        f.push(("status", SqlValue::Text(s.as_str().into())));
    }
    page_query(conn, "users", &f, q.page_size, q.page_token.as_deref())
}

/// Admin: moves every user with `email` (case-insensitive) from one of `from` to `to`.
/// Returns the changed users.
pub fn set_user_status_by_email(
    tx: &Connection,
    email: &str,
    from: &[UserStatus],
    to: UserStatus,
) -> Result<Vec<User>, ApiError> {
    let docs: Vec<String> = tx
        .prepare("SELECT doc FROM users WHERE email_lc = ?1 ORDER BY seq")?
        .query_map([email.to_lowercase()], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let mut changed = Vec::new();
    for d in docs {
        let mut u: User = from_doc(&d)?;
        if from.contains(&u.status) {
            u.status = to;
            save_user(tx, &mut u)?;
            changed.push(u);
        }
    }
    Ok(changed)
}

/// One outbox email.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OutboxEmail {
    /// Sequence number.
    pub seq: i64,
    /// When it was written.
    pub created_at: String,
    /// Partner id.
    pub partner_id: String,
    /// Account (or partner) id the invitation is for.
    pub account_id: String,
    /// User id.
    pub user_id: String,
    /// Recipient.
    pub to: String,
    /// Subject.
    pub subject: String,
    /// Plain-text body.
    pub body: String,
}

/// Admin: every email of the outbox, oldest first.
pub fn outbox(conn: &Connection) -> Result<Vec<OutboxEmail>, ApiError> {
    let mut st = conn.prepare(
        "SELECT seq, created_at, partner_id, account_id, user_id, to_email, subject, body FROM outbox ORDER BY seq",
    )?;
    let rows = st.query_map([], |r| {
        Ok(OutboxEmail {
            seq: r.get(0)?,
            created_at: r.get(1)?,
            partner_id: r.get(2)?,
            account_id: r.get(3)?,
            user_id: r.get(4)?,
            to: r.get(5)?,
            subject: r.get(6)?,
            body: r.get(7)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

// ---------------------------------------------------------------------------------------------
// services

fn service_home(
    conn: &Connection,
    p: &PartnerRow,
    account_id: &str,
    ty: &str,
) -> Result<&'static catalog::CatalogEntry, ApiError> {
    get_account(conn, p, account_id)?;
    let entry = catalog::find(ty).ok_or_else(|| {
        let known: Vec<&str> = catalog::catalog()
            .iter()
            .map(|e| e.info.service_type.as_str())
            .collect();
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "unknown-service-type",
            format!(
                "no service type {ty:?}; the catalog has: {}",
                known.join(", ")
            ),
        )
    })?;
    if !p.manageable {
        return Err(ApiError::management_disabled());
    }
    Ok(entry)
}

fn load_service(
    conn: &Connection,
    p: &PartnerRow,
    account_id: &str,
    ty: &str,
) -> Result<Option<Service>, ApiError> {
    let mut st = conn.prepare_cached(
        "SELECT doc FROM services WHERE account_id = ?1 AND type = ?2 AND partner_id = ?3",
    )?;
    let doc: Option<String> = st
        .query_row([account_id, ty, &p.id], |r| r.get(0))
        .optional()?;
    doc.map(|d| from_doc(&d)).transpose()
}

/// `GET /v1/accounts/{id}/services/{type}`.
pub fn get_service(
    conn: &Connection,
    p: &PartnerRow,
    account_id: &str,
    ty: &str,
) -> Result<Service, ApiError> {
    load_service(conn, p, account_id, ty)?
        .ok_or_else(|| ApiError::not_found("service", &format!("{account_id}/{ty}")))
}

/// `PUT /v1/accounts/{id}/services/{type}`: returns the service and whether it was created.
pub fn put_service(
    tx: &Connection,
    p: &PartnerRow,
    account_id: &str,
    ty: &str,
    if_match: Option<&str>,
    req: ServicePut,
) -> Result<(Service, bool), ApiError> {
    let entry = service_home(tx, p, account_id, ty)?;
    let errs = entry.validate(&req.settings, "/settings");
    if !errs.is_empty() {
        return Err(ApiError::validation(errs));
    }
    let existing = load_service(tx, p, account_id, ty)?;
    if let Some(s) = &existing {
        check_if_match(if_match, &s.etag, false)?;
    } else if if_match.is_some_and(|v| v.trim() != "") {
        return Err(ApiError::new(
            StatusCode::PRECONDITION_FAILED,
            "precondition-failed",
            format!("If-Match given but account {account_id} has no {ty} service"),
        ));
    }
    let mut s = Service {
        account_id: account_id.to_string(),
        service_type: ty.to_string(),
        settings: req.settings,
        etag: String::new(),
    };
    set_service_etag(&mut s)?;
    let doc = to_doc(&s)?;
    if existing.is_some() {
        tx.prepare_cached("UPDATE services SET doc = ?3 WHERE account_id = ?1 AND type = ?2")?
            .execute(params![account_id, ty, doc])?;
    } else {
        tx.prepare_cached(
            "INSERT INTO services (partner_id, account_id, type, doc) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![p.id, account_id, ty, doc])?;
    }
    Ok((s, existing.is_none()))
}

/// `DELETE /v1/accounts/{id}/services/{type}`.
pub fn delete_service(
    tx: &Connection,
    p: &PartnerRow,
    account_id: &str,
    ty: &str,
    if_match: Option<&str>,
) -> Result<(), ApiError> {
    service_home(tx, p, account_id, ty)?;
    let s = get_service(tx, p, account_id, ty)?;
    check_if_match(if_match, &s.etag, false)?;
    tx.prepare_cached("DELETE FROM services WHERE account_id = ?1 AND type = ?2")?
        .execute([account_id, ty])?;
    Ok(())
}

/// `GET /v1/services` (raw JSON page).
pub fn list_services(
    conn: &Connection,
    p: &PartnerRow,
    q: &ServiceListQuery,
) -> Result<String, ApiError> {
    let mut f: Vec<(&str, SqlValue)> = vec![("partner_id", SqlValue::Text(p.id.clone()))];
    if let Some(x) = &q.account_id {
        f.push(("account_id", SqlValue::Text(x.clone())));
    }
    if let Some(x) = &q.service_type {
        f.push(("type", SqlValue::Text(x.clone())));
    }
    page_query(conn, "services", &f, q.page_size, q.page_token.as_deref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
        assert_eq!(now_rfc3339().len(), 24);
    }

    #[test]
    fn if_match_rules() {
        assert_eq!(
            check_if_match(None, "\"a\"", true).unwrap_err().status,
            StatusCode::PRECONDITION_REQUIRED
        );
        assert!(check_if_match(None, "\"a\"", false).is_ok());
        assert!(check_if_match(Some("\"a\""), "\"a\"", true).is_ok());
        assert!(check_if_match(Some("\"b\", \"a\""), "\"a\"", true).is_ok());
        assert!(check_if_match(Some("*"), "\"a\"", true).is_ok());
        assert_eq!(
            check_if_match(Some("W/\"a\""), "\"a\"", true)
                .unwrap_err()
                .status,
            StatusCode::PRECONDITION_FAILED
        );
    }

    #[test]
    fn idempotency_keys_expire_after_24_hours() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("t.db")).unwrap();
        let resp = StoredResponse {
            status: 201,
            body: "{}".into(),
        };
        let r = resp.clone();
        store
            .write(move |tx| idempotency_store(tx, "p", "k", "h1", &r))
            .unwrap();
        let found = store
            .write(|tx| idempotency_lookup(tx, "p", "k", "h1"))
            .unwrap();
        assert_eq!(found, Some(resp));
        let e = store
            .write(|tx| idempotency_lookup(tx, "p", "k", "h2"))
            .unwrap_err();
        assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            store
                .write(|tx| idempotency_lookup(tx, "q", "k", "h2"))
                .unwrap(),
            None
        );
        // Age the record past the TTL: it is forgotten, and the key can be used again.
        store
            .write(|tx| {
                tx.execute(
                    "UPDATE idempotency SET created_epoch = created_epoch - ?1",
                    [IDEMPOTENCY_TTL_SECS],
                )?;
                Ok(())
            })
            .unwrap();
        assert_eq!(
            store
                .write(|tx| idempotency_lookup(tx, "p", "k", "h2"))
                .unwrap(),
            None
        );
    }

    #[test]
    fn a_failed_write_in_a_batch_rolls_back_only_itself() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("t.db")).unwrap();
        let ok1 = store.submit(|tx| add_partner(tx, "A", true));
        let bad = store.submit(|tx| {
            add_partner(tx, "B", true)?;
            Err::<(), _>(ApiError::internal("boom"))
        });
        let ok2 = store.submit(|tx| add_partner(tx, "C", true));
        assert!(ok1.blocking_recv().unwrap().is_ok());
        assert!(bad.blocking_recv().unwrap().is_err());
        assert!(ok2.blocking_recv().unwrap().is_ok());
        let names: Vec<String> = store
            .read(|c| {
                let mut st = c.prepare("SELECT name FROM partners ORDER BY seq")?;
                Ok(st.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?)
            })
            .unwrap();
        assert_eq!(names, ["A", "C"]);
    }

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        assert_eq!(decode_cursor(&encode_cursor(12345)).unwrap(), 12345);
        assert!(decode_cursor("zzz").is_err());
        assert!(page_size(Some(1001)).is_err());
        assert!(page_size(Some(0)).is_err());
        assert_eq!(page_size(None).unwrap(), DEFAULT_PAGE_SIZE);
    }
}
