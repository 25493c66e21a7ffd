//! Partners and their API tokens (only a token's SHA-256 is stored).

use rand::Rng;
use rusqlite::{Connection, OptionalExtension, params};

use super::super::error::RequestError;
use super::clock::now_rfc3339;
use super::doc::{new_id, sha256_hex};
use super::numbers;
use super::validation::{check_name, verdict};
use crate::wire::partner::Partner;

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

    /// Reads `id, name, manageable, support_level`, in that order.
    fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<PartnerRow> {
        Ok(PartnerRow {
            id: r.get(0)?,
            name: r.get(1)?,
            manageable: r.get(2)?,
            support_level: r.get(3)?,
        })
    }
}

/// Creates a partner; returns it and its new API token (shown once; only a hash is stored).
pub fn add_partner(
    tx: &Connection,
    name: &str,
    manageable: bool,
) -> Result<(Partner, String), RequestError> {
    let mut errs = Vec::new();
    check_name(&mut errs, "/name", name);
    verdict(errs)?;
    let p = PartnerRow {
        id: new_id("ptn"),
        name: name.to_string(),
        manageable,
        support_level: if manageable { "standard" } else { "none" }.to_string(),
    };
    tx.execute(
        "INSERT INTO partners (id, name, manageable, support_level, created_at, business_number) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![p.id, p.name, p.manageable, p.support_level, now_rfc3339(), numbers::reserve(tx)?],
    )?;
    let token = issue_token(tx, &p.id)?;
    Ok((p.to_wire(), token))
}

/// Issues one more API token for a partner (a partner may have several); only its hash is
/// stored.
pub fn issue_token(tx: &Connection, partner_id: &str) -> Result<String, RequestError> {
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
pub fn ensure_partner(tx: &Connection, name: &str) -> Result<(Partner, String), RequestError> {
    let found = tx
        .prepare_cached("SELECT id, name, manageable, support_level FROM partners WHERE name = ?1 ORDER BY seq LIMIT 1")?
        .query_row([name], PartnerRow::from_row)
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
pub fn list_partners(conn: &Connection) -> Result<Vec<Partner>, RequestError> {
    let mut st =
        conn.prepare("SELECT id, name, manageable, support_level FROM partners ORDER BY seq")?;
    let rows = st.query_map([], |r| PartnerRow::from_row(r).map(|p| p.to_wire()))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The partner owning `token`, if any.
pub fn partner_by_token(
    conn: &Connection,
    token: &str,
) -> Result<Option<PartnerRow>, RequestError> {
    let mut st = conn.prepare_cached(
        "SELECT p.id, p.name, p.manageable, p.support_level FROM tokens t JOIN partners p ON p.id = t.partner_id WHERE t.token_sha256 = ?1",
    )?;
    Ok(st
        .query_row([sha256_hex(token.as_bytes())], PartnerRow::from_row)
        .optional()?)
}

/// The partner with id `id`, if any.
pub fn partner_by_id(conn: &Connection, id: &str) -> Result<Option<PartnerRow>, RequestError> {
    let mut st = conn
        .prepare_cached("SELECT id, name, manageable, support_level FROM partners WHERE id = ?1")?;
    Ok(st.query_row([id], PartnerRow::from_row).optional()?)
}

/// Every partner named `name`, oldest first.
pub fn partners_named(conn: &Connection, name: &str) -> Result<Vec<PartnerRow>, RequestError> {
    let mut st = conn.prepare_cached(
        "SELECT id, name, manageable, support_level FROM partners WHERE name = ?1 ORDER BY seq",
    )?;
    let rows = st.query_map([name], PartnerRow::from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}
