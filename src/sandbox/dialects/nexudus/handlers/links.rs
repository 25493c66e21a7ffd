//! `/api/sys/reselleraccounts`: the reseller's customers, each pointing at its business.
//! Search, get and `PUT` of the complete record: `Notes`, `ScopeOfWork` and
//! `ProvidesFirstLineSupport` are the reseller's to write (omitted: cleared); the business and
//! `CanManageAccount` are the customer's (a change is refused). Customers are added in the
//! vendor's dashboard, so `POST` and `DELETE` are 405.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::response::Response;

use super::super::auth::Paced;
use super::super::exec::{Said, read, write};
use super::super::map;
use super::super::query::{self, Spec};
use super::super::reply::{NxError, Props, page};
use super::super::state::NxState;
use super::parse_body;
use crate::sandbox::store::{self, Link, SortKey};
use crate::wire::nexudus::{Page, ResellerAccount};

const PROPS: Props = &[("/business_id", "BusinessId")];

const LIST: Spec = Spec {
    orders: &[
        ("Id", SortKey::Number),
        ("BusinessName", SortKey::Name),
        ("CreatedOn", SortKey::Created),
        ("UpdatedOn", SortKey::Updated),
    ],
    filters: &["ResellerAccount_Business", "ResellerAccount_Reseller"],
    batch: false,
};

/// `GET /api/sys/reselleraccounts`.
pub(in super::super) async fn list(
    State(st): State<Arc<NxState>>,
    Paced(p): Paced,
    q: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Json<Page<ResellerAccount>>, NxError> {
    let q = query::parse(q, &LIST)?;
    let business = q.id_filter("ResellerAccount_Business")?;
    let of_reseller = q.id_filter("ResellerAccount_Reseller")?;
    let (pp, slice) = (p.clone(), q.slice);
    let (home, listed) = read(&st, move |c| {
        Ok((
            store::home(c, &pp)?,
            store::list_links(c, &pp, business, slice)?,
        ))
    })
    .await?;
    let reseller = home.partner_number;
    // Another reseller's accounts are never visible: filtering by one gives none.
    let listed = match of_reseller {
        Some(r) if r != reseller => store::Listed {
            rows: Vec::new(),
            total: 0,
        },
        _ => listed,
    };
    Ok(Json(page(&q.ask, listed, |l| {
        map::reseller_account(&p, reseller, l)
    })))
}

/// `GET /api/sys/reselleraccounts/{id}`.
pub(in super::super) async fn get(
    State(st): State<Arc<NxState>>,
    Paced(p): Paced,
    Path(id): Path<i64>,
) -> Result<Json<ResellerAccount>, NxError> {
    let pp = p.clone();
    let (home, link) = read(&st, move |c| {
        Ok((store::home(c, &pp)?, store::get_link(c, &pp, id)?))
    })
    .await?;
    let link = link.ok_or_else(|| NxError::NotFound(format!("no reseller account {id}")))?;
    Ok(Json(map::reseller_account(&p, home.partner_number, link)))
}

/// `PUT /api/sys/reselleraccounts`: the complete record, its `Id` in the body.
pub(in super::super) async fn replace(
    State(st): State<Arc<NxState>>,
    Paced(p): Paced,
    body: Bytes,
) -> Result<Response, NxError> {
    let r = parse_body::<ResellerAccount>(&body)?;
    if r.id <= 0 {
        return Err(NxError::invalid("Id", "the record's Id is required"));
    }
    let said = Said {
        entity: "ResellerAccount",
        verb: "updated",
        props: PROPS,
    };
    write(&st, p, said, move |tx, p| {
        if r.reseller_id != store::home(tx, p)?.partner_number {
            return Err(crate::sandbox::error::RequestError::field(
                "/reseller_id",
                "the reseller of an account cannot be changed",
            ));
        }
        let w = Link {
            number: r.id,
            business_number: r.business_id,
            business_name: r.business_name,
            manageable: r.can_manage_account,
            notes: r.notes,
            scope_of_work: r.scope_of_work,
            first_line_support: r.provides_first_line_support,
            created_at: r.created_on,
            updated_at: r.updated_on,
        };
        store::replace_link(tx, p, w).map(|l| l.number)
    })
    .await
}
