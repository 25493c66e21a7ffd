//! Handlers of `/v1/accounts` and `/v1/accounts/{id}`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::super::auth::Auth;
use super::super::exec::{delete, read, write};
use super::super::reply::{Reply, json_response, object_response};
use super::super::request::{IfMatch, ListQuery, idem, parse_body, parse_patch_body};
use super::super::state::AppState;
use crate::sandbox::error::RequestError;
use crate::sandbox::store;
use crate::wire::partner::{AccountCreate, AccountListQuery, AccountPatch};

pub(in super::super) async fn list_accounts(
    State(st): State<Arc<AppState>>,
    Auth(p): Auth,
    ListQuery(q): ListQuery<AccountListQuery>,
) -> Result<Response, RequestError> {
    Ok(json_response(
        read(&st, move |c| store::list_accounts(c, &p, &q)).await?,
    ))
}

pub(in super::super) async fn create_account(
    State(st): State<Arc<AppState>>,
    Auth(p): Auth,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, RequestError> {
    let req: AccountCreate = parse_body(&body)?;
    st.check_name(Some(&req.name))?;
    let idem = idem(&headers, "POST", "/v1/accounts", &body)?;
    write(&st, p, idem, move |tx, p| {
        let a = store::create_account(tx, p, req)?;
        let mut r = Reply::json(StatusCode::CREATED, &a, &a.etag)?;
        r.location = Some(format!("/v1/accounts/{}", a.id));
        Ok(r)
    })
    .await
}

pub(in super::super) async fn get_account(
    State(st): State<Arc<AppState>>,
    Auth(p): Auth,
    Path(id): Path<String>,
) -> Result<Response, RequestError> {
    let a = read(&st, move |c| store::get_account(c, &p, &id)).await?;
    object_response(&a, &a.etag)
}

pub(in super::super) async fn patch_account(
    State(st): State<Arc<AppState>>,
    Auth(p): Auth,
    Path(id): Path<String>,
    IfMatch(im): IfMatch,
    body: Bytes,
) -> Result<Response, RequestError> {
    let patch: AccountPatch = parse_patch_body(&body, &["external_key"]).map_err(|mut e| {
        for f in &mut e.errors {
            if f.pointer == "/kind" || f.pointer == "/parent_id" {
                f.message = "an account's kind and parent cannot change (the API cannot move accounts); delete and re-create it".into();
            }
        }
        e
    })?;
    st.check_name(patch.name.as_deref())?;
    write(&st, p, None, move |tx, p| {
        let a = store::patch_account(tx, p, &id, im.as_deref(), patch)?;
        Reply::json(StatusCode::OK, &a, &a.etag)
    })
    .await
}

pub(in super::super) async fn delete_account(
    State(st): State<Arc<AppState>>,
    Auth(p): Auth,
    Path(id): Path<String>,
    IfMatch(im): IfMatch,
) -> Result<Response, RequestError> {
    delete(&st, p, im, move |tx, p, im| {
        store::delete_account(tx, p, &id, im)
    })
    .await
}
