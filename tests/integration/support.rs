//! Test harness: runs the real `partnerctl` binary as a sandbox server on `127.0.0.1:0`, talks
//! to it over HTTP, and validates every response body against `schemas/openapi.yaml`.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// Path of the binary under test.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_partnerctl")
}

/// A `partnerctl` command with a clean, explicit environment.
pub fn partnerctl() -> Command {
    let mut c = Command::new(bin());
    c.env_clear()
        .env("RUST_LOG", "warn")
        .env("NO_COLOR", "1")
        .env("CI", "true");
    c
}

/// A running sandbox server (killed on drop).
pub struct Sandbox {
    child: Option<Child>,
    /// Base URL (`http://127.0.0.1:PORT`).
    pub url: String,
    /// Its database.
    pub db: PathBuf,
    _dir: Option<tempfile::TempDir>,
}

impl Sandbox {
    /// A server on a fresh database in a temporary directory.
    pub fn start() -> Sandbox {
        Sandbox::start_args(&[])
    }

    /// A server on a fresh database with extra `serve` arguments (knobs).
    pub fn start_args(args: &[&str]) -> Sandbox {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("nested").join("sandbox.db");
        let mut sb = Sandbox::start_on(&db, args);
        sb._dir = Some(dir);
        sb
    }

    /// A server on the given database.
    pub fn start_on(db: &Path, args: &[&str]) -> Sandbox {
        let mut child = partnerctl()
            .args(["sandbox", "serve", "--listen", "127.0.0.1:0", "--db"])
            .arg(db)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn partnerctl sandbox serve");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("read stdout");
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| {
                let _ = child.kill();
                panic!("unexpected first line from sandbox serve: {line:?}")
            })
            .to_string();
        let sb = Sandbox {
            child: Some(child),
            url,
            db: db.to_path_buf(),
            _dir: None,
        };
        sb.wait_healthy();
        sb
    }

    fn wait_healthy(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        let addr = self.url.trim_start_matches("http://").to_string();
        loop {
            if let Ok(mut s) = std::net::TcpStream::connect(&addr) {
                use std::io::{Read, Write};
                let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
                let _ =
                    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
                let mut buf = String::new();
                let _ = s.read_to_string(&mut buf);
                if buf.starts_with("HTTP/1.1 200") {
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "sandbox at {} never became healthy",
                self.url
            );
            std::thread::yield_now();
        }
    }

    /// Runs `partnerctl sandbox partner add` on this server's database; returns the token.
    pub fn add_partner(&self, name: &str, manageable: bool) -> String {
        let mut c = partnerctl();
        c.args(["sandbox", "partner", "add", "--name", name, "--db"])
            .arg(&self.db);
        if !manageable {
            c.arg("--not-manageable");
        }
        let out = c.output().expect("run partner add");
        assert!(
            out.status.success(),
            "partner add failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8(out.stdout).expect("utf-8");
        let lines: Vec<&str> = stdout.lines().collect();
        assert_eq!(
            lines.len(),
            1,
            "partner add must print only the token: {stdout:?}"
        );
        lines[0].to_string()
    }

    /// An API client for a new partner.
    pub fn partner(&self, name: &str, manageable: bool) -> Api {
        Api::new(&self.url, &self.add_partner(name, manageable))
    }

    /// Runs an admin subcommand (`users accept ...`, `outbox`) against this database.
    pub fn admin(&self, args: &[&str]) -> std::process::Output {
        partnerctl()
            .arg("sandbox")
            .args(args)
            .arg("--db")
            .arg(&self.db)
            .output()
            .expect("run admin command")
    }

    /// `kill -9` the server.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill().expect("SIGKILL");
            c.wait().expect("reap");
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// One HTTP response, body parsed as JSON (`Null` when empty).
#[derive(Debug)]
pub struct Resp {
    /// Status code.
    pub status: u16,
    /// Headers.
    pub headers: reqwest::header::HeaderMap,
    /// Body.
    pub body: Value,
}

impl Resp {
    /// Asserts a 2xx status and that the body is valid against the named component schema.
    #[track_caller]
    pub fn ok(self, schema: &str) -> Value {
        assert!(
            (200..300).contains(&self.status),
            "expected success, got {}: {}",
            self.status,
            self.body
        );
        assert_valid(schema, &self.body);
        self.body
    }

    /// Asserts this exact status (success) and schema.
    #[track_caller]
    pub fn status_ok(self, status: u16, schema: &str) -> Value {
        assert_eq!(self.status, status, "body: {}", self.body);
        self.ok(schema)
    }

    /// Asserts an error with this status and problem `code` (the body was already validated
    /// as a Problem).
    #[track_caller]
    pub fn err(self, status: u16, code: &str) -> Value {
        assert_eq!(self.status, status, "body: {}", self.body);
        assert_eq!(self.body["code"], code, "body: {}", self.body);
        self.body
    }

    /// A header as a string.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }
}

/// A client for one partner.
#[derive(Clone)]
pub struct Api {
    /// Base URL.
    pub base: String,
    /// Bearer token.
    pub token: String,
    http: reqwest::Client,
}

impl Api {
    /// A client with its own connection pool.
    pub fn new(base: &str, token: &str) -> Api {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("client");
        Api {
            base: base.to_string(),
            token: token.to_string(),
            http,
        }
    }

    /// Sends a request; error bodies are asserted to be problem+json valid against `Problem`.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Resp {
        self.try_call(method, path, body, headers)
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
    }

    /// Like [`Api::call`], but transport errors are returned.
    pub async fn try_call(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Result<Resp, reqwest::Error> {
        let m = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut rb = self.http.request(m, format!("{}{}", self.base, path));
        if !self.token.is_empty() {
            rb = rb.bearer_auth(&self.token);
        }
        for (k, v) in headers {
            rb = rb.header(*k, *v);
        }
        if let Some(b) = body {
            rb = rb.json(b);
        }
        let r = rb.send().await?;
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let bytes = r.bytes().await?;
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                panic!(
                    "{method} {path}: body is not JSON ({e}): {}",
                    String::from_utf8_lossy(&bytes)
                )
            })
        };
        if status >= 400 {
            let ct = headers
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            assert_eq!(
                ct, "application/problem+json",
                "{method} {path} -> {status}: {body}"
            );
            assert_valid("Problem", &body);
            assert_eq!(body["status"], status);
        }
        check_contract(method, path, status, &headers, &body);
        if status == 204 {
            assert!(body.is_null(), "204 with a body: {body}");
        }
        Ok(Resp {
            status,
            headers,
            body,
        })
    }

    /// GET.
    pub async fn get(&self, path: &str) -> Resp {
        self.call("GET", path, None, &[]).await
    }

    /// POST with a JSON body.
    pub async fn post(&self, path: &str, body: Value) -> Resp {
        self.call("POST", path, Some(&body), &[]).await
    }

    /// POST with an Idempotency-Key.
    pub async fn post_idem(&self, path: &str, body: Value, key: &str) -> Resp {
        self.call("POST", path, Some(&body), &[("Idempotency-Key", key)])
            .await
    }

    /// PATCH with If-Match.
    pub async fn patch(&self, path: &str, body: Value, if_match: Option<&str>) -> Resp {
        match if_match {
            Some(e) => {
                self.call("PATCH", path, Some(&body), &[("If-Match", e)])
                    .await
            }
            None => self.call("PATCH", path, Some(&body), &[]).await,
        }
    }

    /// DELETE with If-Match.
    pub async fn delete(&self, path: &str, if_match: Option<&str>) -> Resp {
        match if_match {
            Some(e) => self.call("DELETE", path, None, &[("If-Match", e)]).await,
            None => self.call("DELETE", path, None, &[]).await,
        }
    }

    /// PUT with a JSON body.
    pub async fn put(&self, path: &str, body: Value) -> Resp {
        self.call("PUT", path, Some(&body), &[]).await
    }

    /// Creates a customer with every required field; returns it.
    pub async fn customer(&self, key: &str) -> Value {
        self.post("/v1/accounts", customer_body(key))
            .await
            .status_ok(201, "Account")
    }

    /// Creates a network or sub-account under `parent`.
    pub async fn child(&self, kind: &str, parent: &str, key: &str) -> Value {
        self.post("/v1/accounts", json!({"kind": kind, "parent_id": parent, "external_key": key, "name": format!("{key} name")}))
            .await
            .status_ok(201, "Account")
    }

    /// Every item of a list endpoint, following `next_page_token`.
    pub async fn list_all(&self, path: &str, page_schema: &str, page_size: u32) -> Vec<Value> {
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let url = match &token {
                Some(t) => format!("{path}{sep}page_size={page_size}&page_token={t}"),
                None => format!("{path}{sep}page_size={page_size}"),
            };
            let page = self.get(&url).await.ok(page_schema);
            out.extend(page["items"].as_array().expect("items").iter().cloned());
            match page.get("next_page_token").and_then(Value::as_str) {
                Some(t) => token = Some(t.to_string()),
                None => return out,
            }
        }
    }
}

/// A valid customer body.
pub fn customer_body(key: &str) -> Value {
    json!({
        "kind": "customer",
        "external_key": key,
        "name": format!("Customer {key}"),
        "contact": {"name": "Jane Doe", "email": format!("jane@{key}.example")},
        "country": "FR",
        "timezone": "Europe/Paris",
        "labels": {"tier": "gold"}
    })
}

type Validators = Mutex<HashMap<String, Arc<jsonschema::Validator>>>;

fn openapi() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/openapi.yaml");
        let text = std::fs::read_to_string(&path).expect("read schemas/openapi.yaml");
        serde_yaml::from_str(&text).expect("openapi.yaml is YAML")
    })
}

fn validator(name: &str) -> Arc<jsonschema::Validator> {
    static CACHE: OnceLock<Validators> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(v) = cache.lock().unwrap().get(name) {
        return v.clone();
    }
    let doc = openapi();
    assert!(
        doc["components"]["schemas"].get(name).is_some(),
        "no component schema {name} in openapi.yaml"
    );
    let schema = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "components": doc["components"],
        "$ref": format!("#/components/schemas/{name}"),
    });
    let v = Arc::new(
        jsonschema::options()
            .should_validate_formats(true)
            .build(&schema)
            .unwrap_or_else(|e| panic!("schema {name}: {e}")),
    );
    cache.lock().unwrap().insert(name.to_string(), v.clone());
    v
}

/// Asserts that `value` is valid against `#/components/schemas/{name}` of the OpenAPI document.
#[track_caller]
pub fn assert_valid(name: &str, value: &Value) {
    let v = validator(name);
    let errors: Vec<String> = v
        .iter_errors(value)
        .map(|e| format!("{} at {}", e, e.instance_path().as_str()))
        .collect();
    assert!(
        errors.is_empty(),
        "response is not a valid {name}: {errors:#?}\n{value}"
    );
}

/// Checks a response against the operation of `openapi.yaml` it belongs to: the status must be
/// declared for that method and path, the body must match the declared schema, and a declared
/// `ETag` (or, on 429, `Retry-After`) header must be present. Requests to undeclared paths or
/// methods must be 404 or 405 (their bodies were already checked as problems).
#[track_caller]
pub fn check_contract(
    method: &str,
    path: &str,
    status: u16,
    headers: &reqwest::header::HeaderMap,
    body: &Value,
) {
    let doc = openapi();
    let path_only = path.split('?').next().unwrap_or(path);
    let Some(op) = find_operation(doc, &method.to_ascii_lowercase(), path_only) else {
        assert!(
            status == 404 || status == 405,
            "{method} {path} is not in openapi.yaml but answered {status}"
        );
        return;
    };
    let Some(mut resp) = op["responses"].get(status.to_string()) else {
        panic!(
            "{method} {path} answered {status}, which openapi.yaml does not declare for it: {body}"
        )
    };
    if let Some(r) = resp.get("$ref").and_then(Value::as_str) {
        resp = &doc["components"]["responses"][r.rsplit('/').next().unwrap()];
    }
    for h in ["ETag", "Retry-After"] {
        let declared = resp.get("headers").and_then(|hs| hs.get(h)).is_some();
        if declared && (h == "ETag" || status == 429) {
            assert!(
                headers.contains_key(h),
                "{method} {path} -> {status}: missing declared header {h}"
            );
        }
    }
    match resp
        .get("content")
        .and_then(|c| c.as_object())
        .and_then(|c| c.values().next())
    {
        Some(media) => {
            let schema_ref = media["schema"]["$ref"].as_str().expect("schemas are $refs");
            assert_valid(schema_ref.rsplit('/').next().unwrap(), body);
        }
        None => assert!(
            body.is_null(),
            "{method} {path} -> {status} declares no body but got {body}"
        ),
    }
}

fn find_operation<'a>(doc: &'a Value, method: &str, path: &str) -> Option<&'a Value> {
    let segs: Vec<&str> = path.split('/').collect();
    doc["paths"]
        .as_object()?
        .iter()
        .find_map(|(template, item)| {
            let t: Vec<&str> = template.split('/').collect();
            let matches = t.len() == segs.len()
                && t.iter()
                    .zip(&segs)
                    .all(|(a, b)| (a.starts_with('{') && !b.is_empty()) || a == b);
            if matches { item.get(method) } else { None }
        })
}

#[test]
fn contract_checker_rejects_what_the_document_does_not_declare() {
    let h = reqwest::header::HeaderMap::new();
    let partner = json!({"id": "p", "name": "n", "manageable": true, "support_level": "none"});
    check_contract("GET", "/v1/partner", 200, &h, &partner);
    let undeclared =
        std::panic::catch_unwind(|| check_contract("GET", "/v1/partner", 418, &h, &partner));
    assert!(
        undeclared.is_err(),
        "a status the operation does not declare"
    );
    let bad_body = std::panic::catch_unwind(|| {
        check_contract("GET", "/v1/partner", 200, &h, &json!({"id": 1}))
    });
    assert!(bad_body.is_err(), "a body that does not match the schema");
    let no_etag =
        std::panic::catch_unwind(|| check_contract("GET", "/v1/accounts/x", 200, &h, &json!({})));
    assert!(no_etag.is_err(), "a declared ETag header missing");
    let unknown_route_ok =
        std::panic::catch_unwind(|| check_contract("GET", "/v2/zzz", 200, &h, &Value::Null));
    assert!(
        unknown_route_ok.is_err(),
        "an undeclared route answering 200"
    );
}
