//! Stable integer numbers, for dialects whose ids are integers (Nexudus).
//!
//! An account's number is its `seq` (the rowid: never reused, never changed). A partner's home
//! business (`partners.business_number`) and a customer's link to its partner
//! (`accounts.link_number`, a reseller account in Nexudus) take numbers reserved from the same
//! `AUTOINCREMENT` sequence, so no two of them are ever equal: a client that mixes a link's
//! number up with a business's finds nothing instead of the wrong object. A partner's number is
//! its `partners.seq`, a person's its `people.id`. [`reserve`] is called right after the
//! partner's or customer's insert (not from a trigger: SQLite writes the sequence back at the
//! end of the inserting statement, which would undo a reservation made inside it).

use rusqlite::Connection;

/// Reserves the next number of the accounts' sequence (no account will get it).
pub(super) fn reserve(tx: &Connection) -> rusqlite::Result<i64> {
    tx.execute(
        "INSERT INTO sqlite_sequence (name, seq)
         SELECT 'accounts', COALESCE((SELECT max(seq) FROM accounts), 0)
         WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'accounts')",
        [],
    )?;
    tx.query_row(
        "UPDATE sqlite_sequence SET seq = seq + 1 WHERE name = 'accounts' RETURNING seq",
        [],
        |r| r.get(0),
    )
}

#[cfg(test)]
mod tests {
    use super::super::{Store, add_partner};
    use super::*;

    #[test]
    fn reserved_numbers_are_never_given_to_accounts() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("n.db")).unwrap();
        let got = store
            .write(|tx| {
                add_partner(tx, "P", true)?;
                let a = reserve(tx)?;
                let b = reserve(tx)?;
                tx.execute(
                    "INSERT INTO accounts (id, partner_id, kind, parent_id, doc) VALUES ('x', 'p', 'customer', 'p', '{}')",
                    [],
                )?;
                let seq: i64 = tx.query_row("SELECT seq FROM accounts WHERE id = 'x'", [], |r| {
                    r.get(0)
                })?;
                Ok((a, b, seq))
            })
            .unwrap();
        assert!(got.0 < got.1 && got.1 < got.2, "{got:?}");
    }
}
