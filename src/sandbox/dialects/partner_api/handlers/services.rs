//! Handlers of `/v1/services` and `/v1/accounts/{id}/services/{type}`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::super::auth::Auth;
use super::super::exec::{delete, read, write};
use super::super::reply::{Reply, json_response, object_response};
use super::super::request::{IfMatch, ListQuery, parse_body};
use super::super::state::AppState;
use crate::sandbox::error::RequestError;
use crate::sandbox::store;
use crate::wire::partner::{ServiceListQuery, ServicePut};

pub(in super::super) async fn list_services(
    State(st): State<Arc<AppState>>,
    Auth(p): Auth,
    ListQuery(q): ListQuery<ServiceListQuery>,
) -> Result<Response, RequestError> {
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
    IfMatch(im): IfMatch,
    body: Bytes,
) -> Result<Response, RequestError> {
    let req: ServicePut = parse_body(&body)?;
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
    IfMatch(im): IfMatch,
) -> Result<Response, RequestError> {
    delete(&st, p, im, move |tx, p, im| {
        store::delete_service(tx, p, &id, &ty, im)
    })
    .await
}
