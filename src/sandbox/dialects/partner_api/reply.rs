//! Writing responses: what a write produced ([`Reply`]), and JSON bodies with their ETag.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::sandbox::error::RequestError;
use crate::wire::partner::IDEMPOTENT_REPLAYED_HEADER;

/// What a write produced.
pub(super) struct Reply {
    pub(super) status: StatusCode,
    pub(super) body: Option<String>,
    pub(super) etag: Option<String>,
    pub(super) location: Option<String>,
    pub(super) replayed: bool,
}

impl Reply {
    /// `v` as the JSON body, with its ETag.
    pub(super) fn json<T: serde::Serialize>(
        status: StatusCode,
        v: &T,
        etag: &str,
    ) -> Result<Reply, RequestError> {
        Ok(Reply {
            status,
            body: Some(serde_json::to_string(v).map_err(RequestError::internal)?),
            etag: Some(etag.to_string()),
            location: None,
            replayed: false,
        })
    }

    /// 204 without a body.
    pub(super) fn no_content() -> Reply {
        Reply {
            status: StatusCode::NO_CONTENT,
            body: None,
            etag: None,
            location: None,
            replayed: false,
        }
    }

    /// The HTTP response (`Idempotent-Replayed: true` when replayed).
    pub(super) fn into_response(self) -> Response {
        let mut resp = match self.body {
            Some(b) => {
                (self.status, [(header::CONTENT_TYPE, "application/json")], b).into_response()
            }
            None => self.status.into_response(),
        };
        let h = resp.headers_mut();
        if let Some(e) = self.etag.and_then(|e| HeaderValue::from_str(&e).ok()) {
            h.insert(header::ETAG, e);
        }
        if let Some(l) = self.location.and_then(|l| HeaderValue::from_str(&l).ok()) {
            h.insert(header::LOCATION, l);
        }
        if self.replayed {
            h.insert(IDEMPOTENT_REPLAYED_HEADER, HeaderValue::from_static("true"));
        }
        resp
    }
}

/// A raw JSON body (a list page).
pub(super) fn json_response(body: String) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// `v` as JSON, 200, with its ETag.
pub(super) fn object_response<T: serde::Serialize>(
    v: &T,
    etag: &str,
) -> Result<Response, RequestError> {
    Ok(Reply::json(StatusCode::OK, v, etag)?.into_response())
}
