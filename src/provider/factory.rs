//! Stage `provider`, opening one: which API an endpoint speaks ([`ProviderKind`]), who signs in
//! ([`Credentials`]), and the provider for an endpoint URL ([`ProviderKind::open`]). This is
//! the one place, with [`super::AnyProvider`]'s list, that names every implementation; the
//! endpoint module only chooses where to connect. Touches nothing: credentials arrive as
//! values (the command line reads them, environment included).

use crate::api::retry::Policy;
use crate::api::{ApiError, Client, Secret};
use crate::plan::Capabilities;
use crate::provider::nexudus::client::{
    Credentials as NexudusCredentials, Settings as NexudusSettings,
};
use crate::provider::nexudus::{NexudusProvider, error::NexudusError};
use crate::provider::{AnyProvider, HttpProvider};

/// Which API an endpoint speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ProviderKind {
    /// The partner API contract.
    #[default]
    Http,
    /// The Nexudus REST API.
    Nexudus,
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

/// What opening a provider takes besides the URL: who signs in, how patient to be, and how
/// fast the API's clock runs (1 for a real API; a sandbox may run its rate windows faster).
#[derive(Debug, Clone, PartialEq)]
pub struct Access {
    /// Who signs in.
    pub credentials: Credentials,
    /// The retry policy and the read deadline.
    pub policy: Policy,
    /// The API's clock against the wall clock.
    pub time_scale: f64,
}

impl Default for Access {
    fn default() -> Self {
        Access {
            credentials: Credentials::default(),
            policy: Policy::default(),
            time_scale: 1.0,
        }
    }
}

/// Why a provider could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The partner API without a token.
    #[error("no API token for {url}: set PARTNERCTL_TOKEN (or pass --token)")]
    NoToken {
        /// The endpoint.
        url: String,
    },
    /// Nexudus without a login or a token.
    #[error(
        "no Nexudus login for {url}: set NEXUDUS_USERNAME and NEXUDUS_PASSWORD (and NEXUDUS_TOTP when two-factor sign-in is on), or a bearer token in PARTNERCTL_TOKEN"
    )]
    NoNexudusLogin {
        /// The endpoint.
        url: String,
    },
    /// An API the embedded sandbox does not speak, without an endpoint.
    #[error("the {provider} provider needs an endpoint: set PARTNERCTL_ENDPOINT to {where_}")]
    NeedsEndpoint {
        /// The provider's name, as `--provider` takes it.
        provider: &'static str,
        /// Where such an API is found.
        where_: &'static str,
    },
    /// The partner API client could not be built.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// The Nexudus client could not be built.
    #[error(transparent)]
    Nexudus(#[from] NexudusError),
}

/// A secret that says something (an empty variable counts as none).
fn given(secret: Option<&Secret>) -> Option<&Secret> {
    secret.filter(|s| !s.is_empty())
}

impl ProviderKind {
    /// Its name, as `--provider` takes it.
    pub fn name(self) -> &'static str {
        match self {
            ProviderKind::Http => "http",
            ProviderKind::Nexudus => "nexudus",
        }
    }

    /// What the provider's API can do, known without connecting (for offline checks such as
    /// `validate`).
    pub fn capabilities(self) -> Capabilities {
        match self {
            ProviderKind::Http => Capabilities::full(),
            ProviderKind::Nexudus => NexudusProvider::api_capabilities(),
        }
    }

    /// Whether the embedded sandbox speaks this API: when it does not, the provider needs an
    /// endpoint (the error says where such an API is).
    pub fn embeddable(self) -> Result<(), OpenError> {
        match self {
            ProviderKind::Http => Ok(()),
            ProviderKind::Nexudus => Err(OpenError::NeedsEndpoint {
                provider: self.name(),
                where_: "the Nexudus API (https://spaces.nexudus.com), or to a local `partnerctl sandbox serve --dialect nexudus`",
            }),
        }
    }

    /// The provider of this kind for the API at `url`.
    pub fn open(self, url: &str, access: &Access) -> Result<AnyProvider, OpenError> {
        let deadline = access.policy.read_deadline();
        Ok(match self {
            ProviderKind::Http => {
                let token = given(access.credentials.token.as_ref())
                    .ok_or_else(|| OpenError::NoToken { url: url.into() })?;
                let client = Client::with_policy(url, token.clone(), access.policy)?;
                AnyProvider::Http(HttpProvider::new(client).with_read_deadline(deadline))
            }
            ProviderKind::Nexudus => {
                let settings = NexudusSettings {
                    policy: access.policy,
                    time_scale: access.time_scale,
                };
                let credentials = nexudus_credentials(&access.credentials, url)?;
                let p = NexudusProvider::new(url, credentials, settings)?;
                AnyProvider::Nexudus(p.with_read_deadline(deadline))
            }
        })
    }
}

/// How the Nexudus provider signs in: the login (username and password, with the one-time
/// code when given), else the token.
fn nexudus_credentials(c: &Credentials, url: &str) -> Result<NexudusCredentials, OpenError> {
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
        _ => Err(OpenError::NoNexudusLogin { url: url.into() }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::Provider;

    #[test]
    fn nexudus_signs_in_with_the_login_else_the_token() {
        let login = Credentials {
            token: Some(Secret::new("tok")),
            nexudus_username: Some("ops@acme.example".into()),
            nexudus_password: Some(Secret::new("pw")),
            nexudus_totp: Some(Secret::new("123456")),
        };
        match nexudus_credentials(&login, "u").unwrap() {
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
            nexudus_credentials(&no_code, "u").unwrap(),
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
            match nexudus_credentials(&half, "u").unwrap() {
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
            let e = nexudus_credentials(&nothing, "https://x.example").unwrap_err();
            assert!(matches!(e, OpenError::NoNexudusLogin { .. }), "{e}");
            assert!(e.to_string().contains("NEXUDUS_PASSWORD"), "{e}");
        }
    }

    #[test]
    fn access_never_shows_a_secret() {
        let a = Access {
            credentials: Credentials {
                token: Some(Secret::new("tok-s3cr3t")),
                nexudus_username: Some("ops@acme.example".into()),
                nexudus_password: Some(Secret::new("pw-s3cr3t")),
                nexudus_totp: Some(Secret::new("otp-s3cr3t")),
            },
            ..Access::default()
        };
        let shown = format!("{a:?} {a:#?}");
        assert!(!shown.contains("s3cr3t"), "{shown}");
        assert!(shown.contains("ops@acme.example"), "{shown}");
    }

    #[test]
    fn each_kind_opens_its_own_provider_or_says_what_is_missing() {
        let url = "http://127.0.0.1:9";
        // The partner API needs a token; an empty one is none.
        for token in [None, Some(Secret::new(""))] {
            let access = Access {
                credentials: Credentials {
                    token,
                    ..Credentials::default()
                },
                ..Access::default()
            };
            let e = ProviderKind::Http.open(url, &access).unwrap_err();
            assert!(matches!(e, OpenError::NoToken { .. }), "{e}");
        }
        let with_token = Access {
            credentials: Credentials {
                token: Some(Secret::new("tok")),
                ..Credentials::default()
            },
            ..Access::default()
        };
        let http = ProviderKind::Http.open(url, &with_token).unwrap();
        assert!(matches!(http, AnyProvider::Http(_)));
        assert_eq!(http.capabilities(), ProviderKind::Http.capabilities());
        let nexudus = ProviderKind::Nexudus.open(url, &with_token).unwrap();
        assert!(matches!(nexudus, AnyProvider::Nexudus(_)));
        assert_eq!(nexudus.capabilities(), ProviderKind::Nexudus.capabilities());
        let e = ProviderKind::Nexudus
            .open(url, &Access::default())
            .unwrap_err();
        assert!(matches!(e, OpenError::NoNexudusLogin { .. }), "{e}");
    }

    #[test]
    fn only_the_partner_api_is_served_by_the_embedded_sandbox() {
        assert!(ProviderKind::Http.embeddable().is_ok());
        let e = ProviderKind::Nexudus.embeddable().unwrap_err();
        assert_eq!(
            e.to_string(),
            "the nexudus provider needs an endpoint: set PARTNERCTL_ENDPOINT to the Nexudus API (https://spaces.nexudus.com), or to a local `partnerctl sandbox serve --dialect nexudus`"
        );
        for kind in [ProviderKind::Http, ProviderKind::Nexudus] {
            use clap::ValueEnum;
            let shown = kind.to_possible_value().unwrap();
            assert_eq!(shown.get_name(), kind.name());
        }
    }
}
