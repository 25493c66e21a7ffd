//! The Nexudus dialect (`sandbox serve --dialect nexudus`): the Nexudus REST API as
//! [`crate::wire::nexudus`] defines it, over the same store as the partner API.
//!
//! The partner is the reseller (its login from `sandbox partner add --login`), its home the
//! reseller's own business, customers are reseller accounts pointing at their businesses,
//! networks and sub-accounts are businesses under them, users are logins (people) across
//! businesses. Every request is paced by the vendor's rate windows (409 with `Retry-After`
//! and an empty body); `--fail-rate` fails writes as on the partner API.
//!
//! Layout: `auth` (Bearer or Basic, then pacing; signing in with a password), `token`
//! (`POST /api/token`), `lockout` (failed logins, throttled per login), `pace` (the rate
//! windows), `query` (list parameters), `reply` (errors, write results, pages), `map`
//! (store records as wire records), `lookups` (the country and time zone lists businesses point
//! into), `exec` (store calls and failure injection), `state`, and `handlers` per entity.

mod auth;
mod exec;
mod handlers;
mod lockout;
mod lookups;
mod map;
mod pace;
mod query;
mod reply;
mod state;
mod token;

use std::sync::Arc;

use axum::Router;
use axum::middleware;
use axum::routing::{get, post};

use crate::sandbox::server::ServeOptions;
use crate::sandbox::server::knobs::latency_layer;
use crate::sandbox::store::Store;
use crate::wire::nexudus as wire;
use handlers::{businesses, links, reference, users};
use state::NxState;

/// The Nexudus routes over `store`, with the knobs of `opts`.
pub(in crate::sandbox) fn router(store: Arc<Store>, opts: &ServeOptions) -> Router {
    let state = Arc::new(NxState::new(store, opts));
    let by_id = |base: &str| format!("{base}/{{id}}");
    Router::new()
        .route("/healthz", get(handlers::healthz))
        .route(wire::TOKEN, post(token::grant))
        .route(wire::RESELLERS, get(handlers::list_resellers))
        .route(&by_id(wire::RESELLERS), get(handlers::get_reseller))
        .route(
            wire::RESELLER_ACCOUNTS,
            get(links::list).put(links::replace),
        )
        .route(&by_id(wire::RESELLER_ACCOUNTS), get(links::get))
        .route(
            wire::BUSINESSES,
            get(businesses::list).put(businesses::replace),
        )
        .route(&by_id(wire::BUSINESSES), get(businesses::get))
        .route(wire::COUNTRIES, get(reference::list_countries))
        .route(&by_id(wire::COUNTRIES), get(reference::get_country))
        .route(wire::TIME_ZONES, get(reference::list_time_zones))
        .route(&by_id(wire::TIME_ZONES), get(reference::get_time_zone))
        .route(
            wire::USERS,
            get(users::list).post(users::create).put(users::replace),
        )
        .route(&format!("{}/", wire::USERS), get(users::list))
        .route(&by_id(wire::USERS), get(users::get).delete(users::delete))
        .fallback(reply::fallback)
        .layer(middleware::from_fn_with_state(opts.latency, latency_layer))
        .layer(middleware::map_response(reply::error_layer))
        .with_state(state)
}
