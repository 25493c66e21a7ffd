//! Stored documents: new ids, hashes, and the JSON encoding of the `doc` columns.

use rand::Rng;
use sha2::{Digest, Sha256};

use super::super::error::RequestError;

/// A new random object id such as `acc_0123456789abcdef0123`.
pub(super) fn new_id(prefix: &str) -> String {
    let mut rng = rand::rng();
    let n: u128 = rng.random();
    format!("{prefix}_{:020x}", n >> 48)
}

/// Hex SHA-256.
pub fn sha256_hex(data: &[u8]) -> String {
    format!("{:x}", Sha256::digest(data))
}

/// The JSON document stored for `v`.
pub(super) fn to_doc<T: serde::Serialize>(v: &T) -> Result<String, RequestError> {
    serde_json::to_string(v).map_err(RequestError::internal)
}

/// Decodes a stored JSON document.
pub(super) fn from_doc<T: serde::de::DeserializeOwned>(s: &str) -> Result<T, RequestError> {
    serde_json::from_str(s)
        .map_err(|e| RequestError::internal(format!("corrupt stored document: {e}")))
}
