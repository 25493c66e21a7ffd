//! Bearer-token authentication: the [`Auth`] extractor resolves the token to its partner
//! (cached after the first lookup).

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};

use super::exec::read;
use super::state::AppState;
use crate::sandbox::error::RequestError;
use crate::sandbox::store::{self, PartnerRow};

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
        let found = read(st, move |c| store::partner_by_token(c, &t)).await?;
        let p = found.ok_or_else(|| unauthorized("unknown token"))?;
        st.tokens
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(token, p.clone());
        Ok(Auth(p))
    }
}
