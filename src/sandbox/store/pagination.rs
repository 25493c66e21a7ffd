//! Cursor pagination of the list endpoints. A cursor is the `seq` of the last item returned;
//! `seq` only grows in commit order, so concurrent inserts never make a reader skip or repeat
//! an item that existed when it started.

use axum::http::StatusCode;
use rusqlite::Connection;
use rusqlite::types::Value as SqlValue;

use super::super::error::RequestError;
use crate::wire::partner::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};

fn encode_cursor(seq: i64) -> String {
    format!("c1.{seq:x}")
}

/// Hex digits of a cursor: at most 15, so that every cursor of the pattern the API documents
/// (`^c1\.[0-9a-f]{1,15}$`) decodes, and nothing else does (no sign, no upper case).
const CURSOR_MAX_DIGITS: usize = 15;

fn decode_cursor(token: &str) -> Result<i64, RequestError> {
    token
        .strip_prefix("c1.")
        .filter(|h| {
            (1..=CURSOR_MAX_DIGITS).contains(&h.len())
                && h.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        })
        .and_then(|h| i64::from_str_radix(h, 16).ok())
        .ok_or_else(|| {
            RequestError::new(
                StatusCode::BAD_REQUEST,
                "invalid-page-token",
                "page_token is not a cursor returned by this API; start again without page_token",
            )
        })
}

fn page_size(p: Option<u32>) -> Result<u32, RequestError> {
    match p {
        None => Ok(DEFAULT_PAGE_SIZE),
        Some(n @ 1..=MAX_PAGE_SIZE) => Ok(n),
        Some(n) => Err(RequestError::new(
            StatusCode::BAD_REQUEST,
            "invalid-page-size",
            format!("page_size {n} is out of range: use 1 to {MAX_PAGE_SIZE}"),
        )),
    }
}

/// One page of `table`'s documents whose columns equal every `(column, value)` filter, after the
/// cursor `token`, in `seq` order: builds `{"items": [...], "next_page_token": ...}` from the
/// stored documents without re-parsing them.
pub(super) fn page_query(
    conn: &Connection,
    table: &str,
    filters: &[(&str, SqlValue)],
    size: Option<u32>,
    token: Option<&str>,
) -> Result<String, RequestError> {
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
                .map_err(|e| RequestError::internal(e.to_string()))?,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        assert_eq!(decode_cursor(&encode_cursor(12345)).unwrap(), 12345);
        assert!(decode_cursor("zzz").is_err());
        assert_eq!(
            decode_cursor("c1.fffffffffffffff").unwrap(),
            0xfff_ffff_ffff_ffff
        );
        for bad in [
            "c1.",
            "c1.+5",
            "c1.-5",
            "c1.A",
            "c1.1000000000000000",
            "c1.5 ",
        ] {
            assert!(decode_cursor(bad).is_err(), "{bad}");
        }
        assert!(page_size(Some(1001)).is_err());
        assert!(page_size(Some(0)).is_err());
        assert_eq!(page_size(None).unwrap(), DEFAULT_PAGE_SIZE);
    }
}
