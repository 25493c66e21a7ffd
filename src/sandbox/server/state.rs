//! What every handler shares: the store, the knobs and the token cache.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::super::store::{PartnerRow, Store};
use super::ServeOptions;
use super::knobs::{Faults, Throttle};

/// The server's state.
pub(super) struct AppState {
    pub(super) store: Arc<Store>,
    /// Added to every request.
    pub(super) latency: Duration,
    pub(super) throttle: Throttle,
    pub(super) faults: Faults,
    /// Partners by bearer token, as looked up so far.
    pub(super) tokens: Mutex<HashMap<String, PartnerRow>>,
}

impl AppState {
    pub(super) fn new(store: Store, o: &ServeOptions) -> Self {
        AppState {
            store: Arc::new(store),
            latency: o.latency,
            throttle: Throttle::new(o.write_limit, o.throttle_status),
            faults: Faults::new(o.fail_rate, o.seed),
            tokens: Mutex::new(HashMap::new()),
        }
    }
}
