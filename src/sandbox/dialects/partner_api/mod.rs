//! The partner API dialect (`sandbox serve --dialect partner-api`, the default): the contract
//! of `schemas/openapi.yaml` over the store.
//!
//! Layout: `state` (what handlers share), `auth` (bearer tokens), `request`/`reply` (reading
//! bodies and headers, writing responses), `exec` (store calls: reads, and writes with
//! throttle, failure injection and idempotency), `throttle` (`--write-limit`), `problems`
//! (every error as problem+json), `handlers` (one module per resource).

mod auth;
mod exec;
mod handlers;
mod problems;
mod reply;
mod request;
mod state;
mod throttle;

use std::sync::Arc;

use axum::Router;
use axum::middleware;
use axum::routing::{get, post};

use crate::sandbox::server::ServeOptions;
use crate::sandbox::server::knobs::latency_layer;
use crate::sandbox::store::Store;
use handlers::{accounts, services, users};
use state::AppState;

/// The partner API's routes over `store`, with the knobs of `opts`.
pub(in crate::sandbox) fn router(store: Arc<Store>, opts: &ServeOptions) -> Router {
    let state = Arc::new(AppState::new(store, opts));
    Router::new()
        .route("/healthz", get(handlers::healthz))
        .route("/v1/partner", get(handlers::get_partner))
        .route("/v1/limits", get(handlers::get_limits))
        .route("/v1/service-types", get(handlers::list_service_types))
        .route(
            "/v1/accounts",
            get(accounts::list_accounts).post(accounts::create_account),
        )
        .route(
            "/v1/accounts/{id}",
            get(accounts::get_account)
                .patch(accounts::patch_account)
                .delete(accounts::delete_account),
        )
        .route("/v1/accounts/{id}/users", post(users::invite_user))
        .route("/v1/users", get(users::list_users))
        .route(
            "/v1/users/{id}",
            get(users::get_user)
                .patch(users::patch_user)
                .delete(users::delete_user),
        )
        .route("/v1/users/{id}/resend", post(users::resend_user))
        .route("/v1/services", get(services::list_services))
        .route(
            "/v1/accounts/{id}/services/{type}",
            get(services::get_service)
                .put(services::put_service)
                .delete(services::delete_service),
        )
        .fallback(problems::fallback)
        .layer(middleware::from_fn_with_state(opts.latency, latency_layer))
        .layer(middleware::map_response(problems::problem_layer))
        .with_state(state)
}
