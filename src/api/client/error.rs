//! Stage `api`, client errors: what went wrong talking to the API, and how a response becomes
//! a value or an error.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;

use super::cause::{self, Cause};
use crate::wire::partner::{self as types, PROBLEM_CONTENT_TYPE, Problem};

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
    #[error("{method} {path} failed: {} {}: {}{}{}", problem.status, problem.title, problem.detail, field_errors(&problem.errors), hint_suffix(*hint))]
    Problem {
        /// Request method.
        method: Method,
        /// Request path.
        path: String,
        /// The problem.
        problem: Box<Problem>,
        /// What to do (for a 401: where the token comes from).
        hint: Option<&'static str>,
    },
    /// The server answered with an error that is not a problem document.
    #[error("{method} {path} failed: HTTP {status}: {body}{}", hint_suffix(*hint))]
    Status {
        /// Request method.
        method: Method,
        /// Request path.
        path: String,
        /// HTTP status.
        status: StatusCode,
        /// The start of the body.
        body: String,
        /// What to do (for a 401: where the token comes from).
        hint: Option<&'static str>,
    },
    /// No answer after every attempt allowed (connection refused or reset, timeout, TLS). The
    /// cause is in the message, once: it is not repeated as a source.
    #[error("{}", cause::gave_up(method, path, cause, *attempts))]
    Transport {
        /// Request method.
        method: Method,
        /// Request path.
        path: String,
        /// Why the last attempt failed.
        cause: Cause,
        /// Attempts made.
        attempts: u32,
    },
    /// Reading the live state took longer than the read deadline.
    #[error("{}", cause::read_deadline_message(*limit, last_retry.as_deref()))]
    ReadDeadline {
        /// The deadline.
        limit: Duration,
        /// The last retry announced before it passed, if any.
        last_retry: Option<String>,
    },
    /// A redirect that was not followed (to another origin, or one too many). Not retried.
    #[error("{method} {path}: {refused}")]
    Redirect {
        /// Request method.
        method: Method,
        /// Request path.
        path: String,
        /// Where it pointed, and why it was not followed.
        refused: super::redirect::RefusedRedirect,
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

fn hint_suffix(hint: Option<&str>) -> String {
    hint.map_or(String::new(), |h| format!("; {h}"))
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

/// What [`decode`] needs to know about the client and the request beyond the response.
pub(super) struct Context {
    /// Is the endpoint a local sandbox (a loopback address)?
    pub(super) local: bool,
    /// The per-request timeout (to name it when the body does not arrive in time).
    pub(super) timeout: Duration,
    /// Attempts made so far, this one included.
    pub(super) attempts: u32,
}

pub(super) async fn decode<T: DeserializeOwned>(
    method: Method,
    path: String,
    response: reqwest::Response,
    cx: Context,
) -> Result<Option<T>, ApiError> {
    let status = response.status();
    let hint = (status == StatusCode::UNAUTHORIZED).then(|| cause::unauthorized_hint(cx.local));
    let is_problem = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(PROBLEM_CONTENT_TYPE));
    let bytes = response.bytes().await.map_err(|e| ApiError::Transport {
        method: method.clone(),
        path: path.clone(),
        cause: Cause::of_transport(&e, cx.timeout),
        attempts: cx.attempts,
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
                hint,
            });
        }
    }
    let body: String = String::from_utf8_lossy(&bytes).chars().take(200).collect();
    Err(ApiError::Status {
        method,
        path,
        status,
        body,
        hint,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unauthorized(local: bool, problem: bool) -> ApiError {
        let r = reqwest::Response::from(
            axum::http::Response::builder()
                .status(401)
                .header(
                    reqwest::header::CONTENT_TYPE,
                    if problem {
                        PROBLEM_CONTENT_TYPE
                    } else {
                        "text/plain"
                    },
                )
                .body(if problem {
                    r#"{"type":"about:blank","title":"Unauthorized","status":401,"detail":"unknown token","code":"unauthorized"}"#
                } else {
                    "no"
                })
                .unwrap(),
        );
        let cx = Context {
            local,
            timeout: Duration::from_secs(30),
            attempts: 1,
        };
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(decode::<serde_json::Value>(
                Method::GET,
                "/v1/partner".into(),
                r,
                cx,
            ))
            .unwrap_err()
    }

    #[test]
    fn a_401_hints_at_the_sandbox_only_for_a_local_endpoint() {
        for problem in [true, false] {
            let local = unauthorized(true, problem).to_string();
            assert!(local.contains("local sandbox"), "{local}");
            assert!(local.contains("partnerctl sandbox partner add"), "{local}");
            let remote = unauthorized(false, problem).to_string();
            assert!(remote.starts_with("GET /v1/partner failed:"), "{remote}");
            assert!(remote.contains("set PARTNERCTL_TOKEN"), "{remote}");
            assert!(!remote.contains("sandbox"), "{remote}");
            assert_eq!(
                unauthorized(false, problem).status(),
                Some(StatusCode::UNAUTHORIZED)
            );
        }
    }

    #[test]
    fn a_request_that_gave_up_names_its_cause_once() {
        let e = ApiError::Transport {
            method: Method::GET,
            path: "/v1/partner".into(),
            cause: Cause::Connect("Connection refused (os error 111)".into()),
            attempts: 8,
        };
        let shown = format!("{:#}", anyhow::Error::from(e));
        assert_eq!(
            shown,
            "GET /v1/partner: cannot connect (Connection refused (os error 111)), after 8 attempts; check the endpoint URL and that the server is running"
        );
    }
}
