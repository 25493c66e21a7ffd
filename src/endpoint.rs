//! Edge: deciding where `plan`/`apply` connect: an explicit endpoint with a token, or
//! the embedded default — a local sandbox in `.partnerctl/sandbox.db`, started in-process on a
//! loopback port and reached through the same HTTP client — which is refused under `CI`.
//! May touch: environment-derived settings, the sandbox database, loopback sockets.

use std::path::PathBuf;
use std::time::Duration;

use crate::api::retry::{DEFAULT_TIMEOUT, Policy as RetryPolicy};
use crate::api::{Client, Secret as Token};
use crate::output;
use crate::provider::nexudus::NexudusProvider;
use crate::provider::nexudus::client::{Credentials, Settings as NexudusSettings};
use crate::provider::nexudus::error::NexudusError;
use crate::provider::{AnyProvider, HttpProvider, Target};
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
    /// A remote endpoint without a token.
    #[error("no API token for {url}: set PARTNERCTL_TOKEN (or pass --token)")]
    NoToken {
        /// The endpoint.
        url: String,
    },
    /// The client could not be built.
    #[error(transparent)]
    Api(#[from] crate::api::ApiError),
    /// The Nexudus client could not be built.
    #[error(transparent)]
    Nexudus(#[from] NexudusError),
    /// The Nexudus provider without a login.
    #[error(
        "no Nexudus login for {url}: set NEXUDUS_USERNAME and NEXUDUS_PASSWORD (and NEXUDUS_TOTP when two-factor sign-in is on), or a bearer token in PARTNERCTL_TOKEN"
    )]
    NoNexudusLogin {
        /// The endpoint.
        url: String,
    },
    /// The Nexudus provider without an endpoint.
    #[error(
        "the nexudus provider needs an endpoint: set PARTNERCTL_ENDPOINT to the Nexudus API (https://spaces.nexudus.com), or to a local `partnerctl sandbox serve --dialect nexudus`"
    )]
    NexudusNeedsEndpoint,
    /// The embedded sandbox could not start, or has no partner to use.
    #[error("the embedded sandbox ({db}) cannot be used: {cause}")]
    Sandbox {
        /// Its database.
        db: String,
        /// The cause (in the message, not repeated as a source).
        cause: sandbox::error::Error,
    },
}

/// Which API an endpoint speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ProviderKind {
    /// The partner API contract.
    #[default]
    Http,
    /// The Nexudus REST API.
    Nexudus,
}

impl ProviderKind {
    /// What the provider's API can do, known without connecting (for offline checks such as
    /// `validate`).
    pub fn capabilities(self) -> crate::plan::Capabilities {
        match self {
            ProviderKind::Http => crate::plan::Capabilities::full(),
            ProviderKind::Nexudus => NexudusProvider::api_capabilities(),
        }
    }
}

/// How patient to be with the endpoint, and whether to say which one is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// Which API the endpoint speaks.
    pub provider: ProviderKind,
    /// Longest wait for one request, connecting included (`--timeout`).
    pub timeout: Duration,
    /// Longest time for reading the live state (`--read-deadline`); `None`: the timeout times
    /// the attempts, so that one request's retries fit in it.
    pub read_deadline: Option<Duration>,
    /// No notice about the embedded sandbox on stderr (`-q`).
    pub quiet: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            timeout: DEFAULT_TIMEOUT,
            read_deadline: None,
            quiet: false,
            provider: ProviderKind::Http,
        }
    }
}

impl Settings {
    /// The client's retry policy: the default one with this timeout.
    pub fn policy(&self) -> RetryPolicy {
        RetryPolicy {
            timeout: self.timeout,
            ..RetryPolicy::default()
        }
    }

    /// The read deadline in effect: as given, or the timeout times the attempts.
    pub fn read_deadline(&self) -> Duration {
        self.read_deadline
            .unwrap_or_else(|| self.timeout.saturating_mul(self.policy().attempts))
    }

    fn provider(&self, client: Client) -> AnyProvider {
        AnyProvider::Http(HttpProvider::new(client).with_read_deadline(self.read_deadline()))
    }

    /// The Nexudus provider for `url`, signing in with the login in the environment
    /// (`NEXUDUS_USERNAME`, `NEXUDUS_PASSWORD`, `NEXUDUS_TOTP`) or with `token`.
    fn nexudus(&self, url: &str, token: Option<&str>) -> Result<AnyProvider, EndpointError> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let credentials = match (var("NEXUDUS_USERNAME"), var("NEXUDUS_PASSWORD"), token) {
            (Some(username), Some(password), _) => Credentials::Login {
                username,
                password: Token::new(password),
                totp: var("NEXUDUS_TOTP").map(Token::new),
            },
            (_, _, Some(t)) if !t.is_empty() => Credentials::Token(Token::new(t)),
            _ => return Err(EndpointError::NoNexudusLogin { url: url.into() }),
        };
        // A test knob: a sandbox started with --time-scale F runs F times faster.
        let time_scale = match var("PARTNERCTL_NEXUDUS_TIME_SCALE") {
            None => 1.0,
            Some(v) => parse_time_scale(&v).map_err(|e| {
                EndpointError::Nexudus(NexudusError::Setup(format!(
                    "PARTNERCTL_NEXUDUS_TIME_SCALE: {e}"
                )))
            })?,
        };
        let settings = NexudusSettings {
            policy: self.policy(),
            time_scale,
        };
        let p = NexudusProvider::new(url, credentials, settings)?;
        Ok(AnyProvider::Nexudus(
            p.with_read_deadline(self.read_deadline()),
        ))
    }
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
    token: Option<&str>,
    partner: EmbeddedPartner<'_>,
    settings: &Settings,
) -> Result<Connection, EndpointError> {
    match (choice, settings.provider) {
        (Choice::Remote { url }, ProviderKind::Nexudus) => Ok(Connection {
            target: Target {
                endpoint: url.trim_end_matches('/').to_string(),
                embedded: false,
            },
            provider: settings.nexudus(url, token)?,
            sandbox: None,
        }),
        (Choice::Embedded { .. }, ProviderKind::Nexudus) => {
            Err(EndpointError::NexudusNeedsEndpoint)
        }
        (Choice::Remote { url }, ProviderKind::Http) => {
            let token = token
                .filter(|t| !t.is_empty())
                .ok_or_else(|| EndpointError::NoToken { url: url.clone() })?;
            let client = Client::with_policy(url, Token::new(token), settings.policy())?;
            Ok(Connection {
                target: Target {
                    endpoint: url.trim_end_matches('/').to_string(),
                    embedded: false,
                },
                provider: settings.provider(client),
                sandbox: None,
            })
        }
        (Choice::Embedded { db }, ProviderKind::Http) => {
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
            let client = Client::with_policy(&url, Token::new(token), settings.policy())?;
            Ok(Connection {
                target: Target {
                    endpoint: url,
                    embedded: true,
                },
                provider: settings.provider(client),
                sandbox: Some(running),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_read_deadline_fits_one_request_with_its_retries() {
        let s = Settings::default();
        assert_eq!(s.read_deadline(), Duration::from_secs(240));
        let s = Settings {
            timeout: Duration::from_secs(1),
            ..Settings::default()
        };
        assert_eq!(s.read_deadline(), Duration::from_secs(8));
        assert_eq!(s.policy().timeout, Duration::from_secs(1));
        let s = Settings {
            read_deadline: Some(Duration::from_secs(600)),
            ..s
        };
        assert_eq!(s.read_deadline(), Duration::from_secs(600));
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
