//! `/api/sys/users`: logins (people) with their businesses. Lists leave `Businesses` out; a
//! get by id and a batch get (`?id=[1,2,3]`, an array) fill it. `POST` creates (an invitation
//! per business, the login inactive until accepted), `PUT` replaces the complete record
//! (`Businesses` omitted: none; with `AddedBusinesses` or `RemovedBusinesses` the businesses
//! change by those instead, atomically), `DELETE /{id}` removes the login from every business.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};

use super::super::auth::Paced;
use super::super::exec::{Said, read, write};
use super::super::map;
use super::super::query::{self, Spec};
use super::super::reply::{NxError, Props, page};
use super::super::state::NxState;
use super::parse_body;
use crate::sandbox::store::{self, PersonWrite, Places, SortKey};
use crate::wire::nexudus::User;

const PROPS: Props = &[
    ("/email", "Email"),
    ("/name", "FullName"),
    ("/places", "Businesses"),
];

const LIST: Spec = Spec {
    orders: &[
        ("Id", SortKey::Number),
        ("FullName", SortKey::Name),
        ("Email", SortKey::Email),
        ("CreatedOn", SortKey::Created),
        ("UpdatedOn", SortKey::Updated),
    ],
    filters: &["User_Email"],
    batch: true,
};

/// `GET /api/sys/users`: a page without `Businesses`, or with `id=[…]` an array with them.
pub(in super::super) async fn list(
    State(st): State<Arc<NxState>>,
    Paced(p): Paced,
    q: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, NxError> {
    let q = query::parse(q, &LIST)?;
    if let Some(ids) = q.ids {
        let pp = p.clone();
        let people = read(&st, move |c| store::get_people(c, &pp, &ids)).await?;
        let users: Vec<User> = people.into_iter().map(|x| map::user(&p, x)).collect();
        return Ok(Json(users).into_response());
    }
    let email = q.filter("User_Email").map(str::to_string);
    let (pp, slice) = (p.clone(), q.slice);
    let listed = read(&st, move |c| {
        store::list_people(c, &pp, email.as_deref(), slice)
    })
    .await?;
    Ok(Json(page(&q.ask, listed, |x| map::user(&p, x))).into_response())
}

/// `GET /api/sys/users/{id}`, with `Businesses`.
pub(in super::super) async fn get(
    State(st): State<Arc<NxState>>,
    Paced(p): Paced,
    Path(id): Path<i64>,
) -> Result<Json<User>, NxError> {
    let pp = p.clone();
    let found = read(&st, move |c| store::get_people(c, &pp, &[id])).await?;
    let person = found
        .into_iter()
        .next()
        .ok_or_else(|| NxError::NotFound(format!("no user {id}")))?;
    Ok(Json(map::user(&p, person)))
}

/// The store's write of a wire user: `AddedBusinesses` and `RemovedBusinesses` change the
/// login's businesses when either is given (`Businesses` is then ignored); otherwise
/// `Businesses` replaces them (omitted: none).
fn person_write(st: &NxState, u: User) -> Result<PersonWrite, NxError> {
    st.check_name("FullName", &u.full_name)?;
    let places = match (u.added_businesses, u.removed_businesses) {
        (None, None) => Places::Replace(u.businesses.unwrap_or_default()),
        (added, removed) => Places::Change {
            added: added.unwrap_or_default(),
            removed: removed.unwrap_or_default(),
        },
    };
    Ok(PersonWrite {
        email: u.email,
        full_name: u.full_name,
        admin: u.is_admin,
        places,
    })
}

/// `POST /api/sys/users`.
pub(in super::super) async fn create(
    State(st): State<Arc<NxState>>,
    Paced(p): Paced,
    body: Bytes,
) -> Result<Response, NxError> {
    let w = person_write(&st, parse_body::<User>(&body)?)?;
    let said = Said {
        entity: "User",
        verb: "created",
        props: PROPS,
    };
    write(&st, p, said, move |tx, p| store::create_person(tx, p, w)).await
}

/// `PUT /api/sys/users`: the complete record, its `Id` in the body.
pub(in super::super) async fn replace(
    State(st): State<Arc<NxState>>,
    Paced(p): Paced,
    body: Bytes,
) -> Result<Response, NxError> {
    let u = parse_body::<User>(&body)?;
    let id = u.id;
    if id <= 0 {
        return Err(NxError::invalid("Id", "the record's Id is required"));
    }
    let w = person_write(&st, u)?;
    let said = Said {
        entity: "User",
        verb: "updated",
        props: PROPS,
    };
    write(&st, p, said, move |tx, p| {
        store::replace_person(tx, p, id, w).map(|()| id)
    })
    .await
}

/// `DELETE /api/sys/users/{id}`.
pub(in super::super) async fn delete(
    State(st): State<Arc<NxState>>,
    Paced(p): Paced,
    Path(id): Path<i64>,
) -> Result<Response, NxError> {
    let said = Said {
        entity: "User",
        verb: "deleted",
        props: PROPS,
    };
    write(&st, p, said, move |tx, p| {
        store::delete_person(tx, p, id).map(|()| id)
    })
    .await
}
