//! The Nexudus dialect's answers: [`NxError`] (every refusal, as a [`WriteResult`] with
//! `WasSuccessful: false`, except the throttle's empty 409), successful writes, list pages,
//! and a middleware that gives axum's own errors (405, path rejections) the same shape.

use std::time::Duration;

use axum::Json;
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

use super::pace::{retry_after_millis, retry_after_secs};
use crate::sandbox::error::RequestError;
use crate::sandbox::store::{Listed, now_rfc3339};
use crate::wire::nexudus::{self as wire, IdValue, Page, TokenError, WireError, WriteResult};

/// Maps the store's JSON pointers to an entity's property names.
pub(super) type Props = &'static [(&'static str, &'static str)];

/// Why a request of the Nexudus dialect was not done.
#[derive(Debug, thiserror::Error)]
pub(super) enum NxError {
    /// No or bad credentials: 401.
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    /// Over a rate window: 409, `Retry-After`, empty body.
    #[error("throttled for {0:?}")]
    Throttled(Duration),
    /// Invalid fields or parameters: 400.
    #[error("invalid request: {message}")]
    Invalid {
        /// Summary.
        message: String,
        /// The problems, by property.
        errors: Vec<WireError>,
    },
    /// A business rule refused the write: HTTP 200 with `WasSuccessful: false`.
    #[error("refused ({status}): {message}")]
    Refused {
        /// The status meant.
        status: u16,
        /// Why.
        message: String,
        /// The problems, by property (may be empty).
        errors: Vec<WireError>,
    },
    /// A conflict with the record's state: 409 with a body (and no `Retry-After`, which would
    /// make it a throttle).
    #[error("conflict: {0}")]
    Conflict(String),
    /// No such record (or one of another reseller): 404.
    #[error("not found: {0}")]
    NotFound(String),
    /// The token endpoint's refusal: 400 with an OAuth error.
    #[error("token refused: {}", .0.error)]
    Token(TokenError),
    /// The sandbox failed: 500.
    #[error("internal error: {0}")]
    Internal(String),
}

/// The property of a store pointer: from `props`, else its first segment in PascalCase.
fn property(pointer: &str, props: Props) -> Option<String> {
    if pointer.is_empty() {
        return None;
    }
    let found = props
        .iter()
        .find(|(p, _)| pointer == *p || pointer.starts_with(&format!("{p}/")));
    Some(match found {
        Some((_, name)) => (*name).to_string(),
        None => pointer
            .trim_start_matches('/')
            .split('/')
            .next()
            .unwrap_or_default()
            .split('_')
            .map(|w| {
                let mut c = w.chars();
                c.next()
                    .map(|f| f.to_uppercase().chain(c).collect::<String>())
                    .unwrap_or_default()
            })
            .collect(),
    })
}

impl NxError {
    /// 400 with one property's problem.
    pub(super) fn invalid(property: &str, message: impl Into<String>) -> Self {
        let errors = vec![WireError {
            attempted_value: None,
            message: message.into(),
            property_name: Some(property.to_string()),
        }];
        NxError::Invalid {
            message: wire::summary(&errors),
            errors,
        }
    }

    /// The store's refusal in this dialect's terms, its pointers named by `props`.
    pub(super) fn from_store(e: RequestError, props: Props) -> Self {
        let errors: Vec<WireError> = e
            .errors
            .iter()
            .map(|f| WireError {
                attempted_value: None,
                message: f.message.clone(),
                property_name: property(&f.pointer, props),
            })
            .collect();
        match e.status.as_u16() {
            400 => NxError::Invalid {
                message: if errors.is_empty() {
                    e.detail
                } else {
                    wire::summary(&errors)
                },
                errors,
            },
            401 => NxError::Unauthorized(e.detail),
            404 => NxError::NotFound(e.detail),
            s @ (403 | 409 | 412 | 422 | 428) => NxError::Refused {
                status: s,
                message: e.detail,
                errors,
            },
            _ => NxError::Internal(e.detail),
        }
    }
}

impl From<RequestError> for NxError {
    fn from(e: RequestError) -> Self {
        NxError::from_store(e, &[])
    }
}

/// A `WriteResult` of a failure.
fn failed(status: u16, message: String, errors: Vec<WireError>) -> WriteResult {
    WriteResult {
        status,
        message: Some(message),
        value: None,
        updated_on: None,
        updated_by: None,
        errors: (!errors.is_empty()).then_some(errors),
        was_successful: false,
    }
}

/// The answer to a throttled request: 409, `Retry-After` and the exact wait, no body.
fn throttled(wait: Duration) -> Response {
    let mut resp = StatusCode::CONFLICT.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::RETRY_AFTER,
        HeaderValue::from(retry_after_secs(wait)),
    );
    h.insert(
        wire::RETRY_AFTER_MS_HEADER,
        HeaderValue::from(retry_after_millis(wait)),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(0));
    resp
}

impl IntoResponse for NxError {
    fn into_response(self) -> Response {
        let (http, body) = match self {
            NxError::Throttled(wait) => return throttled(wait),
            NxError::Token(t) => return (StatusCode::BAD_REQUEST, Json(t)).into_response(),
            NxError::Unauthorized(m) => (StatusCode::UNAUTHORIZED, failed(401, m, vec![])),
            NxError::Invalid { message, errors } => {
                (StatusCode::BAD_REQUEST, failed(400, message, errors))
            }
            NxError::Refused {
                status,
                message,
                errors,
            } => (StatusCode::OK, failed(status, message, errors)),
            NxError::Conflict(m) => (StatusCode::CONFLICT, failed(409, m, vec![])),
            NxError::NotFound(m) => (StatusCode::NOT_FOUND, failed(404, m, vec![])),
            NxError::Internal(m) => (StatusCode::INTERNAL_SERVER_ERROR, failed(500, m, vec![])),
        };
        let mut resp = (http, Json(body)).into_response();
        if http == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer, Basic realm=\"sandbox\""),
            );
        }
        resp
    }
}

/// A successful write of `entity` (`created`, `updated`, `deleted`) with the record's id.
pub(super) fn written(entity: &str, verb: &str, id: i64) -> Response {
    Json(WriteResult {
        status: 200,
        message: Some(format!("{entity} was successfully {verb}.")),
        value: Some(IdValue { id }),
        updated_on: Some(now_rfc3339()),
        updated_by: None,
        errors: None,
        was_successful: true,
    })
    .into_response()
}

/// Which page of a list was asked for: number (from 1), size, sort field and direction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct PageAsk {
    pub(super) page: u32,
    pub(super) size: u32,
    pub(super) order_field: String,
    pub(super) dir: i8,
}

impl PageAsk {
    /// Rows skipped before this page.
    pub(super) fn offset(&self) -> u64 {
        u64::from(self.page - 1) * u64::from(self.size)
    }
}

/// The envelope of a page of `listed`, its records mapped by `f`.
pub(super) fn page<S, T>(ask: &PageAsk, listed: Listed<S>, f: impl Fn(S) -> T) -> Page<T> {
    let total = listed.total;
    let records: Vec<T> = listed.rows.into_iter().map(f).collect();
    let size = u64::from(ask.size);
    let first = if records.is_empty() {
        0
    } else {
        ask.offset() + 1
    };
    let total_pages = u32::try_from(total.div_ceil(size)).unwrap_or(u32::MAX);
    Page {
        current_page: ask.page,
        current_page_size: ask.size,
        current_order_field: Some(ask.order_field.clone()),
        current_sort_direction: Some(serde_json::Value::from(ask.dir)),
        first_item: first,
        last_item: if first == 0 {
            0
        } else {
            first + records.len() as u64 - 1
        },
        total_items: total,
        total_pages,
        has_next_page: ask.page < total_pages,
        has_previous_page: ask.page > 1,
        records,
    }
}

/// Gives axum's own error answers (405, 415, path and body rejections) this dialect's shape;
/// JSON answers, the throttle's empty 409 and a dropped connection pass untouched.
pub(super) async fn error_layer(resp: Response) -> Response {
    let status = resp.status();
    let json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error())
        || json
        || status == StatusCode::CONFLICT
    {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let text = axum::body::to_bytes(body, 64 * 1024)
        .await
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&text).trim().to_string();
    let message = match status {
        StatusCode::METHOD_NOT_ALLOWED => {
            "this method is not allowed on this path; the Allow header lists the allowed ones"
                .to_string()
        }
        _ if text.is_empty() => status.canonical_reason().unwrap_or("error").to_string(),
        _ => text,
    };
    let mut out = (status, Json(failed(status.as_u16(), message, vec![]))).into_response();
    for (k, v) in parts.headers.iter() {
        if k != header::CONTENT_TYPE && k != header::CONTENT_LENGTH {
            out.headers_mut().insert(k.clone(), v.clone());
        }
    }
    out
}

/// The answer to a request no route matches.
pub(super) async fn fallback(method: Method, uri: Uri) -> NxError {
    NxError::NotFound(format!("no route {method} {}", uri.path()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_pointers_become_property_names() {
        let props: Props = &[("/name", "FullName"), ("/places", "Businesses")];
        assert_eq!(property("/name", props).as_deref(), Some("FullName"));
        assert_eq!(property("/places/2", props).as_deref(), Some("Businesses"));
        assert_eq!(property("/time_zone", props).as_deref(), Some("TimeZone"));
        assert_eq!(property("", props), None);
    }

    #[test]
    fn pages_count_from_one() {
        let ask = PageAsk {
            page: 2,
            size: 2,
            order_field: "Id".into(),
            dir: 1,
        };
        let listed = Listed {
            total: 5,
            rows: vec![3, 4],
        };
        let p = page(&ask, listed, |n| n);
        assert_eq!((p.first_item, p.last_item, p.total_pages), (3, 4, 3));
        assert!(p.has_next_page && p.has_previous_page);
        let empty = page(
            &ask,
            Listed::<i32> {
                total: 0,
                rows: vec![],
            },
            |n| n,
        );
        assert_eq!(
            (empty.first_item, empty.last_item, empty.total_pages),
            (0, 0, 0)
        );
        assert!(!empty.has_next_page);
    }
}
