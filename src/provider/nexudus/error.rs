//! Stage `provider`, Nexudus errors: what went wrong talking to the Nexudus API, and what it
//! takes to succeed after each. Touches nothing.

use std::time::Duration;

use reqwest::{Method, StatusCode};

use crate::api::client::redirect::RefusedRedirect;
use crate::api::retry::{Cause, GaveUp};
use crate::provider::Remedy;
use crate::wire::nexudus::WireError;

/// What went wrong talking to the Nexudus API.
#[derive(Debug, thiserror::Error)]
pub enum NexudusError {
    /// Missing or unusable settings (endpoint, credentials).
    #[error("{0}")]
    Setup(String),
    /// The login was refused (`invalid_grant` or a 401 from the token grant, or a 401).
    #[error(
        "the Nexudus API refused the login: {0}; check NEXUDUS_USERNAME and NEXUDUS_PASSWORD (and NEXUDUS_TOTP when two-factor sign-in is on), or PARTNERCTL_TOKEN"
    )]
    Login(String),
    /// The token grant failed for another reason than the login (after every attempt).
    #[error("signing in failed: POST /api/token answered HTTP {}: {said}; {}", status.as_u16(), sign_in_advice(*status))]
    SignIn {
        /// HTTP status.
        status: StatusCode,
        /// What the answer said (its OAuth error, or the start of the body).
        said: String,
    },
    /// No answer after every attempt.
    #[error(
        "{method} {path}: {cause}, after {attempts} attempt(s); check that PARTNERCTL_ENDPOINT is reachable, and run again"
    )]
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
    /// An HTTP error status that is not a refused write (404, a conflict, 5xx after retries:
    /// then a write's outcome is unknown).
    #[error("{method} {path} failed: HTTP {}: {body}; {}", status.as_u16(), status_advice(*status))]
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
    /// A write answered `WasSuccessful: false` (HTTP 400, 409 for a conflict, or HTTP 200 for a
    /// refused rule; a server error is a [`NexudusError::Status`]: its outcome is unknown).
    #[error(
        "{method} {path} was refused (HTTP {}, WasSuccessful false): {message}{}",
        status.as_u16(),
        field_errors(errors)
    )]
    Refused {
        /// Request method.
        method: Method,
        /// Request path.
        path: String,
        /// The HTTP status of the answer.
        status: StatusCode,
        /// The status the API meant (its `Status` field: 403 for a permission, 409 for a
        /// taken value, even when the HTTP status is 200).
        meant: u16,
        /// The API's summary.
        message: String,
        /// The problems, field by field.
        errors: Vec<WireError>,
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
    /// A body that is not what the API documents.
    #[error("{method} {path}: unexpected answer: {reason}")]
    Decode {
        /// Request method.
        method: Method,
        /// Request path.
        path: String,
        /// Why.
        reason: String,
    },
    /// A write the API answered as successful, whose effect reading the record back does not
    /// show.
    #[error(
        "{method} {path} answered success, but reading the record back shows {missing}: the change did not take effect (another change may have undone it); run apply again"
    )]
    NotApplied {
        /// Request method of the write.
        method: Method,
        /// The record's path.
        path: String,
        /// What the record lacks.
        missing: String,
    },
    /// The day's write budget is spent.
    #[error("the Nexudus API's daily write budget is spent; it renews in {}", human(*renews_in))]
    BudgetSpent {
        /// Time until writes are accepted again.
        renews_in: Duration,
    },
    /// Reading the live state took longer than the read deadline.
    #[error("reading the live state took longer than {}; raise --read-deadline", human(*limit))]
    ReadDeadline {
        /// The deadline.
        limit: Duration,
    },
    /// An operation this provider cannot perform (a bug: planning should have kept it out).
    #[error("{0}: the Nexudus API cannot do this; it is a manual step in the dashboard")]
    Unsupported(String),
}

impl From<GaveUp> for NexudusError {
    fn from(e: GaveUp) -> Self {
        match e {
            GaveUp::Exhausted {
                method,
                path,
                cause,
                attempts,
            } => NexudusError::Transport {
                method,
                path,
                cause,
                attempts,
            },
            // Longer than the pacer's patience: a long window's budget is spent.
            GaveUp::TooLong { wait, .. } => NexudusError::BudgetSpent { renews_in: wait },
            GaveUp::Redirect {
                method,
                path,
                refused,
            } => NexudusError::Redirect {
                method,
                path,
                refused,
            },
        }
    }
}

/// What to do after an error status.
fn status_advice(status: StatusCode) -> &'static str {
    match status.as_u16() {
        500..=599 => "the API failed (a write may or may not have taken effect); run again later",
        409 | 412 => "the record changed meanwhile; run again (the next plan reads the change)",
        404 => {
            "run again if the record was removed meanwhile, or check that PARTNERCTL_ENDPOINT is the Nexudus API"
        }
        401 | 403 => "the login may not do this; check its permissions in the Nexudus dashboard",
        400 | 422 => "the API refused the request's values; check them in the configuration",
        _ => "check that PARTNERCTL_ENDPOINT is the Nexudus API, and run again",
    }
}

/// What to do when the token grant failed for another reason than the login.
fn sign_in_advice(status: StatusCode) -> &'static str {
    if busy(status) {
        "the API is failing or busy, the login was not refused; run again in a while"
    } else {
        "the endpoint does not answer as the Nexudus API does; check that PARTNERCTL_ENDPOINT is its base URL (such as https://spaces.nexudus.com)"
    }
}

/// A status that says the server failed or is busy, not that the request was wrong.
fn busy(status: StatusCode) -> bool {
    matches!(status.as_u16(), 409 | 429 | 500..=599)
}

fn field_errors(errors: &[WireError]) -> String {
    if errors.is_empty() {
        String::new()
    } else {
        format!(" ({})", crate::wire::nexudus::summary(errors))
    }
}

/// A duration for people: `42 s`, `3 min`, `5 h 20 min`.
pub(super) fn human(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 120.0 {
        format!("{s:.1} s")
    } else if s < 7_200.0 {
        format!("{:.0} min", s / 60.0)
    } else {
        let m = (s / 60.0).round() as u64;
        format!("{} h {} min", m / 60, m % 60)
    }
}

impl NexudusError {
    /// What it takes for an operation that failed this way to succeed.
    pub fn remedy(&self) -> Remedy {
        match self {
            NexudusError::Login(_) | NexudusError::Setup(_) | NexudusError::Redirect { .. } => {
                Remedy::FixAccess
            }
            NexudusError::SignIn { status, .. } if busy(*status) => Remedy::Rerun,
            NexudusError::SignIn { .. } => Remedy::FixAccess,
            NexudusError::Refused { status, meant, .. } => refused_remedy(status.as_u16(), *meant),
            NexudusError::Status { status, .. } => match status.as_u16() {
                401 | 403 => Remedy::FixAccess,
                400 | 422 => Remedy::FixConfiguration,
                _ => Remedy::Rerun,
            },
            _ => Remedy::Rerun,
        }
    }
}

/// What it takes after a `WasSuccessful: false` answer at HTTP `status`, meaning `meant`.
fn refused_remedy(status: u16, meant: u16) -> Remedy {
    let either = |codes: &[u16]| codes.contains(&status) || codes.contains(&meant);
    if either(&[401, 403]) {
        Remedy::FixAccess
    } else if matches!(status, 409 | 412 | 500..=599) || meant >= 500 {
        // Changed by someone else meanwhile, or the API failed: the next run reads the change.
        Remedy::Rerun
    } else {
        // Invalid values (400, 422), or a rule the values break (HTTP 200, meaning 409 for a
        // value taken elsewhere): the same values would be refused again.
        Remedy::FixConfiguration
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_name_their_fields_and_remedies_follow_the_cause() {
        let e = NexudusError::Refused {
            method: Method::POST,
            path: "/api/sys/users".into(),
            status: StatusCode::OK,
            meant: 409,
            message: "A user with this email already exists".into(),
            errors: vec![WireError {
                attempted_value: None,
                message: "already used".into(),
                property_name: Some("Email".into()),
            }],
        };
        assert_eq!(
            e.to_string(),
            "POST /api/sys/users was refused (HTTP 200, WasSuccessful false): A user with this email already exists (Email: already used)"
        );
        assert_eq!(e.remedy(), Remedy::FixConfiguration);
        let spent = NexudusError::BudgetSpent {
            renews_in: Duration::from_secs(5 * 3600 + 20 * 60),
        };
        assert_eq!(
            spent.to_string(),
            "the Nexudus API's daily write budget is spent; it renews in 5 h 20 min"
        );
        assert_eq!(spent.remedy(), Remedy::Rerun);
    }

    #[test]
    fn remedies_follow_what_the_answer_means() {
        let code = |status: u16| StatusCode::from_u16(status).unwrap();
        let refused = |status: u16, meant: u16| NexudusError::Refused {
            method: Method::PUT,
            path: "/api/sys/users".into(),
            status: code(status),
            meant,
            message: "no".into(),
            errors: vec![],
        };
        let status = |status: u16| NexudusError::Status {
            method: Method::PUT,
            path: "/api/sys/users".into(),
            status: code(status),
            body: String::new(),
        };
        let cases = [
            // A conflict with a concurrent change, or the API failing: run again.
            (refused(409, 409), Remedy::Rerun),
            (refused(409, 0), Remedy::Rerun),
            (refused(500, 500), Remedy::Rerun),
            (refused(200, 503), Remedy::Rerun),
            (status(500), Remedy::Rerun),
            (status(409), Remedy::Rerun),
            (status(404), Remedy::Rerun),
            // The values: fix the configuration.
            (refused(400, 400), Remedy::FixConfiguration),
            (refused(200, 400), Remedy::FixConfiguration),
            (refused(200, 422), Remedy::FixConfiguration),
            (refused(400, 0), Remedy::FixConfiguration),
            (status(400), Remedy::FixConfiguration),
            // The login or its permissions.
            (refused(401, 401), Remedy::FixAccess),
            (refused(403, 403), Remedy::FixAccess),
            (refused(200, 403), Remedy::FixAccess),
            (status(403), Remedy::FixAccess),
            (
                NexudusError::Transport {
                    method: Method::PUT,
                    path: "/api/sys/users".into(),
                    cause: Cause::Connection("connection closed before message completed".into()),
                    attempts: 8,
                },
                Remedy::Rerun,
            ),
            (
                NexudusError::Redirect {
                    method: Method::GET,
                    path: "/api/sys/users".into(),
                    refused: RefusedRedirect::CrossOrigin {
                        location: "https://elsewhere.example/".into(),
                        origin: "https://spaces.nexudus.com".into(),
                    },
                },
                Remedy::FixAccess,
            ),
        ];
        for (e, remedy) in cases {
            assert_eq!(e.remedy(), remedy, "{e:?}");
        }
    }

    #[test]
    fn each_error_status_says_what_to_do() {
        let status = |code: u16| NexudusError::Status {
            method: Method::GET,
            path: "/api/sys/users/1".into(),
            status: StatusCode::from_u16(code).unwrap(),
            body: "said".into(),
        };
        let cases = [
            (
                500,
                "the API failed (a write may or may not have taken effect); run again later",
            ),
            (503, "the API failed"),
            (
                409,
                "the record changed meanwhile; run again (the next plan reads the change)",
            ),
            (412, "the record changed meanwhile"),
            (
                404,
                "run again if the record was removed meanwhile, or check that PARTNERCTL_ENDPOINT is the Nexudus API",
            ),
            (
                401,
                "the login may not do this; check its permissions in the Nexudus dashboard",
            ),
            (403, "the login may not do this"),
            (
                400,
                "the API refused the request's values; check them in the configuration",
            ),
            (422, "the API refused the request's values"),
            (
                418,
                "check that PARTNERCTL_ENDPOINT is the Nexudus API, and run again",
            ),
        ];
        for (code, advice) in cases {
            let shown = status(code).to_string();
            let head = format!("GET /api/sys/users/1 failed: HTTP {code}: said; ");
            assert!(
                shown.starts_with(&head) && shown[head.len()..].starts_with(advice),
                "{shown}"
            );
        }
    }

    #[test]
    fn durations_read_naturally() {
        let s = Duration::from_secs;
        assert_eq!(human(s(42)), "42.0 s");
        assert_eq!(human(Duration::from_millis(119_940)), "119.9 s");
        assert_eq!(human(s(120)), "2 min");
        assert_eq!(human(s(7_199)), "120 min");
        assert_eq!(human(s(7_200)), "2 h 0 min");
        assert_eq!(human(s(86_400 + 90)), "24 h 2 min");
        let deadline = NexudusError::ReadDeadline { limit: s(300) };
        assert_eq!(
            deadline.to_string(),
            "reading the live state took longer than 5 min; raise --read-deadline"
        );
    }

    #[test]
    fn access_and_setup_errors_need_the_access_fixed() {
        let cases = [
            (NexudusError::Login("refused".into()), Remedy::FixAccess),
            (
                NexudusError::Setup("bad endpoint".into()),
                Remedy::FixAccess,
            ),
            (
                NexudusError::SignIn {
                    status: StatusCode::TOO_MANY_REQUESTS,
                    said: String::new(),
                },
                Remedy::Rerun,
            ),
            (
                NexudusError::SignIn {
                    status: StatusCode::NOT_FOUND,
                    said: String::new(),
                },
                Remedy::FixAccess,
            ),
            (
                NexudusError::BudgetSpent {
                    renews_in: Duration::from_secs(60),
                },
                Remedy::Rerun,
            ),
            (
                NexudusError::Unsupported("DELETE customer.c".into()),
                Remedy::Rerun,
            ),
        ];
        for (e, remedy) in cases {
            assert_eq!(e.remedy(), remedy, "{e:?}");
        }
        // A refusal without field errors says nothing more.
        let refused = NexudusError::Refused {
            method: Method::PUT,
            path: "/api/sys/users".into(),
            status: StatusCode::CONFLICT,
            meant: 409,
            message: "changed by someone else".into(),
            errors: vec![],
        };
        assert_eq!(
            refused.to_string(),
            "PUT /api/sys/users was refused (HTTP 409, WasSuccessful false): changed by someone else"
        );
    }

    #[test]
    fn what_ended_a_request_in_the_engine_becomes_its_error() {
        let e = NexudusError::from(GaveUp::Exhausted {
            method: Method::GET,
            path: "/api/sys/users".into(),
            cause: Cause::Timeout(Duration::from_secs(10)),
            attempts: 8,
        });
        assert_eq!(
            e.to_string(),
            "GET /api/sys/users: no response within 10 s, after 8 attempt(s); check that PARTNERCTL_ENDPOINT is reachable, and run again"
        );
        let e = NexudusError::from(GaveUp::TooLong {
            method: Method::POST,
            path: "/api/sys/users".into(),
            status: StatusCode::CONFLICT,
            wait: Duration::from_secs(3 * 3600),
            attempts: 1,
        });
        assert!(
            matches!(e, NexudusError::BudgetSpent { renews_in } if renews_in == Duration::from_secs(3 * 3600)),
            "{e:?}"
        );
        let refused = RefusedRedirect::TooMany {
            location: "https://x.example/".into(),
        };
        let e = NexudusError::from(GaveUp::Redirect {
            method: Method::GET,
            path: "/api/sys/users".into(),
            refused: refused.clone(),
        });
        assert!(
            matches!(&e, NexudusError::Redirect { refused: r, .. } if *r == refused),
            "{e:?}"
        );
        assert_eq!(e.remedy(), Remedy::FixAccess);
    }
}
