//! `/api/sys/businesses`: the reseller's own business, its customers' businesses, network
//! accounts and sub-accounts (`RootLocationId` the parent's). Search, get and `PUT` of the
//! complete record only: businesses are created and deleted in the vendor's dashboard (405).
//! A `PUT` sets `Name`, `Email` (the account's contact email), `ContactEmail`, `CountryId` and
//! `SimpleTimeZoneId` (omitted: cleared); a country or time zone id not in its list is a 400
//! naming the property; `RootLocationId` cannot change; `WebAddress` and `Suspended` are not
//! kept.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::response::Response;

use super::super::auth::Paced;
use super::super::exec::{Said, read, write};
use super::super::lookups;
use super::super::map;
use super::super::query::{self, Spec};
use super::super::reply::{NxError, Props, page};
use super::super::state::NxState;
use super::parse_body;
use crate::sandbox::store::{self, PlaceWrite, SortKey};
use crate::wire::nexudus::{self as wire, Business, Page};

const PROPS: Props = &[
    ("/name", "Name"),
    ("/contact/email", "Email"),
    ("/contact/name", "Email"),
    ("/secondary_email", "ContactEmail"),
    ("/country", "CountryId"),
    ("/timezone", "SimpleTimeZoneId"),
    ("/parent_id", "RootLocationId"),
];

const LIST: Spec = Spec {
    orders: &[
        ("Id", SortKey::Number),
        ("Name", SortKey::Name),
        ("CreatedOn", SortKey::Created),
        ("UpdatedOn", SortKey::Updated),
    ],
    filters: &["Business_RootLocation"],
    batch: false,
};

/// `GET /api/sys/businesses`.
pub(in super::super) async fn list(
    State(st): State<Arc<NxState>>,
    Paced(p): Paced,
    q: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Json<Page<Business>>, NxError> {
    let q = query::parse(q, &LIST)?;
    let root = q.id_filter("Business_RootLocation")?;
    let (pp, slice) = (p.clone(), q.slice);
    let listed = read(&st, move |c| store::list_places(c, &pp, root, slice)).await?;
    Ok(Json(page(&q.ask, listed, |x| map::business(&p, x))))
}

/// `GET /api/sys/businesses/{id}`.
pub(in super::super) async fn get(
    State(st): State<Arc<NxState>>,
    Paced(p): Paced,
    Path(id): Path<i64>,
) -> Result<Json<Business>, NxError> {
    let pp = p.clone();
    let place = read(&st, move |c| store::get_place(c, &pp, id))
        .await?
        .ok_or_else(|| NxError::NotFound(format!("no business {id}")))?;
    Ok(Json(map::business(&p, place)))
}

/// `PUT /api/sys/businesses`: the complete record, its `Id` in the body.
pub(in super::super) async fn replace(
    State(st): State<Arc<NxState>>,
    Paced(p): Paced,
    body: Bytes,
) -> Result<Response, NxError> {
    let b = parse_body::<Business>(&body)?;
    let id = b.id;
    if id <= 0 {
        return Err(NxError::invalid("Id", "the record's Id is required"));
    }
    st.check_name("Name", &b.name)?;
    let w = PlaceWrite {
        name: b.name,
        contact_email: b.email,
        secondary_email: b.contact_email,
        country: known(
            b.country_id,
            "CountryId",
            wire::COUNTRIES,
            lookups::country_code,
        )?,
        timezone: known(
            b.simple_time_zone_id,
            "SimpleTimeZoneId",
            wire::TIME_ZONES,
            lookups::time_zone_name,
        )?,
        parent_number: b.root_location_id,
    };
    let said = Said {
        entity: "Business",
        verb: "updated",
        props: PROPS,
    };
    write(&st, p, said, move |tx, p| {
        store::replace_place(tx, p, id, w).map(|_| id)
    })
    .await
}

/// What the id in `property` stands for, by `lookup` (`None` stays `None`); an id that is not in
/// the list at `list` is a 400 naming the property.
fn known(
    id: Option<i64>,
    property: &str,
    list: &str,
    lookup: fn(i64) -> Option<&'static str>,
) -> Result<Option<String>, NxError> {
    id.map(|id| {
        lookup(id)
            .map(str::to_string)
            .ok_or_else(|| NxError::invalid(property, format!("{id} is not an Id of {list}")))
    })
    .transpose()
}
