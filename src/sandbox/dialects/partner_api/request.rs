//! Reading requests: JSON bodies and query strings (as field-level problems), `If-Match`, and
//! the idempotency context of a POST.

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use serde::de::DeserializeOwned;

use crate::sandbox::error::RequestError;
use crate::sandbox::store;
use crate::wire::partner::{FieldError, IDEMPOTENCY_KEY_HEADER};

/// Parses a JSON object body into `T`; a missing or unknown field is reported at its pointer.
pub(super) fn parse_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, RequestError> {
    from_object(parse_object(body)?)
}

/// Like [`parse_body`], for a merge patch: a field left out is unchanged, so `null` can only
/// mean clearing, which only the fields of `clearable` allow; every other `null` is a field
/// problem (rather than quietly ignored).
pub(super) fn parse_patch_body<T: DeserializeOwned>(
    body: &[u8],
    clearable: &[&str],
) -> Result<T, RequestError> {
    let fields = parse_object(body)?;
    let nulls: Vec<FieldError> = fields
        .iter()
        .filter(|(k, v)| v.is_null() && !clearable.contains(&k.as_str()))
        .map(|(k, _)| FieldError {
            pointer: format!("/{}", k.replace('~', "~0").replace('/', "~1")),
            message: "cannot be null: leave the field out to keep its value".into(),
        })
        .collect();
    if !nulls.is_empty() {
        return Err(RequestError::validation(nulls));
    }
    from_object(fields)
}

/// The body as a JSON object.
fn parse_object(body: &[u8]) -> Result<serde_json::Map<String, serde_json::Value>, RequestError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(RequestError::new(
            StatusCode::BAD_REQUEST,
            "invalid-json",
            "a JSON request body is required",
        ));
    }
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|e| {
        RequestError::new(
            StatusCode::BAD_REQUEST,
            "invalid-json",
            format!("request body is not valid JSON: {e}"),
        )
    })?;
    match value {
        serde_json::Value::Object(fields) => Ok(fields),
        _ => Err(RequestError::field(
            "",
            "the request body must be a JSON object",
        )),
    }
}

/// `T` from the body's fields; a missing or unknown field is reported at its pointer.
fn from_object<T: DeserializeOwned>(
    fields: serde_json::Map<String, serde_json::Value>,
) -> Result<T, RequestError> {
    serde_json::from_value(serde_json::Value::Object(fields)).map_err(|e| {
        let msg = e.to_string();
        let field = |marker: &str| {
            msg.split_once(marker)
                .and_then(|(_, rest)| rest.split_once('`'))
                .map(|(name, _)| format!("/{name}"))
        };
        let pointer = field("missing field `")
            .or_else(|| field("unknown field `"))
            .unwrap_or_default();
        RequestError::field(pointer, msg)
    })
}

/// The query string of a list request; rejected with 400 `invalid-query`.
pub(super) struct ListQuery<T>(pub(super) T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ListQuery<T> {
    type Rejection = RequestError;

    async fn from_request_parts(parts: &mut Parts, st: &S) -> Result<Self, Self::Rejection> {
        match Query::<T>::from_request_parts(parts, st).await {
            Ok(Query(q)) => Ok(ListQuery(q)),
            Err(e) => Err(RequestError::new(
                StatusCode::BAD_REQUEST,
                "invalid-query",
                format!("invalid query parameters: {}", e.body_text()),
            )),
        }
    }
}

/// The `If-Match` header, if sent; one that is not visible ASCII is a 400 (not ignored: a
/// precondition the server cannot read must not let the write through).
pub(super) struct IfMatch(pub(super) Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = RequestError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let Some(v) = parts.headers.get(header::IF_MATCH) else {
            return Ok(IfMatch(None));
        };
        let v = v.to_str().map_err(|_| {
            RequestError::new(
                StatusCode::BAD_REQUEST,
                "invalid-if-match",
                "If-Match must be visible ASCII: the object's ETag as read, or *",
            )
        })?;
        Ok(IfMatch(Some(v.to_string())))
    }
}

/// The idempotency context of a POST: key and request hash.
pub(super) struct Idem {
    pub(super) key: String,
    pub(super) request_sha256: String,
}

/// The idempotency context of a POST to `path` with `body`, if it has an `Idempotency-Key`.
pub(super) fn idem(
    h: &HeaderMap,
    method: &str,
    path: &str,
    body: &[u8],
) -> Result<Option<Idem>, RequestError> {
    let Some(v) = h.get(IDEMPOTENCY_KEY_HEADER) else {
        return Ok(None);
    };
    let key = v
        .to_str()
        .ok()
        .filter(|k| !k.is_empty() && k.len() <= 255)
        .ok_or_else(|| {
            RequestError::new(
                StatusCode::BAD_REQUEST,
                "invalid-idempotency-key",
                "Idempotency-Key must be 1 to 255 visible ASCII characters",
            )
        })?;
    let mut material = format!("{method} {path}\n").into_bytes();
    material.extend_from_slice(body);
    Ok(Some(Idem {
        key: key.to_string(),
        request_sha256: store::sha256_hex(&material),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::store::{PartnerRow, Store};
    use crate::wire::partner::AccountCreate;

    use proptest::prelude::*;

    fn json_value() -> impl Strategy<Value = serde_json::Value> {
        use serde_json::json;
        let leaf = prop_oneof![
            Just(json!(null)),
            any::<bool>().prop_map(|b| json!(b)),
            any::<i64>().prop_map(|n| json!(n)),
            prop_oneof![
                Just("customer".to_string()),
                Just("network".to_string()),
                Just("GB".to_string()),
                Just("Europe/London".to_string()),
                Just("a@b.example".to_string()),
                "[a-z0-9-]{0,8}",
                "\\PC{0,12}",
            ]
            .prop_map(|s| json!(s)),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..3).prop_map(serde_json::Value::Array),
                prop::collection::btree_map(
                    prop_oneof![
                        Just("name".to_string()),
                        Just("email".to_string()),
                        Just("kind".to_string()),
                        Just("parent_id".to_string()),
                        Just("contact".to_string()),
                        Just("country".to_string()),
                        Just("timezone".to_string()),
                        Just("labels".to_string()),
                        Just("external_key".to_string()),
                        "[a-z]{1,4}",
                    ],
                    inner,
                    0..6
                )
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        /// Bad input never panics, is never a 5xx, and a rejected request writes nothing.
        #[test]
        fn arbitrary_account_bodies_are_4xx_or_created(bodies in prop::collection::vec(json_value(), 1..8)) {
            let dir = tempfile::tempdir().unwrap();
            let store = Store::open(&dir.path().join("fuzz.db")).unwrap();
            let (partner, _) = store.write(|tx| store::add_partner(tx, "Fuzz", true)).unwrap();
            let p = PartnerRow { id: partner.id, name: partner.name, manageable: true, support_level: partner.support_level };
            let mut created = 0i64;
            for body in bodies {
                let bytes = serde_json::to_vec(&body).unwrap();
                let outcome = parse_body::<AccountCreate>(&bytes).and_then(|req| {
                    let p = p.clone();
                    store.write(move |tx| store::create_account(tx, &p, req))
                });
                match outcome {
                    Ok(_) => created += 1,
                    Err(e) => prop_assert!(e.status.is_client_error(), "{e}"),
                }
            }
            let rows: i64 = store.read(|c| Ok(c.query_row("SELECT count(*) FROM accounts", [], |r| r.get(0))?)).unwrap();
            prop_assert_eq!(rows, created);
        }
    }
}
