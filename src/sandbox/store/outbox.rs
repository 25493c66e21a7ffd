//! The outbox: invitation emails are written to a table instead of being sent.

use rusqlite::{Connection, params};

use super::super::error::RequestError;
use super::clock::now_rfc3339;
use crate::wire::partner::User;

/// Writes the invitation (or, with `resend`, the reminder) email of `u` to the outbox.
pub(super) fn write_invitation(
    tx: &Connection,
    partner_id: &str,
    u: &User,
    account_name: &str,
    resend: bool,
) -> Result<(), RequestError> {
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
pub fn outbox(conn: &Connection) -> Result<Vec<OutboxEmail>, RequestError> {
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
