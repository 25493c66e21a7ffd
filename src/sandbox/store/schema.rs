//! The store's SQL schema, versioned by `PRAGMA user_version` and migrated on open, in one
//! `BEGIN IMMEDIATE` transaction (so two processes opening an old database migrate it once).
//!
//! - version 1: the partner API's tables (a database from before versioning reads as 0, and
//!   its tables already exist: every statement of version 1 is `IF NOT EXISTS`);
//! - version 2: what dialects with integer ids and logins need: a partner's home business
//!   number, per-customer `manageable` and link fields, `people` (one login per email and
//!   partner across its user rows) and `credentials` (dialect logins); existing partners,
//!   customers and users get theirs;
//! - version 3: a trigger gives a new user's email its person, whoever inserts it (also an
//!   older build that knows nothing of people); partners and customers an older build added
//!   get their numbers on the next open (partial indexes make that check free);
//! - version 4: an account's second contact email, which only a dialect's businesses carry
//!   (Nexudus `ContactEmail`);
//! - version 5: a customer's document carries its `manageable` flag (the partner API shows
//!   it); documents without it, or with another value than the column (an older build's
//!   writes), get it on every open, their ETag stamped again (a partial index makes that check
//!   free);
//! - version 6: a login's password as an Argon2id PHC string (`credentials.password_phc`);
//!   an older database's SHA-256 is hashed again and erased on every open that finds one (a
//!   partial index makes that check free; see [`super::credentials`]);
//! - version 7: a token granted to a login carries its expiry and the login
//!   (`tokens.expires_ms`, `tokens.login_lc`); the partner API's tokens have neither, and
//!   never expire.
//!
//! Objects are stored as their JSON document (`doc`) plus the columns needed for lookups and
//! filters. `seq` (`INTEGER PRIMARY KEY AUTOINCREMENT`) is immutable and increases in commit
//! order; list endpoints page by it (see [`super::pagination`]).

use rusqlite::types::Type;
use rusqlite::{Connection, TransactionBehavior};

use serde_json::Value;

use super::credentials::{UNWRAPPED, wrap_legacy};
use super::doc::sha256_hex;
use super::numbers;

/// The schema version this build writes.
pub(super) const VERSION: i64 = 7;

/// Brings the database to [`VERSION`] (a newer database is left alone).
pub(super) fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version < 1 {
        tx.execute_batch(SCHEMA_V1)?;
    }
    if version < 2 {
        tx.execute_batch(SCHEMA_V2)?;
    }
    if version < 3 {
        tx.execute_batch(SCHEMA_V3)?;
        backfill_people(&tx)?;
    }
    if version < 4 {
        tx.execute_batch(SCHEMA_V4)?;
    }
    if version < 5 {
        tx.execute_batch(&format!(
            "CREATE INDEX IF NOT EXISTS customers_manageable_stale ON accounts(seq) WHERE {MANAGEABLE_STALE};"
        ))?;
    }
    if version < 6 {
        tx.execute_batch(&format!(
            "ALTER TABLE credentials ADD COLUMN password_phc TEXT;
             CREATE INDEX IF NOT EXISTS credentials_unwrapped ON credentials(login_lc) WHERE {UNWRAPPED};"
        ))?;
    }
    if version < 7 {
        tx.execute_batch(SCHEMA_V7)?;
    }
    if version <= VERSION {
        number_unnumbered(&tx)?;
        show_manageable(&tx)?;
        wrap_legacy(&tx)?;
    }
    if version < VERSION {
        tx.pragma_update(None, "user_version", VERSION)?;
    }
    tx.commit()
}

/// Numbers for the partners and customers without one (stored before version 2, or by an
/// older build since).
fn number_unnumbered(tx: &Connection) -> rusqlite::Result<()> {
    let partners: Vec<String> = tx
        .prepare("SELECT id FROM partners WHERE business_number IS NULL ORDER BY seq")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for id in partners {
        let n = numbers::reserve(tx)?;
        tx.execute(
            "UPDATE partners SET business_number = ?2 WHERE id = ?1",
            rusqlite::params![id, n],
        )?;
    }
    let customers: Vec<String> = tx
        .prepare(
            "SELECT id FROM accounts WHERE kind = 'customer' AND link_number IS NULL ORDER BY seq",
        )?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for id in customers {
        let n = numbers::reserve(tx)?;
        tx.execute(
            "UPDATE accounts SET link_number = ?2 WHERE id = ?1",
            rusqlite::params![id, n],
        )?;
    }
    Ok(())
}

/// The customers whose document does not carry their `manageable` flag as the column has it
/// get it, with a new ETag (a hash of the document with the `etag` field blank, as
/// `Tagged::stamp_etag` makes them).
fn show_manageable(tx: &Connection) -> rusqlite::Result<()> {
    let stale: Vec<(String, String, bool)> = tx
        .prepare(&format!(
            "SELECT id, doc, manageable FROM accounts WHERE {MANAGEABLE_STALE} ORDER BY seq"
        ))?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    let corrupt = |e: serde_json::Error| {
        rusqlite::Error::FromSqlConversionFailure(1, Type::Text, Box::new(e))
    };
    for (id, doc, manageable) in stale {
        let mut v: Value = serde_json::from_str(&doc).map_err(corrupt)?;
        let Some(o) = v.as_object_mut() else {
            continue;
        };
        o.insert("manageable".into(), Value::Bool(manageable));
        o.insert("etag".into(), Value::String(String::new()));
        let blank = serde_json::to_vec(&v).map_err(corrupt)?;
        v["etag"] = Value::String(format!("\"{}\"", &sha256_hex(&blank)[..20]));
        tx.execute(
            "UPDATE accounts SET doc = ?2 WHERE id = ?1",
            rusqlite::params![id, v.to_string()],
        )?;
    }
    Ok(())
}

/// The people of the users stored before version 3.
fn backfill_people(tx: &Connection) -> rusqlite::Result<()> {
    tx.execute_batch(
        "INSERT OR IGNORE INTO people (partner_id, email_lc, email, full_name, is_admin, active, created_at, updated_at)
         SELECT partner_id, email_lc, json_extract(doc, '$.email'), json_extract(doc, '$.name'),
                json_extract(doc, '$.role') = 'admin', status = 'active',
                strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
         FROM users ORDER BY seq;",
    )
}

const SCHEMA_V2: &str = r#"
ALTER TABLE partners ADD COLUMN business_number INTEGER;
ALTER TABLE accounts ADD COLUMN manageable INTEGER NOT NULL DEFAULT 1;
ALTER TABLE accounts ADD COLUMN link_number INTEGER;
ALTER TABLE accounts ADD COLUMN link_notes TEXT;
ALTER TABLE accounts ADD COLUMN link_scope TEXT;
ALTER TABLE accounts ADD COLUMN link_first_line INTEGER NOT NULL DEFAULT 0;
CREATE INDEX IF NOT EXISTS accounts_link ON accounts(link_number) WHERE link_number IS NOT NULL;
CREATE INDEX IF NOT EXISTS users_partner_email ON users(partner_id, email_lc);
CREATE TABLE IF NOT EXISTS people (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    partner_id TEXT NOT NULL,
    email_lc TEXT NOT NULL,
    email TEXT NOT NULL,
    full_name TEXT NOT NULL,
    is_admin INTEGER NOT NULL DEFAULT 0,
    active INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (partner_id, email_lc)
);
CREATE TABLE IF NOT EXISTS credentials (
    login_lc TEXT PRIMARY KEY,
    partner_id TEXT NOT NULL,
    salt TEXT NOT NULL,
    password_sha256 TEXT NOT NULL,
    totp INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS credentials_partner ON credentials(partner_id);
"#;

const SCHEMA_V3: &str = r#"
CREATE INDEX IF NOT EXISTS partners_unnumbered ON partners(seq) WHERE business_number IS NULL;
CREATE INDEX IF NOT EXISTS customers_unnumbered ON accounts(seq)
    WHERE kind = 'customer' AND link_number IS NULL;
CREATE TRIGGER IF NOT EXISTS users_person AFTER INSERT ON users
BEGIN
    INSERT OR IGNORE INTO people (partner_id, email_lc, email, full_name, is_admin, active, created_at, updated_at)
    VALUES (NEW.partner_id, NEW.email_lc, json_extract(NEW.doc, '$.email'),
            json_extract(NEW.doc, '$.name'), json_extract(NEW.doc, '$.role') = 'admin', 0,
            strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
END;
"#;

const SCHEMA_V4: &str = "ALTER TABLE accounts ADD COLUMN secondary_email TEXT;";

const SCHEMA_V7: &str = r#"
ALTER TABLE tokens ADD COLUMN expires_ms INTEGER;
ALTER TABLE tokens ADD COLUMN login_lc TEXT;
CREATE INDEX IF NOT EXISTS tokens_granted ON tokens(partner_id) WHERE expires_ms IS NOT NULL;
CREATE INDEX IF NOT EXISTS tokens_expiring ON tokens(expires_ms) WHERE expires_ms IS NOT NULL;
"#;

/// Customers whose document's `manageable` is not the column's (SQLite reads JSON `true` as 1);
/// version 5's partial index has the same condition, so that finding none costs nothing.
const MANAGEABLE_STALE: &str =
    "kind = 'customer' AND json_extract(doc, '$.manageable') IS NOT manageable";

const SCHEMA_V1: &str = r#"
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

#[cfg(test)]
mod tests {
    use super::super::Store;
    use super::*;

    #[test]
    fn a_database_from_before_versioning_is_migrated_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        {
            let c = Connection::open(&path).unwrap();
            c.execute_batch(SCHEMA_V1).unwrap();
            c.execute_batch(
                r#"INSERT INTO partners (id, name, manageable, support_level, created_at)
                     VALUES ('ptn_1', 'P', 1, 'standard', '2024-01-01T00:00:00.000Z');
                   INSERT INTO accounts (id, partner_id, kind, parent_id, doc)
                     VALUES ('acc_1', 'ptn_1', 'customer', 'ptn_1', '{"name":"C"}'),
                            ('acc_2', 'ptn_1', 'network', 'acc_1', '{"name":"N"}');
                   INSERT INTO users (id, partner_id, account_id, email_lc, status, doc)
                     VALUES ('usr_1', 'ptn_1', 'acc_1', 'a@x.example', 'active',
                             '{"email":"A@x.example","name":"A","role":"admin"}'),
                            ('usr_2', 'ptn_1', 'acc_2', 'a@x.example', 'invited',
                             '{"email":"a@x.example","name":"A2","role":"member"}');"#,
            )
            .unwrap();
        }
        let numbers = || {
            let store = Store::open(&path).unwrap();
            store
                .read(|c| {
                    let version: i64 = c.query_row("PRAGMA user_version", [], |r| r.get(0))?;
                    let home: i64 =
                        c.query_row("SELECT business_number FROM partners", [], |r| r.get(0))?;
                    let link: i64 = c.query_row(
                        "SELECT link_number FROM accounts WHERE id = 'acc_1'",
                        [],
                        |r| r.get(0),
                    )?;
                    let people: Vec<(String, String, bool, bool)> = c
                        .prepare("SELECT email, full_name, is_admin, active FROM people")?
                        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
                        .collect::<Result<_, _>>()?;
                    Ok((version, home, link, people))
                })
                .unwrap()
        };
        let first = numbers();
        assert_eq!(first.0, VERSION);
        assert!(
            first.1 > 2 && first.2 > 2 && first.1 != first.2,
            "{first:?}"
        );
        assert_eq!(
            first.3,
            [("A@x.example".to_string(), "A".to_string(), true, true)]
        );
        assert_eq!(numbers(), first, "opening again changes nothing");

        // A build that knows nothing of version 2 adds rows: the trigger gives the user its
        // person, the next open numbers the partner and the customer.
        let c = Connection::open(&path).unwrap();
        c.execute_batch(
            r#"INSERT INTO partners (id, name, manageable, support_level, created_at)
                 VALUES ('ptn_2', 'Q', 1, 'standard', '2024-01-01T00:00:00.000Z');
               INSERT INTO accounts (id, partner_id, kind, parent_id, doc)
                 VALUES ('acc_3', 'ptn_2', 'customer', 'ptn_2', '{"name":"D"}');
               INSERT INTO users (id, partner_id, account_id, email_lc, status, doc)
                 VALUES ('usr_3', 'ptn_2', 'acc_3', 'b@x.example', 'invited',
                         '{"email":"B@x.example","name":"B","role":"member"}');"#,
        )
        .unwrap();
        drop(c);
        let store = Store::open(&path).unwrap();
        let got: (i64, i64, i64, String) = store
            .read(|c| {
                Ok(c.query_row(
                    "SELECT p.business_number, a.seq, a.link_number, pe.email
                   FROM partners p, accounts a, people pe
                  WHERE p.id = 'ptn_2' AND a.id = 'acc_3' AND pe.partner_id = 'ptn_2'",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                )?)
            })
            .unwrap();
        assert!(got.0 > first.1.max(first.2) && got.2 > got.1, "{got:?}");
        assert_eq!(got.3, "B@x.example");
        let next = store
            .write(|tx| {
                tx.execute("INSERT INTO accounts (id, partner_id, kind, parent_id, doc) VALUES ('acc_4', 'ptn_2', 'network', 'acc_3', '{}')", [])?;
                Ok(tx.last_insert_rowid())
            })
            .unwrap();
        assert!(
            next > got.0.max(got.2),
            "never a number already given: {next} {got:?}"
        );
    }

    /// What an older build stored (a customer's document without its flag, the flag set in
    /// the column only) is shown on the next open: the document gets the column's value and a
    /// new ETag; networks carry no flag; opening again changes nothing.
    #[test]
    fn a_customer_document_gets_its_manageable_flag_on_open() {
        use crate::wire::partner::{AccountCreate, AccountKind, Contact};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sandbox.db");
        let store = Store::open(&path).unwrap();
        let customer = store
            .write(|tx| {
                let (partner, _) = super::super::add_partner(tx, "P", true)?;
                let p = super::super::partner_by_id(tx, &partner.id)?.unwrap();
                let c = super::super::create_account(
                    tx,
                    &p,
                    AccountCreate {
                        kind: AccountKind::Customer,
                        parent_id: None,
                        external_key: None,
                        name: "C".into(),
                        contact: Some(Contact {
                            name: "J".into(),
                            email: "j@c.example".into(),
                        }),
                        country: Some("GB".into()),
                        timezone: Some("UTC".into()),
                        labels: Default::default(),
                    },
                )?;
                super::super::create_account(
                    tx,
                    &p,
                    AccountCreate {
                        kind: AccountKind::Network,
                        parent_id: Some(c.id.clone()),
                        external_key: None,
                        name: "N".into(),
                        contact: None,
                        country: None,
                        timezone: None,
                        labels: Default::default(),
                    },
                )?;
                Ok(c)
            })
            .unwrap();
        assert_eq!(customer.manageable, Some(true));
        drop(store);
        let c = Connection::open(&path).unwrap();
        c.execute_batch(
            "UPDATE accounts SET doc = json_remove(doc, '$.manageable'), manageable = 0 WHERE kind = 'customer'",
        )
        .unwrap();
        drop(c);
        let docs = || {
            let store = Store::open(&path).unwrap();
            store
                .read(|c| {
                    let docs: Vec<(String, String)> = c
                        .prepare("SELECT kind, doc FROM accounts ORDER BY seq")?
                        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                        .collect::<Result<_, _>>()?;
                    Ok(docs
                        .into_iter()
                        .map(|(k, d)| (k, serde_json::from_str::<Value>(&d).unwrap()))
                        .collect::<Vec<_>>())
                })
                .unwrap()
        };
        let first = docs();
        let [(_, c), (_, n)] = &first[..] else {
            panic!("{first:?}")
        };
        assert_eq!(c["manageable"], false);
        assert_ne!(c["etag"], customer.etag.as_str());
        assert!(n.get("manageable").is_none(), "{n}");
        assert_eq!(docs(), first, "opening again changes nothing");
    }
}
