//! Stage `api`, client errors: what went wrong talking to the API, and how a response becomes
//! a value or an error.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;

use super::advice;
use super::redirect::RefusedRedirect;
use crate::api::retry::{Answer, Cause, GaveUp};
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
    #[error("{}", advice::gave_up(method, path, cause, *attempts))]
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
    #[error("{}", advice::read_deadline_message(*limit, last_retry.as_deref()))]
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
        refused: RefusedRedirect,
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

impl From<GaveUp> for ApiError {
    fn from(e: GaveUp) -> Self {
        match e {
            GaveUp::Exhausted {
                method,
                path,
                cause,
                attempts,
            } => ApiError::Transport {
                method,
                path,
                cause,
                attempts,
            },
            // Only with a policy that gives up on long waits, which this client's is not.
            GaveUp::TooLong {
                method,
                path,
                status,
                wait,
                attempts,
            } => ApiError::Transport {
                method,
                path,
                cause: Cause::Throttled {
                    status,
                    retry_after: Some(wait),
                },
                attempts,
            },
            GaveUp::Redirect {
                method,
                path,
                refused,
            } => ApiError::Redirect {
                method,
                path,
                refused,
            },
        }
    }
}

/// The value of a successful answer (`None` for `204 No Content` or an empty body), or the
/// error an unsuccessful one says (a problem document, else the status and the start of the
/// body; a 401 with the hint for a `local` endpoint or a remote one).
pub(super) fn decode<T: DeserializeOwned>(
    method: Method,
    path: String,
    answer: Answer,
    local: bool,
) -> Result<Option<T>, ApiError> {
    let Answer {
        status,
        headers,
        body,
    } = answer;
    if status.is_success() {
        if status == StatusCode::NO_CONTENT || body.is_empty() {
            return Ok(None);
        }
        return serde_json::from_slice(&body)
            .map(Some)
            .map_err(|e| ApiError::Decode {
                method,
                path,
                reason: e.to_string(),
            });
    }
    let hint = (status == StatusCode::UNAUTHORIZED).then(|| advice::unauthorized_hint(local));
    let is_problem = headers
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(PROBLEM_CONTENT_TYPE));
    if is_problem {
        if let Ok(problem) = serde_json::from_slice::<Problem>(&body) {
            return Err(ApiError::Problem {
                method,
                path,
                problem: Box::new(problem),
                hint,
            });
        }
    }
    let body: String = String::from_utf8_lossy(&body).chars().take(200).collect();
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
        let mut headers = reqwest::header::HeaderMap::new();
        let kind = if problem {
            PROBLEM_CONTENT_TYPE
        } else {
            "text/plain"
        };
        headers.insert(reqwest::header::CONTENT_TYPE, kind.parse().unwrap());
        let body = if problem {
            r#"{"type":"about:blank","title":"Unauthorized","status":401,"detail":"unknown token","code":"unauthorized"}"#
        } else {
            "no"
        };
        let answer = Answer {
            status: StatusCode::UNAUTHORIZED,
            headers,
            body: body.into(),
        };
        decode::<serde_json::Value>(Method::GET, "/v1/partner".into(), answer, local).unwrap_err()
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
