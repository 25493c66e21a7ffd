//! Stage `api`: the partner API of SPEC §7 as seen from the client.
//!
//! [`types`] holds the request/response shapes shared by the client and the sandbox server;
//! [`client`] is the only HTTP client of the program; [`provider`] reads live snapshots through it.

pub mod client;
pub mod provider;
pub mod types;

pub use client::{ApiError, Client, Token};
pub use provider::HttpProvider;
