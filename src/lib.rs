//! partnerctl: manage a SaaS partner/reseller account hierarchy as code.
//!
//! Data flows through one module per stage, and imports only go down this order (the test
//! `tests/integration/layers.rs` reads every `crate::` path and fails otherwise):
//!
//! - [`vocab`]: the shared words and field rules; imports nothing.
//! - [`api`]: the wire (request/response types, the HTTP client); imports nothing else.
//! - [`config`] (desired state) and [`live`] (the live snapshot): import `vocab`.
//! - [`plan`]: pure diff of desired × live into typed operations; imports config, live, vocab.
//! - [`provider`]: the boundary to a vendor's API and its implementations; imports api, live,
//!   plan.
//! - [`apply`] (the DAG walk through a provider), [`render`] (text, JSON, markdown) and
//!   [`export`] (live state as configuration).
//! - [`sandbox`]: the local implementation of the partner API; imports only `api::types` and
//!   `vocab`.
//! - The edge: [`cli`], [`endpoint`], [`output`]; [`testkit`] for tests and benchmarks.

pub mod access;
pub mod api;
pub mod apply;
pub mod cli;
pub mod config;
pub mod endpoint;
pub mod export;
pub mod live;
pub mod output;
pub mod plan;
pub mod provider;
pub mod render;
pub mod sandbox;
#[doc(hidden)]
pub mod testkit;
pub mod vocab;
