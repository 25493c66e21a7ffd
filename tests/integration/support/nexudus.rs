//! A small HTTP client of the sandbox's Nexudus dialect: Bearer or Basic, the form-encoded
//! token grant, and (unless told otherwise) throttled requests retried after the exact wait the
//! sandbox announced (`X-Retry-After-Ms`), so that tests never sleep for synchronisation.

use std::time::Duration;

use serde_json::Value;

use super::sandbox::Sandbox;

/// How a client authenticates.
#[derive(Clone, Debug)]
pub enum Auth {
    /// No `Authorization` header.
    None,
    /// `Authorization: Bearer TOKEN`.
    Bearer(String),
    /// HTTP Basic with a login and password.
    Basic(String, String),
}

/// One response: status, headers, the raw body and the body as JSON (`Null` when empty).
#[derive(Debug)]
pub struct NxResp {
    /// Status code.
    pub status: u16,
    /// Headers.
    pub headers: reqwest::header::HeaderMap,
    /// The body's bytes, as text.
    pub text: String,
    /// The body as JSON (`Null` when empty).
    pub body: Value,
}

impl NxResp {
    /// A header as a string.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }

    /// Is it the throttle's answer (409 with `Retry-After` and an empty body)?
    pub fn throttled(&self) -> bool {
        self.status == 409 && self.text.is_empty() && self.header("retry-after").is_some()
    }

    /// Asserts HTTP 200 and `WasSuccessful: true`; returns `Value.Id`.
    #[track_caller]
    pub fn written(self) -> i64 {
        assert_eq!(self.status, 200, "{}", self.text);
        assert_eq!(self.body["WasSuccessful"], true, "{}", self.text);
        self.body["Value"]["Id"].as_i64().expect("Value.Id")
    }

    /// Asserts a `WriteResult` with `WasSuccessful: false` at HTTP `status`; returns it.
    #[track_caller]
    pub fn refused(self, status: u16) -> Value {
        assert_eq!(self.status, status, "{}", self.text);
        assert_eq!(self.body["WasSuccessful"], false, "{}", self.text);
        self.body
    }

    /// Asserts HTTP 200; returns the body.
    #[track_caller]
    pub fn ok(self) -> Value {
        assert_eq!(self.status, 200, "{}", self.text);
        self.body
    }
}

/// Percent-encodes a form value.
fn form_encode(pairs: &[(&str, &str)]) -> String {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    let parts: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect();
    parts.join("&")
}

/// A client of one sandbox.
#[derive(Clone)]
pub struct Nx {
    /// Base URL.
    pub base: String,
    /// How it authenticates.
    pub auth: Auth,
    /// Retry throttled requests after the announced wait (default true).
    pub retry_throttled: bool,
    http: reqwest::Client,
}

impl Nx {
    /// A client of the sandbox at `base`.
    pub fn new(base: &str, auth: Auth) -> Nx {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("client");
        Nx {
            base: base.to_string(),
            auth,
            retry_throttled: true,
            http,
        }
    }

    /// The same client, answering throttled requests as they come.
    pub fn raw(&self) -> Nx {
        Nx {
            retry_throttled: false,
            ..self.clone()
        }
    }

    /// `POST /api/token` with a form-encoded body.
    pub async fn token_form(&self, pairs: &[(&str, &str)]) -> NxResp {
        let rb = self
            .http
            .post(format!("{}/api/token", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form_encode(pairs));
        self.finish(rb).await.expect("POST /api/token")
    }

    /// Sends a request; throttled ones are retried after the announced wait unless `raw`.
    pub async fn try_send(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<NxResp, reqwest::Error> {
        loop {
            let m = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
            let mut rb = self.http.request(m, format!("{}{}", self.base, path));
            rb = match &self.auth {
                Auth::None => rb,
                Auth::Bearer(t) => rb.bearer_auth(t),
                Auth::Basic(l, p) => rb.basic_auth(l, Some(p)),
            };
            if let Some(b) = body {
                rb = rb.json(b);
            }
            let r = self.finish(rb).await?;
            if !(self.retry_throttled && r.throttled()) {
                return Ok(r);
            }
            let ms: u64 = r
                .header("x-retry-after-ms")
                .expect("X-Retry-After-Ms")
                .parse()
                .unwrap();
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
    }

    async fn finish(&self, rb: reqwest::RequestBuilder) -> Result<NxResp, reqwest::Error> {
        let r = rb.send().await?;
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let bytes = r.bytes().await?;
        let text = String::from_utf8_lossy(&bytes).to_string();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|e| panic!("{status}: body is not JSON ({e}): {text}"))
        };
        Ok(NxResp {
            status,
            headers,
            text,
            body,
        })
    }

    /// Sends a request (panics on transport errors).
    pub async fn send(&self, method: &str, path: &str, body: Option<&Value>) -> NxResp {
        self.try_send(method, path, body)
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
    }

    /// GET.
    pub async fn get(&self, path: &str) -> NxResp {
        self.send("GET", path, None).await
    }

    /// POST with a JSON body.
    pub async fn post(&self, path: &str, body: Value) -> NxResp {
        self.send("POST", path, Some(&body)).await
    }

    /// PUT with a JSON body.
    pub async fn put(&self, path: &str, body: Value) -> NxResp {
        self.send("PUT", path, Some(&body)).await
    }

    /// DELETE.
    pub async fn delete(&self, path: &str) -> NxResp {
        self.send("DELETE", path, None).await
    }

    /// Every record of a list, page by page (`size` a page).
    pub async fn list_all(&self, path: &str, size: u32) -> Vec<Value> {
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut out = Vec::new();
        for page in 1.. {
            let p = self
                .get(&format!("{path}{sep}page={page}&size={size}"))
                .await
                .ok();
            out.extend(p["Records"].as_array().expect("Records").iter().cloned());
            if p["HasNextPage"] != true {
                break;
            }
        }
        out
    }
}

/// The login every Nexudus test partner gets.
pub const LOGIN: &str = "ops@acme.example";
/// Its password.
pub const PASSWORD: &str = "s3cret pass";

impl Sandbox {
    /// A sandbox speaking the Nexudus dialect, its windows divided by 1000 (a minute lasts 60
    /// ms) unless `args` sets `--time-scale`.
    pub fn nexudus(args: &[&str]) -> Sandbox {
        let mut all = vec!["--dialect", "nexudus"];
        if !args.contains(&"--time-scale") {
            all.extend(["--time-scale", "1000"]);
        }
        all.extend(args);
        Sandbox::start_args(&all)
    }

    /// Adds partner `name` with the login `login` (password [`PASSWORD`]); a Basic client.
    pub fn nexudus_partner(&self, name: &str, login: &str) -> Nx {
        self.nexudus_partner_token(name, login).0
    }

    /// Like [`Sandbox::nexudus_partner`], with the partner API token `partner add` printed.
    pub fn nexudus_partner_token(&self, name: &str, login: &str) -> (Nx, String) {
        let run = self
            .admin(&[
                "partner",
                "add",
                "--name",
                name,
                "--login",
                login,
                "--password",
                PASSWORD,
            ])
            .success();
        let lines: Vec<&str> = run.stdout.lines().collect();
        assert_eq!(lines.len(), 1, "only the token: {}", run.stdout);
        let nx = Nx::new(&self.url, Auth::Basic(login.into(), PASSWORD.into()));
        (nx, lines[0].to_string())
    }

    /// `sandbox accounts add ARGS`: the new account's id.
    pub fn add_account(&self, args: &[&str]) -> String {
        let mut all = vec!["accounts", "add"];
        all.extend(args);
        let run = self.admin(&all).success();
        let id = run.stdout.trim().to_string();
        assert!(id.starts_with("acc_"), "{}", run.stdout);
        id
    }

    /// The Nexudus provider (the library's, not the binary) signed in as [`LOGIN`], its time
    /// sped up as the test sandboxes' is.
    pub fn nexudus_provider(&self) -> partnerctl::provider::nexudus::NexudusProvider {
        use partnerctl::api::{Secret, retry::Policy};
        use partnerctl::provider::nexudus::client::{Credentials, Settings};
        let credentials = Credentials::Login {
            username: LOGIN.into(),
            password: Secret::new(PASSWORD),
            totp: None,
        };
        let settings = Settings {
            policy: Policy {
                timeout: Duration::from_secs(10),
                attempts: 3,
                ..Policy::default()
            },
            time_scale: 1000.0,
        };
        partnerctl::provider::nexudus::NexudusProvider::new(&self.url, credentials, settings)
            .expect("a provider of the sandbox")
    }

    /// Contoso as the person at the dashboard makes it: the customer "Contoso Ltd", its
    /// network account "Contoso Network" and that network's sub-account "Contoso Paris" (with
    /// `sub`'s extra arguments, such as its time zone).
    pub fn add_contoso_tree(&self, sub: &[&str]) {
        self.add_customer("Contoso Ltd", &[]);
        let network = [
            "--kind",
            "network",
            "--name",
            "Contoso Network",
            "--parent",
            "Contoso Ltd",
        ];
        self.add_account(&network);
        let mut args = vec![
            "--kind",
            "sub_account",
            "--name",
            "Contoso Paris",
            "--parent",
            "Contoso Network",
        ];
        args.extend(sub);
        self.add_account(&args);
    }

    /// A customer with every field, added at the dashboard.
    pub fn add_customer(&self, name: &str, extra: &[&str]) -> String {
        let email = format!("jane@{}.example", name.to_lowercase().replace(' ', "-"));
        let mut args = vec![
            "--kind",
            "customer",
            "--name",
            name,
            "--contact-name",
            "Jane Doe",
            "--contact-email",
            &email,
            "--country",
            "GB",
            "--timezone",
            "Europe/London",
        ];
        args.extend(extra);
        self.add_account(&args)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_are_percent_encoded() {
        assert_eq!(
            form_encode(&[("username", "a@b.example"), ("password", "x y&z")]),
            "username=a%40b.example&password=x%20y%26z"
        );
    }
}
