//! Services of an account: one per catalog type, upserted idempotently, settings validated
//! against the type's JSON Schema.

use axum::http::StatusCode;
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OptionalExtension, params};

use super::super::catalog;
use super::super::error::RequestError;
use super::accounts::{gate_inside, get_account};
use super::doc::{from_doc, to_doc};
use super::etag::{Tagged, check_if_match};
use super::pagination::page_query;
use super::partners::PartnerRow;
use super::validation::verdict;
use crate::wire::partner::{Service, ServiceListQuery, ServicePut};

fn service_home(
    conn: &Connection,
    p: &PartnerRow,
    account_id: &str,
    ty: &str,
) -> Result<&'static catalog::CatalogEntry, RequestError> {
    let account = get_account(conn, p, account_id)?;
    let entry = catalog::find(ty).ok_or_else(|| {
        let known: Vec<&str> = catalog::catalog()
            .iter()
            .map(|e| e.info.service_type.as_str())
            .collect();
        RequestError::new(
            StatusCode::BAD_REQUEST,
            "unknown-service-type",
            format!(
                "no service type {ty:?}; the catalog has: {}",
                known.join(", ")
            ),
        )
    })?;
    gate_inside(conn, p, &account)?;
    Ok(entry)
}

fn load_service(
    conn: &Connection,
    p: &PartnerRow,
    account_id: &str,
    ty: &str,
) -> Result<Option<Service>, RequestError> {
    let mut st = conn.prepare_cached(
        "SELECT doc FROM services WHERE account_id = ?1 AND type = ?2 AND partner_id = ?3",
    )?;
    let doc: Option<String> = st
        .query_row([account_id, ty, &p.id], |r| r.get(0))
        .optional()?;
    doc.map(|d| from_doc(&d)).transpose()
}

/// `GET /v1/accounts/{id}/services/{type}`.
pub fn get_service(
    conn: &Connection,
    p: &PartnerRow,
    account_id: &str,
    ty: &str,
) -> Result<Service, RequestError> {
    load_service(conn, p, account_id, ty)?
        .ok_or_else(|| RequestError::not_found("service", &format!("{account_id}/{ty}")))
}

/// `PUT /v1/accounts/{id}/services/{type}`: returns the service and whether it was created.
pub fn put_service(
    tx: &Connection,
    p: &PartnerRow,
    account_id: &str,
    ty: &str,
    if_match: Option<&str>,
    req: ServicePut,
) -> Result<(Service, bool), RequestError> {
    let entry = service_home(tx, p, account_id, ty)?;
    verdict(entry.validate(&req.settings, "/settings"))?;
    let existing = load_service(tx, p, account_id, ty)?;
    if let Some(s) = &existing {
        check_if_match(if_match, &s.etag, false)?;
    } else if if_match.is_some_and(|v| v.trim() != "") {
        return Err(RequestError::new(
            StatusCode::PRECONDITION_FAILED,
            "precondition-failed",
            format!("If-Match given but account {account_id} has no {ty} service"),
        ));
    }
    let mut s = Service {
        account_id: account_id.to_string(),
        service_type: ty.to_string(),
        settings: req.settings,
        etag: String::new(),
    };
    s.stamp_etag()?;
    let doc = to_doc(&s)?;
    if existing.is_some() {
        tx.prepare_cached("UPDATE services SET doc = ?3 WHERE account_id = ?1 AND type = ?2")?
            .execute(params![account_id, ty, doc])?;
    } else {
        tx.prepare_cached(
            "INSERT INTO services (partner_id, account_id, type, doc) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![p.id, account_id, ty, doc])?;
    }
    Ok((s, existing.is_none()))
}

/// `DELETE /v1/accounts/{id}/services/{type}`.
pub fn delete_service(
    tx: &Connection,
    p: &PartnerRow,
    account_id: &str,
    ty: &str,
    if_match: Option<&str>,
) -> Result<(), RequestError> {
    service_home(tx, p, account_id, ty)?;
    let s = get_service(tx, p, account_id, ty)?;
    check_if_match(if_match, &s.etag, false)?;
    tx.prepare_cached("DELETE FROM services WHERE account_id = ?1 AND type = ?2")?
        .execute([account_id, ty])?;
    Ok(())
}

/// `GET /v1/services` (raw JSON page).
pub fn list_services(
    conn: &Connection,
    p: &PartnerRow,
    q: &ServiceListQuery,
) -> Result<String, RequestError> {
    let mut f: Vec<(&str, SqlValue)> = vec![("partner_id", SqlValue::Text(p.id.clone()))];
    if let Some(x) = &q.account_id {
        f.push(("account_id", SqlValue::Text(x.clone())));
    }
    if let Some(x) = &q.service_type {
        f.push(("type", SqlValue::Text(x.clone())));
    }
    page_query(conn, "services", &f, q.page_size, q.page_token.as_deref())
}
