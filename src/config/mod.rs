//! Stage `config`: the desired state (SPEC §3): model, loading, validation with locations.
//! May touch: the config files it is asked to read. No network.

use std::fmt;
use std::path::PathBuf;

/// Placeholder desired state.
#[derive(Debug, Default)]
pub struct Config;

impl Config {
    /// One-line summary of the counts.
    pub fn counts(&self) -> String {
        String::new()
    }
}

/// Problems found while loading.
#[derive(Debug, Default)]
pub struct Problems(Vec<String>);

impl Problems {
    /// Number of problems.
    pub fn len(&self) -> usize {
        self.0.len()
    }
    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for p in &self.0 {
            writeln!(f, "{p}")?;
        }
        Ok(())
    }
}

/// Loads config paths.
pub fn load(_paths: &[PathBuf]) -> Result<Config, Problems> {
    Ok(Config)
}

/// The JSON Schema.
pub fn schema_json() -> String {
    String::new()
}
