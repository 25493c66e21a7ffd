//! Offset pages of numbered lists (the Nexudus style of paging: a page number and a size, a
//! sort key and a direction, and the total), over a `WITH x AS (...)` query of the rows.

use axum::http::StatusCode;
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, Row};

use super::super::error::RequestError;

/// What a numbered list can be sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    /// The stable number.
    Number,
    /// The name (a person's full name).
    Name,
    /// A person's email.
    Email,
    /// Creation time.
    Created,
    /// Last change.
    Updated,
}

/// Which rows of a numbered list: the sort, and the offset and count after sorting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slice {
    /// Sort key (ties are broken by number).
    pub sort: SortKey,
    /// Largest first.
    pub descending: bool,
    /// Rows skipped.
    pub offset: u64,
    /// Most rows returned.
    pub limit: u32,
}

/// Some rows of a list, and how many there are in all.
#[derive(Debug, Clone, PartialEq)]
pub struct Listed<T> {
    /// Rows matching the filters, in all.
    pub total: u64,
    /// The rows of the slice.
    pub rows: Vec<T>,
}

/// The column of the rows' query (`x`) a key sorts by, among the ones this list has.
fn column(key: SortKey, has: &[SortKey]) -> Result<&'static str, RequestError> {
    if !has.contains(&key) {
        return Err(RequestError::new(
            StatusCode::BAD_REQUEST,
            "invalid-sort",
            format!("this list cannot be sorted by {key:?}"),
        ));
    }
    Ok(match key {
        SortKey::Number => "number",
        SortKey::Name => "name",
        SortKey::Email => "email_lc",
        SortKey::Created => "created",
        SortKey::Updated => "updated",
    })
}

/// The rows of `rows_sql` (a `WITH x AS (...)` prefix that defines `x` with a `number`
/// column and the sort columns `has` names) matching `filters` (`column = value`), sorted and
/// sliced; `select` lists the columns `map` reads.
pub(super) fn list<T>(
    conn: &Connection,
    rows_sql: &str,
    args: Vec<SqlValue>,
    filters: &[(&str, SqlValue)],
    (slice, has): (Slice, &[SortKey]),
    select: &str,
    map: impl Fn(&Row<'_>) -> rusqlite::Result<T>,
) -> Result<Listed<T>, RequestError> {
    let col = column(slice.sort, has)?;
    let mut args = args;
    let mut cond = String::from("1 = 1");
    for (c, v) in filters {
        args.push(v.clone());
        cond.push_str(&format!(" AND {c} = ?{}", args.len()));
    }
    let total: i64 = conn
        .prepare_cached(&format!("{rows_sql} SELECT count(*) FROM x WHERE {cond}"))?
        .query_row(rusqlite::params_from_iter(args.iter()), |r| r.get(0))?;
    let dir = if slice.descending { "DESC" } else { "ASC" };
    let n = args.len();
    args.push(SqlValue::Integer(i64::from(slice.limit)));
    args.push(SqlValue::Integer(
        i64::try_from(slice.offset).unwrap_or(i64::MAX),
    ));
    let sql = format!(
        "{rows_sql} SELECT {select} FROM x WHERE {cond} ORDER BY {col} {dir}, number {dir} LIMIT ?{} OFFSET ?{}",
        n + 1,
        n + 2
    );
    let mut st = conn.prepare_cached(&sql)?;
    let rows = st
        .query_map(rusqlite::params_from_iter(args.iter()), map)?
        .collect::<Result<Vec<T>, _>>()?;
    Ok(Listed {
        total: u64::try_from(total).unwrap_or(0),
        rows,
    })
}
