//! Stage `provider`, Nexudus writes: invitations as logins linked to the account's business,
//! user changes and removals and business renames, each as a read-modify-write of the complete
//! record (the API clears what a PUT leaves out, so the record is read as it is, fields this
//! tool does not know included, and only the managed fields are changed). There are no
//! idempotency keys: before creating a login again after an unknown outcome, it is looked up
//! by email, so a retry never creates it twice.

use reqwest::Method;
use serde_json::{Value, json};

use super::NexudusProvider;
use super::error::NexudusError;
use super::wire::{self, Page, User};
use crate::plan::{Change, Membership, Operation, Person};
use crate::provider::{Outcome, Resolved};
use crate::vocab::Role;

/// Attempts of a login creation whose outcome was unknown.
const CREATE_ATTEMPTS: u32 = 4;

/// The business id an operation acts in.
fn business(op: &Operation, ids: &Resolved) -> Result<i64, NexudusError> {
    ids.account_id
        .as_deref()
        .and_then(|id| id.parse().ok())
        .ok_or_else(|| NexudusError::Unsupported(format!("{} (no business id)", op.address)))
}

/// The login id of a live user id (`<login>/<business>`).
fn login_id(live_id: &str) -> Option<i64> {
    live_id.split('/').next()?.parse().ok()
}

/// Did the write fail without telling whether it happened?
fn unknown_outcome(e: &NexudusError) -> bool {
    matches!(
        e,
        NexudusError::Transport { .. }
            | NexudusError::Status {
                status: 500..=599,
                ..
            }
    )
}

impl NexudusProvider {
    pub(super) async fn run(
        &self,
        op: &Operation,
        ids: &Resolved,
    ) -> Result<Outcome, NexudusError> {
        match &op.change {
            Change::Invite(p) => self.invite(business(op, ids)?, p).await,
            Change::UpdateUser { user, after, .. } => {
                let id = login_id(&user.id).ok_or_else(|| unsupported(op))?;
                self.update_login(id, after).await
            }
            Change::Revoke { user, .. } | Change::RemoveUser { user, .. } => {
                let id = login_id(&user.id).ok_or_else(|| unsupported(op))?;
                self.unlink(id, business(op, ids)?).await
            }
            Change::Update { after, .. } => {
                let path = format!("{}/{}", wire::BUSINESSES, business(op, ids)?);
                self.modify(&path, |record| {
                    record["Name"] = json!(after.name);
                })
                .await
            }
            _ => Err(unsupported(op)),
        }
        .map(|()| Outcome::default())
    }

    /// The login with this email, with its businesses, if there is one.
    async fn find_login(&self, email: &str) -> Result<Option<User>, NexudusError> {
        let q = [
            ("page", "1".to_string()),
            ("size", "2".to_string()),
            ("User_Email", email.to_string()),
        ];
        let page: Page<User> = self.client.get(wire::USERS, &q).await?;
        let Some(listed) = page
            .records
            .into_iter()
            .find(|u| u.email.eq_ignore_ascii_case(email))
        else {
            return Ok(None);
        };
        let full: User = self
            .client
            .get(&format!("{}/{}", wire::USERS, listed.id), &[])
            .await?;
        Ok(Some(full))
    }

    /// Links `person` to `business`: a new login, or the business added to the existing one.
    /// The first attempt trusts what the read saw (a login it did not see is created without a
    /// lookup); after an unknown outcome, or when the API says the email is taken, the login
    /// is looked up by email before anything is sent again.
    async fn invite(&self, business: i64, person: &Person) -> Result<(), NexudusError> {
        let admin = person.role == Role::Admin;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let existing = match (attempt, self.known_login(&person.email)) {
                (1, None) => None,
                (1, Some(id)) => Some(
                    self.client
                        .get::<User>(&format!("{}/{}", wire::USERS, id), &[])
                        .await?,
                ),
                _ => self.find_login(&person.email).await?,
            };
            if let Some(u) = existing {
                let mut list = u.businesses.clone().unwrap_or_default();
                if list.contains(&business) && (u.is_admin || !admin) {
                    return Ok(()); // already there: an earlier attempt landed
                }
                if !list.contains(&business) {
                    list.push(business);
                }
                let path = format!("{}/{}", wire::USERS, u.id);
                return self
                    .modify(&path, |record| {
                        record["Businesses"] = json!(list);
                        record["IsAdmin"] = json!(u.is_admin || admin);
                    })
                    .await;
            }
            let body = json!({
                "FullName": person.name,
                "Email": person.email,
                "IsAdmin": admin,
                "Businesses": [business],
            });
            match self
                .client
                .write(Method::POST, wire::USERS, Some(&body), false)
                .await
            {
                Ok(_) => return Ok(()),
                Err(e) if unknown_outcome(&e) && attempt < CREATE_ATTEMPTS => {
                    tracing::warn!(
                        "POST {}: {e}; looking the login up by email before trying again",
                        wire::USERS
                    );
                }
                // Created meanwhile (by this apply, for another account): link it instead.
                Err(e) if email_taken(&e) && attempt < CREATE_ATTEMPTS => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// A login's name and admin flag.
    async fn update_login(&self, id: i64, after: &Membership) -> Result<(), NexudusError> {
        let path = format!("{}/{}", wire::USERS, id);
        self.modify(&path, |record| {
            record["FullName"] = json!(after.name);
            record["IsAdmin"] = json!(after.role == Role::Admin);
        })
        .await
    }

    /// Removes `business` from a login's businesses; a login left with none is deleted.
    async fn unlink(&self, id: i64, business: i64) -> Result<(), NexudusError> {
        let path = format!("{}/{}", wire::USERS, id);
        let record: Value = match self.client.get(&path, &[]).await {
            Ok(r) => r,
            Err(NexudusError::Status { status: 404, .. }) => return Ok(()), // gone already
            Err(e) => return Err(e),
        };
        let list: Vec<i64> = record["Businesses"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_i64).collect())
            .unwrap_or_default();
        if !list.contains(&business) {
            return Ok(());
        }
        let rest: Vec<i64> = list.into_iter().filter(|b| *b != business).collect();
        if rest.is_empty() {
            return match self
                .client
                .write(Method::DELETE, &path, None::<&Value>, true)
                .await
            {
                Ok(_) | Err(NexudusError::Status { status: 404, .. }) => Ok(()),
                Err(e) => Err(e),
            };
        }
        let mut record = record;
        record["Businesses"] = json!(rest);
        self.put(&path, &record).await
    }

    /// Reads the complete record at `path`, lets `change` set the managed fields, and PUTs it
    /// back whole (with its `Id`) to the collection.
    async fn modify(
        &self,
        path: &str,
        change: impl FnOnce(&mut Value),
    ) -> Result<(), NexudusError> {
        let mut record: Value = self.client.get(path, &[]).await?;
        change(&mut record);
        self.put(path, &record).await
    }

    async fn put(&self, path: &str, record: &Value) -> Result<(), NexudusError> {
        let collection = path.rsplit_once('/').map_or(path, |(c, _)| c);
        self.client
            .write(Method::PUT, collection, Some(record), true)
            .await
            .map(|_| ())
    }
}

/// A refusal because a login with the email exists already.
fn email_taken(e: &NexudusError) -> bool {
    let NexudusError::Refused {
        errors, message, ..
    } = e
    else {
        return false;
    };
    let said = |m: &str| {
        let m = m.to_lowercase();
        m.contains("email") && (m.contains("already") || m.contains("exist"))
    };
    errors
        .iter()
        .any(|f| f.property_name.as_deref() == Some("Email") && said(&f.message))
        || said(message)
}

fn unsupported(op: &Operation) -> NexudusError {
    NexudusError::Unsupported(format!("{} {}", op.action().as_str(), op.address))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn live_user_ids_name_the_login() {
        assert_eq!(login_id("12/40"), Some(12));
        assert_eq!(login_id("x/40"), None);
        assert!(unknown_outcome(&NexudusError::Status {
            method: "POST".into(),
            path: "/api/sys/users".into(),
            status: 502,
            body: String::new(),
        }));
        assert!(!unknown_outcome(&NexudusError::Status {
            method: "POST".into(),
            path: "/api/sys/users".into(),
            status: 409,
            body: "{}".into(),
        }));
    }
}
