//! Stage `api`, secrets: the one type that holds a credential (the partner API's token, a
//! Nexudus password, bearer token or one-time code) from the command line to the request that
//! carries it. Touches nothing: it only wraps text and refuses to show it.

use std::fmt;
use std::str::FromStr;

use reqwest::header::HeaderValue;

/// A credential. `Debug` and `Display` print `***`; only [`Secret::expose`] gives the text, at
/// the one place that sends it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a credential.
    pub fn new(text: impl Into<String>) -> Self {
        Secret(text.into())
    }

    /// The credential itself, to send.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// No text at all (an empty environment variable counts as none).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The `Authorization` header carrying it as a bearer token, marked sensitive (never shown
    /// by the HTTP stack's logs or `Debug`). `None` when it holds characters a header cannot.
    pub fn bearer(&self) -> Option<HeaderValue> {
        let mut v = HeaderValue::from_str(&format!("Bearer {}", self.0)).ok()?;
        v.set_sensitive(true);
        Some(v)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// For clap: any text is a secret.
impl FromStr for Secret {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Secret::new(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_never_shows() {
        let s: Secret = "s3cr3t".parse().unwrap();
        assert_eq!(format!("{s:?}"), "***");
        assert_eq!(s.to_string(), "***");
        assert_eq!(format!("{:?}", Some(s.clone())), "Some(***)");
        assert_eq!(s.expose(), "s3cr3t");
        assert!(!s.is_empty());
        assert!(Secret::new("").is_empty());
        assert_eq!(s, Secret::new("s3cr3t"));
    }

    #[test]
    fn the_bearer_header_is_sensitive() {
        let v = Secret::new("s3cr3t").bearer().unwrap();
        assert!(v.is_sensitive());
        assert_eq!(v.as_bytes(), b"Bearer s3cr3t");
        assert!(!format!("{v:?}").contains("s3cr3t"), "{v:?}");
        assert!(Secret::new("bad\ntoken").bearer().is_none());
    }
}
