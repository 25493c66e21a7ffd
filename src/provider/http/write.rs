//! Stage `provider`, HTTP writes: each typed [`Change`] as the partner API's request (wire types
//! `AccountCreate`, `AccountPatch`, `UserInvite`, `UserPatch`, `ServicePut`), with the recoveries
//! that make a retry after an unknown outcome safe.

use reqwest::{Method, StatusCode};
use serde_json::{Map, Value};

use super::HttpProvider;
use crate::api::{ApiError, Request};
use crate::plan::{AccountField, AccountFields, Change, Membership, Operation};
use crate::provider::{Outcome, Resolved};
use crate::wire::partner;

/// An operation that cannot be executed as planned (a bug in the plan, or a stale plan).
fn malformed(op: &Operation, what: &str) -> ApiError {
    ApiError::Decode {
        method: Method::POST,
        path: op.address.clone(),
        reason: format!(
            "operation {} on {} lacks {what}",
            op.action().as_str(),
            op.address
        ),
    }
}

fn need<'a>(op: &Operation, v: Option<&'a str>, what: &str) -> Result<&'a str, ApiError> {
    v.ok_or_else(|| malformed(op, what))
}

/// The PATCH body of an account update: the fields that differ (and the key, for adoptions).
fn account_patch(op: &Operation) -> partner::AccountPatch {
    let mut patch = partner::AccountPatch::default();
    for c in op.changed_fields() {
        let after = c.after;
        match c.field {
            AccountField::Name => patch.name = after.as_text().map(str::to_string),
            AccountField::Contact => patch.contact = after.as_contact().cloned().map(Into::into),
            AccountField::Country => patch.country = after.as_text().map(str::to_string),
            AccountField::Timezone => patch.timezone = after.as_text().map(str::to_string),
            AccountField::Labels => patch.labels = after.as_labels().cloned(),
            AccountField::ExternalKey => {
                patch.external_key = after.as_text().map(|k| Some(k.to_string()));
            }
        }
    }
    patch
}

fn user_patch(before: &Membership, after: &Membership) -> partner::UserPatch {
    partner::UserPatch {
        name: (before.name != after.name).then(|| after.name.clone()),
        role: (before.role != after.role).then_some(after.role.into()),
    }
}

fn account_create(
    op: &Operation,
    fields: &AccountFields,
    parent_id: &str,
) -> partner::AccountCreate {
    partner::AccountCreate {
        kind: op
            .account
            .kind()
            .expect("a created account has a kind")
            .into(),
        parent_id: Some(parent_id.to_string()),
        external_key: op.account.key().map(str::to_string),
        name: fields.name.clone(),
        contact: fields.contact.clone().map(Into::into),
        country: fields.country.clone(),
        timezone: fields.timezone.clone(),
        labels: fields.labels.clone(),
    }
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

    /// PATCHes `body` with `If-Match`. A 412 after the client retried means either someone
    /// else changed the object or our first attempt landed; reading it back tells which.
    async fn patch(
        &self,
        path: String,
        body: &impl serde::Serialize,
        etag: &str,
    ) -> Result<Outcome, ApiError> {
        let body = match serde_json::to_value(body) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        };
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

    /// `POST /v1/accounts`. An `external-key-taken` answer naming an account of the same kind
    /// under the same parent is our own earlier attempt whose answer was lost.
    async fn create(
        &self,
        op: &Operation,
        fields: &AccountFields,
        parent_id: &str,
        key: &str,
    ) -> Result<Outcome, ApiError> {
        let body = account_create(op, fields, parent_id);
        let req = Request::new(Method::POST, "/v1/accounts")
            .json(&body)
            .idempotency_key(key);
        let e = match self.client.send::<partner::Account>(req).await {
            Ok(a) => {
                return Ok(Outcome {
                    created_id: a.map(|a| a.id),
                });
            }
            Err(e) => e,
        };
        let existing = (e.code() == Some("external-key-taken"))
            .then(|| e.problem().and_then(|p| p.existing_id.clone()))
            .flatten();
        let Some(id) = existing else { return Err(e) };
        let a: partner::Account = self.client.get(&format!("/v1/accounts/{id}")).await?;
        if a.parent_id == parent_id && a.kind == body.kind {
            Ok(Outcome {
                created_id: Some(a.id),
            })
        } else {
            Err(e)
        }
    }

    /// `DELETE` with the goal "gone": a 404 (an earlier attempt succeeded) is success.
    async fn remove(&self, path: String, etag: Option<&str>) -> Result<Outcome, ApiError> {
        let mut req = Request::new(Method::DELETE, path);
        if let Some(etag) = etag {
            req = req.if_match(etag);
        }
        match self.client.send::<Value>(req).await {
            Ok(_) => Ok(Outcome::default()),
            Err(e) if e.status() == Some(StatusCode::NOT_FOUND) => Ok(Outcome::default()),
            Err(e) => Err(e),
        }
    }

    async fn put_service(
        &self,
        path: String,
        settings: &Map<String, Value>,
    ) -> Result<Outcome, ApiError> {
        let body = partner::ServicePut {
            settings: Value::Object(settings.clone()),
        };
        let req = Request::new(Method::PUT, path).json(&body);
        self.client
            .send::<Value>(req)
            .await
            .map(|_| Outcome::default())
    }

    pub(super) async fn run(
        &self,
        op: &Operation,
        ids: &Resolved,
        key: &str,
    ) -> Result<Outcome, ApiError> {
        let account = || need(op, ids.account_id.as_deref(), "an account id");
        match &op.change {
            Change::Create { fields, .. } => {
                let parent_id = need(op, ids.parent_id.as_deref(), "a parent id")?;
                self.create(op, fields, parent_id, key).await
            }
            Change::Update { etag, .. } | Change::Adopt { etag, .. } => {
                let path = format!("/v1/accounts/{}", account()?);
                self.patch(path, &account_patch(op), etag).await
            }
            Change::Invite(p) => {
                let body = partner::UserInvite {
                    email: p.email.clone(),
                    name: p.name.clone(),
                    role: p.role.into(),
                };
                let path = format!("/v1/accounts/{}/users", account()?);
                let req = Request::new(Method::POST, path)
                    .json(&body)
                    .idempotency_key(key);
                match self.client.send::<Value>(req).await {
                    Ok(_) => Ok(Outcome::default()),
                    // Already there (an earlier attempt's answer was lost): nothing to do.
                    Err(e) if e.code() == Some("user-exists") => Ok(Outcome::default()),
                    Err(e) => Err(e),
                }
            }
            Change::Resend { user } => {
                let req = Request::new(Method::POST, format!("/v1/users/{}/resend", user.id))
                    .json(&Value::Object(Map::new()))
                    .idempotency_key(key);
                self.client
                    .send::<Value>(req)
                    .await
                    .map(|_| Outcome::default())
            }
            Change::UpdateUser {
                user,
                etag,
                before,
                after,
            } => {
                let path = format!("/v1/users/{}", user.id);
                self.patch(path, &user_patch(before, after), etag).await
            }
            Change::AddService {
                service_type,
                settings,
            }
            | Change::UpdateService {
                service_type,
                after: settings,
                ..
            } => {
                let path = format!("/v1/accounts/{}/services/{service_type}", account()?);
                self.put_service(path, settings).await
            }
            Change::Revoke { user, etag, .. } | Change::RemoveUser { user, etag, .. } => {
                self.remove(format!("/v1/users/{}", user.id), Some(etag))
                    .await
            }
            Change::Delete { etag, .. } => {
                self.remove(format!("/v1/accounts/{}", account()?), Some(etag))
                    .await
            }
            Change::RemoveService { service_type, .. } => {
                let path = format!("/v1/accounts/{}/services/{service_type}", account()?);
                self.remove(path, None).await
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::live;
    use crate::plan::AccountRef;
    use crate::vocab::AccountKind;

    fn fields(name: &str, country: &str, zone: &str, label: &str, contact: &str) -> AccountFields {
        AccountFields {
            name: name.into(),
            contact: Some(live::Contact {
                name: contact.into(),
                email: format!("{}@example.com", contact.to_lowercase()),
            }),
            country: Some(country.into()),
            timezone: Some(zone.into()),
            labels: BTreeMap::from([("tier".to_string(), label.to_string())]),
        }
    }

    fn adopt(before: AccountFields, after: AccountFields) -> Operation {
        let account = AccountRef::Account {
            kind: AccountKind::Customer,
            key: Some("fabrikam".into()),
            id: Some("acc-1".into()),
        };
        Operation::new(
            account,
            Change::Adopt {
                etag: "\"1\"".into(),
                before,
                after,
            },
        )
    }

    #[test]
    fn every_changed_field_reaches_the_patch_and_no_other() {
        let before = fields("Fabrikam", "DE", "Europe/Berlin", "silver", "Ann");
        let after = fields("Fabrikam AG", "CH", "Europe/Zurich", "gold", "Bob");
        let patch = account_patch(&adopt(before.clone(), after.clone()));
        assert_eq!(
            patch,
            partner::AccountPatch {
                external_key: Some(Some("fabrikam".into())),
                name: Some("Fabrikam AG".into()),
                contact: after.contact.clone().map(Into::into),
                country: Some("CH".into()),
                timezone: Some("Europe/Zurich".into()),
                labels: Some(after.labels.clone()),
            }
        );
        // Only the name differs: the patch sets the name and the key, nothing else.
        let renamed = AccountFields {
            name: "Fabrikam AG".into(),
            ..before.clone()
        };
        let patch = account_patch(&adopt(before, renamed));
        assert_eq!(
            patch,
            partner::AccountPatch {
                external_key: Some(Some("fabrikam".into())),
                name: Some("Fabrikam AG".into()),
                ..Default::default()
            }
        );
    }
}
