//! Running store calls from the Nexudus dialect's handlers: reads on the blocking pool;
//! writes through the conflict and failure injections (`--conflict-rate`, `--fail-rate`),
//! answered after their commit as a [`WriteResult`](crate::wire::nexudus::WriteResult).
//! The pacer has already admitted the request (see [`super::auth`]).

use std::sync::Arc;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use rusqlite::Connection;

use super::reply::{NxError, Props, written};
use super::state::NxState;
use crate::sandbox::error::RequestError;
use crate::sandbox::server::knobs::{Failure, Injected, dropped_connection};
use crate::sandbox::store::PartnerRow;

/// Runs `f` on a read connection of the store, on the blocking pool.
pub(super) async fn read<T: Send + 'static>(
    st: &Arc<NxState>,
    f: impl FnOnce(&Connection) -> Result<T, RequestError> + Send + 'static,
) -> Result<T, NxError> {
    let store = st.store.clone();
    tokio::task::spawn_blocking(move || store.read(f))
        .await
        .map_err(|e| NxError::Internal(e.to_string()))?
        .map_err(NxError::from)
}

/// What a successful write says: the entity (`User`), the verb (`created`) and its props.
pub(super) struct Said {
    pub(super) entity: &'static str,
    pub(super) verb: &'static str,
    pub(super) props: Props,
}

/// Runs one write (`op` returns the record's id) in its own transaction, with the failure
/// injection around it; the answer follows the commit.
pub(super) async fn write(
    st: &Arc<NxState>,
    p: PartnerRow,
    said: Said,
    op: impl FnOnce(&Connection, &PartnerRow) -> Result<i64, RequestError> + Send + 'static,
) -> Result<Response, NxError> {
    if st.conflicts.hit().is_some() {
        return Err(NxError::Conflict(format!(
            "{} was changed by someone else (conflict injected by --conflict-rate); read it again",
            said.entity
        )));
    }
    let failure = st.faults.draw();
    if let Some(f) = failure.filter(|f| f.when == Failure::Before) {
        return Ok(injected(f));
    }
    let id = st
        .store
        .submit(move |tx| op(tx, &p))
        .await
        .map_err(|_| NxError::Internal("the database writer stopped".into()))?
        .map_err(|e| NxError::from_store(e, said.props))?;
    if let Some(f) = failure.filter(|f| f.when == Failure::After) {
        return Ok(injected(f));
    }
    Ok(written(said.entity, said.verb, id))
}

/// The answer of a write failed by `--fail-rate`: a dropped connection, or a 500.
fn injected(f: Injected) -> Response {
    if f.drop_connection {
        return dropped_connection("application/json");
    }
    let mut resp = NxError::Internal(format!(
        "injected failure ({} the write) by --fail-rate; look the record up before writing it again",
        f.when.as_str()
    ))
    .into_response();
    *resp.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    resp
}
