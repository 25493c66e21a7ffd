//! The sandbox's dialects: one router per API the sandbox speaks, all over the same store.
//!
//! - `partner_api`: the partner API of `schemas/openapi.yaml` (the default);
//! - `nexudus`: the Nexudus REST API as [`crate::wire::nexudus`] defines it.

pub(super) mod nexudus;
pub(super) mod partner_api;
