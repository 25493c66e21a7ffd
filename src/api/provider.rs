//! Stage `api`, provider: the §7 HTTP API as a [`Provider`]: reads the live snapshot through the
//! partner-wide list endpoints (page size 1000; the six reads run concurrently), and maps wire
//! types to the provider-neutral [`crate::live`] model.

use reqwest::StatusCode;

use super::client::{ApiError, Client};
use super::types;
use crate::live;
use crate::provider::Provider;

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

fn kind(k: types::AccountKind) -> live::AccountKind {
    match k {
        types::AccountKind::Customer => live::AccountKind::Customer,
        types::AccountKind::Network => live::AccountKind::Network,
        types::AccountKind::SubAccount => live::AccountKind::SubAccount,
    }
}

fn role(r: types::Role) -> live::Role {
    match r {
        types::Role::Admin => live::Role::Admin,
        types::Role::Member => live::Role::Member,
    }
}

fn status(s: types::UserStatus) -> live::UserStatus {
    match s {
        types::UserStatus::Invited => live::UserStatus::Invited,
        types::UserStatus::Active => live::UserStatus::Active,
        types::UserStatus::Expired => live::UserStatus::Expired,
    }
}

impl Provider for HttpProvider {
    type Error = ApiError;

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
                    role: role(u.role),
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
