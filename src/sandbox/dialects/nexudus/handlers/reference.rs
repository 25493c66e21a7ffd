//! `/api/sys/countries` and `/api/sys/simpletimezones`: the read-only lists of
//! [`super::super::lookups`], paged, sorted and filtered like every list (`Country_TwoDigitsCode`
//! and `SimpleTimeZone_Name`, case-insensitive), and each record by id. Nothing writes them
//! (405).

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query};

use super::super::auth::Paced;
use super::super::lookups;
use super::super::query::{self, ListQuery, Spec};
use super::super::reply::{NxError, page};
use crate::sandbox::store::{Listed, SortKey};
use crate::wire::nexudus::{Country, Page, SimpleTimeZone};

const COUNTRIES: Spec = Spec {
    orders: &[("Id", SortKey::Number), ("Name", SortKey::Name)],
    filters: &["Country_TwoDigitsCode"],
    batch: false,
};

const TIME_ZONES: Spec = Spec {
    orders: &[("Id", SortKey::Number), ("Name", SortKey::Name)],
    filters: &["SimpleTimeZone_Name"],
    batch: false,
};

/// The page `q` asks for of `all` (sorted by id), filtered by `filter` on the text `of` gives,
/// sorted by id or by `name`.
fn slice<T: Clone>(
    q: &ListQuery,
    all: &[T],
    filter: &str,
    of: impl Fn(&T) -> (i64, &str, Option<&str>),
) -> Listed<T> {
    let wanted = q.filter(filter);
    let mut rows: Vec<&T> = all
        .iter()
        .filter(|r| wanted.is_none_or(|w| of(r).2.is_some_and(|v| v.eq_ignore_ascii_case(w))))
        .collect();
    if q.slice.sort == SortKey::Name {
        rows.sort_by(|a, b| of(a).1.cmp(of(b).1).then(of(a).0.cmp(&of(b).0)));
    }
    if q.slice.descending {
        rows.reverse();
    }
    let total = rows.len() as u64;
    let skip = usize::try_from(q.slice.offset).unwrap_or(usize::MAX);
    let take = usize::try_from(q.slice.limit).unwrap_or(usize::MAX);
    Listed {
        total,
        rows: rows.into_iter().skip(skip).take(take).cloned().collect(),
    }
}

fn country(c: &Country) -> (i64, &str, Option<&str>) {
    (c.id, &c.name, c.two_digits_code.as_deref())
}

fn time_zone(z: &SimpleTimeZone) -> (i64, &str, Option<&str>) {
    let name = z.name.as_deref();
    (z.id, name.unwrap_or_default(), name)
}

/// `GET /api/sys/countries`.
pub(in super::super) async fn list_countries(
    Paced(_): Paced,
    q: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Json<Page<Country>>, NxError> {
    let q = query::parse(q, &COUNTRIES)?;
    let listed = slice(&q, lookups::countries(), "Country_TwoDigitsCode", country);
    Ok(Json(page(&q.ask, listed, |c| c)))
}

/// `GET /api/sys/countries/{id}`.
pub(in super::super) async fn get_country(
    Paced(_): Paced,
    Path(id): Path<i64>,
) -> Result<Json<Country>, NxError> {
    lookups::countries()
        .iter()
        .find(|c| c.id == id)
        .cloned()
        .map(Json)
        .ok_or_else(|| NxError::NotFound(format!("no country {id}")))
}

/// `GET /api/sys/simpletimezones`.
pub(in super::super) async fn list_time_zones(
    Paced(_): Paced,
    q: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Json<Page<SimpleTimeZone>>, NxError> {
    let q = query::parse(q, &TIME_ZONES)?;
    let listed = slice(&q, lookups::time_zones(), "SimpleTimeZone_Name", time_zone);
    Ok(Json(page(&q.ask, listed, |z| z)))
}

/// `GET /api/sys/simpletimezones/{id}`.
pub(in super::super) async fn get_time_zone(
    Paced(_): Paced,
    Path(id): Path<i64>,
) -> Result<Json<SimpleTimeZone>, NxError> {
    lookups::time_zones()
        .iter()
        .find(|z| z.id == id)
        .cloned()
        .map(Json)
        .ok_or_else(|| NxError::NotFound(format!("no time zone {id}")))
}
