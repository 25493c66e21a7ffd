//! Every error is a problem document: the answer to unknown routes, and a middleware that
//! rewrites axum's own plain-text errors (405, path and body rejections) as problem+json.

use axum::http::{Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

use crate::sandbox::error::RequestError;
use crate::wire::partner::PROBLEM_CONTENT_TYPE;

/// Turns every error response that is not yet problem+json (axum's 405, path and body
/// rejections) into one, keeping its other headers (e.g. `Allow`).
pub(super) async fn problem_layer(resp: Response) -> Response {
    let status = resp.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let is_problem = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(PROBLEM_CONTENT_TYPE.as_bytes()));
    if is_problem {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let text = axum::body::to_bytes(body, 64 * 1024)
        .await
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&text).trim().to_string();
    let (code, detail) = code_and_detail(status, text);
    let mut out = RequestError::new(status, code, detail).into_response();
    for (k, v) in parts.headers.iter() {
        if k != header::CONTENT_TYPE && k != header::CONTENT_LENGTH {
            out.headers_mut().insert(k.clone(), v.clone());
        }
    }
    out
}

/// The problem code and detail of an error status whose plain-text body was `text`.
fn code_and_detail(status: StatusCode, text: String) -> (&'static str, String) {
    let or = |default: &str| {
        if text.is_empty() {
            default.to_string()
        } else {
            text.clone()
        }
    };
    match status {
        StatusCode::METHOD_NOT_ALLOWED => (
            "method-not-allowed",
            "this method is not allowed on this path; the Allow header lists the allowed ones"
                .to_string(),
        ),
        StatusCode::NOT_FOUND => ("not-found", "no such resource".to_string()),
        StatusCode::PAYLOAD_TOO_LARGE => {
            ("payload-too-large", "request body too large".to_string())
        }
        s if s.is_server_error() => ("internal", or("internal error")),
        _ => ("bad-request", or("bad request")),
    }
}

/// The answer to a request no route matches.
pub(super) async fn fallback(method: Method, uri: Uri) -> RequestError {
    RequestError::new(
        StatusCode::NOT_FOUND,
        "not-found",
        format!("no route {method} {}; see schemas/openapi.yaml", uri.path()),
    )
}
