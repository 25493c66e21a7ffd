//! People: one login per email and partner, spanning that email's user rows (one per account,
//! or on the partner's home), for dialects whose users are logins with a list of places
//! (Nexudus). A person's number stays while places are added and removed; its name, email and
//! admin flag are written to every one of its rows.
//!
//! A new user row of a new email creates its person (a trigger, see [`super::schema`], so that
//! the partner API's invitations do too); deleting rows leaves the person (without places). A
//! person is `active` once any of its invitations was accepted.

use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::super::error::RequestError;
use super::clock::now_rfc3339;
use super::doc::{from_doc, new_id};
use super::listing::{Listed, Slice, SortKey, list};
use super::numbered::{Target, gate, home, target};
use super::partners::PartnerRow;
use super::users::{insert_user_row, save_user};
use super::validation::{check_email, check_name, fe, verdict};
use crate::vocab::rules::email_key;
use crate::wire::partner::{Role, User, UserStatus};

/// A person as a dialect shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    /// Its number.
    pub number: i64,
    /// Email as first given (compared case-insensitively).
    pub email: String,
    /// Full name.
    pub full_name: String,
    /// Admin of its places (with rows: any of them is admin).
    pub admin: bool,
    /// Has accepted an invitation.
    pub active: bool,
    /// The numbers of its places (filled by [`get_people`] only).
    pub places: Option<Vec<i64>>,
    /// Created.
    pub created_at: String,
    /// Last changed.
    pub updated_at: String,
}

/// A person's fields as a create or a full-record replacement sets them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonWrite {
    /// Email.
    pub email: String,
    /// Full name.
    pub full_name: String,
    /// Admin of every place.
    pub admin: bool,
    /// Its places.
    pub places: Places,
}

/// How a write sets a person's places.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Places {
    /// These numbers, replacing the current ones.
    Replace(Vec<i64>),
    /// The current ones (read in the same transaction) with these added and removed.
    Change {
        /// Numbers to add.
        added: Vec<i64>,
        /// Numbers to remove.
        removed: Vec<i64>,
    },
}

impl Places {
    /// The numbers wanted, given the `current` ones.
    fn resolve(&self, current: &[i64]) -> Vec<i64> {
        match self {
            Places::Replace(all) => all.clone(),
            Places::Change { added, removed } => current
                .iter()
                .chain(added)
                .filter(|n| !removed.contains(n))
                .copied()
                .collect(),
        }
    }
}

const PEOPLE: &str = "WITH x AS (
    SELECT pe.id AS number, pe.email AS email, pe.email_lc AS email_lc, pe.full_name AS name,
           COALESCE((SELECT max(json_extract(u.doc, '$.role') = 'admin') FROM users u
                     WHERE u.partner_id = pe.partner_id AND u.email_lc = pe.email_lc),
                    pe.is_admin) AS admin,
           pe.active OR EXISTS (SELECT 1 FROM users u WHERE u.partner_id = pe.partner_id
                                AND u.email_lc = pe.email_lc AND u.status = 'active') AS active,
           pe.created_at AS created, pe.updated_at AS updated
      FROM people pe WHERE pe.partner_id = ?1)";

const COLUMNS: &str = "number, email, name, admin, active, created, updated";

fn person(r: &Row<'_>) -> rusqlite::Result<Person> {
    Ok(Person {
        number: r.get(0)?,
        email: r.get(1)?,
        full_name: r.get(2)?,
        admin: r.get(3)?,
        active: r.get(4)?,
        places: None,
        created_at: r.get(5)?,
        updated_at: r.get(6)?,
    })
}

/// The partner's people (without their places), those with `email` (case-insensitive) only
/// when given.
pub fn list_people(
    conn: &Connection,
    p: &PartnerRow,
    email: Option<&str>,
    slice: Slice,
) -> Result<Listed<Person>, RequestError> {
    let filters: Vec<(&str, SqlValue)> = email
        .map(|e| ("email_lc", SqlValue::Text(email_key(e))))
        .into_iter()
        .collect();
    let has = [
        SortKey::Number,
        SortKey::Name,
        SortKey::Email,
        SortKey::Created,
        SortKey::Updated,
    ];
    list(
        conn,
        PEOPLE,
        vec![SqlValue::Text(p.id.clone())],
        &filters,
        (slice, &has),
        COLUMNS,
        person,
    )
}

/// The partner's people numbered `numbers` (unknown numbers are skipped), with their places.
pub fn get_people(
    conn: &Connection,
    p: &PartnerRow,
    numbers: &[i64],
) -> Result<Vec<Person>, RequestError> {
    let sql = format!("{PEOPLE} SELECT {COLUMNS} FROM x WHERE number = ?2");
    let mut st = conn.prepare_cached(&sql)?;
    let mut out = Vec::new();
    for n in numbers {
        if let Some(mut person) = st.query_row(params![p.id, n], person).optional()? {
            person.places = Some(places_of(conn, p, &person.email)?);
            out.push(person);
        }
    }
    Ok(out)
}

/// The numbers of the places `email` has rows on, ascending.
fn places_of(conn: &Connection, p: &PartnerRow, email: &str) -> Result<Vec<i64>, RequestError> {
    let home = home(conn, p)?.business_number;
    let mut st = conn.prepare_cached(
        "SELECT CASE WHEN u.account_id = ?1 THEN ?3 ELSE a.seq END AS n
           FROM users u LEFT JOIN accounts a ON a.id = u.account_id
          WHERE u.partner_id = ?1 AND u.email_lc = ?2 ORDER BY n",
    )?;
    let rows = st.query_map(params![p.id, email_key(email), home], |r| {
        r.get::<_, Option<i64>>(0)
    })?;
    Ok(rows
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .flatten()
        .collect())
}

/// Admin: the people with `email` that have an active row have signed in (and stay so when
/// their rows go).
pub(super) fn mark_active(tx: &Connection, email: &str) -> Result<(), RequestError> {
    tx.prepare_cached(
        "UPDATE people SET active = 1 WHERE email_lc = ?1 AND EXISTS (
             SELECT 1 FROM users u WHERE u.partner_id = people.partner_id
                AND u.email_lc = people.email_lc AND u.status = 'active')",
    )?
    .execute([email_key(email)])?;
    Ok(())
}

fn check_write(w: &PersonWrite) -> Result<(), RequestError> {
    let mut errs = Vec::new();
    check_email(&mut errs, "/email", &w.email);
    check_name(&mut errs, "/name", &w.full_name);
    verdict(errs)
}

/// The targets of `places` (duplicates dropped); 422 naming the ones that are not places of
/// this partner.
fn targets(tx: &Connection, p: &PartnerRow, places: &[i64]) -> Result<Vec<Target>, RequestError> {
    let mut out: Vec<Target> = Vec::new();
    let mut errs = Vec::new();
    for (i, n) in places.iter().enumerate() {
        match target(tx, p, *n)? {
            Some(t) if !out.iter().any(|o| o.account_id == t.account_id) => out.push(t),
            Some(_) => {}
            None => errs.push(fe(
                &format!("/places/{i}"),
                format!("business {n} is not one of this reseller's"),
            )),
        }
    }
    if !errs.is_empty() {
        let mut e = RequestError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "unknown-business",
            "a user can only be given businesses of its own reseller",
        );
        e.errors = errs;
        return Err(e);
    }
    Ok(out)
}

/// The number of the person with `email`, if any.
fn number_of(tx: &Connection, p: &PartnerRow, email: &str) -> Result<Option<i64>, RequestError> {
    Ok(tx
        .prepare_cached("SELECT id FROM people WHERE partner_id = ?1 AND email_lc = ?2")?
        .query_row(params![p.id, email_key(email)], |r| r.get(0))
        .optional()?)
}

fn email_taken(email: &str, number: i64) -> RequestError {
    let mut e = RequestError::conflict(
        "email-taken",
        format!("a user with email {email} already exists ({number})"),
        number.to_string(),
    );
    e.errors = vec![fe("/email", "already used by another user")];
    e
}

fn role(admin: bool) -> Role {
    if admin { Role::Admin } else { Role::Member }
}

/// A new row of `w` at `t` (invited, with its invitation, unless the person is active).
fn add_row(
    tx: &Connection,
    p: &PartnerRow,
    w: &PersonWrite,
    t: &Target,
    active: bool,
) -> Result<(), RequestError> {
    let u = User {
        id: new_id("usr"),
        account_id: t.account_id.clone(),
        email: w.email.clone(),
        name: w.full_name.clone(),
        role: role(w.admin),
        status: if active {
            UserStatus::Active
        } else {
            UserStatus::Invited
        },
        etag: String::new(),
    };
    insert_user_row(tx, &p.id, u, &t.name)?;
    Ok(())
}

/// Creates a person with a row (an invitation) on each of its places; 409 when the email is
/// taken, 422 for places of another partner, 403 behind the manageable gate.
pub fn create_person(tx: &Connection, p: &PartnerRow, w: PersonWrite) -> Result<i64, RequestError> {
    check_write(&w)?;
    if let Some(n) = number_of(tx, p, &w.email)? {
        return Err(email_taken(&w.email, n));
    }
    let targets = targets(tx, p, &w.places.resolve(&[]))?;
    for t in &targets {
        gate(p, t)?;
    }
    let now = now_rfc3339();
    tx.prepare_cached(
        "INSERT INTO people (partner_id, email_lc, email, full_name, is_admin, active, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6, ?6)",
    )?
    .execute(params![p.id, email_key(&w.email), w.email, w.full_name, w.admin, now])?;
    let number = tx.last_insert_rowid();
    for t in &targets {
        add_row(tx, p, &w, t, false)?;
    }
    Ok(number)
}

/// The person numbered `number` as stored: email and `active`.
fn stored(tx: &Connection, p: &PartnerRow, number: i64) -> Result<(String, bool), RequestError> {
    tx.prepare_cached("SELECT email, active FROM people WHERE partner_id = ?1 AND id = ?2")?
        .query_row(params![p.id, number], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?
        .ok_or_else(|| RequestError::not_found("user", &number.to_string()))
}

/// The user rows of `email`.
fn rows_of(tx: &Connection, p: &PartnerRow, email: &str) -> Result<Vec<User>, RequestError> {
    let docs: Vec<String> = tx
        .prepare_cached(
            "SELECT doc FROM users WHERE partner_id = ?1 AND email_lc = ?2 ORDER BY seq",
        )?
        .query_map(params![p.id, email_key(email)], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    docs.iter().map(|d| from_doc(d)).collect()
}

/// The gate of the place `account_id` (known to be one of the partner's).
fn gate_account(tx: &Connection, p: &PartnerRow, account_id: &str) -> Result<(), RequestError> {
    if account_id == p.id {
        return Ok(());
    }
    let n: Option<i64> = tx
        .prepare_cached("SELECT seq FROM accounts WHERE id = ?1")?
        .query_row([account_id], |r| r.get(0))
        .optional()?;
    match n {
        Some(n) => match target(tx, p, n)? {
            Some(t) => gate(p, &t),
            None => Ok(()),
        },
        None => Ok(()),
    }
}

/// Replaces a person: its fields, and its places (rows added as invitations, or active when
/// the person is; rows removed) as [`Places`] says, from those it has in this transaction. Refusals as [`create_person`]; 404 for an unknown number.
pub fn replace_person(
    tx: &Connection,
    p: &PartnerRow,
    number: i64,
    w: PersonWrite,
) -> Result<(), RequestError> {
    let (old_email, was_active) = stored(tx, p, number)?;
    check_write(&w)?;
    if let Some(other) = number_of(tx, p, &w.email)?.filter(|n| *n != number) {
        return Err(email_taken(&w.email, other));
    }
    let current = places_of(tx, p, &old_email)?;
    let wanted = targets(tx, p, &w.places.resolve(&current))?;
    let rows = rows_of(tx, p, &old_email)?;
    let active = was_active || rows.iter().any(|u| u.status == UserStatus::Active);
    for u in &rows {
        let kept = wanted.iter().any(|t| t.account_id == u.account_id);
        let same = u.email == w.email && u.name == w.full_name && u.role == role(w.admin);
        if !kept || !same {
            gate_account(tx, p, &u.account_id)?;
        }
    }
    let added: Vec<&Target> = wanted
        .iter()
        .filter(|t| !rows.iter().any(|u| u.account_id == t.account_id))
        .collect();
    for t in &added {
        gate(p, t)?;
    }
    tx.prepare_cached(
        "UPDATE people SET email = ?3, email_lc = ?4, full_name = ?5, is_admin = ?6, updated_at = ?7 WHERE partner_id = ?1 AND id = ?2",
    )?
    .execute(params![p.id, number, w.email, email_key(&w.email), w.full_name, w.admin, now_rfc3339()])?;
    for mut u in rows {
        if wanted.iter().any(|t| t.account_id == u.account_id) {
            (u.email, u.name, u.role) = (w.email.clone(), w.full_name.clone(), role(w.admin));
            save_user(tx, &mut u)?;
        } else {
            tx.prepare_cached("DELETE FROM users WHERE id = ?1")?
                .execute([&u.id])?;
        }
    }
    for t in added {
        add_row(tx, p, &w, t, active)?;
    }
    Ok(())
}

/// Deletes a person and every row of it (each behind the manageable gate).
pub fn delete_person(tx: &Connection, p: &PartnerRow, number: i64) -> Result<(), RequestError> {
    let (email, _) = stored(tx, p, number)?;
    for u in rows_of(tx, p, &email)? {
        gate_account(tx, p, &u.account_id)?;
    }
    tx.prepare_cached("DELETE FROM users WHERE partner_id = ?1 AND email_lc = ?2")?
        .execute(params![p.id, email_key(&email)])?;
    tx.prepare_cached("DELETE FROM people WHERE partner_id = ?1 AND id = ?2")?
        .execute(params![p.id, number])?;
    Ok(())
}
