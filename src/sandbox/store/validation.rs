//! Field rules of the API's request bodies; each check appends its [`FieldError`]s (with the
//! field's JSON pointer) so that one response lists every problem.

use super::super::error::RequestError;
use crate::api::types::{Contact, FieldError};

/// `Ok` when no check failed, else 400 `validation-failed` with every problem.
pub(super) fn verdict(errs: Vec<FieldError>) -> Result<(), RequestError> {
    if errs.is_empty() {
        Ok(())
    } else {
        Err(RequestError::validation(errs))
    }
}

pub(super) fn check_name(errs: &mut Vec<FieldError>, pointer: &str, name: &str) {
    let t = name.trim();
    if t.is_empty() {
        errs.push(fe(pointer, "must not be empty"));
    } else if name.chars().count() > 200 {
        errs.push(fe(pointer, "must be at most 200 characters"));
    } else if t != name {
        errs.push(fe(pointer, "must not start or end with whitespace"));
    }
}

pub(super) fn check_email(errs: &mut Vec<FieldError>, pointer: &str, email: &str) {
    if !email_address::EmailAddress::is_valid(email) {
        errs.push(fe(
            pointer,
            format!("{email:?} is not a valid email address"),
        ));
    }
}

pub(super) fn check_country(errs: &mut Vec<FieldError>, pointer: &str, c: &str) {
    if c.len() != 2
        || !c.bytes().all(|b| b.is_ascii_uppercase())
        || rust_iso3166::from_alpha2(c).is_none()
    {
        errs.push(fe(
            pointer,
            format!("{c:?} is not an ISO 3166-1 alpha-2 country code (e.g. GB, FR)"),
        ));
    }
}

pub(super) fn check_timezone(errs: &mut Vec<FieldError>, pointer: &str, tz: &str) {
    if tz.parse::<chrono_tz::Tz>().is_err() {
        errs.push(fe(
            pointer,
            format!("{tz:?} is not an IANA time zone name (e.g. Europe/London)"),
        ));
    }
}

pub(super) fn check_external_key(errs: &mut Vec<FieldError>, pointer: &str, key: &str) {
    let b = key.as_bytes();
    let ok = !b.is_empty()
        && b.len() <= 63
        && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-');
    if !ok {
        errs.push(fe(
            pointer,
            format!("{key:?} must match [a-z0-9][a-z0-9-]{{0,62}}"),
        ));
    }
}

pub(super) fn check_labels(
    errs: &mut Vec<FieldError>,
    labels: &std::collections::BTreeMap<String, String>,
) {
    if labels.len() > 64 {
        errs.push(fe("/labels", "at most 64 labels"));
    }
    for (k, v) in labels {
        let p = format!("/labels/{}", k.replace('~', "~0").replace('/', "~1"));
        if k.is_empty() || k.len() > 63 {
            errs.push(fe(&p, "label keys must be 1 to 63 bytes"));
        }
        if v.len() > 255 {
            errs.push(fe(&p, "label values must be at most 255 bytes"));
        }
    }
}

pub(super) fn check_contact(errs: &mut Vec<FieldError>, c: &Contact) {
    check_name(errs, "/contact/name", &c.name);
    check_email(errs, "/contact/email", &c.email);
}

pub(super) fn fe(pointer: &str, message: impl Into<String>) -> FieldError {
    FieldError {
        pointer: pointer.to_string(),
        message: message.into(),
    }
}
