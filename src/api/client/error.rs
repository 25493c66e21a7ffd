//! Stage `api`, client errors: what went wrong talking to the API, and how a response becomes
//! a value or an error.

use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;

use super::types::{self, PROBLEM_CONTENT_TYPE, Problem};

/// What went wrong talking to the API.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The endpoint URL does not parse or has an unsupported scheme.
    #[error("invalid endpoint `{url}`: {reason}")]
    BadEndpoint {
        /// As given.
        url: String,
        /// Why.
        reason: String,
    },
    /// Plain HTTP to a non-loopback host.
    #[error(
        "refusing plain http:// to `{host}`: the token would cross the network unencrypted; use https://, or a loopback address for a local sandbox"
    )]
    InsecureEndpoint {
        /// The host.
        host: String,
    },
    /// The server answered with a problem document.
    #[error("{method} {path} failed: {} {}: {}{}", problem.status, problem.title, problem.detail, field_errors(&problem.errors))]
    Problem {
        /// Request method.
        method: Method,
        /// Request path.
        path: String,
        /// The problem.
        problem: Box<Problem>,
    },
    /// The server answered with an error that is not a problem document.
    #[error("{method} {path} failed: HTTP {status}: {body}")]
    Status {
        /// Request method.
        method: Method,
        /// Request path.
        path: String,
        /// HTTP status.
        status: StatusCode,
        /// The start of the body.
        body: String,
    },
    /// No answer (connection refused or reset, timeout, TLS).
    #[error("{method} {path} failed: {source} (is the endpoint reachable?)")]
    Transport {
        /// Request method.
        method: Method,
        /// Request path.
        path: String,
        /// The cause.
        #[source]
        source: reqwest::Error,
    },
    /// A body that does not match the contract.
    #[error("{method} {path}: response does not match the API contract: {reason}")]
    Decode {
        /// Request method.
        method: Method,
        /// Request path.
        path: String,
        /// Why.
        reason: String,
    },
    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client: {0}")]
    Setup(String),
}

fn field_errors(errors: &[types::FieldError]) -> String {
    errors
        .iter()
        .map(|e| {
            format!(
                "\n  {}: {}",
                if e.pointer.is_empty() {
                    "/"
                } else {
                    &e.pointer
                },
                e.message
            )
        })
        .collect()
}

impl ApiError {
    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            ApiError::Problem { problem, .. } => StatusCode::from_u16(problem.status).ok(),
            ApiError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The problem's machine-readable code, when there is one.
    pub fn code(&self) -> Option<&str> {
        match self {
            ApiError::Problem { problem, .. } => Some(&problem.code),
            _ => None,
        }
    }

    /// The problem document, when there is one.
    pub fn problem(&self) -> Option<&Problem> {
        match self {
            ApiError::Problem { problem, .. } => Some(problem),
            _ => None,
        }
    }
}

pub(super) async fn decode<T: DeserializeOwned>(
    method: Method,
    path: String,
    response: reqwest::Response,
) -> Result<Option<T>, ApiError> {
    let status = response.status();
    let is_problem = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(PROBLEM_CONTENT_TYPE));
    let bytes = response
        .bytes()
        .await
        .map_err(|source| ApiError::Transport {
            method: method.clone(),
            path: path.clone(),
            source,
        })?;
    if status.is_success() {
        if status == StatusCode::NO_CONTENT || bytes.is_empty() {
            return Ok(None);
        }
        return serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| ApiError::Decode {
                method,
                path,
                reason: e.to_string(),
            });
    }
    if is_problem {
        if let Ok(problem) = serde_json::from_slice::<Problem>(&bytes) {
            return Err(ApiError::Problem {
                method,
                path,
                problem: Box::new(problem),
            });
        }
    }
    let body: String = String::from_utf8_lossy(&bytes).chars().take(200).collect();
    Err(ApiError::Status {
        method,
        path,
        status,
        body,
    })
}
