//! Stage `provider`, the Nexudus HTTP client: signs in (form-encoded password grant, or a
//! token given), paces every request under the API's windows (the sign-in too), and sends
//! through the retry engine every client of the program shares ([`crate::api::retry`]) in the
//! Nexudus dialect (a 409 with an empty body is throttled too; `X-Retry-After-Ms` is exact):
//! what is safe to retry is retried (the sign-in, reads, complete-record PUTs, DELETEs;
//! anything throttled), and a throttled answer asking for longer than a few minutes means the
//! day's budget is spent. Checks `WasSuccessful` on every write. A POST whose outcome is
//! unknown is not retried here: the caller looks the record up by its natural key first.
//! Credentials are [`Secret`]s, their header marked sensitive: never logged. May touch: the
//! network, through reqwest and the engine.

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::error::NexudusError;
use super::pace::{Pacer, Ticket};
use crate::api::client::redirect;
use crate::api::retry::{self, Answer, Dialect, Engine, LongWaits, Policy, Stats};
use crate::api::secret::Secret;
use crate::wire::nexudus::{self as wire, TokenResponse, WriteResult};

/// How to sign in.
#[derive(Debug, Clone)]
pub enum Credentials {
    /// A login for the password grant (with the current TOTP code when two-factor sign-in is
    /// on).
    Login {
        /// The login's email.
        username: String,
        /// Its password.
        password: Secret,
        /// A one-time code.
        totp: Option<Secret>,
    },
    /// A bearer token obtained elsewhere.
    Token(Secret),
}

/// Patience and pace.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// The retry policy (its timeout, attempts and backoff; its longest wait and what a longer
    /// one means are the client's own: see [`NexudusClient::new`]).
    pub policy: Policy,
    /// Time sped up this many times (tests against a sandbox that scales time the same way).
    pub time_scale: f64,
}

/// How the Nexudus API says "throttled": a 409 with `Retry-After` or an empty body.
const DIALECT: Dialect = Dialect {
    millis_header: Some(wire::RETRY_AFTER_MS_HEADER),
    empty_conflict_is_throttled: true,
};

/// A request's body.
enum Body<'a> {
    None,
    /// JSON, encoded once.
    Json(Vec<u8>),
    /// A form (the token grant).
    Form(&'a [(&'a str, &'a str)]),
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
    token: tokio::sync::Mutex<Option<Secret>>,
    pacer: Pacer,
    engine: Engine,
}

impl NexudusClient {
    /// A client of the API at `base` (e.g. `https://spaces.nexudus.com`). Its backoff runs as
    /// fast as the API's clock ([`Settings::time_scale`]); a throttled answer asking for longer
    /// than the pacer's patience ends the request as a spent budget.
    pub fn new(
        base: &str,
        credentials: Credentials,
        settings: Settings,
    ) -> Result<Self, NexudusError> {
        let pacer = Pacer::new(settings.time_scale);
        let policy = policy(&settings, &pacer);
        Self::with_engine(base, credentials, pacer, Engine::new(policy, DIALECT))
    }

    /// A client sending through `engine`, paced by `pacer`.
    fn with_engine(
        base: &str,
        credentials: Credentials,
        pacer: Pacer,
        engine: Engine,
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
            .timeout(engine.policy().timeout)
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
            pacer,
            engine,
        })
    }

    /// The endpoint, without a trailing slash.
    pub fn endpoint(&self) -> String {
        self.base.as_str().trim_end_matches('/').to_string()
    }

    /// Request, retry and throttle counters.
    pub fn stats(&self) -> &Stats {
        self.engine.stats()
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
    async fn bearer(&self, stale: Option<&Secret>) -> Result<Secret, NexudusError> {
        let mut token = self.token.lock().await;
        if let Some(t) = token.as_ref().filter(|t| Some(*t) != stale) {
            return Ok(t.clone());
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
            ("grant_type", "password"),
            ("username", username.as_str()),
            ("password", password.expose()),
        ];
        if let Some(code) = totp {
            form.push(("totp", code.expose()));
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
        let granted = Secret::new(granted.access_token);
        *token = Some(granted.clone());
        Ok(granted)
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

    /// Sends `call` signed with the bearer token; a 401 to a login's token has a new token
    /// asked for, once.
    async fn send(&self, call: &Call<'_>) -> Result<Answer, NexudusError> {
        let token = self.bearer(None).await?;
        let a = self.deliver(call, Some(&authorization(&token)?)).await?;
        if a.status != StatusCode::UNAUTHORIZED {
            return Ok(a);
        }
        if matches!(self.credentials, Credentials::Login { .. }) {
            let renewed = self.bearer(Some(&token)).await?;
            let a = self.deliver(call, Some(&authorization(&renewed)?)).await?;
            if a.status != StatusCode::UNAUTHORIZED {
                return Ok(a);
            }
        }
        Err(NexudusError::Login(format!(
            "{} {} answered HTTP 401",
            call.method, call.path
        )))
    }

    /// Sends `call` through the engine, each attempt in its turn under the API's windows. Any
    /// answer the engine hands back is the caller's.
    async fn deliver(
        &self,
        call: &Call<'_>,
        auth: Option<&HeaderValue>,
    ) -> Result<Answer, NexudusError> {
        let url = &self.url(call.path)?;
        let this = self;
        let step = retry::Call {
            method: &call.method,
            path: call.path,
            repeatable: call.repeatable,
        };
        self.engine
            .run(step, move || async move {
                let ticket = this.pace(call.write).await?;
                let answer = retry::exchange(this.request(call, url.clone(), auth)).await;
                drop(ticket);
                Ok(answer)
            })
            .await
    }

    /// The HTTP request of `call` to `url`.
    fn request(
        &self,
        call: &Call<'_>,
        url: reqwest::Url,
        auth: Option<&HeaderValue>,
    ) -> reqwest::RequestBuilder {
        let mut req = self.http.request(call.method.clone(), url);
        if let Some(auth) = auth {
            req = req.header(AUTHORIZATION, auth.clone());
        }
        if !call.query.is_empty() {
            req = req.query(call.query);
        }
        match &call.body {
            Body::None => req,
            Body::Json(b) => req.header(CONTENT_TYPE, "application/json").body(b.clone()),
            Body::Form(pairs) => req.form(pairs),
        }
    }
}

/// The engine's policy: the settings' backoff at the API's speed; a throttled answer asking
/// for longer than the pacer would wait means a spent budget.
fn policy(settings: &Settings, pacer: &Pacer) -> Policy {
    Policy {
        max_retry_after: pacer.patience(),
        long_waits: LongWaits::GiveUp,
        ..settings.policy.sped_up(settings.time_scale)
    }
}

/// The `Authorization` header of a bearer token, marked sensitive (never shown by the HTTP
/// stack's logs).
fn authorization(token: &Secret) -> Result<HeaderValue, NexudusError> {
    token.bearer().ok_or_else(|| {
        NexudusError::Setup(
            "the token contains characters not allowed in an HTTP header; check PARTNERCTL_TOKEN"
                .into(),
        )
    })
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
        status: a.status,
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
            method: call.method.clone(),
            path: call.path.to_string(),
            status: a.status,
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
        method: call.method.clone(),
        path: call.path.to_string(),
        status: a.status,
        body: said.chars().take(300).collect(),
    }
}

fn decode<T: DeserializeOwned>(call: &Call<'_>, body: &[u8]) -> Result<T, NexudusError> {
    serde_json::from_slice(body).map_err(|e| NexudusError::Decode {
        method: call.method.clone(),
        path: call.path.to_string(),
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests;
