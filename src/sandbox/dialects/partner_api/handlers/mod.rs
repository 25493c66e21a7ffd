//! The route handlers, one module per resource; here the read-only ones about the partner and
//! the API itself.

pub(super) mod accounts;
pub(super) mod services;
pub(super) mod users;

use std::sync::Arc;

use axum::Json;
use axum::extract::State;

use super::auth::Auth;
use super::state::AppState;
use crate::sandbox::catalog;
use crate::wire::partner::{Health, Limits, Page, Partner, ServiceType};

pub(super) async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
    })
}

pub(super) async fn get_partner(Auth(p): Auth) -> Json<Partner> {
    Json(p.to_wire())
}

pub(super) async fn get_limits(State(st): State<Arc<AppState>>, Auth(_): Auth) -> Json<Limits> {
    Json(Limits {
        reads_per_minute: None,
        writes_per_minute: st.throttle.limit,
    })
}

pub(super) async fn list_service_types(Auth(_): Auth) -> Json<Page<ServiceType>> {
    Json(Page {
        items: catalog::catalog().iter().map(|e| e.info.clone()).collect(),
        next_page_token: None,
    })
}
