//! Wire types, errors: the RFC 9457 problem document every error response carries.

use serde::{Deserialize, Serialize};

/// Media type of every error body (RFC 9457).
pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

/// One problem with a request field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// JSON Pointer (RFC 6901) into the request body; `""` for the whole body.
    pub pointer: String,
    /// What is wrong.
    pub message: String,
}

/// An RFC 9457 problem document (`application/problem+json`), the body of every error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// URI naming the problem type (`urn:partnerctl:problem:{code}`).
    #[serde(rename = "type")]
    pub problem_type: String,
    /// Short summary of the problem type.
    pub title: String,
    /// HTTP status code.
    pub status: u16,
    /// What happened in this occurrence, and what to do.
    pub detail: String,
    /// Stable machine-readable code (e.g. `management-disabled`, `external-key-taken`).
    pub code: String,
    /// Field-level problems (may be empty).
    #[serde(default)]
    pub errors: Vec<FieldError>,
    /// On conflicts with an existing object (409): its id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub existing_id: Option<String>,
}

impl std::fmt::Display for Problem {
    /// `409 external-key-taken: <detail>` followed by one `  <pointer>: <message>` line per
    /// field error.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status, self.code, self.detail)?;
        for e in &self.errors {
            let at = if e.pointer.is_empty() {
                "(body)"
            } else {
                e.pointer.as_str()
            };
            write!(f, "\n  {at}: {}", e.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for Problem {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problem_displays_code_and_pointers() {
        let p = Problem {
            problem_type: "urn:partnerctl:problem:validation-failed".into(),
            title: "Bad Request".into(),
            status: 400,
            detail: "invalid request".into(),
            code: "validation-failed".into(),
            errors: vec![FieldError {
                pointer: "/country".into(),
                message: "bad".into(),
            }],
            existing_id: None,
        };
        assert_eq!(
            p.to_string(),
            "400 validation-failed: invalid request\n  /country: bad"
        );
    }
}
