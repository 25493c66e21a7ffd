//! What every handler shares: the store, the knobs and the token cache.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::throttle::Throttle;
use crate::sandbox::error::RequestError;
use crate::sandbox::server::ServeOptions;
use crate::sandbox::server::knobs::Faults;
use crate::sandbox::store::{PartnerRow, Store};
use crate::wire::partner::FieldError;

/// The server's state.
pub(super) struct AppState {
    pub(super) store: Arc<Store>,
    pub(super) throttle: Throttle,
    pub(super) faults: Faults,
    /// `--max-name-chars`.
    pub(super) max_name_chars: Option<usize>,
    /// Partners by bearer token, as looked up so far.
    pub(super) tokens: Mutex<HashMap<String, PartnerRow>>,
}

impl AppState {
    /// `--max-name-chars`: 400 for a `name` longer than the stricter limit.
    pub(super) fn check_name(&self, name: Option<&str>) -> Result<(), RequestError> {
        match (self.max_name_chars, name) {
            (Some(max), Some(n)) if n.chars().count() > max => {
                Err(RequestError::validation(vec![FieldError {
                    pointer: "/name".into(),
                    message: format!("must be at most {max} characters"),
                }]))
            }
            _ => Ok(()),
        }
    }

    pub(super) fn new(store: Arc<Store>, o: &ServeOptions) -> Self {
        AppState {
            store,
            throttle: Throttle::new(o.write_limit, o.throttle_status),
            faults: Faults::new(o.fail_rate, o.seed),
            max_name_chars: o.max_name_chars,
            tokens: Mutex::new(HashMap::new()),
        }
    }
}
