//! Stage `api`: the partner API of SPEC §7 as seen from the client.
//!
//! [`types`] holds the request/response shapes shared by the client and the sandbox server.

pub mod types;
