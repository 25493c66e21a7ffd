//! Stage `provider`, HTTP reads: the whole live state through the partner-wide list endpoints
//! (page size 1000; the partner first, then the five other reads concurrently), mapped from wire
//! types to the provider-neutral [`crate::live`] model.

use reqwest::StatusCode;

use crate::api::types;
use crate::api::{ApiError, Client};
use crate::live;
use crate::vocab;

impl From<types::AccountKind> for vocab::AccountKind {
    fn from(k: types::AccountKind) -> Self {
        match k {
            types::AccountKind::Customer => vocab::AccountKind::Customer,
            types::AccountKind::Network => vocab::AccountKind::Network,
            types::AccountKind::SubAccount => vocab::AccountKind::SubAccount,
        }
    }
}

impl From<vocab::AccountKind> for types::AccountKind {
    fn from(k: vocab::AccountKind) -> Self {
        match k {
            vocab::AccountKind::Customer => types::AccountKind::Customer,
            vocab::AccountKind::Network => types::AccountKind::Network,
            vocab::AccountKind::SubAccount => types::AccountKind::SubAccount,
        }
    }
}

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

impl From<types::UserStatus> for vocab::UserStatus {
    fn from(s: types::UserStatus) -> Self {
        match s {
            types::UserStatus::Invited => vocab::UserStatus::Invited,
            types::UserStatus::Active => vocab::UserStatus::Active,
            types::UserStatus::Expired => vocab::UserStatus::Expired,
        }
    }
}

impl From<types::Contact> for live::Contact {
    fn from(c: types::Contact) -> Self {
        live::Contact {
            name: c.name,
            email: c.email,
        }
    }
}

impl From<live::Contact> for types::Contact {
    fn from(c: live::Contact) -> Self {
        types::Contact {
            name: c.name,
            email: c.email,
        }
    }
}

fn account(a: types::Account) -> live::Account {
    live::Account {
        id: a.id,
        kind: a.kind.into(),
        parent_id: a.parent_id,
        external_key: a.external_key,
        name: a.name,
        contact: a.contact.map(Into::into),
        country: a.country,
        timezone: a.timezone,
        labels: a.labels,
        etag: a.etag,
        // Only customers carry the flag; an API that does not report it lets the partner manage.
        manageable: a.manageable.unwrap_or(true),
    }
}

fn user(u: types::User) -> live::User {
    live::User {
        id: u.id,
        account_id: u.account_id,
        email: u.email,
        name: u.name,
        role: u.role.into(),
        status: u.status.into(),
        etag: u.etag,
    }
}

fn service(s: types::Service) -> live::Service {
    live::Service {
        account_id: s.account_id,
        service_type: s.service_type,
        settings: match s.settings {
            serde_json::Value::Object(m) => m,
            _ => serde_json::Map::new(),
        },
        etag: s.etag,
    }
}

/// `GET /v1/limits`, which is optional: absent means "no limits reported".
async fn limits(c: &Client) -> Result<types::Limits, ApiError> {
    match c.get::<types::Limits>("/v1/limits").await {
        Ok(l) => Ok(l),
        Err(e) if e.status() == Some(StatusCode::NOT_FOUND) => Ok(types::Limits::default()),
        Err(e) => Err(e),
    }
}

/// Reads the whole live state of the token's partner: the partner first, alone (it checks the
/// endpoint and the token, so that an unreachable endpoint or a wrong token is reported, and
/// retried, once rather than by six reads at once), then the other five reads concurrently.
pub(super) async fn snapshot(c: &Client) -> Result<live::Snapshot, ApiError> {
    let partner = c.get::<types::Partner>("/v1/partner").await?;
    let (limits, catalog, accounts, users, services) = tokio::try_join!(
        limits(c),
        c.list_all::<types::ServiceType>("/v1/service-types", &[]),
        c.list_all::<types::Account>("/v1/accounts", &[]),
        c.list_all::<types::User>("/v1/users", &[]),
        c.list_all::<types::Service>("/v1/services", &[]),
    )?;
    Ok(live::Snapshot {
        partner: live::PartnerInfo {
            id: partner.id,
            name: partner.name,
            manageable: partner.manageable,
            support_level: partner.support_level,
        },
        accounts: accounts.into_iter().map(account).collect(),
        users: users.into_iter().map(user).collect(),
        services: services.into_iter().map(service).collect(),
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
            ..live::Limits::default()
        },
        read: None,
    })
}
