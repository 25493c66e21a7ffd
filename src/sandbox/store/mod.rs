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
//!
//! Files: the database and its `-wal` and `-shm` files are private to their owner (0600).
//! [`Store::open`] creates a missing database 0600 before SQLite writes to it (whatever the
//! umask; SQLite gives the `-wal` and `-shm` files it creates the database's mode), and makes
//! an existing one that others could read private, with a warning on stderr.
//!
//! Layout, one concern per module (every public item is re-exported here):
//! - `schema`: the tables, versioned and migrated on open; `writer`: the writer thread and
//!   group commit;
//! - `partners`, `accounts`, `users`, `services`, `outbox`: the objects and their rules;
//! - for dialects with integer ids and logins (Nexudus): `numbers` (stable integer numbers),
//!   `numbered` (the partner's home, its accounts and its customers' links by number, the
//!   per-customer `manageable` gate), `people` (one login per email across its user rows),
//!   `credentials` (dialect logins, their Argon2id hashes and the tokens they are granted),
//!   `listing` (offset pages with sorting);
//! - `idempotency`: remembered responses of POSTs; `pagination`: cursors and list pages;
//! - `validation`: field rules; `etag`: ETags and `If-Match`; `doc`: ids, hashes, stored
//!   documents; `clock`: timestamps.

mod accounts;
mod clock;
mod credentials;
mod doc;
mod etag;
mod idempotency;
mod listing;
mod numbered;
mod numbers;
mod outbox;
mod pagination;
mod partners;
mod people;
mod schema;
mod services;
mod users;
mod validation;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, mpsc};

use rusqlite::{Connection, OpenFlags};

use super::error::RequestError;

pub use accounts::{
    accounts_named, create_account, create_account_at_dashboard, delete_account, get_account,
    list_accounts, patch_account,
};
pub use clock::{now_epoch, now_millis, now_rfc3339, rfc3339_millis};
pub use credentials::{
    Bearer, Credential, PASSWORD_PARAMS, Verified, add_credential, bearer, credential, grant_token,
    hash_password, rehash_credential, revoke_granted_tokens, verify_nobody,
};
pub use doc::sha256_hex;
pub use etag::check_if_match;
pub use idempotency::{
    IDEMPOTENCY_TTL_SECS, StoredResponse, idempotency_lookup, idempotency_store,
};
pub use listing::{Listed, Slice, SortKey};
pub use numbered::{
    Home, Link, Place, PlaceWrite, account_numbers, get_link, get_place, home, list_links,
    list_places, replace_link, replace_place, set_customer_manageable,
};
pub use outbox::{OutboxEmail, outbox};
pub use partners::{
    PartnerRow, add_partner, ensure_partner, issue_token, list_partners, partner_by_id,
    partner_by_token, partners_named,
};
pub use people::{
    Person, PersonWrite, Places, create_person, delete_person, get_people, list_people,
    replace_person,
};
pub use services::{delete_service, get_service, list_services, put_service};
pub use users::{
    delete_user, get_user, invite_user, list_users, patch_user, resend_user,
    set_user_status_by_email,
};

/// Why [`Store::open`] failed.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The database's directory could not be created.
    #[error("cannot create directory {}: {cause}", dir.display())]
    CreateDir {
        /// The directory.
        dir: PathBuf,
        /// The cause (part of the message, not a separate source).
        cause: std::io::Error,
    },
    /// SQLite could not open (or create) the file.
    #[error("cannot open sandbox database {}: {cause}", path.display())]
    Open {
        /// The database file.
        path: PathBuf,
        /// The cause (part of the message, not a separate source).
        cause: rusqlite::Error,
    },
    /// The database's file mode could not be set.
    #[error("cannot make sandbox database {} private (mode 0600): {cause}", path.display())]
    Mode {
        /// The file.
        path: PathBuf,
        /// The cause (part of the message, not a separate source).
        cause: std::io::Error,
    },
    /// The file system does not support WAL mode, which durability and concurrent reads need.
    #[error("database {} cannot use WAL (got {mode})", path.display())]
    NoWal {
        /// The database file.
        path: PathBuf,
        /// The journal mode SQLite chose instead.
        mode: String,
    },
    /// Setting up the connection or the schema failed.
    #[error(transparent)]
    Setup(#[from] rusqlite::Error),
    /// The writer thread could not be started.
    #[error(transparent)]
    WriterThread(std::io::Error),
}

/// The SQLite store.
pub struct Store {
    path: PathBuf,
    jobs: Option<mpsc::Sender<writer::Job>>,
    writer: Option<std::thread::JoinHandle<()>>,
    readers: Mutex<Vec<Connection>>,
}

/// Most idle read connections kept.
const READ_POOL_SIZE: usize = 4;

impl Store {
    /// Opens (creating if needed, with its directory) the database at `path`, and starts the
    /// writer thread.
    pub fn open(path: &Path) -> Result<Store, OpenError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|cause| OpenError::CreateDir {
                dir: dir.to_path_buf(),
                cause,
            })?;
        }
        private_files(path)?;
        let mut conn = Connection::open(path).map_err(|cause| OpenError::Open {
            path: path.to_path_buf(),
            cause,
        })?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(OpenError::NoWal {
                path: path.to_path_buf(),
                mode,
            });
        }
        conn.execute_batch("PRAGMA synchronous=FULL;")?;
        schema::migrate(&mut conn)?;
        let (tx, rx) = mpsc::channel::<writer::Job>();
        let writer = std::thread::Builder::new()
            .name("sandbox-writer".into())
            .spawn(move || writer::writer_loop(conn, rx))
            .map_err(OpenError::WriterThread)?;
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

    /// Runs `f` on a read connection (a consistent snapshot for reads inside one statement;
    /// wrap several statements in a transaction yourself if they must agree).
    pub fn read<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, RequestError>,
    ) -> Result<T, RequestError> {
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

/// Creates the database file 0600 when it is missing (SQLite then gives its `-wal` and `-shm`
/// files the same mode), and takes the group's and others' permissions from an existing
/// database and its `-wal` and `-shm` files, with a warning on stderr (also when that fails:
/// SQLite then says whether it can use the files).
#[cfg(unix)]
fn private_files(path: &Path) -> Result<(), OpenError> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let failed = |p: &Path| {
        let path = p.to_path_buf();
        move |cause| OpenError::Mode { path, cause }
    };
    let created = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path);
    match created {
        // The umask may have taken more than the group's and others' bits: set them exactly.
        Ok(file) => {
            return file
                .set_permissions(std::fs::Permissions::from_mode(0o600))
                .map_err(failed(path));
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        // Let SQLite say why it cannot open it.
        Err(_) => return Ok(()),
    }
    for suffix in ["", "-wal", "-shm"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        let file = PathBuf::from(name);
        let Ok(meta) = std::fs::metadata(&file) else {
            continue;
        };
        let mode = meta.permissions().mode() & 0o7777;
        if mode & 0o077 != 0 {
            let private = mode & 0o700;
            match std::fs::set_permissions(&file, std::fs::Permissions::from_mode(private)) {
                Ok(()) => tracing::warn!(
                    "sandbox database file {} was readable or writable by others (mode {mode:04o}); made it {private:04o}",
                    file.display()
                ),
                Err(e) => tracing::warn!(
                    "sandbox database file {} is readable or writable by others (mode {mode:04o}) and could not be made private: {e}",
                    file.display()
                ),
            }
        }
    }
    Ok(())
}

#[cfg(not(unix))]
fn private_files(_path: &Path) -> Result<(), OpenError> {
    Ok(())
}

impl Drop for Store {
    fn drop(&mut self) {
        self.jobs.take();
        if let Some(w) = self.writer.take() {
            let _ = w.join();
        }
    }
}
