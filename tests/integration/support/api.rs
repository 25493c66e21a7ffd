//! A small HTTP client for one partner: every response is checked against
//! `schemas/openapi.yaml` (see [`super::contract`]).

use std::time::Duration;

use serde_json::{Value, json};

use super::contract::{assert_valid, check_contract};

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

    /// Invites a user into an account; returns it.
    pub async fn invite(&self, account_id: &str, email: &str, name: &str) -> Value {
        self.post(
            &format!("/v1/accounts/{account_id}/users"),
            json!({"email": email, "name": name}),
        )
        .await
        .status_ok(201, "User")
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

/// The list endpoints of the API and the component schema of their pages.
pub const LISTS: [(&str, &str); 3] = [
    ("/v1/accounts", "AccountPage"),
    ("/v1/users", "UserPage"),
    ("/v1/services", "ServicePage"),
];

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
