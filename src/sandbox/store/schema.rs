//! The store's SQL schema, created on open (every statement is `IF NOT EXISTS`, so opening an
//! existing database is a no-op).
//!
//! Objects are stored as their JSON document (`doc`) plus the columns needed for lookups and
//! filters. `seq` (`INTEGER PRIMARY KEY AUTOINCREMENT`) is immutable and increases in commit
//! order; list endpoints page by it (see [`super::pagination`]).

use rusqlite::Connection;

/// Creates whatever tables and indexes are missing.
pub(super) fn create(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(SCHEMA)
}

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
