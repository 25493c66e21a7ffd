//! Strong ETags: computing them for stored objects and checking `If-Match` against them.

use axum::http::StatusCode;

use super::super::error::RequestError;
use super::doc::sha256_hex;
use crate::wire::partner::{Account, Service, User};

/// An object that carries its own strong ETag.
pub(super) trait Tagged: serde::Serialize {
    /// The `etag` field.
    fn etag_mut(&mut self) -> &mut String;

    /// Recomputes the ETag: a hash of the JSON document with the `etag` field blank, quoted.
    fn stamp_etag(&mut self) -> Result<(), RequestError> {
        self.etag_mut().clear();
        let doc = serde_json::to_vec(self).map_err(RequestError::internal)?;
        *self.etag_mut() = format!("\"{}\"", &sha256_hex(&doc)[..20]);
        Ok(())
    }
}

impl Tagged for Account {
    fn etag_mut(&mut self) -> &mut String {
        &mut self.etag
    }
}

impl Tagged for User {
    fn etag_mut(&mut self) -> &mut String {
        &mut self.etag
    }
}

impl Tagged for Service {
    fn etag_mut(&mut self) -> &mut String {
        &mut self.etag
    }
}

/// Checks an `If-Match` header value against the current strong ETag.
/// `None` (header missing) is 428; a mismatch is 412.
pub fn check_if_match(
    if_match: Option<&str>,
    current: &str,
    required: bool,
) -> Result<(), RequestError> {
    let Some(v) = if_match else {
        if required {
            return Err(RequestError::new(
                StatusCode::PRECONDITION_REQUIRED,
                "precondition-required",
                "this request needs an If-Match header with the object's current ETag (read the object first)",
            ));
        }
        return Ok(());
    };
    let matches = v
        .split(',')
        .map(str::trim)
        .any(|t| t == "*" || t == current);
    if matches {
        Ok(())
    } else {
        Err(RequestError::new(
            StatusCode::PRECONDITION_FAILED,
            "precondition-failed",
            format!(
                "If-Match {v} does not match the current ETag {current}: the object changed since you read it; read it again"
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_rules() {
        assert_eq!(
            check_if_match(None, "\"a\"", true).unwrap_err().status,
            StatusCode::PRECONDITION_REQUIRED
        );
        assert!(check_if_match(None, "\"a\"", false).is_ok());
        assert!(check_if_match(Some("\"a\""), "\"a\"", true).is_ok());
        assert!(check_if_match(Some("\"b\", \"a\""), "\"a\"", true).is_ok());
        assert!(check_if_match(Some("*"), "\"a\"", true).is_ok());
        assert_eq!(
            check_if_match(Some("W/\"a\""), "\"a\"", true)
                .unwrap_err()
                .status,
            StatusCode::PRECONDITION_FAILED
        );
    }
}
