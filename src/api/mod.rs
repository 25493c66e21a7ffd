//! Stage `api`: the partner API's HTTP client ([`client`]: auth, retry, pagination,
//! idempotency), speaking the shapes of [`crate::wire::partner`]. Imports nothing else of the
//! crate.

pub mod client;

pub use client::{ApiError, Client, Request, Token};
