//! Stage `wire`, the partner API: its request and response shapes, shared by its client
//! ([`crate::api`]) and the sandbox's partner API router. Pure data: no I/O. Imports nothing of
//! the crate.
//!
//! Rooms: `accounts` (accounts, their kinds and contacts), `users` (users, roles, invitations),
//! `services` (services and the catalog), `problem` (the RFC 9457 error body), `paging` (pages,
//! list queries, page sizes); the partner, limits, health and the idempotency headers stay here.
//! Every type is re-exported here, so its path is `wire::partner::X`.
//!
//! Conventions:
//! - JSON field names are snake_case; enums use their wire spelling (`sub_account`). Service
//!   types (`cards`, `mobile-id`, ...) are plain strings, not an enum: the catalog is open.
//! - Response types are lenient (unknown fields are ignored, so the server may add fields);
//!   request bodies are strict (`deny_unknown_fields`), so a typo is a 400, not a silent no-op.
//! - `etag` fields hold the exact strong `ETag` header value, quotes included, so a client can
//!   send it back verbatim in `If-Match`.
//! - Timestamps are RFC 3339 strings in UTC (`2026-01-31T12:00:00.123Z`).

mod accounts;
mod paging;
mod problem;
mod services;
mod users;

use serde::{Deserialize, Serialize};

pub use accounts::{Account, AccountCreate, AccountKind, AccountPatch, Contact};
pub use paging::{
    AccountListQuery, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Page, ServiceListQuery, UserListQuery,
};
pub use problem::{FieldError, PROBLEM_CONTENT_TYPE, Problem};
pub use services::{Service, ServicePut, ServiceType};
pub use users::{Role, User, UserInvite, UserPatch, UserStatus};

/// Request header carrying the client's idempotency key on POST.
pub const IDEMPOTENCY_KEY_HEADER: &str = "idempotency-key";
/// Response header set (to `true`) when a POST was answered from the idempotency store.
pub const IDEMPOTENT_REPLAYED_HEADER: &str = "idempotent-replayed";

/// The partner that owns the API token (`GET /v1/partner`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Partner {
    /// Opaque id. Customers' `parent_id` is this id; users can be invited on it.
    pub id: String,
    /// Display name (the config's `partner.name` must equal it).
    pub name: String,
    /// `false`: customers may be created, but nothing inside a customer may be changed, and no
    /// customer deleted.
    pub manageable: bool,
    /// The support level agreed with the vendor (`none` while not manageable).
    pub support_level: String,
}

/// Request and write limits reported by `GET /v1/limits` (`null`: not limited).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Read requests per minute, if limited.
    pub reads_per_minute: Option<u32>,
    /// Write requests (POST, PUT, PATCH, DELETE) per minute, if limited.
    pub writes_per_minute: Option<u32>,
}

/// `GET /healthz`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    /// Always `ok` when the server answers.
    pub status: String,
}
