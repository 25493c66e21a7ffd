//! `POST /api/token`: the password grant. The body must be form-encoded
//! (`grant_type=password&username=…&password=…`, plus `totp` — any six digits — for a login
//! with two-factor authentication); a JSON body is `unsupported_grant_type`, a wrong login or
//! password `invalid_grant`, both HTTP 400. Failed attempts are throttled per login (see
//! [`super::lockout`]): the throttle's 409 with `Retry-After`, whatever the password. The
//! token is an API token of the login's partner,
//! so it also works on the partner API of the same database. Counted against the reseller's
//! rate windows once the login is known (as a read).

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Form, FromRequest, Request, State};
use axum::http::header;

use super::reply::NxError;
use super::state::NxState;
use crate::provider::nexudus::wire::{TokenError, TokenResponse};
use crate::sandbox::store;

/// The `expires_in` of a token (about 7 days; the sandbox does not expire them).
const EXPIRES_IN: u64 = 604_799;

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
    let p = found.partner;
    st.pacer.admit(&p.id, false).map_err(NxError::Throttled)?;
    let token = st
        .store
        .submit(move |tx| store::issue_token(tx, &p.id))
        .await
        .map_err(|_| NxError::Internal("the database writer stopped".into()))??;
    Ok(Json(TokenResponse {
        access_token: token,
        token_type: "bearer".into(),
        expires_in: EXPIRES_IN,
        refresh_token: None,
    }))
}
