//! Test kit, for tests and benchmarks only: the `partnerctl` binary never uses it (hidden from the
//! docs). It builds large fixtures fast:
//!
//! - [`generate`]: configuration files of any [`Scale`] (scale "L" and beyond).
//! - [`seed()`](fn@seed): a whole desired state written straight into a sandbox database, so that a plan
//!   against it is empty.
//!
//! May touch two stages and no other: `config` (it writes configuration text and walks a loaded
//! [`crate::config::Desired`] with [`crate::config::Desired::walk`]) and the sandbox store (it
//! writes through the public functions of [`crate::sandbox::store`], the ones the HTTP handlers
//! use, and so under the same rules).

mod r#gen;
mod seed;

pub use r#gen::{Scale, generate};
pub use seed::{Seeded, seed};
