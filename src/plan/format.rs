//! Stage `plan`, the stable JSON form of an [`Operation`] (JSON plans and saved plans):
//! `{action, address, account, parent?, user_id?, service_type?, etag?, before?, after?,
//! depends_on}`, with `before`/`after` holding the object's relevant fields as the API names
//! them. Serializing borrows the typed operation; deserializing reads that form back into a
//! typed [`Change`]. Pure.

use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use super::operation::{
    AccountFields, AccountRef, Action, Change, Membership, Operation, Person, Settings, UserRef,
};
use crate::live::Contact;
use crate::vocab::address::Address;
use crate::vocab::{AccountKind, UserStatus};

/// An account's fields as the API names them, optionally with `kind` and `external_key`.
struct AccountView<'a> {
    /// `kind` and `external_key` first (creations).
    head: Option<(AccountKind, Option<&'a str>)>,
    fields: &'a AccountFields,
    /// Which fields: those this desired value sets.
    like: &'a AccountFields,
    /// `external_key` last (adoptions): `Some(None)` is `null`.
    tail_key: Option<Option<&'a str>>,
}

impl Serialize for AccountView<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        if let Some((kind, key)) = self.head {
            m.serialize_entry("kind", &kind)?;
            m.serialize_entry("external_key", &key)?;
        }
        m.serialize_entry("name", &self.fields.name)?;
        if self.like.contact.is_some() {
            m.serialize_entry("contact", &self.fields.contact)?;
        }
        if self.like.country.is_some() {
            m.serialize_entry("country", &self.fields.country)?;
        }
        if self.like.timezone.is_some() {
            m.serialize_entry("timezone", &self.fields.timezone)?;
        }
        m.serialize_entry("labels", &self.fields.labels)?;
        if let Some(key) = self.tail_key {
            m.serialize_entry("external_key", &key)?;
        }
        m.end()
    }
}

#[derive(Serialize)]
#[serde(untagged)]
enum View<'a> {
    Account(AccountView<'a>),
    Person(&'a Person),
    Membership(&'a Membership),
    Former {
        email: &'a str,
        name: &'a str,
        role: crate::vocab::Role,
        status: UserStatus,
    },
    Status {
        status: UserStatus,
    },
    Settings {
        settings: &'a Settings,
    },
    Doomed {
        name: &'a str,
        users: usize,
        services: usize,
    },
}

#[derive(Serialize)]
struct OperationOut<'a> {
    action: Action,
    address: &'a str,
    account: &'a AccountRef,
    #[serde(skip_serializing_if = "Option::is_none")]
    parent: Option<&'a AccountRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    service_type: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    etag: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    before: Option<View<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    after: Option<View<'a>>,
    #[serde(skip_serializing_if = "<[usize]>::is_empty")]
    depends_on: &'a [usize],
}

fn account_view<'a>(fields: &'a AccountFields, like: &'a AccountFields) -> AccountView<'a> {
    AccountView {
        head: None,
        fields,
        like,
        tail_key: None,
    }
}

/// `before` and `after` of an operation, as the stable form shows them.
fn views(op: &Operation) -> (Option<View<'_>>, Option<View<'_>>) {
    let key = op.account.key();
    match &op.change {
        Change::Create { fields, .. } => {
            let head = op.account.kind().map(|k| (k, key));
            let after = AccountView {
                head,
                ..account_view(fields, fields)
            };
            (None, Some(View::Account(after)))
        }
        Change::Update { before, after, .. } => (
            Some(View::Account(account_view(before, after))),
            Some(View::Account(account_view(after, after))),
        ),
        Change::Adopt { before, after, .. } => (
            Some(View::Account(AccountView {
                tail_key: Some(None),
                ..account_view(before, after)
            })),
            Some(View::Account(AccountView {
                tail_key: Some(key),
                ..account_view(after, after)
            })),
        ),
        Change::Delete {
            name,
            users,
            services,
            ..
        } => (
            Some(View::Doomed {
                name,
                users: *users,
                services: *services,
            }),
            None,
        ),
        Change::Invite(p) => (None, Some(View::Person(p))),
        Change::Resend { .. } => (
            Some(View::Status {
                status: UserStatus::Expired,
            }),
            Some(View::Status {
                status: UserStatus::Invited,
            }),
        ),
        Change::UpdateUser { before, after, .. } => (
            Some(View::Membership(before)),
            Some(View::Membership(after)),
        ),
        Change::Revoke { was, status, .. } | Change::RemoveUser { was, status, .. } => (
            Some(View::Former {
                email: &was.email,
                name: &was.name,
                role: was.role,
                status: *status,
            }),
            None,
        ),
        Change::AddService { settings, .. } => (None, Some(View::Settings { settings })),
        Change::UpdateService { before, after, .. } => (
            Some(View::Settings { settings: before }),
            Some(View::Settings { settings: after }),
        ),
        Change::RemoveService { settings, .. } => (Some(View::Settings { settings }), None),
    }
}

impl Serialize for Operation {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (before, after) = views(self);
        OperationOut {
            action: self.action(),
            address: &self.address,
            account: &self.account,
            parent: self.parent(),
            user_id: self.change.user().map(|u| u.id.as_str()),
            service_type: self.change.service_type(),
            etag: self.change.etag(),
            before,
            after,
            depends_on: &self.depends_on,
        }
        .serialize(s)
    }
}

#[derive(Deserialize)]
struct OperationIn {
    action: Action,
    address: String,
    account: AccountRef,
    #[serde(default)]
    parent: Option<AccountRef>,
    #[serde(default)]
    user_id: Option<String>,
    #[serde(default)]
    service_type: Option<String>,
    #[serde(default)]
    etag: Option<String>,
    #[serde(default)]
    before: Option<Value>,
    #[serde(default)]
    after: Option<Value>,
    #[serde(default)]
    depends_on: Vec<usize>,
}

#[derive(Deserialize)]
struct AccountIn {
    name: String,
    #[serde(default)]
    contact: Option<Contact>,
    #[serde(default)]
    country: Option<String>,
    #[serde(default)]
    timezone: Option<String>,
    #[serde(default)]
    labels: std::collections::BTreeMap<String, String>,
}

impl From<AccountIn> for AccountFields {
    fn from(a: AccountIn) -> Self {
        AccountFields {
            name: a.name,
            contact: a.contact,
            country: a.country,
            timezone: a.timezone,
            labels: a.labels,
        }
    }
}

#[derive(Deserialize)]
struct FormerIn {
    email: String,
    name: String,
    role: crate::vocab::Role,
    status: UserStatus,
}

#[derive(Deserialize)]
struct SettingsIn {
    #[serde(default)]
    settings: Settings,
}

#[derive(Deserialize)]
struct DoomedIn {
    name: String,
    #[serde(default)]
    users: usize,
    #[serde(default)]
    services: usize,
}

/// Reads the stable form's pieces back into a typed change.
struct Reader {
    op: OperationIn,
}

impl Reader {
    fn missing<E: serde::de::Error>(&self, what: &str) -> E {
        E::custom(format!(
            "operation {} on {} lacks {what}",
            self.op.action.as_str(),
            self.op.address
        ))
    }

    fn field<T: serde::de::DeserializeOwned, E: serde::de::Error>(
        &self,
        v: &Option<Value>,
        what: &str,
    ) -> Result<T, E> {
        let v = v.clone().ok_or_else(|| self.missing::<E>(what))?;
        serde_json::from_value(v).map_err(|e| {
            E::custom(format!(
                "operation {} on {}: {what}: {e}",
                self.op.action.as_str(),
                self.op.address
            ))
        })
    }

    fn etag<E: serde::de::Error>(&self) -> Result<String, E> {
        self.op.etag.clone().ok_or_else(|| self.missing("an etag"))
    }

    fn service_type<E: serde::de::Error>(&self) -> Result<String, E> {
        self.op
            .service_type
            .clone()
            .ok_or_else(|| self.missing("a service type"))
    }

    /// The user, its email read from the address (`….user[EMAIL]`).
    fn user<E: serde::de::Error>(&self) -> Result<UserRef, E> {
        let id = self
            .op
            .user_id
            .clone()
            .ok_or_else(|| self.missing("a user id"))?;
        let address: Address = self
            .op
            .address
            .parse()
            .map_err(|_| self.missing("a user address"))?;
        let email = address
            .email()
            .ok_or_else(|| self.missing("a user address"))?;
        Ok(UserRef {
            id,
            email: email.to_string(),
        })
    }

    fn change<E: serde::de::Error>(&self) -> Result<Change, E> {
        let (before, after) = (&self.op.before, &self.op.after);
        Ok(match self.op.action {
            Action::Create => Change::Create {
                parent: self
                    .op
                    .parent
                    .clone()
                    .ok_or_else(|| self.missing("a parent"))?,
                fields: self.field::<AccountIn, E>(after, "after")?.into(),
            },
            Action::Update => Change::Update {
                etag: self.etag()?,
                before: self.field::<AccountIn, E>(before, "before")?.into(),
                after: self.field::<AccountIn, E>(after, "after")?.into(),
            },
            Action::Adopt => Change::Adopt {
                etag: self.etag()?,
                before: self.field::<AccountIn, E>(before, "before")?.into(),
                after: self.field::<AccountIn, E>(after, "after")?.into(),
            },
            Action::Delete => {
                let d: DoomedIn = self.field(before, "before")?;
                Change::Delete {
                    etag: self.etag()?,
                    name: d.name,
                    users: d.users,
                    services: d.services,
                }
            }
            Action::Invite => Change::Invite(self.field(after, "after")?),
            Action::Resend => Change::Resend { user: self.user()? },
            Action::UpdateUser => Change::UpdateUser {
                user: self.user()?,
                etag: self.etag()?,
                before: self.field(before, "before")?,
                after: self.field(after, "after")?,
            },
            Action::Revoke | Action::RemoveUser => {
                let f: FormerIn = self.field(before, "before")?;
                let (user, etag) = (self.user()?, self.etag()?);
                let was = Person {
                    email: f.email,
                    name: f.name,
                    role: f.role,
                };
                if self.op.action == Action::Revoke {
                    Change::Revoke {
                        user,
                        etag,
                        was,
                        status: f.status,
                    }
                } else {
                    Change::RemoveUser {
                        user,
                        etag,
                        was,
                        status: f.status,
                    }
                }
            }
            Action::AddService => Change::AddService {
                service_type: self.service_type()?,
                settings: self.field::<SettingsIn, E>(after, "after")?.settings,
            },
            Action::UpdateService => Change::UpdateService {
                service_type: self.service_type()?,
                etag: self.etag()?,
                before: self.field::<SettingsIn, E>(before, "before")?.settings,
                after: self.field::<SettingsIn, E>(after, "after")?.settings,
            },
            Action::RemoveService => Change::RemoveService {
                service_type: self.service_type()?,
                etag: self.etag()?,
                settings: self.field::<SettingsIn, E>(before, "before")?.settings,
            },
        })
    }
}

impl<'de> Deserialize<'de> for Operation {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let reader = Reader {
            op: OperationIn::deserialize(d)?,
        };
        let change = reader.change::<D::Error>()?;
        let OperationIn {
            address,
            account,
            depends_on,
            ..
        } = reader.op;
        Ok(Operation {
            address,
            account,
            change,
            depends_on,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_change_without_a_user_address_is_refused() {
        let text = r#"{"action":"resend","address":"customer.a","account":{"type":"account","kind":"customer","key":"a"},"user_id":"u1"}"#;
        let e = serde_json::from_str::<Operation>(text).unwrap_err();
        assert!(e.to_string().contains("lacks a user address"), "{e}");
        let text = r#"{"action":"update","address":"customer.a","account":{"type":"account","kind":"customer","key":"a"},"after":{"name":"A"}}"#;
        let e = serde_json::from_str::<Operation>(text).unwrap_err();
        assert!(e.to_string().contains("lacks an etag"), "{e}");
    }
}
