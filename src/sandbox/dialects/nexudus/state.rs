//! What the Nexudus dialect's handlers share: the store, the pacer, the failed logins, the
//! failure injection, the name limit and the cache of resolved credentials.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::lockout::Lockout;
use super::pace::Pacer;
use super::reply::NxError;
use crate::sandbox::server::ServeOptions;
use crate::sandbox::server::knobs::{Chance, Faults};
use crate::sandbox::store::{PartnerRow, Store};

/// The dialect's state.
pub(super) struct NxState {
    pub(super) store: Arc<Store>,
    pub(super) pacer: Pacer,
    /// Failed logins, per login.
    pub(super) lockout: Lockout,
    /// Password checks running at once (each holds Argon2id's memory for its time).
    pub(super) hashing: tokio::sync::Semaphore,
    /// `--time-scale`: a token's lifetime is divided by it too.
    pub(super) time_scale: f64,
    pub(super) faults: Faults,
    /// `--conflict-rate`: writes refused as a conflict (drawn apart from `faults`).
    pub(super) conflicts: Chance,
    /// `--max-name-chars`.
    max_name_chars: Option<usize>,
    /// Partners by credential (`Bearer …` of a token that never expires, or a hash of
    /// `Basic …`), as looked up so far.
    pub(super) logins: Mutex<HashMap<String, PartnerRow>>,
}

impl NxState {
    pub(super) fn new(store: Arc<Store>, o: &ServeOptions) -> Self {
        NxState {
            store,
            pacer: Pacer::new(o.pacing),
            lockout: Lockout::new(o.pacing.time_scale),
            hashing: tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(2, |n| n.get()),
            ),
            time_scale: o.pacing.time_scale,
            faults: Faults::new(o.fail_rate, o.seed),
            conflicts: Chance::new(o.conflict_rate, o.seed.wrapping_add(1)),
            max_name_chars: o.max_name_chars,
            logins: Mutex::new(HashMap::new()),
        }
    }

    /// `--max-name-chars`: 400 for a `property` longer than the stricter limit.
    pub(super) fn check_name(&self, property: &str, name: &str) -> Result<(), NxError> {
        match self.max_name_chars {
            Some(max) if name.chars().count() > max => Err(NxError::invalid(
                property,
                format!("must be at most {max} characters"),
            )),
            _ => Ok(()),
        }
    }
}
