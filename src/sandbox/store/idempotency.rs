//! Idempotency keys of POST requests: the first successful response is remembered per partner
//! and key for [`IDEMPOTENCY_TTL_SECS`] and replayed for the same request.

use axum::http::StatusCode;
use rusqlite::{Connection, OptionalExtension, params};

use super::super::error::RequestError;
use super::clock::now_epoch;

/// How long an idempotency key is remembered.
pub const IDEMPOTENCY_TTL_SECS: i64 = 24 * 3600;

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
) -> Result<Option<StoredResponse>, RequestError> {
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
        Some(_) => Err(RequestError::new(
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
) -> Result<(), RequestError> {
    let now = now_epoch();
    tx.prepare_cached("DELETE FROM idempotency WHERE created_epoch <= ?1")?
        .execute([now - IDEMPOTENCY_TTL_SECS])?;
    tx.prepare_cached(
        "INSERT OR REPLACE INTO idempotency (partner_id, key, request_sha256, status, body, created_epoch) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![partner_id, key, request_sha256, resp.status, resp.body, now])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::Store;
    use super::*;

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
}
