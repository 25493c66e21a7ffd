//! `POST /api/token`: the password grant. The body must be form-encoded
//! (`grant_type=password&username=…&password=…`, plus `totp` — any six digits — for a login
//! with two-factor authentication); a JSON body is `unsupported_grant_type`, a wrong login or
//! password `invalid_grant`, both HTTP 400. Failed attempts are throttled per login (see
//! [`super::lockout`]): the throttle's 409 with `Retry-After`, whatever the password. The
//! token acts as the login's partner, also on the partner API of the same database, for
//! [`LIFETIME_SECS`] divided by `--time-scale` (`expires_in` says how many seconds that is),
//! or until `sandbox partner revoke-tokens`. Counted against the reseller's rate windows once
//! the login is known (as a read).

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Form, FromRequest, Request, State};
use axum::http::header;

use super::reply::NxError;
use super::state::NxState;
use crate::sandbox::store;
use crate::wire::nexudus::{TokenError, TokenResponse};

/// A token's lifetime, as the vendor's: about 7 days (before `--time-scale`).
pub(super) const LIFETIME_SECS: u64 = 604_799;

fn refuse(error: &str, description: impl Into<String>) -> NxError {
    NxError::Token(TokenError {
        error: error.to_string(),
        error_description: Some(description.into()),
    })
}

/// The form's fields; refusals as the token endpoint words them.
async fn fields(req: Request) -> Result<HashMap<String, String>, NxError> {
    let form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !form {
        return Err(refuse(
            "unsupported_grant_type",
            "send the grant form-encoded (Content-Type: application/x-www-form-urlencoded)",
        ));
    }
    let Form(f) = Form::<HashMap<String, String>>::from_request(req, &())
        .await
        .map_err(|e| refuse("invalid_request", e.body_text()))?;
    Ok(f)
}

/// `POST /api/token`.
pub(super) async fn grant(
    State(st): State<Arc<NxState>>,
    req: Request,
) -> Result<Json<TokenResponse>, NxError> {
    let f = fields(req).await?;
    match f.get("grant_type").map(String::as_str) {
        Some("password") => {}
        None => return Err(refuse("invalid_request", "grant_type is required")),
        Some(other) => {
            return Err(refuse(
                "unsupported_grant_type",
                format!("grant_type {other:?} is not supported; use password"),
            ));
        }
    }
    let (Some(login), Some(password)) = (f.get("username"), f.get("password")) else {
        return Err(refuse(
            "invalid_request",
            "username and password are required",
        ));
    };
    let found = super::auth::sign_in(&st, login, password)
        .await?
        .ok_or_else(|| refuse("invalid_grant", "The user name or password is incorrect."))?;
    if found.totp {
        let code = f.get("totp").map(String::as_str).unwrap_or_default();
        if !(code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit())) {
            return Err(refuse(
                "invalid_grant",
                "this login has two-factor authentication: send its six-digit totp",
            ));
        }
    }
    st.lockout.succeeded(login);
    let (login_lc, p) = (found.login_lc, found.partner);
    st.pacer.admit(&p.id, false).map_err(NxError::Throttled)?;
    let lifetime = LIFETIME_SECS as f64 / st.time_scale;
    let lifetime_ms = (lifetime * 1000.0).min(i64::MAX as f64) as i64;
    let (token, _) = st
        .store
        .submit(move |tx| store::grant_token(tx, &p.id, &login_lc, lifetime_ms))
        .await
        .map_err(|_| NxError::Internal("the database writer stopped".into()))??;
    Ok(Json(TokenResponse {
        access_token: token,
        token_type: "bearer".into(),
        expires_in: lifetime.floor() as u64,
        refresh_token: None,
    }))
}
