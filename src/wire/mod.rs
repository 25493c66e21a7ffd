//! Stage `wire`: each vendor dialect's request and response shapes, as its HTTP API has them.
//! A dialect's types are shared by exactly two sides, its provider (the client) and its router
//! in the sandbox (the server), so both speak the same thing and neither depends on the other.
//! Pure data; imports nothing of the crate but `vocab`.
//!
//! - [`partner`]: the partner API (snake_case JSON, RFC 9457 problems, ETags, pagination).
//! - [`nexudus`]: the Nexudus REST API (PascalCase JSON) and how the partner tree maps onto it.

pub mod nexudus;
pub mod partner;
