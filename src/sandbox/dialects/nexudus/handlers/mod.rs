//! The Nexudus dialect's route handlers, one module per entity (`links`: reseller accounts,
//! `businesses`, `users`, and `reference`: the country and time zone lists); here the reseller's, `/healthz`, and reading a JSON body into a wire
//! type (a field that does not fit is named by its property).

pub(super) mod businesses;
pub(super) mod links;
pub(super) mod reference;
pub(super) mod users;

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use serde::de::DeserializeOwned;

use super::auth::Paced;
use super::exec::read;
use super::map;
use super::query::{self, Spec};
use super::reply::{NxError, page};
use super::state::NxState;
use crate::sandbox::store::{self, Listed, SortKey};
use crate::wire::nexudus::{Page, Reseller};

pub(super) async fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({"status": "ok"}))
}

const RESELLERS: Spec = Spec {
    orders: &[("Id", SortKey::Number), ("Name", SortKey::Name)],
    filters: &[],
    batch: false,
};

async fn the_reseller(st: &Arc<NxState>, p: store::PartnerRow) -> Result<Reseller, NxError> {
    let q = p.clone();
    let home = read(st, move |c| store::home(c, &q)).await?;
    Ok(map::reseller(&p, &home))
}

/// `GET /api/sys/resellers`: the login's reseller, alone in its page.
pub(super) async fn list_resellers(
    State(st): State<Arc<NxState>>,
    Paced(p): Paced,
    q: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Json<Page<Reseller>>, NxError> {
    let q = query::parse(q, &RESELLERS)?;
    let r = the_reseller(&st, p).await?;
    let rows = if q.slice.offset == 0 { vec![r] } else { vec![] };
    Ok(Json(page(&q.ask, Listed { total: 1, rows }, |r| r)))
}

/// `GET /api/sys/resellers/{id}`.
pub(super) async fn get_reseller(
    State(st): State<Arc<NxState>>,
    Paced(p): Paced,
    Path(id): Path<i64>,
) -> Result<Json<Reseller>, NxError> {
    let r = the_reseller(&st, p).await?;
    if r.id != id {
        return Err(NxError::NotFound(format!("no reseller {id}")));
    }
    Ok(Json(r))
}

/// The body as `T`; a body that does not fit is a 400 naming the property to blame (found by
/// leaving out one property at a time).
pub(super) fn parse_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, NxError> {
    let whole = |message: String| NxError::Invalid {
        message,
        errors: vec![],
    };
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(whole("a JSON request body is required".into()));
    }
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| whole(format!("the request body is not valid JSON: {e}")))?;
    let serde_json::Value::Object(obj) = &value else {
        return Err(whole("the request body must be a JSON object".into()));
    };
    let err = match serde_json::from_value::<T>(value.clone()) {
        Ok(v) => return Ok(v),
        Err(e) => e.to_string(),
    };
    if let Some(name) = err
        .split_once("missing field `")
        .and_then(|(_, rest)| rest.split_once('`'))
        .map(|(n, _)| n)
    {
        return Err(NxError::invalid(name, "is required"));
    }
    for key in obj.keys() {
        let mut without = obj.clone();
        without.remove(key);
        let blames = match serde_json::from_value::<T>(serde_json::Value::Object(without)) {
            Ok(_) => true,
            Err(e) => e.to_string().contains(&format!("missing field `{key}`")),
        };
        if blames {
            return Err(NxError::invalid(key, err));
        }
    }
    Err(whole(err))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::nexudus::User;

    fn property(body: &str) -> Option<String> {
        match parse_body::<User>(body.as_bytes()) {
            Err(NxError::Invalid { errors, .. }) => {
                errors.first().and_then(|e| e.property_name.clone())
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bodies_that_do_not_fit_name_the_property() {
        assert_eq!(
            property(r#"{"Email":"a@x.example"}"#).as_deref(),
            Some("FullName")
        );
        assert_eq!(
            property(r#"{"FullName":"A","Email":"a@x.example","IsAdmin":"yes"}"#).as_deref(),
            Some("IsAdmin")
        );
        assert_eq!(
            property(r#"{"FullName":7,"Email":"a@x.example"}"#).as_deref(),
            Some("FullName")
        );
        assert_eq!(property("[]"), None);
        assert!(parse_body::<User>(br#"{"FullName":"A","Email":"a@x.example","X":1}"#).is_ok());
    }
}
