//! partnerctl: manage a SaaS partner/reseller account hierarchy as code.
//!
//! Data flows through one module per stage (SPEC §9):
//! [`config`] (desired state) → [`api`] (HTTP types and client) → plan → apply → render.
//! [`sandbox`] is the local implementation of the partner API; it shares only
//! [`api::types`] with the client side.

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
