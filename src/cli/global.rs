//! Edge: what the global options set up beyond parsing: the connection settings (provider,
//! credentials, per-request timeout, read deadline), the diagnostics on stderr (`--log-format text|json`, `-v`/`-q`,
//! `RUST_LOG`) and the final error line.
//! May touch: stderr.

use std::time::Duration;

use clap::ValueEnum;

use super::GlobalArgs;
use crate::{config, endpoint};

/// `--log-format` choices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Lines for people: time, level, message (`-v` adds the structured fields).
    Text,
    /// One JSON object per line (`timestamp`, `level`, `message` and the event's fields).
    Json,
}

/// Parses a positive number of seconds (`30`, `2.5`) for `--timeout` and `--read-deadline`.
pub fn parse_seconds(s: &str) -> Result<Duration, String> {
    let bad = || {
        format!(
            "`{s}` is not a number of seconds greater than 0 (from 0.001 to a day, 86400; such as 30 or 2.5)"
        )
    };
    let secs: f64 = s.trim().parse().map_err(|_| bad())?;
    if !(0.001..=86_400.0).contains(&secs) {
        return Err(bad());
    }
    Duration::try_from_secs_f64(secs).map_err(|_| bad())
}

impl GlobalArgs {
    /// How the commands that talk to the API connect: which API, who signs in, the timeout
    /// and read deadline, and whether to say which endpoint is used.
    pub(super) fn connection(&self) -> endpoint::Settings {
        endpoint::Settings {
            provider: self.provider,
            access: crate::provider::Access {
                credentials: self.credentials.clone(),
                policy: crate::api::retry::Policy {
                    timeout: self.timeout,
                    read_deadline: self.read_deadline,
                    ..crate::api::retry::Policy::default()
                },
                time_scale: self.time_scale,
            },
            quiet: self.quiet,
        }
    }

    /// What the chosen provider (`--provider`, `PARTNERCTL_PROVIDER`; by default the partner
    /// API) needs of a configuration, known without connecting: a provider that stores no
    /// contacts needs no customer's `contact`.
    pub(super) fn needs(&self) -> config::Needs {
        let caps = self.provider.capabilities();
        config::Needs {
            contact: caps.fields.contact,
            one_login: caps.role_scope == crate::plan::RoleScope::Login,
            strict: self.strict,
        }
    }
}

/// Diagnostics go to stderr; `RUST_LOG` wins over `-v`/`-q`. In text, the default verbosity
/// shows each event's message only (its fields are in the message already); `-v` adds the
/// structured fields. In JSON, every event is one object on one line, fields flattened.
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
    let _ = match (g.log_format, g.verbose) {
        (LogFormat::Json, _) => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .try_init(),
        (LogFormat::Text, 0) => builder
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
        (LogFormat::Text, _) => builder.try_init(),
    };
}

/// The line that reports the error ending the command: `error: …` in text; in JSON an object
/// shaped like the log events (written directly, so that no `RUST_LOG` filter can hide it).
pub(super) fn error_line(format: LogFormat, err: &anyhow::Error) -> String {
    let message = format!("{err:#}");
    let message = crate::vocab::rules::escape_hidden_keep_lines(&message);
    match format {
        LogFormat::Text => format!("error: {message}"),
        LogFormat::Json => crate::output::json_line("ERROR", &message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_are_positive_numbers() {
        assert_eq!(parse_seconds("30"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_seconds("2.5"), Ok(Duration::from_millis(2500)));
        assert_eq!(parse_seconds("86400"), Ok(Duration::from_secs(86_400)));
        for bad in [
            "0", "-1", "abc", "inf", "NaN", "", "1e30", "86400.5", "1e-300",
        ] {
            let e = parse_seconds(bad).unwrap_err();
            assert!(e.contains("greater than 0"), "{bad}: {e}");
        }
    }

    #[test]
    fn the_final_error_is_one_json_object_in_json() {
        let err = anyhow::anyhow!("GET /v1/partner: no response within 1 s\nsecond line");
        let text = error_line(LogFormat::Text, &err);
        assert!(text.starts_with("error: GET /v1/partner"), "{text}");
        let json = error_line(LogFormat::Json, &err);
        assert_eq!(json.lines().count(), 1, "{json}");
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["level"], "ERROR");
        assert_eq!(
            v["message"],
            "GET /v1/partner: no response within 1 s\nsecond line"
        );
        assert!(
            v["timestamp"].as_str().is_some_and(|t| t.ends_with('Z')),
            "{v}"
        );
    }
}
