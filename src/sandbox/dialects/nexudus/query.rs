//! The query of a Nexudus list: `page` (from 1), `size` (default 25, at most 1000), `orderBy`,
//! `dir` (1 or -1), the list's `{Entity}_{Property}` equality filters and, for users, the
//! batch get's `id=[1,2,3]`. Names are matched case-insensitively; anything else is a 400, so
//! that a filter the sandbox does not know is never silently ignored.

use axum::extract::Query;
use axum::extract::rejection::QueryRejection;

use super::reply::{NxError, PageAsk};
use crate::sandbox::store::{Slice, SortKey};
use crate::wire::nexudus::parse_batch_query;

/// Page size when none is asked for.
pub(super) const DEFAULT_SIZE: u32 = 25;
/// Largest page size (larger asks get this).
pub(super) const MAX_SIZE: u32 = 1000;

/// What a list accepts.
pub(super) struct Spec {
    /// `orderBy` values and their sort keys; the first is the default.
    pub(super) orders: &'static [(&'static str, SortKey)],
    /// Equality filters.
    pub(super) filters: &'static [&'static str],
    /// Whether `id=[…]` (a batch get) is allowed.
    pub(super) batch: bool,
}

/// A parsed list query.
#[derive(Debug)]
pub(super) struct ListQuery {
    pub(super) ask: PageAsk,
    pub(super) slice: Slice,
    /// The filters given, by their name in the spec.
    pub(super) filters: Vec<(&'static str, String)>,
    /// A batch get's ids.
    pub(super) ids: Option<Vec<i64>>,
}

impl ListQuery {
    /// The value of filter `name`, if given.
    pub(super) fn filter(&self, name: &str) -> Option<&str> {
        self.filters
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The value of filter `name` as an id.
    pub(super) fn id_filter(&self, name: &str) -> Result<Option<i64>, NxError> {
        self.filter(name)
            .map(|v| {
                v.trim()
                    .parse()
                    .map_err(|_| NxError::invalid(name, format!("{v:?} is not an id")))
            })
            .transpose()
    }
}

fn number<T: std::str::FromStr>(name: &str, v: &str) -> Result<T, NxError> {
    v.trim()
        .parse()
        .map_err(|_| NxError::invalid(name, format!("{v:?} is not a number")))
}

/// Parses `q` (axum's reading of the query string) against `spec`.
pub(super) fn parse(
    q: Result<Query<Vec<(String, String)>>, QueryRejection>,
    spec: &Spec,
) -> Result<ListQuery, NxError> {
    let Query(pairs) = q.map_err(|e| NxError::Invalid {
        message: format!("invalid query string: {}", e.body_text()),
        errors: vec![],
    })?;
    let (default_field, default_key) = spec.orders[0];
    let mut out = ListQuery {
        ask: PageAsk {
            page: 1,
            size: DEFAULT_SIZE,
            order_field: default_field.to_string(),
            dir: 1,
        },
        slice: Slice {
            sort: default_key,
            descending: false,
            offset: 0,
            limit: DEFAULT_SIZE,
        },
        filters: Vec::new(),
        ids: None,
    };
    for (name, value) in &pairs {
        set(&mut out, spec, name, value)?;
    }
    out.slice.offset = out.ask.offset();
    out.slice.limit = out.ask.size;
    Ok(out)
}

/// Sets one parameter.
fn set(out: &mut ListQuery, spec: &Spec, name: &str, v: &str) -> Result<(), NxError> {
    match name.to_ascii_lowercase().as_str() {
        "page" => match number::<u32>("page", v)? {
            0 => return Err(NxError::invalid("page", "pages count from 1")),
            n => out.ask.page = n,
        },
        "size" => match number::<u32>("size", v)? {
            0 => return Err(NxError::invalid("size", "must be at least 1")),
            n => out.ask.size = n.min(MAX_SIZE),
        },
        "orderby" => {
            let (field, key) = spec
                .orders
                .iter()
                .find(|(f, _)| f.eq_ignore_ascii_case(v.trim()))
                .ok_or_else(|| {
                    let names: Vec<&str> = spec.orders.iter().map(|(f, _)| *f).collect();
                    NxError::invalid(
                        "orderBy",
                        format!("cannot sort by {v:?}; use one of {}", names.join(", ")),
                    )
                })?;
            out.ask.order_field = (*field).to_string();
            out.slice.sort = *key;
        }
        "dir" => match v.trim() {
            "1" => (out.ask.dir, out.slice.descending) = (1, false),
            "-1" => (out.ask.dir, out.slice.descending) = (-1, true),
            _ => return Err(NxError::invalid("dir", "must be 1 (ascending) or -1")),
        },
        "id" if spec.batch => {
            out.ids = Some(parse_batch_query(v).ok_or_else(|| {
                NxError::invalid("id", format!("{v:?} is not a list of ids like [1,2,3]"))
            })?);
        }
        _ => {
            let known = spec.filters.iter().find(|f| f.eq_ignore_ascii_case(name));
            let Some(f) = known else {
                let mut names = vec!["page", "size", "orderBy", "dir"];
                names.extend(spec.filters);
                if spec.batch {
                    names.push("id");
                }
                return Err(NxError::invalid(
                    name,
                    format!("unknown parameter; this list takes {}", names.join(", ")),
                ));
            };
            out.filters.push((f, v.to_string()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: Spec = Spec {
        orders: &[("Id", SortKey::Number), ("Email", SortKey::Email)],
        filters: &["User_Email"],
        batch: true,
    };

    fn q(pairs: &[(&str, &str)]) -> Result<ListQuery, NxError> {
        let v = pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        parse(Ok(Query(v)), &SPEC)
    }

    #[test]
    fn pages_sizes_sorts_and_filters() {
        let l = q(&[
            ("page", "3"),
            ("size", "5000"),
            ("orderBy", "email"),
            ("dir", "-1"),
            ("user_email", "A@x.example"),
        ])
        .unwrap();
        assert_eq!(
            (l.ask.page, l.ask.size, l.ask.order_field.as_str()),
            (3, 1000, "Email")
        );
        assert_eq!(l.slice.offset, 2000);
        assert!(l.slice.descending && l.slice.sort == SortKey::Email);
        assert_eq!(l.filter("User_Email"), Some("A@x.example"));
        assert_eq!(q(&[("id", "[1, 2]")]).unwrap().ids, Some(vec![1, 2]));
    }

    #[test]
    fn unknown_or_bad_parameters_are_refused() {
        for bad in [
            ("page", "0"),
            ("size", "x"),
            ("dir", "2"),
            ("orderBy", "Name"),
            ("User_Name", "a"),
            ("id", "1,2"),
        ] {
            assert!(matches!(q(&[bad]), Err(NxError::Invalid { .. })), "{bad:?}");
        }
    }
}
