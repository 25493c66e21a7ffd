//! Running store calls from async handlers: reads on the blocking pool; writes through the
//! throttle, failure injection and idempotency, answered after their commit.

use std::sync::Arc;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use rusqlite::Connection;

use super::reply::Reply;
use super::request::Idem;
use super::state::AppState;
use crate::sandbox::error::RequestError;
use crate::sandbox::server::knobs::{Failure, Injected, dropped_connection};
use crate::sandbox::store::{self, PartnerRow, StoredResponse};
use crate::wire::partner::PROBLEM_CONTENT_TYPE;

/// Runs blocking `f` on the blocking pool.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, RequestError> + Send + 'static,
) -> Result<T, RequestError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(RequestError::internal)?
}

/// Runs `f` on a read connection of the store.
pub(super) async fn read<T: Send + 'static>(
    st: &Arc<AppState>,
    f: impl FnOnce(&Connection) -> Result<T, RequestError> + Send + 'static,
) -> Result<T, RequestError> {
    let store = st.store.clone();
    blocking(move || store.read(f)).await
}

/// Runs one write: throttle, failure injection, idempotency and the operation, in one
/// transaction (group-committed by the writer thread); answered after the commit.
pub(super) async fn write(
    st: &Arc<AppState>,
    p: PartnerRow,
    idem: Option<Idem>,
    op: impl FnOnce(&Connection, &PartnerRow) -> Result<Reply, RequestError> + Send + 'static,
) -> Result<Response, RequestError> {
    st.throttle.check(&p.id)?;
    let failure = st.faults.draw();
    if let Some(f) = failure.filter(|f| f.when == Failure::Before) {
        return Ok(injected(f));
    }
    let reply = st
        .store
        .submit(move |tx| idempotent(tx, &p, idem.as_ref(), op))
        .await
        .map_err(|_| RequestError::internal("the database writer stopped"))??;
    if let Some(f) = failure.filter(|f| f.when == Failure::After) {
        return Ok(injected(f));
    }
    Ok(reply.into_response())
}

/// Inside the write's transaction: replays the remembered response of the idempotency key, or
/// runs `op` and remembers its response under the key.
fn idempotent(
    tx: &Connection,
    p: &PartnerRow,
    idem: Option<&Idem>,
    op: impl FnOnce(&Connection, &PartnerRow) -> Result<Reply, RequestError>,
) -> Result<Reply, RequestError> {
    let Some(i) = idem else {
        return op(tx, p);
    };
    if let Some(prev) = store::idempotency_lookup(tx, &p.id, &i.key, &i.request_sha256)? {
        return replay(prev);
    }
    let reply = op(tx, p)?;
    if let Some(body) = &reply.body {
        let prev = StoredResponse {
            status: reply.status.as_u16(),
            body: body.clone(),
        };
        store::idempotency_store(tx, &p.id, &i.key, &i.request_sha256, &prev)?;
    }
    Ok(reply)
}

/// The remembered response, marked as replayed (with the ETag of its body, if any).
fn replay(prev: StoredResponse) -> Result<Reply, RequestError> {
    let etag = serde_json::from_str::<serde_json::Value>(&prev.body)
        .ok()
        .and_then(|v| v.get("etag").and_then(|e| e.as_str()).map(str::to_string));
    Ok(Reply {
        status: StatusCode::from_u16(prev.status).map_err(RequestError::internal)?,
        body: Some(prev.body),
        etag,
        location: None,
        replayed: true,
    })
}

/// A `DELETE`: `op` as one write (see [`write`]) with the `If-Match` value; 204 when done.
pub(super) async fn delete(
    st: &Arc<AppState>,
    p: PartnerRow,
    if_match: Option<String>,
    op: impl FnOnce(&Connection, &PartnerRow, Option<&str>) -> Result<(), RequestError> + Send + 'static,
) -> Result<Response, RequestError> {
    write(st, p, None, move |tx, p| {
        op(tx, p, if_match.as_deref())?;
        Ok(Reply::no_content())
    })
    .await
}

/// The response of a write failed by `--fail-rate`: a dropped connection, or a 500 problem.
fn injected(f: Injected) -> Response {
    if f.drop_connection {
        // Labelled problem+json so that `problem_layer` passes it through untouched.
        return dropped_connection(PROBLEM_CONTENT_TYPE);
    }
    RequestError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "injected-failure",
        format!(
            "injected failure ({} the write) by --fail-rate; retry with the same Idempotency-Key",
            f.when.as_str()
        ),
    )
    .into_response()
}
