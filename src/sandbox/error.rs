//! The sandbox's errors:
//! - [`RequestError`]: why a request (over HTTP, or an admin command on the database) was
//!   refused or failed; over HTTP it is answered as an RFC 9457 problem document, the wire
//!   [`Problem`] of [`crate::wire::partner`];
//! - [`Error`]: why the sandbox itself could not run: its database would not open, its server
//!   would not start, or a request failed outside of HTTP (e.g. creating the embedded partner).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::server::ServeError;
use super::store::OpenError;
use crate::wire::partner::{AccountKind, FieldError, PROBLEM_CONTENT_TYPE, Problem};

/// Why the sandbox could not do what a library caller or an admin command asked.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database could not be opened.
    #[error(transparent)]
    Open(#[from] OpenError),
    /// The server could not start or stopped with an error.
    #[error(transparent)]
    Serve(#[from] ServeError),
    /// The store refused or failed the request (the message lists its field problems).
    #[error("{}", .0.explain())]
    Request(Box<RequestError>),
    /// A blocking sandbox task panicked or was cancelled.
    #[error(transparent)]
    Task(#[from] tokio::task::JoinError),
    /// The database holds other partners but not the one asked for; creating it is an
    /// explicit act.
    #[error(
        "it holds {}, not \"{wanted}\"; if the configuration means that partner, fix `partner.name`; to add another partner, run `partnerctl sandbox partner add --name {wanted:?}`",
        quoted(existing)
    )]
    OtherPartner {
        /// The partner asked for.
        wanted: String,
        /// The partners the database holds.
        existing: Vec<String>,
    },
    /// The database holds no partner yet.
    #[error(
        "it holds no partner yet; `partnerctl apply` with a configuration creates its partner, or run `partnerctl sandbox partner add --name NAME`"
    )]
    NoPartner,
    /// No account of that kind has that name.
    #[error("no {kind} named {name:?}")]
    NoAccount {
        /// The kind looked for.
        kind: AccountKind,
        /// The name.
        name: String,
    },
    /// Several accounts of that kind have that name.
    #[error("several {kind} accounts are named {name:?} ({}); a name must say which one", ids.join(", "))]
    AmbiguousAccount {
        /// The kind looked for.
        kind: AccountKind,
        /// The name.
        name: String,
        /// Their ids.
        ids: Vec<String>,
    },
    /// A network or sub-account was added without its parent.
    #[error("a {kind} needs --parent: the name of its {parent}")]
    ParentRequired {
        /// The kind added.
        kind: AccountKind,
        /// The kind of its parent.
        parent: AccountKind,
    },
    /// A customer was added with a parent.
    #[error("a customer has no --parent: it belongs to the partner (--partner NAME)")]
    CustomerParent,
    /// `--not-manageable` for another kind than a customer.
    #[error("only a customer can be not manageable")]
    ManageableIsForCustomers,
    /// The database holds several partners and none was named.
    #[error("it holds several {}; name one with --partner", quoted(existing))]
    WhichPartner {
        /// The partners the database holds.
        existing: Vec<String>,
    },
    /// No partner has the name given.
    #[error("no partner is named {name:?}; it holds {}", if existing.is_empty() { "none".to_string() } else { quoted(existing) })]
    UnknownPartner {
        /// The name.
        name: String,
        /// The partners the database holds.
        existing: Vec<String>,
    },
    /// Several partners have the name given.
    #[error("several partners are named {name:?} ({}); name one with --id", ids.join(", "))]
    AmbiguousPartner {
        /// The name.
        name: String,
        /// Their ids.
        ids: Vec<String>,
    },
}

/// `"A", "B"` for messages.
fn quoted(names: &[String]) -> String {
    let q: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
    let partners = if names.len() == 1 {
        "partner"
    } else {
        "partners"
    };
    format!("{partners} {}", q.join(", "))
}

impl From<RequestError> for Error {
    fn from(e: RequestError) -> Self {
        Error::Request(Box::new(e))
    }
}

/// A refused or failed request: HTTP status, problem code and detail, and what else the
/// problem document carries.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status} {code}: {detail}")]
pub struct RequestError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable machine-readable code.
    pub code: &'static str,
    /// Human explanation.
    pub detail: String,
    /// Field-level problems.
    pub errors: Vec<FieldError>,
    /// Id of the object a conflict is with.
    pub existing_id: Option<String>,
    /// `Retry-After` seconds, for throttling.
    pub retry_after: Option<u64>,
}

impl RequestError {
    /// A new error without field details.
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        RequestError {
            status,
            code,
            detail: detail.into(),
            errors: Vec::new(),
            existing_id: None,
            retry_after: None,
        }
    }

    /// 400 `validation-failed` with field errors.
    pub fn validation(errors: Vec<FieldError>) -> Self {
        let detail = match errors.as_slice() {
            [one] => format!("invalid request: {} (at {:?})", one.message, one.pointer),
            many => format!("invalid request: {} problems, see errors[]", many.len()),
        };
        RequestError {
            errors,
            ..RequestError::new(StatusCode::BAD_REQUEST, "validation-failed", detail)
        }
    }

    /// 400 `validation-failed` with one field error.
    pub fn field(pointer: impl Into<String>, message: impl Into<String>) -> Self {
        RequestError::validation(vec![FieldError {
            pointer: pointer.into(),
            message: message.into(),
        }])
    }

    /// 404 `not-found`.
    pub fn not_found(what: &str, id: &str) -> Self {
        RequestError::new(
            StatusCode::NOT_FOUND,
            "not-found",
            format!("{what} {id:?} does not exist (or belongs to another partner)"),
        )
    }

    /// 409 with the id of the existing object.
    pub fn conflict(
        code: &'static str,
        detail: impl Into<String>,
        existing_id: impl Into<String>,
    ) -> Self {
        RequestError {
            existing_id: Some(existing_id.into()),
            ..RequestError::new(StatusCode::CONFLICT, code, detail)
        }
    }

    /// 403 `management-disabled`: the partner is not manageable, and the write is inside the
    /// customer named `customer` (as the detail names it) or deletes it.
    pub fn management_disabled(customer: &str) -> Self {
        RequestError::new(
            StatusCode::FORBIDDEN,
            "management-disabled",
            format!(
                "the partner account is not manageable: customers can be created, but nothing inside a customer can be changed and no customer deleted (here: customer {customer}); confirm a support level with the vendor"
            ),
        )
    }

    /// 403 `management-disabled`: the customer named `customer` (as the detail names it) does
    /// not let its partner manage it, and the write is inside it or deletes it.
    pub fn customer_not_manageable(customer: &str) -> Self {
        RequestError::new(
            StatusCode::FORBIDDEN,
            "management-disabled",
            format!(
                "customer {customer} does not let its partner manage it: nothing inside it can be changed and it cannot be deleted; the customer can allow it at the vendor"
            ),
        )
    }

    /// 500 `internal`.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        RequestError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!("internal error: {detail}"),
        )
    }

    /// The detail, followed by one indented `pointer: message` line per field problem.
    pub fn explain(&self) -> String {
        let mut msg = self.detail.clone();
        for f in &self.errors {
            msg.push_str(&format!("\n  {}: {}", f.pointer, f.message));
        }
        msg
    }

    /// The problem document.
    pub fn problem(&self) -> Problem {
        Problem {
            problem_type: format!("urn:partnerctl:problem:{}", self.code),
            title: self
                .status
                .canonical_reason()
                .unwrap_or("Error")
                .to_string(),
            status: self.status.as_u16(),
            detail: self.detail.clone(),
            code: self.code.to_string(),
            errors: self.errors.clone(),
            existing_id: self.existing_id.clone(),
        }
    }
}

impl From<rusqlite::Error> for RequestError {
    fn from(e: rusqlite::Error) -> Self {
        RequestError::internal(format!("database: {e}"))
    }
}

impl IntoResponse for RequestError {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&self.problem()).unwrap_or_default();
        let mut resp = (self.status, body).into_response();
        let h = resp.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(PROBLEM_CONTENT_TYPE),
        );
        if let Some(secs) = self.retry_after {
            h.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        resp
    }
}
