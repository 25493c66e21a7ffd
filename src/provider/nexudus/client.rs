//! Stage `provider`, the Nexudus HTTP client: signs in (form-encoded password grant, or a
//! token given), paces every request under the API's windows (the sign-in too), retries what
//! is safe to retry (the sign-in, reads, complete-record PUTs, DELETEs; anything throttled),
//! and checks `WasSuccessful` on every write. A POST whose outcome is unknown is not retried
//! here: the caller looks the record up by its natural key first. Credentials are never
//! logged.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::error::NexudusError;
use super::pace::{Pacer, Ticket};
use super::wire::{self, TokenResponse, WriteResult};
use crate::api::client::redirect;
use crate::api::retry::requested_wait;

/// How to sign in.
#[derive(Clone)]
pub enum Credentials {
    /// A login for the password grant (with the current TOTP code when two-factor sign-in is
    /// on).
    Login {
        /// The login's email.
        username: String,
        /// Its password.
        password: String,
        /// A one-time code.
        totp: Option<String>,
    },
    /// A bearer token obtained elsewhere.
    Token(String),
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::Login { username, .. } => write!(f, "Login({username}, ***)"),
            Credentials::Token(_) => f.write_str("Token(***)"),
        }
    }
}

/// Patience and pace.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// Longest wait for one request.
    pub timeout: Duration,
    /// Attempts of a request that failed without an answer or with a server error.
    pub attempts: u32,
    /// Time sped up this many times (tests against a sandbox that scales time the same way).
    pub time_scale: f64,
}

/// Counters, for the apply summary.
#[derive(Debug, Default)]
pub struct Counters {
    /// Requests sent.
    pub requests: AtomicU64,
    /// Requests that were retried.
    pub retries: AtomicU64,
    /// Throttled answers.
    pub throttled: AtomicU64,
    /// Writes sent.
    pub writes: AtomicU64,
}

/// A raw answer: status, headers, body.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

/// A request's body.
enum Body<'a> {
    None,
    /// JSON, encoded once.
    Json(Vec<u8>),
    /// A form (the token grant).
    Form(&'a [(&'a str, String)]),
}

/// One request.
struct Call<'a> {
    method: Method,
    path: &'a str,
    query: &'a [(&'a str, String)],
    body: Body<'a>,
    /// Counts against the write windows.
    write: bool,
    /// Safe to send again after an unknown outcome.
    repeatable: bool,
}

/// The Nexudus client.
#[derive(Debug)]
pub struct NexudusClient {
    http: reqwest::Client,
    base: reqwest::Url,
    credentials: Credentials,
    token: tokio::sync::Mutex<Option<String>>,
    pacer: Pacer,
    settings: Settings,
    /// Counters.
    pub counters: Counters,
}

/// Most throttled answers one request waits through.
const MAX_THROTTLED: u32 = 50;

impl NexudusClient {
    /// A client of the API at `base` (e.g. `https://spaces.nexudus.com`).
    pub fn new(
        base: &str,
        credentials: Credentials,
        settings: Settings,
    ) -> Result<Self, NexudusError> {
        let mut base = reqwest::Url::parse(base)
            .map_err(|e| NexudusError::Setup(format!("invalid endpoint `{base}`: {e}")))?;
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        let loopback = matches!(base.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
        if base.scheme() != "https" && !loopback {
            return Err(NexudusError::Setup(format!(
                "refusing plain {}:// to `{}`: the credentials would cross the network unencrypted; use https://",
                base.scheme(),
                base.host_str().unwrap_or_default()
            )));
        }
        let http = reqwest::Client::builder()
            .timeout(settings.timeout)
            .user_agent(concat!("partnerctl/", env!("CARGO_PKG_VERSION")))
            .redirect(redirect::same_origin_policy())
            .build()
            .map_err(|e| NexudusError::Setup(format!("cannot build the HTTP client: {e}")))?;
        Ok(NexudusClient {
            http,
            base,
            token: tokio::sync::Mutex::new(match &credentials {
                Credentials::Token(t) => Some(t.clone()),
                Credentials::Login { .. } => None,
            }),
            credentials,
            pacer: Pacer::new(settings.time_scale),
            settings,
            counters: Counters::default(),
        })
    }

    /// The endpoint, without a trailing slash.
    pub fn endpoint(&self) -> String {
        self.base.as_str().trim_end_matches('/').to_string()
    }

    /// GET decoding JSON.
    pub async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T, NexudusError> {
        let call = Call {
            method: Method::GET,
            path,
            query,
            body: Body::None,
            write: false,
            repeatable: true,
        };
        let a = self.send(&call).await?;
        if !a.status.is_success() {
            return Err(status_error(&call, &a));
        }
        decode(&call, &a.body)
    }

    /// A write (`POST`, `PUT`, `DELETE`) answering [`WriteResult`], checked: `WasSuccessful`
    /// false is a refusal whatever the HTTP status, except a server error (5xx), whose outcome
    /// is unknown. `repeatable`: safe to send again after an unknown outcome (a complete-record
    /// PUT, a DELETE).
    pub async fn write(
        &self,
        method: Method,
        path: &str,
        body: Option<&impl Serialize>,
        repeatable: bool,
    ) -> Result<WriteResult, NexudusError> {
        let body = body
            .map(serde_json::to_vec)
            .transpose()
            .map_err(|e| NexudusError::Setup(format!("cannot encode the request: {e}")))?;
        let call = Call {
            method,
            path,
            query: &[],
            body: body.map_or(Body::None, Body::Json),
            write: true,
            repeatable,
        };
        let a = self.send(&call).await?;
        checked(&call, &a)
    }

    /// The bearer token: the one given, or one granted for the login. `stale`: a token the
    /// API did not accept; a new one is asked for unless another request has already done so.
    async fn bearer(&self, stale: Option<&str>) -> Result<String, NexudusError> {
        let mut token = self.token.lock().await;
        if let Some(t) = token.as_deref().filter(|t| Some(*t) != stale) {
            return Ok(t.to_string());
        }
        let Credentials::Login {
            username,
            password,
            totp,
        } = &self.credentials
        else {
            return Err(NexudusError::Login("the token was not accepted".into()));
        };
        let mut form = vec![
            ("grant_type", "password".to_string()),
            ("username", username.clone()),
            ("password", password.clone()),
        ];
        if let Some(code) = totp {
            form.push(("totp", code.clone()));
        }
        // Paced, waited out when throttled and retried like a read: a grant creates nothing.
        let call = Call {
            method: Method::POST,
            path: wire::TOKEN,
            query: &[],
            body: Body::Form(&form),
            write: false,
            repeatable: true,
        };
        let a = self.deliver(&call, None).await?;
        if !a.status.is_success() {
            return Err(sign_in_error(&a));
        }
        let granted: TokenResponse = decode(&call, &a.body)?;
        *token = Some(granted.access_token.clone());
        Ok(granted.access_token)
    }

    fn url(&self, path: &str) -> Result<reqwest::Url, NexudusError> {
        self.base
            .join(path.trim_start_matches('/'))
            .map_err(|e| NexudusError::Setup(format!("invalid path {path}: {e}")))
    }

    /// Waits for a slot under the API's windows; the ticket holds it until the answer came.
    async fn pace(&self, write: bool) -> Result<Ticket<'_>, NexudusError> {
        self.pacer
            .acquire(write)
            .await
            .map_err(|renews_in| NexudusError::BudgetSpent { renews_in })
    }

    /// Sends `call` signed with the bearer token; renews the token once on a 401.
    async fn send(&self, call: &Call<'_>) -> Result<Answer, NexudusError> {
        let mut stale = None;
        loop {
            let token = self.bearer(stale.as_deref()).await?;
            let a = self.deliver(call, Some(&authorization(&token)?)).await?;
            if a.status != StatusCode::UNAUTHORIZED {
                return Ok(a);
            }
            if stale.is_none() && matches!(self.credentials, Credentials::Login { .. }) {
                stale = Some(token);
                continue;
            }
            return Err(NexudusError::Login(format!(
                "{} {} answered HTTP 401",
                call.method, call.path
            )));
        }
    }

    /// Sends `call` in its turn under the API's windows, waiting out throttled answers always
    /// and retrying failures without an answer (or with a server error) when the call is
    /// repeatable. Any other answer is the caller's.
    async fn deliver(
        &self,
        call: &Call<'_>,
        auth: Option<&HeaderValue>,
    ) -> Result<Answer, NexudusError> {
        let url = self.url(call.path)?;
        let (mut attempt, mut throttled) = (0u32, 0u32);
        loop {
            attempt += 1;
            let ticket = self.pace(call.write).await?;
            self.counters.requests.fetch_add(1, Ordering::Relaxed);
            if call.write {
                self.counters.writes.fetch_add(1, Ordering::Relaxed);
            }
            let last = attempt >= self.settings.attempts;
            let answer = self.exchange(call, url.clone(), auth).await;
            drop(ticket);
            let a = match answer {
                Ok(a) => a,
                Err(e) => {
                    if let Some(refused) = redirect::refused_redirect(&e) {
                        // The same answer would come again: not retried.
                        return Err(NexudusError::Redirect {
                            method: call.method.to_string(),
                            path: call.path.to_string(),
                            refused,
                        });
                    }
                    if call.repeatable && !last {
                        self.retry(call, &e.to_string(), attempt).await;
                        continue;
                    }
                    return Err(NexudusError::Transport {
                        method: call.method.to_string(),
                        path: call.path.to_string(),
                        cause: e.to_string(),
                        attempts: attempt,
                    });
                }
            };
            if let Some(wait) = throttle_wait(&a) {
                self.counters.throttled.fetch_add(1, Ordering::Relaxed);
                if wait > self.pacer.patience() {
                    return Err(NexudusError::BudgetSpent { renews_in: wait });
                }
                throttled += 1;
                if throttled <= MAX_THROTTLED {
                    attempt -= 1; // a throttled request was not processed
                    self.announce(
                        call,
                        &format!(
                            "throttled (HTTP {}, Retry-After {:.1} s)",
                            a.status.as_u16(),
                            wait.as_secs_f64()
                        ),
                        wait,
                    );
                    tokio::time::sleep(wait).await;
                    continue;
                }
            }
            if a.status.is_server_error() && call.repeatable && !last {
                self.retry(call, &format!("HTTP {}", a.status), attempt)
                    .await;
                continue;
            }
            return Ok(a);
        }
    }

    /// One request and its whole answer, or the transport's error.
    async fn exchange(
        &self,
        call: &Call<'_>,
        url: reqwest::Url,
        auth: Option<&HeaderValue>,
    ) -> Result<Answer, reqwest::Error> {
        let mut req = self.http.request(call.method.clone(), url);
        if let Some(auth) = auth {
            req = req.header(AUTHORIZATION, auth.clone());
        }
        if !call.query.is_empty() {
            req = req.query(call.query);
        }
        req = match &call.body {
            Body::None => req,
            Body::Json(b) => req.header(CONTENT_TYPE, "application/json").body(b.clone()),
            Body::Form(pairs) => req.form(pairs),
        };
        let r = req.send().await?;
        let status = r.status();
        let headers = r.headers().clone();
        let body = r.bytes().await?.to_vec();
        Ok(Answer {
            status,
            headers,
            body,
        })
    }

    /// Waits before attempt `attempt + 1` (exponential, from 100 ms, at most 10 s, in the API's
    /// time), saying so.
    async fn retry(&self, call: &Call<'_>, cause: &str, attempt: u32) {
        // Sped up with the API's clock (a sandbox with --time-scale), never slowed down.
        let wait = Duration::from_millis(100)
            .saturating_mul(1 << attempt.min(7))
            .min(Duration::from_secs(10))
            .div_f64(self.settings.time_scale.max(1.0));
        self.announce(call, cause, wait);
        tokio::time::sleep(wait).await;
    }

    fn announce(&self, call: &Call<'_>, cause: &str, wait: Duration) {
        self.counters.retries.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(
            method = %call.method,
            path = call.path,
            wait_s = (wait.as_secs_f64() * 1000.0).round() / 1000.0,
            "{} {}: {cause}; retrying in {:.1} s",
            call.method,
            call.path,
            wait.as_secs_f64()
        );
    }
}

/// How long a throttled answer asks to wait: a 409 with `Retry-After` or an empty body is
/// throttling (any other 409 is a conflict). `X-Retry-After-Ms`, when present, is precise.
fn throttle_wait(a: &Answer) -> Option<Duration> {
    let throttled = a.status == StatusCode::TOO_MANY_REQUESTS
        || (a.status == StatusCode::CONFLICT
            && (a.headers.contains_key(RETRY_AFTER) || a.body.is_empty()));
    if !throttled {
        return None;
    }
    let millis = a.headers.get("x-retry-after-ms");
    let asked = requested_wait(
        a.headers.get(RETRY_AFTER),
        millis,
        std::time::SystemTime::now(),
    );
    Some(asked.unwrap_or(Duration::from_secs(1)))
}

/// The `Authorization` header of a bearer token, marked sensitive (never shown by the HTTP
/// stack's logs).
fn authorization(token: &str) -> Result<HeaderValue, NexudusError> {
    let mut v = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
        NexudusError::Setup(
            "the token contains characters not allowed in an HTTP header; check PARTNERCTL_TOKEN"
                .into(),
        )
    })?;
    v.set_sensitive(true);
    Ok(v)
}

/// Why the token grant failed: the login refused (`invalid_grant`, or a 401), or something
/// else the answer says.
fn sign_in_error(a: &Answer) -> NexudusError {
    let oauth = serde_json::from_slice::<wire::TokenError>(&a.body).ok();
    let refused = a.status == StatusCode::UNAUTHORIZED
        || (a.status == StatusCode::BAD_REQUEST
            && oauth.as_ref().is_some_and(|e| e.error == "invalid_grant"));
    if refused {
        let why = oauth
            .map(|e| e.error_description.unwrap_or(e.error))
            .unwrap_or_else(|| format!("HTTP {}", a.status));
        return NexudusError::Login(why);
    }
    let said = match oauth {
        Some(e) => match e.error_description {
            Some(d) => format!("{}: {d}", e.error),
            None => e.error,
        },
        None => String::from_utf8_lossy(&a.body).chars().take(300).collect(),
    };
    NexudusError::SignIn {
        status: a.status.as_u16(),
        said,
    }
}

/// The answer to a write: its [`WriteResult`] when successful; a refusal when
/// `WasSuccessful` is false; an error status for a server error (not a refusal: the write may
/// have taken effect, and the caller looks it up) or a body that is no `WriteResult`.
fn checked(call: &Call<'_>, a: &Answer) -> Result<WriteResult, NexudusError> {
    if a.status.is_server_error() {
        return Err(status_error(call, a));
    }
    match serde_json::from_slice::<WriteResult>(&a.body) {
        Ok(r) if r.was_successful && a.status.is_success() => Ok(r),
        Ok(r) => Err(NexudusError::Refused {
            method: call.method.to_string(),
            path: call.path.to_string(),
            status: a.status.as_u16(),
            meant: r.status,
            message: r.message.unwrap_or_default(),
            errors: r.errors.unwrap_or_default(),
        }),
        Err(_) => Err(status_error(call, a)),
    }
}

/// An error status: what the answer says (the API's message when it is a [`WriteResult`], or
/// the start of the body).
fn status_error(call: &Call<'_>, a: &Answer) -> NexudusError {
    let said = serde_json::from_slice::<WriteResult>(&a.body)
        .ok()
        .and_then(|r| r.message)
        .unwrap_or_else(|| String::from_utf8_lossy(&a.body).into_owned());
    NexudusError::Status {
        method: call.method.to_string(),
        path: call.path.to_string(),
        status: a.status.as_u16(),
        body: said.chars().take(300).collect(),
    }
}

fn decode<T: DeserializeOwned>(call: &Call<'_>, body: &[u8]) -> Result<T, NexudusError> {
    serde_json::from_slice(body).map_err(|e| NexudusError::Decode {
        method: call.method.to_string(),
        path: call.path.to_string(),
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, headers: &[(&'static str, &'static str)], body: &str) -> Answer {
        let mut h = HeaderMap::new();
        for (k, v) in headers {
            h.insert(*k, v.parse().unwrap());
        }
        Answer {
            status: StatusCode::from_u16(status).unwrap(),
            headers: h,
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn a_409_is_throttling_only_with_retry_after_or_an_empty_body() {
        assert_eq!(
            throttle_wait(&answer(409, &[("retry-after", "2")], "")),
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            throttle_wait(&answer(409, &[], "")),
            Some(Duration::from_secs(1))
        );
        assert_eq!(
            throttle_wait(&answer(
                409,
                &[("retry-after", "1"), ("x-retry-after-ms", "15")],
                ""
            )),
            Some(Duration::from_millis(15))
        );
        assert_eq!(
            throttle_wait(&answer(409, &[], r#"{"WasSuccessful":false}"#)),
            None
        );
        assert_eq!(throttle_wait(&answer(200, &[], "")), None);
    }

    #[test]
    fn huge_waits_are_clamped_not_a_panic() {
        let day = Some(Duration::from_secs(86_400));
        for (name, value) in [
            ("retry-after", "1e20"),
            ("retry-after", "18446744073709551616"),
            ("x-retry-after-ms", "1e300"),
            ("x-retry-after-ms", "1.7976931348623157e308"),
            ("retry-after", "inf"),
        ] {
            assert_eq!(
                throttle_wait(&answer(409, &[(name, value)], "")),
                day,
                "{name}: {value}"
            );
        }
        // Unusable values fall back to a second.
        for value in ["-5", "NaN", "soon"] {
            assert_eq!(
                throttle_wait(&answer(429, &[("retry-after", value)], "")),
                Some(Duration::from_secs(1)),
                "{value}"
            );
        }
    }

    #[test]
    fn only_a_refused_login_blames_the_credentials() {
        let invalid = r#"{"error":"invalid_grant","error_description":"The user name or password is incorrect."}"#;
        for (status, body) in [(400, invalid), (401, "")] {
            let e = sign_in_error(&answer(status, &[], body));
            assert!(matches!(e, NexudusError::Login(_)), "{status}: {e:?}");
            assert!(e.to_string().contains("NEXUDUS_PASSWORD"), "{e}");
            assert_eq!(e.remedy(), crate::provider::Remedy::FixAccess);
        }
        let e = sign_in_error(&answer(400, &[], invalid));
        assert!(
            e.to_string().starts_with(
                "the Nexudus API refused the login: The user name or password is incorrect.;"
            ),
            "{e}"
        );
        let cases = [
            (
                400,
                r#"{"error":"unsupported_grant_type","error_description":"send the grant form-encoded"}"#,
                "HTTP 400: unsupported_grant_type: send the grant form-encoded; the endpoint does not answer as the Nexudus API does; check that PARTNERCTL_ENDPOINT",
                crate::provider::Remedy::FixAccess,
            ),
            (
                404,
                "<html>Not Found</html>",
                "HTTP 404: <html>Not Found</html>; the endpoint does not answer as the Nexudus API does; check that PARTNERCTL_ENDPOINT",
                crate::provider::Remedy::FixAccess,
            ),
            (
                503,
                "",
                "HTTP 503: ; the API is failing or busy, the login was not refused; run again in a while",
                crate::provider::Remedy::Rerun,
            ),
            (
                409,
                "",
                "HTTP 409: ; the API is failing or busy, the login was not refused; run again in a while",
                crate::provider::Remedy::Rerun,
            ),
        ];
        for (status, body, said, remedy) in cases {
            let e = sign_in_error(&answer(status, &[], body));
            let shown = e.to_string();
            assert!(
                shown.starts_with("signing in failed: POST /api/token answered "),
                "{shown}"
            );
            assert!(shown.contains(said), "{shown}");
            assert!(!shown.contains("NEXUDUS_PASSWORD"), "{shown}");
            assert_eq!(e.remedy(), remedy, "{status}");
        }
    }

    #[test]
    fn the_authorization_header_is_sensitive() {
        let v = authorization("s3cr3t").unwrap();
        assert!(v.is_sensitive());
        assert!(!format!("{v:?}").contains("s3cr3t"), "{v:?}");
        let e = authorization("bad\ntoken").unwrap_err();
        assert!(e.to_string().contains("PARTNERCTL_TOKEN"), "{e}");
    }

    #[test]
    fn write_answers_are_refusals_except_server_errors() {
        use crate::provider::Remedy;
        let call = Call {
            method: Method::POST,
            path: "/api/sys/users",
            query: &[],
            body: Body::None,
            write: true,
            repeatable: false,
        };
        let result = |meant: u16, ok: bool, message: &str| {
            serde_json::json!({
                "Status": meant, "Message": message, "Value": null,
                "Errors": null, "WasSuccessful": ok,
            })
            .to_string()
        };
        let ok = result(200, true, "User was successfully created.");
        assert!(checked(&call, &answer(200, &[], &ok)).is_ok());
        // (HTTP status, meant, message) → (the error, its remedy).
        let cases = [
            (
                409,
                409,
                "changed by someone else",
                "was refused (HTTP 409, WasSuccessful false): changed by someone else",
                Remedy::Rerun,
            ),
            (
                400,
                400,
                "Email: not an email",
                "was refused (HTTP 400, WasSuccessful false): Email: not an email",
                Remedy::FixConfiguration,
            ),
            (
                200,
                422,
                "too long",
                "was refused (HTTP 200, WasSuccessful false): too long",
                Remedy::FixConfiguration,
            ),
            (
                200,
                403,
                "not allowed",
                "was refused (HTTP 200, WasSuccessful false): not allowed",
                Remedy::FixAccess,
            ),
            (
                500,
                500,
                "injected failure (after the write)",
                "failed: HTTP 500: injected failure (after the write); the API failed (a write may or may not have taken effect); run again later",
                Remedy::Rerun,
            ),
            (
                503,
                200,
                "down",
                "failed: HTTP 503: down; the API failed",
                Remedy::Rerun,
            ),
        ];
        for (status, meant, message, shown, remedy) in cases {
            let e =
                checked(&call, &answer(status, &[], &result(meant, false, message))).unwrap_err();
            assert!(e.to_string().starts_with("POST /api/sys/users "), "{e}");
            assert!(e.to_string().contains(shown), "{e}");
            assert_eq!(e.remedy(), remedy, "{e}");
        }
        // A server error is an unknown outcome, never a refusal.
        assert!(matches!(
            checked(&call, &answer(500, &[], &result(500, false, "x"))),
            Err(NexudusError::Status { status: 500, .. })
        ));
        // A body that is no WriteResult: the status and the start of the body.
        let e = checked(&call, &answer(404, &[], "<html>no</html>")).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("POST /api/sys/users failed: HTTP 404: <html>no</html>; "),
            "{e}"
        );
    }

    #[test]
    fn credentials_never_show() {
        let c = Credentials::Login {
            username: "a@x.example".into(),
            password: "hunter2".into(),
            totp: Some("123456".into()),
        };
        assert!(!format!("{c:?}").contains("hunter2"));
        assert!(!format!("{:?}", Credentials::Token("secret".into())).contains("secret"));
    }
}
