//! Authentication and pacing of the Nexudus dialect: the [`Paced`] extractor resolves
//! `Authorization: Bearer <token>` (a token of `/api/token` until it expires or is revoked, or
//! any API token of the partner) or HTTP Basic with a login's email and password to the
//! reseller, then counts the request against the reseller's rate windows. [`sign_in`] checks a
//! login's password for Basic and the token grant alike, throttled per login (see
//! [`super::lockout`]). API tokens and Basic credentials are cached after their first lookup;
//! granted tokens are looked up on every request, so that their expiry and revocation (by
//! another process, the admin command) count at once.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};

use super::exec::read;
use super::reply::NxError;
use super::state::NxState;
use crate::sandbox::store::{self, Bearer, Credential, PartnerRow, Verified};

/// The authenticated reseller (the partner), its request admitted by the pacer.
pub(super) struct Paced(pub(super) PartnerRow);

impl FromRequestParts<Arc<NxState>> for Paced {
    type Rejection = NxError;

    async fn from_request_parts(
        parts: &mut Parts,
        st: &Arc<NxState>,
    ) -> Result<Self, Self::Rejection> {
        let p = authenticate(&parts.headers, st).await?;
        let write =
            [Method::POST, Method::PUT, Method::DELETE, Method::PATCH].contains(&parts.method);
        st.pacer.admit(&p.id, write).map_err(NxError::Throttled)?;
        Ok(Paced(p))
    }
}

fn unauthorized(why: &str) -> NxError {
    NxError::Unauthorized(format!(
        "{why}; send Authorization: Bearer <access_token of POST /api/token>, or Basic with the login's email and password"
    ))
}

/// The reseller of the request's credentials.
async fn authenticate(h: &HeaderMap, st: &Arc<NxState>) -> Result<PartnerRow, NxError> {
    let value = h
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| unauthorized("no credentials"))?;
    let (scheme, rest) = value.trim().split_once(' ').unwrap_or((value, ""));
    let rest = rest.trim().to_string();
    match scheme.to_ascii_lowercase().as_str() {
        "bearer" => bearer(st, rest).await,
        "basic" => basic(st, &rest).await,
        _ => Err(unauthorized("unknown authorization scheme")),
    }
}

fn cached(st: &NxState, key: &str) -> Option<PartnerRow> {
    st.logins
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(key)
        .cloned()
}

fn remember(st: &NxState, key: String, p: &PartnerRow) {
    st.logins
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(key, p.clone());
}

/// A bearer token: an API token (cached) or a token granted to a login (looked up each time).
async fn bearer(st: &Arc<NxState>, token: String) -> Result<PartnerRow, NxError> {
    let key = format!("bearer {token}");
    if let Some(p) = cached(st, &key) {
        return Ok(p);
    }
    match read(st, move |c| store::bearer(c, &token)).await? {
        Bearer::Valid {
            partner,
            expires_ms: None,
        } => {
            remember(st, key, &partner);
            Ok(partner)
        }
        Bearer::Valid { partner, .. } => Ok(partner),
        Bearer::Expired(at) => Err(NxError::Unauthorized(format!(
            "the token expired at {}; get a new one from POST /api/token",
            store::rfc3339_millis(at)
        ))),
        Bearer::Unknown => Err(unauthorized("unknown token")),
    }
}

/// HTTP Basic: `base64(login:password)`, throttled per login like the token grant (also when
/// the credentials are cached). A login with a second factor must use the token endpoint.
async fn basic(st: &Arc<NxState>, encoded: &str) -> Result<PartnerRow, NxError> {
    let decoded = decode_base64(encoded)
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| unauthorized("malformed Basic credentials"))?;
    let (login, password) = decoded
        .split_once(':')
        .ok_or_else(|| unauthorized("malformed Basic credentials"))?;
    if let Some(wait) = st.lockout.locked(login) {
        return Err(NxError::Throttled(wait));
    }
    let key = format!("basic {}", store::sha256_hex(encoded.as_bytes()));
    if let Some(p) = cached(st, &key) {
        return Ok(p);
    }
    let found = sign_in(st, login, password)
        .await?
        .ok_or_else(|| unauthorized("wrong login or password"))?;
    if found.totp {
        return Err(unauthorized(
            "this login has two-factor authentication: get a token from POST /api/token with its totp",
        ));
    }
    st.lockout.succeeded(login);
    remember(st, key, &found.partner);
    Ok(found.partner)
}

/// Checks `login`'s `password`: `None` for an unknown login or a wrong password (which take
/// as long, and which a caller must not tell apart). Refused with the throttle's answer while
/// the login has too many failures; the attempt counts as one until the caller, once every
/// other check passed, calls `st.lockout.succeeded`. A right password whose stored hash is
/// outdated is hashed again and stored.
pub(super) async fn sign_in(
    st: &Arc<NxState>,
    login: &str,
    password: &str,
) -> Result<Option<Credential>, NxError> {
    st.lockout.attempt(login).map_err(NxError::Throttled)?;
    let l = login.to_string();
    let found = read(st, move |c| store::credential(c, &l)).await?;
    let verdict = {
        let _permit = st
            .hashing
            .acquire()
            .await
            .map_err(|_| NxError::Internal("the password checks stopped".into()))?;
        let password = password.to_string();
        let found = found.clone();
        tokio::task::spawn_blocking(move || match &found {
            Some(c) => c.verify(&password),
            None => {
                store::verify_nobody(&password);
                Ok(Verified::Wrong)
            }
        })
        .await
        .map_err(|e| NxError::Internal(e.to_string()))??
    };
    let (Some(c), Verified::Right { rehash }) = (found, verdict) else {
        return Ok(None);
    };
    if let Some(phc) = rehash {
        let login_lc = c.login_lc.clone();
        st.store
            .submit(move |tx| store::rehash_credential(tx, &login_lc, &phc))
            .await
            .map_err(|_| NxError::Internal("the database writer stopped".into()))??;
    }
    Ok(Some(c))
}

/// Decodes standard base64 (padding optional); `None` when malformed.
pub(super) fn decode_base64(text: &str) -> Option<Vec<u8>> {
    fn value(c: u8) -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    }
    let bytes = text.trim().trim_end_matches('=').as_bytes();
    if bytes.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let mut n = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            n |= value(*c)? << (18 - 6 * i);
        }
        let take = chunk.len() - 1;
        out.extend_from_slice(&n.to_be_bytes()[1..1 + take]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_decodes_with_and_without_padding() {
        assert_eq!(
            decode_base64("b3BzQHAuZXhhbXBsZTpzM2NyZXQ=").unwrap(),
            b"ops@p.example:s3cret"
        );
        assert_eq!(decode_base64("YQ").unwrap(), b"a");
        assert_eq!(decode_base64("YWI=").unwrap(), b"ab");
        assert_eq!(decode_base64("YWJj").unwrap(), b"abc");
        assert_eq!(decode_base64("").unwrap(), b"");
        assert!(decode_base64("Y").is_none());
        assert!(decode_base64("a*b=").is_none());
    }
}
