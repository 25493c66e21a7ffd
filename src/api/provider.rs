//! Stage `api`, provider: the §7 HTTP API as a [`Provider`]: reads the live snapshot through the
//! partner-wide list endpoints (page size 1000; the six reads run concurrently), and maps wire
//! types to the provider-neutral [`crate::live`] model.

use std::sync::atomic::Ordering;

use reqwest::{Method, StatusCode};
use serde_json::{Map, Value};

use super::client::{ApiError, Client, Request};
use super::types;
use crate::live;
use crate::plan::{Action, Operation};
use crate::provider::{Outcome, Provider, Resolved};
use crate::vocab;

/// The partner API of SPEC §7 over HTTP.
#[derive(Debug, Clone)]
pub struct HttpProvider {
    client: Client,
}

impl HttpProvider {
    /// Wraps a client.
    pub fn new(client: Client) -> Self {
        HttpProvider { client }
    }

    /// The underlying client (for its counters).
    pub fn client(&self) -> &Client {
        &self.client
    }
}

fn kind(k: types::AccountKind) -> vocab::AccountKind {
    match k {
        types::AccountKind::Customer => vocab::AccountKind::Customer,
        types::AccountKind::Network => vocab::AccountKind::Network,
        types::AccountKind::SubAccount => vocab::AccountKind::SubAccount,
    }
}

// The config model's role (also the live model's) and the wire role, both ways.
impl From<types::Role> for vocab::Role {
    fn from(r: types::Role) -> Self {
        match r {
            types::Role::Admin => vocab::Role::Admin,
            types::Role::Member => vocab::Role::Member,
        }
    }
}

impl From<vocab::Role> for types::Role {
    fn from(r: vocab::Role) -> Self {
        match r {
            vocab::Role::Admin => types::Role::Admin,
            vocab::Role::Member => types::Role::Member,
        }
    }
}

fn status(s: types::UserStatus) -> vocab::UserStatus {
    match s {
        types::UserStatus::Invited => vocab::UserStatus::Invited,
        types::UserStatus::Active => vocab::UserStatus::Active,
        types::UserStatus::Expired => vocab::UserStatus::Expired,
    }
}

/// An operation that cannot be executed as planned (a bug in the plan, or a stale plan).
fn malformed(op: &Operation, what: &str) -> ApiError {
    ApiError::Decode {
        method: Method::POST,
        path: op.address.clone(),
        reason: format!(
            "operation {} on {} lacks {what}",
            op.action.as_str(),
            op.address
        ),
    }
}

fn need<'a>(op: &Operation, v: Option<&'a str>, what: &str) -> Result<&'a str, ApiError> {
    v.ok_or_else(|| malformed(op, what))
}

/// The fields of `after` that differ from `before` (an account or user PATCH body).
fn patch_body(op: &Operation) -> Map<String, Value> {
    op.changed_fields()
        .into_iter()
        .filter_map(|(k, _, a)| a.map(|a| (k, a)))
        .collect()
}

impl HttpProvider {
    /// After a PATCH answered 412 on a retry: did the first attempt already apply it? Reads the
    /// object back and compares the fields the patch sets.
    async fn already_applied(&self, path: &str, body: &Map<String, Value>) -> bool {
        match self.client.get::<Value>(path).await {
            Ok(current) => body.iter().all(|(k, v)| current.get(k) == Some(v)),
            Err(_) => false,
        }
    }

    /// PATCHes the fields `op` changes with `If-Match`. A 412 after the client retried means
    /// either someone else changed the object or our first attempt landed; reading it back
    /// tells which.
    async fn patch(&self, op: &Operation, path: String) -> Result<Outcome, ApiError> {
        let body = patch_body(op);
        let etag = need(op, op.etag.as_deref(), "an etag")?;
        let req = Request::new(Method::PATCH, path.clone())
            .json(&body)
            .if_match(etag);
        match self.client.send::<Value>(req).await {
            Ok(_) => Ok(Outcome::default()),
            Err(e)
                if e.status() == Some(StatusCode::PRECONDITION_FAILED)
                    && self.already_applied(&path, &body).await =>
            {
                Ok(Outcome::default())
            }
            Err(e) => Err(e),
        }
    }

    async fn run(&self, op: &Operation, ids: &Resolved, key: &str) -> Result<Outcome, ApiError> {
        let c = &self.client;
        let account = || need(op, ids.account_id.as_deref(), "an account id");
        let after = op.after.clone().unwrap_or(Value::Null);
        match op.action {
            Action::Create => {
                let mut body = after.as_object().cloned().unwrap_or_default();
                body.insert(
                    "parent_id".into(),
                    Value::String(need(op, ids.parent_id.as_deref(), "a parent id")?.to_string()),
                );
                let req = Request::new(Method::POST, "v1/accounts")
                    .json(&body)
                    .idempotency_key(key);
                match c.send::<types::Account>(req).await {
                    Ok(a) => Ok(Outcome {
                        created_id: a.map(|a| a.id),
                    }),
                    // Created by an earlier attempt whose answer was lost: same key, same parent.
                    Err(e) if e.code() == Some("external-key-taken") => {
                        let existing = e.problem().and_then(|p| p.existing_id.clone());
                        match existing {
                            Some(id) => {
                                let a: types::Account = c.get(&format!("v1/accounts/{id}")).await?;
                                if Some(a.parent_id.as_str()) == ids.parent_id.as_deref()
                                    && a.kind.as_str()
                                        == op.account.kind().map_or("", |k| k.as_str())
                                {
                                    Ok(Outcome {
                                        created_id: Some(a.id),
                                    })
                                } else {
                                    Err(e)
                                }
                            }
                            None => Err(e),
                        }
                    }
                    Err(e) => Err(e),
                }
            }
            Action::Update | Action::Adopt => {
                self.patch(op, format!("v1/accounts/{}", account()?)).await
            }
            Action::Invite => {
                let path = format!("v1/accounts/{}/users", account()?);
                let req = Request::new(Method::POST, path)
                    .json(&after)
                    .idempotency_key(key);
                match c.send::<Value>(req).await {
                    Ok(_) => Ok(Outcome::default()),
                    // Already there (an earlier attempt's answer was lost): nothing to do.
                    Err(e) if e.code() == Some("user-exists") => Ok(Outcome::default()),
                    Err(e) => Err(e),
                }
            }
            Action::Resend => {
                let id = need(op, op.user_id.as_deref(), "a user id")?;
                let req = Request::new(Method::POST, format!("v1/users/{id}/resend"))
                    .json(&Value::Object(Map::new()))
                    .idempotency_key(key);
                c.send::<Value>(req).await.map(|_| Outcome::default())
            }
            Action::UpdateUser => {
                let id = need(op, op.user_id.as_deref(), "a user id")?;
                self.patch(op, format!("v1/users/{id}")).await
            }
            Action::AddService | Action::UpdateService => {
                let t = need(op, op.service_type.as_deref(), "a service type")?;
                let path = format!("v1/accounts/{}/services/{t}", account()?);
                let body = serde_json::json!({ "settings": after.get("settings").cloned().unwrap_or(Value::Object(Map::new())) });
                c.send::<Value>(Request::new(Method::PUT, path).json(&body))
                    .await
                    .map(|_| Outcome::default())
            }
            Action::Revoke | Action::RemoveUser | Action::Delete | Action::RemoveService => {
                let path = match op.action {
                    Action::Delete => format!("v1/accounts/{}", account()?),
                    Action::RemoveService => format!(
                        "v1/accounts/{}/services/{}",
                        account()?,
                        need(op, op.service_type.as_deref(), "a service type")?
                    ),
                    _ => format!("v1/users/{}", need(op, op.user_id.as_deref(), "a user id")?),
                };
                let mut req = Request::new(Method::DELETE, path);
                if op.action != Action::RemoveService {
                    req = req.if_match(need(op, op.etag.as_deref(), "an etag")?);
                }
                match c.send::<Value>(req).await {
                    Ok(_) => Ok(Outcome::default()),
                    // Gone already (an earlier attempt succeeded): the goal is reached.
                    Err(e) if e.status() == Some(StatusCode::NOT_FOUND) => Ok(Outcome::default()),
                    Err(e) => Err(e),
                }
            }
        }
    }
}

impl Provider for HttpProvider {
    type Error = ApiError;

    fn execute(
        &self,
        op: &Operation,
        ids: &Resolved,
        idempotency_key: &str,
    ) -> impl std::future::Future<Output = Result<Outcome, ApiError>> + Send {
        self.run(op, ids, idempotency_key)
    }

    fn throttle_events(&self) -> u64 {
        self.client.stats().throttled.load(Ordering::Relaxed)
    }

    fn retries(&self) -> u64 {
        self.client.stats().retries.load(Ordering::Relaxed)
    }

    fn endpoint(&self) -> String {
        self.client.base_url().trim_end_matches('/').to_string()
    }

    async fn snapshot(&self) -> Result<live::Snapshot, ApiError> {
        let c = &self.client;
        let limits = async {
            match c.get::<types::Limits>("v1/limits").await {
                Ok(l) => Ok(l),
                // Optional endpoint (§7): absent means "no limits reported".
                Err(e) if e.status() == Some(StatusCode::NOT_FOUND) => Ok(types::Limits::default()),
                Err(e) => Err(e),
            }
        };
        let (partner, limits, catalog, accounts, users, services) = tokio::try_join!(
            c.get::<types::Partner>("v1/partner"),
            limits,
            c.list_all::<types::ServiceType>("v1/service-types", &[]),
            c.list_all::<types::Account>("v1/accounts", &[]),
            c.list_all::<types::User>("v1/users", &[]),
            c.list_all::<types::Service>("v1/services", &[]),
        )?;
        Ok(live::Snapshot {
            partner: live::PartnerInfo {
                id: partner.id,
                name: partner.name,
                manageable: partner.manageable,
                support_level: partner.support_level,
            },
            accounts: accounts
                .into_iter()
                .map(|a| live::Account {
                    id: a.id,
                    kind: kind(a.kind),
                    parent_id: a.parent_id,
                    external_key: a.external_key,
                    name: a.name,
                    contact: a.contact.map(|c| live::Contact {
                        name: c.name,
                        email: c.email,
                    }),
                    country: a.country,
                    timezone: a.timezone,
                    labels: a.labels,
                    etag: a.etag,
                })
                .collect(),
            users: users
                .into_iter()
                .map(|u| live::User {
                    id: u.id,
                    account_id: u.account_id,
                    email: u.email,
                    name: u.name,
                    role: u.role.into(),
                    status: status(u.status),
                    etag: u.etag,
                })
                .collect(),
            services: services
                .into_iter()
                .map(|s| live::Service {
                    account_id: s.account_id,
                    service_type: s.service_type,
                    settings: match s.settings {
                        serde_json::Value::Object(m) => m,
                        _ => serde_json::Map::new(),
                    },
                    etag: s.etag,
                })
                .collect(),
            catalog: catalog
                .into_iter()
                .map(|t| live::ServiceType {
                    name: t.service_type,
                    description: t.description,
                    settings_schema: t.settings_schema,
                })
                .collect(),
            limits: live::Limits {
                reads_per_minute: limits.reads_per_minute,
                writes_per_minute: limits.writes_per_minute,
            },
        })
    }
}
