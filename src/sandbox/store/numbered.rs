//! A partner's places by number, for dialects with integer ids: its home (the partner's own
//! place, where its own users live), its accounts, and its customers' links (the record of
//! "this partner looks after this customer", with the customer's `manageable` flag). Reads,
//! the full-record replacement of an account's and a link's fields, and the per-customer
//! `manageable` gate every write inside a customer passes.

use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::super::error::RequestError;
use super::clock::now_rfc3339;
use super::doc::{from_doc, to_doc};
use super::etag::Tagged;
use super::listing::{Listed, Slice, SortKey, list};
use super::partners::PartnerRow;
use super::validation::{check_country, check_email, check_name, check_timezone, fe, verdict};
use crate::wire::partner::{Account, AccountKind, Contact};

/// The partner itself, numbered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Home {
    /// The partner's number.
    pub partner_number: i64,
    /// Its home's number.
    pub business_number: i64,
    /// Created.
    pub created_at: String,
}

/// The partner's home and numbers.
pub fn home(conn: &Connection, p: &PartnerRow) -> Result<Home, RequestError> {
    Ok(conn
        .prepare_cached("SELECT seq, business_number, created_at FROM partners WHERE id = ?1")?
        .query_row([&p.id], |r| {
            Ok(Home {
                partner_number: r.get(0)?,
                business_number: r.get::<_, Option<i64>>(1)?.unwrap_or_default(),
                created_at: r.get(2)?,
            })
        })?)
}

/// A place by number: the partner's home (no account) or one of its accounts.
#[derive(Debug, Clone, PartialEq)]
pub struct Place {
    /// Its number.
    pub number: i64,
    /// Its parent account's number (`None` for the home and for customers).
    pub parent_number: Option<i64>,
    /// The account (`None`: the partner's home, named like the partner).
    pub account: Option<Account>,
    /// The name.
    pub name: String,
    /// A second contact email (the account's contact is the first), which only a dialect's
    /// businesses carry.
    pub secondary_email: Option<String>,
    /// Created.
    pub created_at: String,
    /// Last changed.
    pub updated_at: String,
}

const PLACES: &str = "WITH x AS (
    SELECT p.business_number AS number, NULL AS parent_number, p.name AS name, NULL AS doc,
           NULL AS secondary_email, p.created_at AS created, p.created_at AS updated
      FROM partners p WHERE p.id = ?1
    UNION ALL
    SELECT a.seq, par.seq, json_extract(a.doc, '$.name'), a.doc, a.secondary_email,
           json_extract(a.doc, '$.created_at'), json_extract(a.doc, '$.updated_at')
      FROM accounts a LEFT JOIN accounts par ON par.id = a.parent_id
     WHERE a.partner_id = ?1)";

const PLACE_COLUMNS: &str = "number, parent_number, name, doc, secondary_email, created, updated";

/// A place's row: number, parent number, name, document, second email, created, updated.
type PlaceRow = (
    i64,
    Option<i64>,
    String,
    Option<String>,
    Option<String>,
    String,
    String,
);

fn place(r: &Row<'_>) -> rusqlite::Result<PlaceRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
    ))
}

fn to_place(
    (number, parent_number, name, doc, secondary_email, created_at, updated_at): PlaceRow,
) -> Result<Place, RequestError> {
    Ok(Place {
        number,
        parent_number,
        account: doc.as_deref().map(from_doc).transpose()?,
        name,
        secondary_email,
        created_at,
        updated_at,
    })
}

/// The partner's places (home first by number), with `parent_number` equal to the filter's.
pub fn list_places(
    conn: &Connection,
    p: &PartnerRow,
    parent_number: Option<i64>,
    slice: Slice,
) -> Result<Listed<Place>, RequestError> {
    let filters: Vec<(&str, SqlValue)> = parent_number
        .map(|n| ("parent_number", SqlValue::Integer(n)))
        .into_iter()
        .collect();
    let has = [
        SortKey::Number,
        SortKey::Name,
        SortKey::Created,
        SortKey::Updated,
    ];
    let raw = list(
        conn,
        PLACES,
        vec![SqlValue::Text(p.id.clone())],
        &filters,
        (slice, &has),
        PLACE_COLUMNS,
        place,
    )?;
    Ok(Listed {
        total: raw.total,
        rows: raw
            .rows
            .into_iter()
            .map(to_place)
            .collect::<Result<_, _>>()?,
    })
}

/// The partner's place numbered `number`, if any.
pub fn get_place(
    conn: &Connection,
    p: &PartnerRow,
    number: i64,
) -> Result<Option<Place>, RequestError> {
    let sql = format!("{PLACES} SELECT {PLACE_COLUMNS} FROM x WHERE number = ?2");
    let raw = conn
        .prepare_cached(&sql)?
        .query_row(params![p.id, number], place)
        .optional()?;
    raw.map(to_place).transpose()
}

/// Where a write by number lands: the account id (the partner's id for its home), the name,
/// and the customer it is inside of (`None` for the home).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Target {
    pub(super) account_id: String,
    pub(super) name: String,
    /// The customer's name and its `manageable` flag.
    pub(super) customer: Option<(String, bool)>,
}

/// The partner's place numbered `number` as a write target (`None`: no such place of this
/// partner).
pub(super) fn target(
    conn: &Connection,
    p: &PartnerRow,
    number: i64,
) -> Result<Option<Target>, RequestError> {
    if home(conn, p)?.business_number == number {
        return Ok(Some(Target {
            account_id: p.id.clone(),
            name: p.name.clone(),
            customer: None,
        }));
    }
    let mut st = conn.prepare_cached(
        "SELECT id, kind, parent_id, json_extract(doc, '$.name'), manageable FROM accounts WHERE partner_id = ?1 AND seq = ?2",
    )?;
    let row = |r: &Row<'_>| -> rusqlite::Result<(String, String, String, String, bool)> {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
    };
    let Some((id, mut kind, mut parent, name, mut manageable)) =
        st.query_row(params![p.id, number], row).optional()?
    else {
        return Ok(None);
    };
    let mut customer_name = name.clone();
    let mut up = conn.prepare_cached(
        "SELECT id, kind, parent_id, json_extract(doc, '$.name'), manageable FROM accounts WHERE partner_id = ?1 AND id = ?2",
    )?;
    while kind != AccountKind::Customer.as_str() {
        let Some(next) = up.query_row(params![p.id, parent], row).optional()? else {
            break;
        };
        (_, kind, parent, customer_name, manageable) = next;
    }
    Ok(Some(Target {
        account_id: id,
        name,
        customer: Some((customer_name, manageable)),
    }))
}

/// The manageable gate of a write inside `t`: the partner must be manageable and the customer
/// must let it manage (403 otherwise). Writes at the partner's home pass.
pub(super) fn gate(p: &PartnerRow, t: &Target) -> Result<(), RequestError> {
    let Some((customer, manageable)) = &t.customer else {
        return Ok(());
    };
    if !p.manageable {
        return Err(RequestError::management_disabled(&format!("{customer:?}")));
    }
    if !manageable {
        return Err(RequestError::customer_not_manageable(&format!(
            "{customer:?}"
        )));
    }
    Ok(())
}

/// An account's fields as a full-record write sets them (what is `None` is cleared).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlaceWrite {
    /// The name.
    pub name: String,
    /// The contact's email (its name is kept, or becomes the account's name).
    pub contact_email: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country: Option<String>,
    /// IANA time zone.
    pub timezone: Option<String>,
    /// The second contact email.
    pub secondary_email: Option<String>,
    /// The parent's number as the writer believes it (it cannot change).
    pub parent_number: Option<i64>,
}

fn check_place_write(w: &PlaceWrite, current_parent: Option<i64>) -> Result<(), RequestError> {
    let mut errs = Vec::new();
    check_name(&mut errs, "/name", &w.name);
    if let Some(e) = &w.contact_email {
        check_email(&mut errs, "/contact/email", e);
    }
    if let Some(e) = &w.secondary_email {
        check_email(&mut errs, "/secondary_email", e);
    }
    if let Some(c) = &w.country {
        check_country(&mut errs, "/country", c);
    }
    if let Some(t) = &w.timezone {
        check_timezone(&mut errs, "/timezone", t);
    }
    if w.parent_number != current_parent {
        errs.push(fe(
            "/parent_id",
            "the parent of an account cannot be changed",
        ));
    }
    verdict(errs)
}

/// Replaces the fields of the account numbered `number` (404 when there is none; 403 for the
/// partner's home and behind the manageable gate; 400 for invalid fields).
pub fn replace_place(
    tx: &Connection,
    p: &PartnerRow,
    number: i64,
    w: PlaceWrite,
) -> Result<Place, RequestError> {
    let place = get_place(tx, p, number)?
        .ok_or_else(|| RequestError::not_found("business", &number.to_string()))?;
    let Some(mut a) = place.account else {
        return Err(RequestError::new(
            axum::http::StatusCode::FORBIDDEN,
            "home-read-only",
            "the partner's own business is changed by the vendor, not through the API",
        ));
    };
    check_place_write(&w, place.parent_number)?;
    if let Some(t) = target(tx, p, number)? {
        gate(p, &t)?;
    }
    a.contact = w.contact_email.map(|email| Contact {
        name: a
            .contact
            .as_ref()
            .map_or_else(|| w.name.clone(), |c| c.name.clone()),
        email,
    });
    a.name = w.name;
    a.country = w.country;
    a.timezone = w.timezone;
    a.updated_at = now_rfc3339();
    a.stamp_etag()?;
    tx.prepare_cached("UPDATE accounts SET doc = ?2, secondary_email = ?3 WHERE id = ?1")?
        .execute(params![a.id, to_doc(&a)?, w.secondary_email])?;
    get_place(tx, p, number)?.ok_or_else(|| RequestError::internal("the account vanished"))
}

/// A customer's link to its partner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// The link's number.
    pub number: i64,
    /// The customer account's number.
    pub business_number: i64,
    /// The customer's name.
    pub business_name: String,
    /// Does the customer let the partner manage it?
    pub manageable: bool,
    /// Free text.
    pub notes: Option<String>,
    /// Free text.
    pub scope_of_work: Option<String>,
    /// Does the partner give first-line support?
    pub first_line_support: bool,
    /// Created (the customer's creation).
    pub created_at: String,
    /// Last changed (the customer's last change).
    pub updated_at: String,
}

const LINKS: &str = "WITH x AS (
    SELECT a.link_number AS number, a.seq AS business_number, json_extract(a.doc, '$.name') AS name,
           a.manageable AS manageable, a.link_notes AS notes, a.link_scope AS scope,
           a.link_first_line AS first_line, json_extract(a.doc, '$.created_at') AS created,
           json_extract(a.doc, '$.updated_at') AS updated
      FROM accounts a WHERE a.partner_id = ?1 AND a.kind = 'customer')";

const LINK_COLUMNS: &str =
    "number, business_number, name, manageable, notes, scope, first_line, created, updated";

fn link(r: &Row<'_>) -> rusqlite::Result<Link> {
    Ok(Link {
        number: r.get(0)?,
        business_number: r.get(1)?,
        business_name: r.get(2)?,
        manageable: r.get(3)?,
        notes: r.get(4)?,
        scope_of_work: r.get(5)?,
        first_line_support: r.get(6)?,
        created_at: r.get(7)?,
        updated_at: r.get(8)?,
    })
}

/// The partner's customers' links, with `business_number` equal to the filter's.
pub fn list_links(
    conn: &Connection,
    p: &PartnerRow,
    business_number: Option<i64>,
    slice: Slice,
) -> Result<Listed<Link>, RequestError> {
    let filters: Vec<(&str, SqlValue)> = business_number
        .map(|n| ("business_number", SqlValue::Integer(n)))
        .into_iter()
        .collect();
    let has = [
        SortKey::Number,
        SortKey::Name,
        SortKey::Created,
        SortKey::Updated,
    ];
    list(
        conn,
        LINKS,
        vec![SqlValue::Text(p.id.clone())],
        &filters,
        (slice, &has),
        LINK_COLUMNS,
        link,
    )
}

/// The partner's link numbered `number`, if any.
pub fn get_link(
    conn: &Connection,
    p: &PartnerRow,
    number: i64,
) -> Result<Option<Link>, RequestError> {
    let sql = format!("{LINKS} SELECT {LINK_COLUMNS} FROM x WHERE number = ?2");
    Ok(conn
        .prepare_cached(&sql)?
        .query_row(params![p.id, number], link)
        .optional()?)
}

/// Replaces a link's own fields (notes, scope of work, first-line support). The customer and
/// its `manageable` flag are the customer's to set: a write that changes them is refused
/// (400 for the customer, 403 for the flag).
pub fn replace_link(tx: &Connection, p: &PartnerRow, w: Link) -> Result<Link, RequestError> {
    let cur = get_link(tx, p, w.number)?
        .ok_or_else(|| RequestError::not_found("reseller account", &w.number.to_string()))?;
    if w.business_number != cur.business_number {
        return Err(RequestError::field(
            "/business_id",
            "the customer of a link cannot be changed",
        ));
    }
    if w.manageable != cur.manageable {
        return Err(RequestError::new(
            axum::http::StatusCode::FORBIDDEN,
            "manageable-read-only",
            "whether a customer lets its partner manage it is the customer's choice, made in the vendor's dashboard",
        ));
    }
    tx.prepare_cached(
        "UPDATE accounts SET link_notes = ?3, link_scope = ?4, link_first_line = ?5 WHERE partner_id = ?1 AND link_number = ?2",
    )?
    .execute(params![p.id, w.number, w.notes, w.scope_of_work, w.first_line_support])?;
    get_link(tx, p, w.number)?.ok_or_else(|| RequestError::internal("the link vanished"))
}

/// Admin: sets whether the customer `account_id` lets its partner manage it (the flag's column
/// and the customer's document, whose ETag changes when the flag does).
pub fn set_customer_manageable(
    tx: &Connection,
    account_id: &str,
    manageable: bool,
) -> Result<(), RequestError> {
    let doc: Option<String> = tx
        .prepare_cached("SELECT doc FROM accounts WHERE id = ?1 AND kind = 'customer'")?
        .query_row([account_id], |r| r.get(0))
        .optional()?;
    let Some(doc) = doc else {
        return Err(RequestError::not_found("customer", account_id));
    };
    let mut a: Account = from_doc(&doc)?;
    if a.manageable != Some(manageable) {
        a.manageable = Some(manageable);
        a.updated_at = now_rfc3339();
        a.stamp_etag()?;
    }
    tx.prepare_cached("UPDATE accounts SET manageable = ?2, doc = ?3 WHERE id = ?1")?
        .execute(params![account_id, manageable, to_doc(&a)?])?;
    Ok(())
}

/// The number of the account `account_id`, and its link's number if it is a customer.
pub fn account_numbers(
    conn: &Connection,
    account_id: &str,
) -> Result<Option<(i64, Option<i64>)>, RequestError> {
    Ok(conn
        .prepare_cached("SELECT seq, link_number FROM accounts WHERE id = ?1")?
        .query_row([account_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}
