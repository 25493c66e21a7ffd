//! Edge: deciding where `plan`/`apply` connect: an explicit endpoint with the credentials the
//! command line passed down (a token, or a Nexudus login), or the embedded default — a local
//! sandbox in `.partnerctl/sandbox.db`, started in-process on a loopback port and reached
//! through the same HTTP client — which is refused under `CI`. Credentials arrive as
//! [`Secret`]s in the [`Settings`] and are never read from the environment here (clap does).
//! May touch: the `CI` and time-scale variables, the sandbox database, loopback sockets.

use std::path::PathBuf;

use crate::api::retry::Policy;
use crate::api::{Client, Secret};
use crate::output;
use crate::provider::nexudus::NexudusProvider;
use crate::provider::nexudus::client::{
    Credentials as NexudusCredentials, Settings as NexudusSettings,
};
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

/// Who signs in: what the API options (or their environment variables) gave. `Debug` shows no
/// secret.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    /// The API token (`--token`, `PARTNERCTL_TOKEN`); for Nexudus, a bearer token.
    pub token: Option<Secret>,
    /// The Nexudus login's email (`NEXUDUS_USERNAME`).
    pub nexudus_username: Option<String>,
    /// Its password (`NEXUDUS_PASSWORD`).
    pub nexudus_password: Option<Secret>,
    /// The current one-time code, when two-factor sign-in is on (`NEXUDUS_TOTP`).
    pub nexudus_totp: Option<Secret>,
}

/// How to connect: which API, who signs in, how patient to be, and whether to say which
/// endpoint is used.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Which API the endpoint speaks.
    pub provider: ProviderKind,
    /// The retry policy: the longest wait for one request, connecting included
    /// (`--timeout`), and for reading the live state (`--read-deadline`).
    pub policy: Policy,
    /// No notice about the embedded sandbox on stderr (`-q`).
    pub quiet: bool,
    /// Who signs in.
    pub credentials: Credentials,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            provider: ProviderKind::Http,
            policy: Policy::default(),
            quiet: false,
            credentials: Credentials::default(),
        }
    }
}

/// A secret that says something (an empty variable counts as none).
fn given(secret: Option<&Secret>) -> Option<&Secret> {
    secret.filter(|s| !s.is_empty())
}

impl Settings {
    fn provider(&self, client: Client) -> AnyProvider {
        AnyProvider::Http(HttpProvider::new(client).with_read_deadline(self.policy.read_deadline()))
    }

    /// How the Nexudus provider signs in: the login (username and password, with the one-time
    /// code when given), else the token.
    fn nexudus_credentials(&self, url: &str) -> Result<NexudusCredentials, EndpointError> {
        let c = &self.credentials;
        let username = c.nexudus_username.as_ref().filter(|u| !u.is_empty());
        match (
            username,
            given(c.nexudus_password.as_ref()),
            given(c.token.as_ref()),
        ) {
            (Some(username), Some(password), _) => Ok(NexudusCredentials::Login {
                username: username.clone(),
                password: password.clone(),
                totp: given(c.nexudus_totp.as_ref()).cloned(),
            }),
            (_, _, Some(token)) => Ok(NexudusCredentials::Token(token.clone())),
            _ => Err(EndpointError::NoNexudusLogin { url: url.into() }),
        }
    }

    /// The Nexudus provider for `url`.
    fn nexudus(&self, url: &str) -> Result<AnyProvider, EndpointError> {
        let credentials = self.nexudus_credentials(url)?;
        // A test knob: a sandbox started with --time-scale F runs F times faster.
        let time_scale = match std::env::var("PARTNERCTL_NEXUDUS_TIME_SCALE")
            .ok()
            .filter(|v| !v.is_empty())
        {
            None => 1.0,
            Some(v) => parse_time_scale(&v).map_err(|e| {
                EndpointError::Nexudus(NexudusError::Setup(format!(
                    "PARTNERCTL_NEXUDUS_TIME_SCALE: {e}"
                )))
            })?,
        };
        let settings = NexudusSettings {
            policy: self.policy,
            time_scale,
        };
        let p = NexudusProvider::new(url, credentials, settings)?;
        Ok(AnyProvider::Nexudus(
            p.with_read_deadline(self.policy.read_deadline()),
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
    partner: EmbeddedPartner<'_>,
    settings: &Settings,
) -> Result<Connection, EndpointError> {
    match (choice, settings.provider) {
        (Choice::Remote { url }, ProviderKind::Nexudus) => Ok(Connection {
            target: Target {
                endpoint: url.trim_end_matches('/').to_string(),
                embedded: false,
            },
            provider: settings.nexudus(url)?,
            sandbox: None,
        }),
        (Choice::Embedded { .. }, ProviderKind::Nexudus) => {
            Err(EndpointError::NexudusNeedsEndpoint)
        }
        (Choice::Remote { url }, ProviderKind::Http) => {
            let token = given(settings.credentials.token.as_ref())
                .ok_or_else(|| EndpointError::NoToken { url: url.clone() })?;
            let client = Client::with_policy(url, token.clone(), settings.policy)?;
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
            let client = Client::with_policy(&url, Secret::new(token), settings.policy)?;
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
    use std::time::Duration;

    use super::*;

    #[test]
    fn the_read_deadline_fits_one_request_with_its_retries() {
        let s = Settings::default();
        assert_eq!(s.policy.read_deadline(), Duration::from_secs(240));
        let quick = Policy {
            timeout: Duration::from_secs(1),
            ..Policy::default()
        };
        assert_eq!(quick.read_deadline(), Duration::from_secs(8));
    }

    fn with(credentials: Credentials) -> Settings {
        Settings {
            provider: ProviderKind::Nexudus,
            credentials,
            ..Settings::default()
        }
    }

    #[test]
    fn nexudus_signs_in_with_the_login_else_the_token() {
        let login = Credentials {
            token: Some(Secret::new("tok")),
            nexudus_username: Some("ops@acme.example".into()),
            nexudus_password: Some(Secret::new("pw")),
            nexudus_totp: Some(Secret::new("123456")),
        };
        match with(login.clone()).nexudus_credentials("u").unwrap() {
            NexudusCredentials::Login {
                username,
                password,
                totp,
            } => {
                assert_eq!(username, "ops@acme.example");
                assert_eq!(password.expose(), "pw");
                assert_eq!(
                    totp.map(|t| t.expose().to_string()).as_deref(),
                    Some("123456")
                );
            }
            other => panic!("{other:?}"),
        }
        // An empty one-time code is none.
        let no_code = Credentials {
            nexudus_totp: Some(Secret::new("")),
            ..login.clone()
        };
        assert!(matches!(
            with(no_code).nexudus_credentials("u").unwrap(),
            NexudusCredentials::Login { totp: None, .. }
        ));
        // Half a login (or an empty part) falls back to the token.
        for half in [
            Credentials {
                nexudus_password: None,
                ..login.clone()
            },
            Credentials {
                nexudus_password: Some(Secret::new("")),
                ..login.clone()
            },
            Credentials {
                nexudus_username: Some(String::new()),
                ..login.clone()
            },
        ] {
            match with(half).nexudus_credentials("u").unwrap() {
                NexudusCredentials::Token(t) => assert_eq!(t.expose(), "tok"),
                other => panic!("{other:?}"),
            }
        }
        // Neither: say what to set.
        for nothing in [
            Credentials::default(),
            Credentials {
                token: Some(Secret::new("")),
                ..Credentials::default()
            },
        ] {
            let e = with(nothing)
                .nexudus_credentials("https://x.example")
                .unwrap_err();
            assert!(matches!(e, EndpointError::NoNexudusLogin { .. }), "{e}");
            assert!(e.to_string().contains("NEXUDUS_PASSWORD"), "{e}");
        }
    }

    #[test]
    fn settings_never_show_a_secret() {
        let s = with(Credentials {
            token: Some(Secret::new("tok-s3cr3t")),
            nexudus_username: Some("ops@acme.example".into()),
            nexudus_password: Some(Secret::new("pw-s3cr3t")),
            nexudus_totp: Some(Secret::new("otp-s3cr3t")),
        });
        let shown = format!("{s:?} {s:#?}");
        assert!(!shown.contains("s3cr3t"), "{shown}");
        assert!(shown.contains("ops@acme.example"), "{shown}");
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
