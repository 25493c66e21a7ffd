//! Field rules of the API's request bodies; each check appends its [`FieldError`]s (with the
//! field's JSON pointer) so that one response lists every problem. Keys, countries, time zones,
//! emails, the length limits and the characters names, emails and labels may not hold follow the
//! shared [`crate::vocab::rules`], which configuration validation applies too. Messages quote
//! values as Rust's `{:?}` does, control, bidirectional and zero-width characters escaped.

use std::collections::BTreeMap;

use super::super::error::RequestError;
use crate::vocab::rules::{
    Hidden, KEY_SYNTAX, LABEL_KEY_MAX_CHARS, LABEL_VALUE_MAX_CHARS, LABELS_MAX, NAME_MAX_CHARS,
    NameProblem, first_hidden, label_key_fits, label_value_fits, name_problem, valid_country,
    valid_key, valid_mailbox, valid_timezone,
};
use crate::wire::partner::{Contact, FieldError};

/// `Ok` when no check failed, else 400 `validation-failed` with every problem.
pub(super) fn verdict(errs: Vec<FieldError>) -> Result<(), RequestError> {
    if errs.is_empty() {
        Ok(())
    } else {
        Err(RequestError::validation(errs))
    }
}

/// Not blank, at most [`NAME_MAX_CHARS`], no [hidden characters](hidden_char), no surrounding
/// whitespace.
pub(super) fn check_name(errs: &mut Vec<FieldError>, pointer: &str, name: &str) {
    match name_problem(name) {
        Some(NameProblem::Empty) => errs.push(fe(pointer, "must not be empty")),
        Some(NameProblem::TooLong) => errs.push(fe(
            pointer,
            format!("must be at most {NAME_MAX_CHARS} characters"),
        )),
        Some(NameProblem::Hidden(hidden)) => errs.push(hidden_error(pointer, hidden)),
        Some(NameProblem::Spaces) => {
            errs.push(fe(pointer, "must not start or end with whitespace"));
        }
        None => {}
    }
}

/// An RFC 5322 mailbox ([`valid_mailbox`]).
pub(super) fn check_email(errs: &mut Vec<FieldError>, pointer: &str, email: &str) {
    if let Some(hidden) = first_hidden(email) {
        errs.push(hidden_error(pointer, hidden));
    } else if !valid_mailbox(email) {
        errs.push(fe(
            pointer,
            format!("{email:?} is not a valid email address"),
        ));
    }
}

/// A name, email or label holding a [hidden character](hidden_char).
fn hidden_error(pointer: &str, hidden: Hidden) -> FieldError {
    fe(
        pointer,
        format!("must not contain control, bidirectional or zero-width characters; found {hidden}"),
    )
}

/// An ISO 3166-1 alpha-2 code ([`valid_country`]).
pub(super) fn check_country(errs: &mut Vec<FieldError>, pointer: &str, c: &str) {
    if !valid_country(c) {
        errs.push(fe(
            pointer,
            format!("{c:?} is not an ISO 3166-1 alpha-2 country code (e.g. GB, FR)"),
        ));
    }
}

/// An IANA time zone name ([`valid_timezone`]).
pub(super) fn check_timezone(errs: &mut Vec<FieldError>, pointer: &str, tz: &str) {
    if !valid_timezone(tz) {
        errs.push(fe(
            pointer,
            format!("{tz:?} is not an IANA time zone name (e.g. Europe/London)"),
        ));
    }
}

/// An account key ([`valid_key`]).
pub(super) fn check_external_key(errs: &mut Vec<FieldError>, pointer: &str, key: &str) {
    if !valid_key(key) {
        errs.push(fe(pointer, format!("{key:?} must match {KEY_SYNTAX}")));
    }
}

/// At most [`LABELS_MAX`] labels, keys of 1 to [`LABEL_KEY_MAX_CHARS`] and values of at most
/// [`LABEL_VALUE_MAX_CHARS`] characters, neither with [hidden characters](hidden_char).
pub(super) fn check_labels(errs: &mut Vec<FieldError>, labels: &BTreeMap<String, String>) {
    if labels.len() > LABELS_MAX {
        errs.push(fe("/labels", format!("at most {LABELS_MAX} labels")));
    }
    for (k, v) in labels {
        let p = format!("/labels/{}", k.replace('~', "~0").replace('/', "~1"));
        if let Some(hidden) = first_hidden(k) {
            errs.push(hidden_error(&p, hidden));
        }
        if let Some(hidden) = first_hidden(v) {
            errs.push(hidden_error(&p, hidden));
        }
        if !label_key_fits(k) {
            errs.push(fe(
                &p,
                format!("label keys must be 1 to {LABEL_KEY_MAX_CHARS} characters"),
            ));
        }
        if !label_value_fits(v) {
            errs.push(fe(
                &p,
                format!("label values must be at most {LABEL_VALUE_MAX_CHARS} characters"),
            ));
        }
    }
}

/// A contact's name and email.
pub(super) fn check_contact(errs: &mut Vec<FieldError>, c: &Contact) {
    check_name(errs, "/contact/name", &c.name);
    check_email(errs, "/contact/email", &c.email);
}

/// One field problem.
pub(super) fn fe(pointer: &str, message: impl Into<String>) -> FieldError {
    FieldError {
        pointer: pointer.to_string(),
        message: message.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn messages(check: impl FnOnce(&mut Vec<FieldError>)) -> Vec<String> {
        let mut errs = Vec::new();
        check(&mut errs);
        errs.into_iter()
            .map(|e| format!("{}: {}", e.pointer, e.message))
            .collect()
    }

    #[test]
    fn messages_name_the_rule() {
        assert_eq!(
            messages(|e| check_external_key(e, "/external_key", "Bad_Key")),
            ["/external_key: \"Bad_Key\" must match [a-z0-9][a-z0-9-]{0,62}"]
        );
        assert_eq!(
            messages(|e| check_name(e, "/name", &"x".repeat(201))),
            ["/name: must be at most 200 characters"]
        );
        assert!(messages(|e| check_country(e, "/country", "GB")).is_empty());
        assert_eq!(
            messages(|e| check_country(e, "/country", "gb")),
            ["/country: \"gb\" is not an ISO 3166-1 alpha-2 country code (e.g. GB, FR)"]
        );
        let labels: BTreeMap<String, String> =
            [("a/b".to_string(), "v".repeat(256))].into_iter().collect();
        assert_eq!(
            messages(|e| check_labels(e, &labels)),
            ["/labels/a~1b: label values must be at most 255 characters"]
        );
    }
}
