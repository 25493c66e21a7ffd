//! Stage `provider`, Nexudus writes: invitations as logins linked to the account's business,
//! user changes and removals and business renames, each as a read-modify-write of the complete
//! record (the API clears what a PUT leaves out, so the record is read as it is, fields this
//! tool does not know included, and only the managed fields are changed).
//!
//! What keeps a report of "done" true:
//! - operations on one login (by email) run one at a time, each starting from the record the
//!   previous one read back, so no operation of this run overwrites another's change;
//! - links change by `AddedBusinesses` / `RemovedBusinesses`, never by writing back a list that
//!   another writer may have changed since it was read;
//! - every write is read back, and an operation is done only when the record shows its effect.
//!
//! There are no idempotency keys: before creating a login again after an unknown outcome, it
//! is looked up by email, so a retry never creates it twice.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::NexudusProvider;
use super::error::NexudusError;
use crate::plan::{Change, Membership, Operation, Person};
use crate::provider::{Outcome, Resolved};
use crate::vocab::Role;
use crate::vocab::rules::{email_key, same_email};
use crate::wire::nexudus::{self as wire, Page, User};

/// Attempts of a login creation whose outcome was unknown.
const CREATE_ATTEMPTS: u32 = 4;

/// The last record of a login this run read (after its own write), if any.
type Slot = Arc<tokio::sync::Mutex<Option<Value>>>;

/// One slot per login (by lower-case email): holding it is the right to write that login.
#[derive(Debug, Default)]
pub(super) struct Logins(Mutex<HashMap<String, Slot>>);

impl Logins {
    fn slot(&self, email: &str) -> Slot {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(email_key(email)).or_default().clone()
    }
}

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
    matches!(e, NexudusError::Transport { .. })
        || matches!(e, NexudusError::Status { status, .. } if status.is_server_error())
}

/// The businesses of a login record.
fn businesses(record: &Value) -> Vec<i64> {
    record["Businesses"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_i64).collect())
        .unwrap_or_default()
}

fn is_admin(record: &Value) -> bool {
    record["IsAdmin"].as_bool().unwrap_or(false)
}

fn users_path(id: i64) -> String {
    format!("{}/{id}", wire::USERS)
}

/// What a login record must show for a write to count as done.
#[derive(Debug, Clone, Copy)]
enum Effect<'a> {
    /// Linked to the business, with this name and admin flag.
    Linked {
        business: i64,
        name: &'a str,
        admin: bool,
    },
    /// Not linked to the business (or gone).
    Unlinked { business: i64 },
    /// This name and admin flag.
    Member { name: &'a str, admin: bool },
}

impl Effect<'_> {
    /// What `record` lacks of this effect, if anything.
    fn missing(&self, record: &Value) -> Option<String> {
        match *self {
            Effect::Linked {
                business,
                name,
                admin,
            } => {
                if businesses(record).contains(&business) {
                    Effect::Member { name, admin }.missing(record)
                } else {
                    Some(format!("business {business} is not among its Businesses"))
                }
            }
            Effect::Unlinked { business } => businesses(record)
                .contains(&business)
                .then(|| format!("business {business} is still among its Businesses")),
            Effect::Member { name, admin } => {
                if record["FullName"].as_str() != Some(name) {
                    Some(format!("FullName is {}, not {name:?}", record["FullName"]))
                } else if is_admin(record) != admin {
                    Some(format!("IsAdmin is {}, not {admin}", is_admin(record)))
                } else {
                    None
                }
            }
        }
    }
}

impl NexudusProvider {
    pub(super) async fn run(
        &self,
        op: &Operation,
        ids: &Resolved,
    ) -> Result<Outcome, NexudusError> {
        if let Change::Update { after, .. } = &op.change {
            return self
                .rename(business(op, ids)?, &after.name)
                .await
                .map(|()| Outcome::default());
        }
        let email = op.change.email().ok_or_else(|| unsupported(op))?;
        // Operations on one login wait for each other (the lock is held across the write and
        // its read-back); operations on other logins go on in parallel.
        let slot = self.logins.slot(email);
        let mut last = slot.lock().await;
        match &op.change {
            Change::Invite(p) => {
                let known = super::known_login(&ids.private, &p.email);
                self.invite(business(op, ids)?, p, known, &mut last).await
            }
            Change::UpdateUser { user, after, .. } => {
                let id = login_id(&user.id).ok_or_else(|| unsupported(op))?;
                self.update_login(id, after, &mut last).await
            }
            Change::Revoke { user, .. } | Change::RemoveUser { user, .. } => {
                let id = login_id(&user.id).ok_or_else(|| unsupported(op))?;
                self.unlink(id, business(op, ids)?, &mut last).await
            }
            _ => Err(unsupported(op)),
        }
        .map(|()| Outcome::default())
    }

    /// The login with this email, with its businesses, if there is one.
    async fn find_login(&self, email: &str) -> Result<Option<Value>, NexudusError> {
        let q = [
            ("page", "1".to_string()),
            ("size", "2".to_string()),
            ("User_Email", email.to_string()),
        ];
        let page: Page<User> = self.client.get(wire::USERS, &q).await?;
        let Some(listed) = page
            .records
            .into_iter()
            .find(|u| same_email(&u.email, email))
        else {
            return Ok(None);
        };
        self.client.get(&users_path(listed.id), &[]).await.map(Some)
    }

    /// The record of login `id`: the one this run last read of it, or a fresh read; `None`
    /// when it is gone.
    async fn record(
        &self,
        id: i64,
        last: &mut Option<Value>,
    ) -> Result<Option<Value>, NexudusError> {
        if let Some(r) = last.take().filter(|r| r["Id"].as_i64() == Some(id)) {
            return Ok(Some(r));
        }
        match self.client.get(&users_path(id), &[]).await {
            Ok(r) => Ok(Some(r)),
            Err(NexudusError::Status {
                status: StatusCode::NOT_FOUND,
                ..
            }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Reads login `id` back after `method` and checks that it shows `effect` (a login that
    /// is gone shows only that it is unlinked); keeps the record for the next operation on it.
    async fn confirm(
        &self,
        method: Method,
        id: i64,
        effect: Effect<'_>,
        last: &mut Option<Value>,
    ) -> Result<(), NexudusError> {
        let path = users_path(id);
        let record = match self.client.get(&path, &[]).await {
            Ok(r) => r,
            Err(NexudusError::Status {
                status: StatusCode::NOT_FOUND,
                ..
            }) if matches!(effect, Effect::Unlinked { .. }) => {
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        if let Some(missing) = effect.missing(&record) {
            return Err(NexudusError::NotApplied {
                method,
                path,
                missing,
            });
        }
        *last = Some(record);
        Ok(())
    }

    /// Links `person` to `business`: a new login, or the business added to the existing one;
    /// the login's name and admin flag become the person's (they are the login's, for all its
    /// businesses: the plan shows that change on the login's other memberships too). The first attempt trusts what the read saw (a login it did not see is
    /// created without a lookup); after an unknown outcome, or when the API says the email is
    /// taken, the login is looked up by email before anything is sent again.
    async fn invite(
        &self,
        business: i64,
        person: &Person,
        known: Option<i64>,
        last: &mut Option<Value>,
    ) -> Result<(), NexudusError> {
        let admin = person.role == Role::Admin;
        let effect = Effect::Linked {
            business,
            name: &person.name,
            admin,
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            let existing = match (attempt, known) {
                (1, None) => last.take(),
                (1, Some(id)) => self.record(id, last).await?,
                _ => self.find_login(&person.email).await?,
            };
            if let Some(mut record) = existing {
                let id = record["Id"].as_i64().unwrap_or_default();
                if effect.missing(&record).is_none() {
                    *last = Some(record);
                    return Ok(()); // already there: an earlier attempt landed
                }
                let added: Vec<i64> = Some(business)
                    .filter(|b| !businesses(&record).contains(b))
                    .into_iter()
                    .collect();
                record["FullName"] = json!(person.name);
                record["IsAdmin"] = json!(admin);
                record["AddedBusinesses"] = json!(added);
                record["RemovedBusinesses"] = json!([]);
                self.put(wire::USERS, &record).await?;
                return self.confirm(Method::PUT, id, effect, last).await;
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
                Ok(w) => {
                    let Some(id) = w.value.map(|v| v.id) else {
                        // No id to read back: find the login by its email.
                        continue;
                    };
                    return self.confirm(Method::POST, id, effect, last).await;
                }
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
    async fn update_login(
        &self,
        id: i64,
        after: &Membership,
        last: &mut Option<Value>,
    ) -> Result<(), NexudusError> {
        let Some(mut record) = self.record(id, last).await? else {
            return Err(NexudusError::Status {
                method: Method::GET,
                path: users_path(id),
                status: StatusCode::NOT_FOUND,
                body: "the login is gone".into(),
            });
        };
        let admin = after.role == Role::Admin;
        record["FullName"] = json!(after.name);
        record["IsAdmin"] = json!(admin);
        // The links stay as they are, whatever they are by now.
        record["AddedBusinesses"] = json!([]);
        record["RemovedBusinesses"] = json!([]);
        self.put(wire::USERS, &record).await?;
        let effect = Effect::Member {
            name: &after.name,
            admin,
        };
        self.confirm(Method::PUT, id, effect, last).await
    }

    /// Removes `business` from a login's businesses; a login left with none is deleted.
    async fn unlink(
        &self,
        id: i64,
        business: i64,
        last: &mut Option<Value>,
    ) -> Result<(), NexudusError> {
        let Some(mut record) = self.record(id, last).await? else {
            return Ok(()); // gone already
        };
        let list = businesses(&record);
        if !list.contains(&business) {
            *last = Some(record);
            return Ok(());
        }
        let effect = Effect::Unlinked { business };
        let path = users_path(id);
        if list.iter().all(|b| *b == business) {
            return match self
                .client
                .write(Method::DELETE, &path, None::<&Value>, true)
                .await
            {
                Ok(_)
                | Err(NexudusError::Status {
                    status: StatusCode::NOT_FOUND,
                    ..
                }) => self.confirm(Method::DELETE, id, effect, last).await,
                Err(e) => Err(e),
            };
        }
        record["AddedBusinesses"] = json!([]);
        record["RemovedBusinesses"] = json!([business]);
        self.put(wire::USERS, &record).await?;
        self.confirm(Method::PUT, id, effect, last).await
    }

    /// Renames a business (a read-modify-write of its complete record), then reads it back.
    async fn rename(&self, business: i64, name: &str) -> Result<(), NexudusError> {
        let path = format!("{}/{business}", wire::BUSINESSES);
        let mut record: Value = self.client.get(&path, &[]).await?;
        record["Name"] = json!(name);
        self.put(wire::BUSINESSES, &record).await?;
        let back: Value = self.client.get(&path, &[]).await?;
        if back["Name"].as_str() != Some(name) {
            return Err(NexudusError::NotApplied {
                method: Method::PUT,
                path,
                missing: format!("Name is {}, not {name:?}", back["Name"]),
            });
        }
        Ok(())
    }

    /// PUTs a complete record (its `Id` in it) to its collection.
    async fn put(&self, collection: &str, record: &Value) -> Result<(), NexudusError> {
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
            method: Method::POST,
            path: "/api/sys/users".into(),
            status: StatusCode::BAD_GATEWAY,
            body: String::new(),
        }));
        assert!(!unknown_outcome(&NexudusError::Status {
            method: Method::POST,
            path: "/api/sys/users".into(),
            status: StatusCode::CONFLICT,
            body: "{}".into(),
        }));
    }

    #[test]
    fn an_effect_is_seen_only_when_the_record_shows_all_of_it() {
        let r = json!({"Id": 7, "FullName": "Jane", "IsAdmin": true, "Businesses": [3, 4]});
        let linked = |business, name, admin| {
            Effect::Linked {
                business,
                name,
                admin,
            }
            .missing(&r)
        };
        assert_eq!(linked(3, "Jane", true), None);
        assert_eq!(
            linked(5, "Jane", true).as_deref(),
            Some("business 5 is not among its Businesses")
        );
        assert_eq!(
            linked(4, "Jane", false).as_deref(),
            Some("IsAdmin is true, not false")
        );
        assert!(linked(4, "Jo", true).is_some());
        assert_eq!(Effect::Unlinked { business: 5 }.missing(&r), None);
        assert!(Effect::Unlinked { business: 4 }.missing(&r).is_some());
        let member = |name, admin| Effect::Member { name, admin }.missing(&r);
        assert_eq!(member("Jane", true), None);
        assert!(member("Jane D", true).is_some());
        assert!(member("Jane", false).is_some());
        // A record without the fields shows nothing.
        let bare = Effect::Linked {
            business: 3,
            name: "",
            admin: false,
        };
        assert!(bare.missing(&json!({})).is_some());
    }

    #[test]
    fn each_login_has_one_slot_whatever_the_case_of_its_email() {
        let logins = Logins::default();
        let a = logins.slot("Jane@Contoso.example");
        let b = logins.slot("jane@contoso.example");
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &logins.slot("bob@contoso.example")));
    }
}
