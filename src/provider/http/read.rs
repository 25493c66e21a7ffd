//! Stage `provider`, HTTP reads: the whole live state through the partner-wide list endpoints
//! (page size 1000; the partner first, then the five other reads concurrently), mapped from wire
//! types to the provider-neutral [`crate::live`] model.

use reqwest::StatusCode;

use crate::api::{ApiError, Client};
use crate::live;
use crate::vocab;
use crate::wire::partner;

impl From<partner::AccountKind> for vocab::AccountKind {
    fn from(k: partner::AccountKind) -> Self {
        match k {
            partner::AccountKind::Customer => vocab::AccountKind::Customer,
            partner::AccountKind::Network => vocab::AccountKind::Network,
            partner::AccountKind::SubAccount => vocab::AccountKind::SubAccount,
        }
    }
}

impl From<vocab::AccountKind> for partner::AccountKind {
    fn from(k: vocab::AccountKind) -> Self {
        match k {
            vocab::AccountKind::Customer => partner::AccountKind::Customer,
            vocab::AccountKind::Network => partner::AccountKind::Network,
            vocab::AccountKind::SubAccount => partner::AccountKind::SubAccount,
        }
    }
}

impl From<partner::Role> for vocab::Role {
    fn from(r: partner::Role) -> Self {
        match r {
            partner::Role::Admin => vocab::Role::Admin,
            partner::Role::Member => vocab::Role::Member,
        }
    }
}

impl From<vocab::Role> for partner::Role {
    fn from(r: vocab::Role) -> Self {
        match r {
            vocab::Role::Admin => partner::Role::Admin,
            vocab::Role::Member => partner::Role::Member,
        }
    }
}

impl From<partner::UserStatus> for vocab::UserStatus {
    fn from(s: partner::UserStatus) -> Self {
        match s {
            partner::UserStatus::Invited => vocab::UserStatus::Invited,
            partner::UserStatus::Active => vocab::UserStatus::Active,
            partner::UserStatus::Expired => vocab::UserStatus::Expired,
        }
    }
}

impl From<partner::Contact> for live::Contact {
    fn from(c: partner::Contact) -> Self {
        live::Contact {
            name: c.name,
            email: c.email,
        }
    }
}

impl From<live::Contact> for partner::Contact {
    fn from(c: live::Contact) -> Self {
        partner::Contact {
            name: c.name,
            email: c.email,
        }
    }
}

fn account(a: partner::Account) -> live::Account {
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

fn user(u: partner::User) -> live::User {
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

fn service(s: partner::Service) -> live::Service {
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
async fn limits(c: &Client) -> Result<partner::Limits, ApiError> {
    match c.get::<partner::Limits>("/v1/limits").await {
        Ok(l) => Ok(l),
        Err(e) if e.status() == Some(StatusCode::NOT_FOUND) => Ok(partner::Limits::default()),
        Err(e) => Err(e),
    }
}

/// Reads the whole live state of the token's partner: the partner first, alone (it checks the
/// endpoint and the token, so that an unreachable endpoint or a wrong token is reported, and
/// retried, once rather than by six reads at once), then the other five reads concurrently.
pub(super) async fn snapshot(c: &Client) -> Result<live::Snapshot, ApiError> {
    let partner = c.get::<partner::Partner>("/v1/partner").await?;
    let (limits, catalog, accounts, users, services) = tokio::try_join!(
        limits(c),
        c.list_all::<partner::ServiceType>("/v1/service-types", &[]),
        c.list_all::<partner::Account>("/v1/accounts", &[]),
        c.list_all::<partner::User>("/v1/users", &[]),
        c.list_all::<partner::Service>("/v1/services", &[]),
    )?;
    Ok(live::Snapshot {
        partner: live::PartnerInfo {
            id: partner.id,
            name: partner.name,
            manageable: partner.manageable,
            support_level: partner.support_level,
        },
        private: live::Private::default(),
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
