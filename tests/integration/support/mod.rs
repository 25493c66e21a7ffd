//! Test harness: runs the real `partnerctl` binary as a sandbox server on `127.0.0.1:0`, talks
//! to it over HTTP, and validates every response body against `schemas/openapi.yaml`.
//!
//! - [`cli`]: running the binary.
//! - [`sandbox`]: starting and stopping a real sandbox, and its admin commands.
//! - [`api`]: the HTTP client of one partner.
//! - [`contract`]: checking responses against the OpenAPI document.

pub mod api;
pub mod cli;
pub mod contract;
pub mod sandbox;

pub use api::{Api, LISTS, customer_body};
pub use contract::assert_valid;
pub use sandbox::Sandbox;
