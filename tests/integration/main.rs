//! The integration-test binary: one binary for every suite, so the crate links once.

mod sandbox;
mod support;
