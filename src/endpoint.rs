//! Edge: deciding where `plan`/`apply` connect: an explicit endpoint, opened as the provider
//! the command line chose (the provider room builds it: [`ProviderKind::open`]), or the
//! embedded default — a local sandbox in `.partnerctl/sandbox.db`, started in-process on a
//! loopback port and reached through the same HTTP client — which is refused under `CI`.
//! Credentials arrive as [`Secret`]s in the [`Settings`] and are never read from the
//! environment here (clap does). May touch: the `CI` variable, the sandbox database, loopback
//! sockets.

use std::path::PathBuf;

use crate::api::Secret;
use crate::output;
use crate::provider::{Access, AnyProvider, OpenError, ProviderKind, Target};
use crate::sandbox;

/// The time scales a sandbox and the clients can run at: sped up at most a million times,
/// slowed down at most a thousand times (beyond, the rate windows' lengths leave what a clock
/// can hold, or round to nothing).
pub const TIME_SCALES: std::ops::RangeInclusive<f64> = 0.001..=1_000_000.0;

/// A time scale (`--time-scale`, `PARTNERCTL_NEXUDUS_TIME_SCALE`) within [`TIME_SCALES`].
pub fn parse_time_scale(s: &str) -> Result<f64, String> {
    s.trim()
        .parse::<f64>()
        .ok()
        .filter(|f| TIME_SCALES.contains(f))
        .ok_or_else(|| {
            format!(
                "{s:?} is not a time scale between {} and {} (e.g. 60: a minute lasts a second)",
                TIME_SCALES.start(),
                TIME_SCALES.end()
            )
        })
}

/// Where to connect, decided from flags and environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice {
    /// A real (or separately started) API.
    Remote {
        /// Base URL.
        url: String,
    },
    /// The embedded sandbox in this database file.
    Embedded {
        /// Database path.
        db: PathBuf,
    },
}

/// Why no endpoint could be chosen or reached.
#[derive(Debug, thiserror::Error)]
pub enum EndpointError {
    /// `CI` is set and no endpoint is configured.
    #[error(
        "no endpoint configured and CI is set: refusing to run against a local sandbox, since a pipeline whose secret is missing must not \"succeed\" against a local file; set PARTNERCTL_ENDPOINT and PARTNERCTL_TOKEN (or pass --endpoint local to use the sandbox on purpose)"
    )]
    RefusedInCi,
    /// The provider could not be opened (credentials missing, a client not built, an API
    /// the embedded sandbox does not speak).
    #[error(transparent)]
    Open(#[from] OpenError),
    /// The embedded sandbox could not start, or has no partner to use.
    #[error("the embedded sandbox ({db}) cannot be used: {cause}")]
    Sandbox {
        /// Its database.
        db: String,
        /// The cause (in the message, not repeated as a source).
        cause: sandbox::error::Error,
    },
}

/// How to connect: which API, what opening it takes, and whether to say which endpoint is
/// used.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Settings {
    /// Which API the endpoint speaks.
    pub provider: ProviderKind,
    /// Who signs in, the retry policy (`--timeout`, `--read-deadline`) and the API's clock.
    pub access: Access,
    /// No notice about the embedded sandbox on stderr (`-q`).
    pub quiet: bool,
}

/// Which partner of the embedded sandbox to use (a real endpoint's token decides by itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmbeddedPartner<'a> {
    /// The configuration's partner: created when the database holds none yet.
    Config(&'a str),
    /// An existing partner: the named one, or the only one.
    Existing(Option<&'a str>),
}

/// Is `CI` set to something that means "yes"?
pub fn ci_from_env() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && !v.eq_ignore_ascii_case("false"))
}

/// Chooses the endpoint: `--endpoint`/`PARTNERCTL_ENDPOINT` (`local` forces the sandbox), else
/// the embedded sandbox, unless `ci`.
pub fn choose(endpoint: Option<&str>, ci: bool) -> Result<Choice, EndpointError> {
    let db = PathBuf::from(sandbox::DEFAULT_DB);
    match endpoint.map(str::trim).filter(|e| !e.is_empty()) {
        Some("local") => Ok(Choice::Embedded { db }),
        Some(url) => Ok(Choice::Remote {
            url: url.to_string(),
        }),
        None if ci => Err(EndpointError::RefusedInCi),
        None => Ok(Choice::Embedded { db }),
    }
}

/// A connected provider, keeping the embedded sandbox (if any) running while it lives.
pub struct Connection {
    /// The provider.
    pub provider: AnyProvider,
    /// For the output header.
    pub target: Target,
    sandbox: Option<sandbox::server::RunningSandbox>,
}

impl Connection {
    /// Stops the embedded sandbox, if one runs, letting in-flight requests finish.
    pub async fn close(mut self) -> Result<(), sandbox::server::ServeError> {
        if let Some(s) = self.sandbox.take() {
            s.shutdown().await?;
        }
        Ok(())
    }
}

/// Connects: builds the client, and for the embedded default opens the database, creates the
/// config's partner there on first use, and starts the server on a loopback port. Says on
/// stderr when the embedded sandbox is used (unless `settings.quiet`).
pub async fn connect(
    choice: &Choice,
    partner: EmbeddedPartner<'_>,
    settings: &Settings,
) -> Result<Connection, EndpointError> {
    let remote = |url: &str| Target {
        endpoint: url.trim_end_matches('/').to_string(),
        embedded: false,
    };
    let db = match choice {
        Choice::Remote { url } => {
            return Ok(Connection {
                target: remote(url),
                provider: settings.provider.open(url, &settings.access)?,
                sandbox: None,
            });
        }
        Choice::Embedded { db } => db,
    };
    settings.provider.embeddable()?;
    let fail = |cause: sandbox::error::Error| EndpointError::Sandbox {
        db: db.display().to_string(),
        cause,
    };
    let db2 = db.clone();
    let (name, wanted) = match partner {
        EmbeddedPartner::Config(n) => (Some(n.to_string()), true),
        EmbeddedPartner::Existing(n) => (n.map(str::to_string), false),
    };
    let (partner_name, token) = tokio::task::spawn_blocking(move || match (name, wanted) {
        (Some(n), true) => sandbox::ensure_partner_token(&db2, &n).map(|t| (n, t)),
        (n, _) => sandbox::existing_partner_token(&db2, n.as_deref()),
    })
    .await
    .map_err(|e| fail(e.into()))?
    .map_err(fail)?;
    let running = sandbox::server::spawn(sandbox::server::ServeOptions::new(
        "127.0.0.1:0",
        db.clone(),
    ))
    .await
    .map_err(|e| fail(e.into()))?;
    let url = running.url();
    if !settings.quiet {
        output::note(&format!(
            "Using the embedded sandbox ({}) at {url}, partner \"{partner_name}\". Set PARTNERCTL_ENDPOINT and PARTNERCTL_TOKEN to use a real API.",
            db.display()
        ));
    }
    // The sandbox's own token for its partner, whatever the options said.
    let mut access = settings.access.clone();
    access.credentials.token = Some(Secret::new(token));
    Ok(Connection {
        target: Target {
            endpoint: url.clone(),
            embedded: true,
        },
        provider: settings.provider.open(&url, &access)?,
        sandbox: Some(running),
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::api::retry::Policy;

    #[test]
    fn the_read_deadline_fits_one_request_with_its_retries() {
        let s = Settings::default();
        assert_eq!(s.access.policy.read_deadline(), Duration::from_secs(240));
        let quick = Policy {
            timeout: Duration::from_secs(1),
            ..Policy::default()
        };
        assert_eq!(quick.read_deadline(), Duration::from_secs(8));
    }

    #[test]
    fn time_scales_are_bounded() {
        assert_eq!(parse_time_scale("60"), Ok(60.0));
        assert_eq!(parse_time_scale(" 0.5 "), Ok(0.5));
        for bad in [
            "0", "-1", "1e-300", "1e300", "inf", "NaN", "x", "0.0009", "1000001",
        ] {
            let e = parse_time_scale(bad).unwrap_err();
            assert!(e.contains("between 0.001 and 1000000"), "{bad}: {e}");
        }
    }

    #[test]
    fn choice_rules() {
        assert!(matches!(choose(None, false), Ok(Choice::Embedded { .. })));
        assert!(matches!(
            choose(None, true),
            Err(EndpointError::RefusedInCi)
        ));
        assert!(matches!(
            choose(Some(""), true),
            Err(EndpointError::RefusedInCi)
        ));
        assert!(matches!(
            choose(Some("local"), true),
            Ok(Choice::Embedded { .. })
        ));
        assert_eq!(
            choose(Some("https://api.example.com"), true).unwrap(),
            Choice::Remote {
                url: "https://api.example.com".into()
            }
        );
    }
}
