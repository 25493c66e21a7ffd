//! Stage `api`, the wire: the partner API's request/response shapes ([`types`], shared by the
//! client and the sandbox server), the only HTTP client of the partner API ([`client`]: auth,
//! pagination, idempotency), the retry engine every HTTP client of the program sends through
//! ([`retry`]), and the type that holds a credential ([`secret`]). Imports nothing else of the
//! crate, so the sandbox and the vendors' clients can share it without depending on planning.

pub mod client;
pub mod retry;
#[cfg(test)]
pub(crate) mod scripted;
pub mod secret;
pub mod types;

pub use client::{ApiError, Client, Request};
pub use secret::Secret;
