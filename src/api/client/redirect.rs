//! Stage `api`, client redirects: the policy of every HTTP client of the program. A redirect
//! is followed only within the origin of the request (same scheme, host and port), a few
//! times at most; one to another origin is refused, so that no token, password or
//! `Authorization` header is ever sent anywhere but the endpoint it was given for. The
//! refusal names the `Location`.

use std::error::Error as StdError;

use reqwest::Url;
use reqwest::redirect::{Attempt, Policy};

/// Most redirects one request follows.
pub const MAX_REDIRECTS: usize = 10;

/// A redirect that was not followed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RefusedRedirect {
    /// To another scheme, host or port than the request's.
    #[error(
        "the answer redirects to {location}, another origin than {origin}; it was not followed, so that the credentials do not leave {origin}; if the API has moved there, point --endpoint (PARTNERCTL_ENDPOINT) at its new URL"
    )]
    CrossOrigin {
        /// Where the answer pointed.
        location: String,
        /// The origin of the request (`scheme://host:port`).
        origin: String,
    },
    /// A chain longer than [`MAX_REDIRECTS`].
    #[error(
        "the answers redirected more than {MAX_REDIRECTS} times (the last to {location}); not followed further; point --endpoint (PARTNERCTL_ENDPOINT) at the final URL"
    )]
    TooMany {
        /// Where the last answer pointed.
        location: String,
    },
}

/// Follows a redirect to `next` after the requests to `previous` (the first the original
/// one), or says why not.
pub fn check(next: &Url, previous: &[Url]) -> Result<(), RefusedRedirect> {
    let Some(first) = previous.first() else {
        return Ok(());
    };
    if next.origin() != first.origin() {
        return Err(RefusedRedirect::CrossOrigin {
            location: next.to_string(),
            origin: first.origin().ascii_serialization(),
        });
    }
    if previous.len() > MAX_REDIRECTS {
        return Err(RefusedRedirect::TooMany {
            location: next.to_string(),
        });
    }
    Ok(())
}

/// The redirect policy of the program's HTTP clients: [`check`].
pub fn same_origin_policy() -> Policy {
    Policy::custom(
        |attempt: Attempt<'_>| match check(attempt.url(), attempt.previous()) {
            Ok(()) => attempt.follow(),
            Err(refused) => attempt.error(refused),
        },
    )
}

/// The refused redirect behind a transport error of a client with [`same_origin_policy`].
pub fn refused_redirect(e: &reqwest::Error) -> Option<RefusedRedirect> {
    let mut cause: Option<&(dyn StdError + 'static)> = Some(e);
    while let Some(c) = cause {
        if let Some(r) = c.downcast_ref::<RefusedRedirect>() {
            return Some(r.clone());
        }
        cause = c.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn only_the_origin_of_the_request_is_followed() {
        let start = [url("https://api.example.com/v1/partner")];
        assert_eq!(
            check(&url("https://api.example.com/v2/partner"), &start),
            Ok(())
        );
        // The default port is the same port.
        assert_eq!(check(&url("https://api.example.com:443/x"), &start), Ok(()));
        for elsewhere in [
            "http://api.example.com/v1/partner",
            "https://api.example.com:8443/v1/partner",
            "https://evil.example/v1/partner",
            "https://api.example.com.evil.example/v1/partner",
            "file:///etc/passwd",
        ] {
            let refused = check(&url(elsewhere), &start).unwrap_err();
            assert_eq!(
                refused,
                RefusedRedirect::CrossOrigin {
                    location: url(elsewhere).to_string(),
                    origin: "https://api.example.com".into()
                }
            );
            let shown = refused.to_string();
            assert!(shown.contains(&url(elsewhere).to_string()), "{shown}");
            assert!(shown.contains("PARTNERCTL_ENDPOINT"), "{shown}");
        }
        // Compared with the original request, not the last hop.
        let hops = [
            url("http://127.0.0.1:7000/a"),
            url("http://127.0.0.1:7000/b"),
        ];
        assert!(check(&url("http://127.0.0.1:7001/c"), &hops).is_err());
    }

    #[test]
    fn a_chain_is_bounded() {
        let chain: Vec<Url> = (0..=MAX_REDIRECTS)
            .map(|i| url(&format!("https://api.example.com/{i}")))
            .collect();
        assert_eq!(
            check(
                &url("https://api.example.com/next"),
                &chain[..MAX_REDIRECTS]
            ),
            Ok(())
        );
        assert!(matches!(
            check(&url("https://api.example.com/next"), &chain),
            Err(RefusedRedirect::TooMany { .. })
        ));
    }
}
