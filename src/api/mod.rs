//! Stage `api`, the wire: the partner API's request/response shapes ([`types`], shared by the
//! client and the sandbox server) and the only HTTP client of the program ([`client`]: auth,
//! retry, pagination, idempotency). Imports nothing else of the crate, so the sandbox can share
//! it without depending on planning.

pub mod client;
pub mod types;

pub use client::{ApiError, Client, Request, Token};
