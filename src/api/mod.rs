//! Stage `api`: the partner API's HTTP client ([`client`]: auth, pagination, idempotency),
//! speaking the shapes of [`crate::wire::partner`]; the retry engine every HTTP client of the
//! program sends through ([`retry`]); and the type that holds a credential ([`secret`]).
//! Imports nothing of the crate but `wire`, so the vendors' clients can share it without
//! depending on planning.

pub mod client;
pub mod retry;
#[cfg(test)]
pub(crate) mod scripted;
pub mod secret;

pub use client::{ApiError, Client, Request};
pub use secret::Secret;
