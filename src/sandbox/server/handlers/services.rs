//! Handlers of `/v1/services` and `/v1/accounts/{id}/services/{type}`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::super::super::error::RequestError;
use super::super::super::store;
use super::super::auth::Auth;
use super::super::exec::{read, write};
use super::super::reply::{Reply, json_response, object_response};
use super::super::request::{if_match, parse_body, query};
use super::super::state::AppState;
use crate::api::types::{ServiceListQuery, ServicePut};

pub(in super::super) async fn list_services(
    State(st): State<Arc<AppState>>,
    Auth(p): Auth,
    q: Result<Query<ServiceListQuery>, QueryRejection>,
) -> Result<Response, RequestError> {
    let q = query(q)?;
    Ok(json_response(
        read(&st, move |c| store::list_services(c, &p, &q)).await?,
    ))
}

pub(in super::super) async fn get_service(
    State(st): State<Arc<AppState>>,
    Auth(p): Auth,
    Path((id, ty)): Path<(String, String)>,
) -> Result<Response, RequestError> {
    let s = read(&st, move |c| store::get_service(c, &p, &id, &ty)).await?;
    object_response(&s, &s.etag)
}

pub(in super::super) async fn put_service(
    State(st): State<Arc<AppState>>,
    Auth(p): Auth,
    Path((id, ty)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, RequestError> {
    let req: ServicePut = parse_body(&body)?;
    let im = if_match(&headers);
    write(&st, p, None, move |tx, p| {
        let (s, created) = store::put_service(tx, p, &id, &ty, im.as_deref(), req)?;
        let status = if created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        };
        Reply::json(status, &s, &s.etag)
    })
    .await
}

pub(in super::super) async fn delete_service(
    State(st): State<Arc<AppState>>,
    Auth(p): Auth,
    Path((id, ty)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, RequestError> {
    let im = if_match(&headers);
    write(&st, p, None, move |tx, p| {
        store::delete_service(tx, p, &id, &ty, im.as_deref())?;
        Ok(Reply::no_content())
    })
    .await
}
