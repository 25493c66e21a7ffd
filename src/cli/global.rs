//! Edge: what the global options set up beyond parsing: the connection settings (per-request
//! timeout, read deadline) and the diagnostics on stderr (`-v`/`-q`, `RUST_LOG`).
//! May touch: stderr.

use std::time::Duration;

use super::GlobalArgs;
use crate::endpoint;

/// Parses a positive number of seconds (`30`, `2.5`) for `--timeout` and `--read-deadline`.
pub fn parse_seconds(s: &str) -> Result<Duration, String> {
    let bad = || format!("`{s}` is not a number of seconds greater than 0 (such as 30 or 2.5)");
    let secs: f64 = s.trim().parse().map_err(|_| bad())?;
    if !secs.is_finite() || secs <= 0.0 {
        return Err(bad());
    }
    Duration::try_from_secs_f64(secs).map_err(|_| bad())
}

impl GlobalArgs {
    /// How the commands that talk to the API connect: the timeout and read deadline, and
    /// whether to say which endpoint is used.
    pub(super) fn connection(&self) -> endpoint::Settings {
        endpoint::Settings {
            timeout: self.timeout,
            read_deadline: self.read_deadline,
            quiet: self.quiet,
        }
    }
}

/// Diagnostics go to stderr; `RUST_LOG` wins over `-v`/`-q`. The default verbosity shows each
/// event's message only (its fields are in the message already); `-v` adds the structured
/// fields.
pub(super) fn init_logging(g: &GlobalArgs) {
    let default = match (g.quiet, g.verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, _) => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_target(false);
    let _ = match g.verbose {
        0 => builder
            .fmt_fields(tracing_subscriber::fmt::format::debug_fn(
                |w, field, value| {
                    if field.name() == "message" {
                        write!(w, "{value:?}")
                    } else {
                        Ok(())
                    }
                },
            ))
            .try_init(),
        _ => builder.try_init(),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_are_positive_numbers() {
        assert_eq!(parse_seconds("30"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_seconds("2.5"), Ok(Duration::from_millis(2500)));
        for bad in ["0", "-1", "abc", "inf", "NaN", "", "1e30"] {
            let e = parse_seconds(bad).unwrap_err();
            assert!(e.contains("greater than 0"), "{bad}: {e}");
        }
    }
}
