//! Bearer-token authentication: the [`Auth`] extractor resolves the token to its partner. An
//! API token is cached after its first lookup; a token granted by a dialect's login (which
//! expires, and may be revoked by another process) is looked up on every request.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};

use super::exec::read;
use super::state::AppState;
use crate::sandbox::error::RequestError;
use crate::sandbox::store::{self, Bearer, PartnerRow};

/// The authenticated partner.
pub(super) struct Auth(pub(super) PartnerRow);

fn unauthorized(why: &str) -> RequestError {
    RequestError::new(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        format!("{why}; send Authorization: Bearer <token>"),
    )
}

impl FromRequestParts<Arc<AppState>> for Auth {
    type Rejection = RequestError;

    async fn from_request_parts(
        parts: &mut Parts,
        st: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(|t| t.trim().to_string())
            .ok_or_else(|| unauthorized("missing bearer token"))?;
        if let Some(p) = st
            .tokens
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&token)
        {
            return Ok(Auth(p.clone()));
        }
        let t = token.clone();
        match read(st, move |c| store::bearer(c, &t)).await? {
            Bearer::Valid {
                partner,
                expires_ms: None,
            } => {
                st.tokens
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(token, partner.clone());
                Ok(Auth(partner))
            }
            Bearer::Valid { partner, .. } => Ok(Auth(partner)),
            Bearer::Expired(at) => Err(unauthorized(&format!(
                "the token expired at {}",
                store::rfc3339_millis(at)
            ))),
            Bearer::Unknown => Err(unauthorized("unknown token")),
        }
    }
}
