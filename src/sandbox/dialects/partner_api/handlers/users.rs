//! Handlers of `/v1/users`, `/v1/users/{id}` and invitations (`/v1/accounts/{id}/users`).

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
use crate::wire::partner::{UserInvite, UserListQuery, UserPatch};

pub(in super::super) async fn invite_user(
    State(st): State<Arc<AppState>>,
    Auth(p): Auth,
    Path(account_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, RequestError> {
    let req: UserInvite = parse_body(&body)?;
    st.check_name(Some(&req.name))?;
    let idem = idem(
        &headers,
        "POST",
        &format!("/v1/accounts/{account_id}/users"),
        &body,
    )?;
    write(&st, p, idem, move |tx, p| {
        let u = store::invite_user(tx, p, &account_id, req)?;
        let mut r = Reply::json(StatusCode::CREATED, &u, &u.etag)?;
        r.location = Some(format!("/v1/users/{}", u.id));
        Ok(r)
    })
    .await
}

pub(in super::super) async fn list_users(
    State(st): State<Arc<AppState>>,
    Auth(p): Auth,
    ListQuery(q): ListQuery<UserListQuery>,
) -> Result<Response, RequestError> {
    Ok(json_response(
        read(&st, move |c| store::list_users(c, &p, &q)).await?,
    ))
}

pub(in super::super) async fn get_user(
    State(st): State<Arc<AppState>>,
    Auth(p): Auth,
    Path(id): Path<String>,
) -> Result<Response, RequestError> {
    let u = read(&st, move |c| store::get_user(c, &p, &id)).await?;
    object_response(&u, &u.etag)
}

pub(in super::super) async fn patch_user(
    State(st): State<Arc<AppState>>,
    Auth(p): Auth,
    Path(id): Path<String>,
    IfMatch(im): IfMatch,
    body: Bytes,
) -> Result<Response, RequestError> {
    let patch: UserPatch = parse_patch_body(&body, &[])?;
    st.check_name(patch.name.as_deref())?;
    write(&st, p, None, move |tx, p| {
        let u = store::patch_user(tx, p, &id, im.as_deref(), patch)?;
        Reply::json(StatusCode::OK, &u, &u.etag)
    })
    .await
}

pub(in super::super) async fn delete_user(
    State(st): State<Arc<AppState>>,
    Auth(p): Auth,
    Path(id): Path<String>,
    IfMatch(im): IfMatch,
) -> Result<Response, RequestError> {
    delete(&st, p, im, move |tx, p, im| {
        store::delete_user(tx, p, &id, im)
    })
    .await
}

pub(in super::super) async fn resend_user(
    State(st): State<Arc<AppState>>,
    Auth(p): Auth,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, RequestError> {
    let idem = idem(&headers, "POST", &format!("/v1/users/{id}/resend"), &body)?;
    write(&st, p, idem, move |tx, p| {
        let u = store::resend_user(tx, p, &id)?;
        Reply::json(StatusCode::OK, &u, &u.etag)
    })
    .await
}
