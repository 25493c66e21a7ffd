//! partnerctl: manage a SaaS partner/reseller account hierarchy as code.
//!
//! Data flows through one module per stage, and imports only go down the stage order;
//! `ARCHITECTURE.md` is the map (stages, what each may import, the provider seam, how to add a
//! provider), and the test `tests/integration/layers.rs` enforces it:
//!
//! - [`vocab`] (the shared words) and [`wire`] (each vendor dialect's shapes) at the bottom;
//! - [`api`] (the partner API's HTTP client), [`config`] (desired state), [`live`] (the live
//!   snapshot), [`access`] (who reaches what) and [`export`] (live state as configuration);
//! - [`plan`] (the pure diff, guards, saved plans), [`provider`] (the vendors),
//!   [`apply`] (the DAG walk), [`render`] (text, JSON, markdown);
//! - [`sandbox`] beside the providers (it shares only the wire types);
//! - the edge: [`cli`], [`endpoint`], [`output`]; [`testkit`] for tests and benchmarks.

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
pub mod policy;
pub mod provider;
pub mod render;
pub mod sandbox;
#[doc(hidden)]
pub mod testkit;
pub mod vocab;
pub mod wire;
