//! Stage `plan`, operations: what one write changes, typed (Terraform's `Change{Action, Before,
//! After}`). Providers map a [`Change`] to their own wire types; renderers show it; nobody
//! re-reads it by string key. The stable JSON form of an operation lives in `format.rs`. Pure.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use super::action::{AccountRef, Action};
use crate::live::Contact;
use crate::vocab::{Role, UserStatus};

/// The managed fields of an account. In a desired value, `None` means "not managed" (the field
/// is left as it is); in a live value, the account has none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountFields {
    /// Display name.
    pub name: String,
    /// Contact person (customers).
    pub contact: Option<Contact>,
    /// ISO 3166-1 alpha-2 country.
    pub country: Option<String>,
    /// IANA timezone.
    pub timezone: Option<String>,
    /// Labels (the protect label included).
    pub labels: BTreeMap<String, String>,
}

/// One field's value, for display and comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldValue<'a> {
    /// Not set.
    None,
    /// A string.
    Text(&'a str),
    /// A contact person.
    Contact(&'a Contact),
    /// A label map.
    Labels(&'a BTreeMap<String, String>),
}

impl<'a> FieldValue<'a> {
    fn text(v: Option<&'a String>) -> Self {
        v.map_or(FieldValue::None, |s| FieldValue::Text(s))
    }

    /// The text, when the value is one.
    pub fn as_text(self) -> Option<&'a str> {
        match self {
            FieldValue::Text(s) => Some(s),
            _ => None,
        }
    }

    /// The contact person, when the value is one.
    pub fn as_contact(self) -> Option<&'a Contact> {
        match self {
            FieldValue::Contact(c) => Some(c),
            _ => None,
        }
    }

    /// The labels, when the value is a label map.
    pub fn as_labels(self) -> Option<&'a BTreeMap<String, String>> {
        match self {
            FieldValue::Labels(l) => Some(l),
            _ => None,
        }
    }
}

/// A managed field of an account. Providers match it exhaustively, so a field added here is a
/// compile error in every provider until each decides what to do with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AccountField {
    /// The display name.
    Name,
    /// The contact person.
    Contact,
    /// The country.
    Country,
    /// The time zone.
    Timezone,
    /// The labels.
    Labels,
    /// The key recorded on the live account (set by an adoption).
    ExternalKey,
}

impl AccountField {
    /// Its name in the plan's outputs (and the partner API's field name).
    pub fn as_str(self) -> &'static str {
        match self {
            AccountField::Name => "name",
            AccountField::Contact => "contact",
            AccountField::Country => "country",
            AccountField::Timezone => "timezone",
            AccountField::Labels => "labels",
            AccountField::ExternalKey => "external_key",
        }
    }
}

impl std::fmt::Display for AccountField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One changed field of an update: which, the value before and after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldChange<'a> {
    /// The field.
    pub field: AccountField,
    /// Live value.
    pub before: FieldValue<'a>,
    /// Desired value.
    pub after: FieldValue<'a>,
}

impl AccountFields {
    /// The fields a desired value manages, in wire order, with their values (`like` decides
    /// which fields: those it sets; pass `self` for a desired value).
    pub fn entries<'a>(&'a self, like: &AccountFields) -> Vec<(AccountField, FieldValue<'a>)> {
        let mut out = vec![(AccountField::Name, FieldValue::Text(&self.name))];
        if like.contact.is_some() {
            let v = self
                .contact
                .as_ref()
                .map_or(FieldValue::None, FieldValue::Contact);
            out.push((AccountField::Contact, v));
        }
        if like.country.is_some() {
            out.push((
                AccountField::Country,
                FieldValue::text(self.country.as_ref()),
            ));
        }
        if like.timezone.is_some() {
            out.push((
                AccountField::Timezone,
                FieldValue::text(self.timezone.as_ref()),
            ));
        }
        out.push((AccountField::Labels, FieldValue::Labels(&self.labels)));
        out
    }

    /// The live account's values of the fields `desired` manages, the others left unset.
    pub fn managed_by(&self, desired: &AccountFields) -> AccountFields {
        AccountFields {
            name: self.name.clone(),
            contact: desired.contact.as_ref().and(self.contact.clone()),
            country: desired.country.as_ref().and(self.country.clone()),
            timezone: desired.timezone.as_ref().and(self.timezone.clone()),
            labels: self.labels.clone(),
        }
    }

    /// The fields whose live value (`before`) differs from the desired one (`after`), in wire
    /// order.
    pub fn diff<'a>(before: &'a AccountFields, after: &'a AccountFields) -> Vec<FieldChange<'a>> {
        before
            .entries(after)
            .into_iter()
            .zip(after.entries(after))
            .filter(|((_, b), (_, a))| b != a)
            .map(|((field, before), (_, after))| FieldChange {
                field,
                before,
                after,
            })
            .collect()
    }
}

/// A user as invited: email, full name, role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    /// Email address.
    pub email: String,
    /// Full name.
    pub name: String,
    /// Role.
    pub role: Role,
}

/// The mutable part of a user: name and role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Membership {
    /// Full name.
    pub name: String,
    /// Role.
    pub role: Role,
}

/// An existing live user an operation acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRef {
    /// Live id.
    pub id: String,
    /// Email (lower-case, as in the address).
    pub email: String,
}

/// Service settings (a JSON object valid against the type's schema).
pub type Settings = serde_json::Map<String, serde_json::Value>;

/// What one operation changes, with its typed before and after.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// Create an account (kind and key are the operation's account).
    Create {
        /// The parent (the partner for customers).
        parent: AccountRef,
        /// The new account's fields.
        fields: AccountFields,
    },
    /// Change fields of an account.
    Update {
        /// The live entity tag.
        etag: String,
        /// Live values of the managed fields.
        before: AccountFields,
        /// Desired values.
        after: AccountFields,
    },
    /// Set the external key (the operation's account key) of an unkeyed live account, and any
    /// differing fields.
    Adopt {
        /// The live entity tag.
        etag: String,
        /// Live values of the managed fields.
        before: AccountFields,
        /// Desired values.
        after: AccountFields,
    },
    /// Delete an account (its users and services go with it).
    Delete {
        /// The live entity tag.
        etag: String,
        /// Its display name.
        name: String,
        /// Users it holds.
        users: usize,
        /// Services it holds.
        services: usize,
    },
    /// Invite a user.
    Invite(Person),
    /// Re-send an expired invitation.
    Resend {
        /// The user.
        user: UserRef,
    },
    /// Change a user's name or role.
    UpdateUser {
        /// The user.
        user: UserRef,
        /// The live entity tag.
        etag: String,
        /// Live name and role.
        before: Membership,
        /// Desired name and role.
        after: Membership,
    },
    /// Revoke a pending or expired invitation.
    Revoke {
        /// The user.
        user: UserRef,
        /// The live entity tag.
        etag: String,
        /// Who it was.
        was: Person,
        /// Its state.
        status: UserStatus,
    },
    /// Remove an active user.
    RemoveUser {
        /// The user.
        user: UserRef,
        /// The live entity tag.
        etag: String,
        /// Who it was.
        was: Person,
        /// Its state.
        status: UserStatus,
    },
    /// Add a service.
    AddService {
        /// Catalog type.
        service_type: String,
        /// Settings as configured.
        settings: Settings,
    },
    /// Change a service's settings.
    UpdateService {
        /// Catalog type.
        service_type: String,
        /// The live entity tag.
        etag: String,
        /// Live settings.
        before: Settings,
        /// Desired settings.
        after: Settings,
    },
    /// Remove a service.
    RemoveService {
        /// Catalog type.
        service_type: String,
        /// The live entity tag.
        etag: String,
        /// Live settings.
        settings: Settings,
    },
}

impl Change {
    /// The action this change is.
    pub fn action(&self) -> Action {
        match self {
            Change::Create { .. } => Action::Create,
            Change::Update { .. } => Action::Update,
            Change::Adopt { .. } => Action::Adopt,
            Change::Delete { .. } => Action::Delete,
            Change::Invite(_) => Action::Invite,
            Change::Resend { .. } => Action::Resend,
            Change::UpdateUser { .. } => Action::UpdateUser,
            Change::Revoke { .. } => Action::Revoke,
            Change::RemoveUser { .. } => Action::RemoveUser,
            Change::AddService { .. } => Action::AddService,
            Change::UpdateService { .. } => Action::UpdateService,
            Change::RemoveService { .. } => Action::RemoveService,
        }
    }

    /// The live entity tag to send as `If-Match`, for changes to existing objects.
    pub fn etag(&self) -> Option<&str> {
        match self {
            Change::Update { etag, .. }
            | Change::Adopt { etag, .. }
            | Change::Delete { etag, .. }
            | Change::UpdateUser { etag, .. }
            | Change::Revoke { etag, .. }
            | Change::RemoveUser { etag, .. }
            | Change::UpdateService { etag, .. }
            | Change::RemoveService { etag, .. } => Some(etag),
            Change::Create { .. }
            | Change::Invite(_)
            | Change::Resend { .. }
            | Change::AddService { .. } => None,
        }
    }

    /// The existing user a user change acts on.
    pub fn user(&self) -> Option<&UserRef> {
        match self {
            Change::Resend { user }
            | Change::UpdateUser { user, .. }
            | Change::Revoke { user, .. }
            | Change::RemoveUser { user, .. } => Some(user),
            _ => None,
        }
    }

    /// The email of the user a user change concerns (invitations included).
    pub fn email(&self) -> Option<&str> {
        match self {
            Change::Invite(p) => Some(&p.email),
            other => other.user().map(|u| u.email.as_str()),
        }
    }

    /// The service type a service change concerns.
    pub fn service_type(&self) -> Option<&str> {
        match self {
            Change::AddService { service_type, .. }
            | Change::UpdateService { service_type, .. }
            | Change::RemoveService { service_type, .. } => Some(service_type),
            _ => None,
        }
    }
}

/// One write the apply will perform, what it changes, and the operations it must wait for.
#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    /// Stable, unique-per-action address of the object: `customer.contoso`,
    /// `customer.contoso.user[jane@contoso.example]`, `customer.contoso.service[cards]`.
    pub address: String,
    /// The account the operation acts on (account actions) or in (users, services).
    pub account: AccountRef,
    /// What it changes.
    pub change: Change,
    /// Indexes (into the plan's operations) of the operations that must finish first.
    pub depends_on: Vec<usize>,
}

impl Operation {
    /// An operation on `account` with no dependencies; the address follows from the change.
    pub fn new(account: AccountRef, change: Change) -> Self {
        let address = match (change.email(), change.service_type()) {
            (Some(email), _) => account.user_address(email),
            (None, Some(t)) => account.service_address(t),
            (None, None) => account.address(),
        };
        Operation {
            address,
            account,
            change,
            depends_on: Vec::new(),
        }
    }

    /// What it does.
    pub fn action(&self) -> Action {
        self.change.action()
    }

    /// For `create`: the parent account.
    pub fn parent(&self) -> Option<&AccountRef> {
        match &self.change {
            Change::Create { parent, .. } => Some(parent),
            _ => None,
        }
    }

    /// The account fields that change, for account updates and adoptions (the external key
    /// last, for adoptions); empty for other changes.
    pub fn changed_fields(&self) -> Vec<FieldChange<'_>> {
        match &self.change {
            Change::Update { before, after, .. } => AccountFields::diff(before, after),
            Change::Adopt { before, after, .. } => {
                let mut out = AccountFields::diff(before, after);
                out.push(FieldChange {
                    field: AccountField::ExternalKey,
                    before: FieldValue::None,
                    after: self
                        .account
                        .key()
                        .map_or(FieldValue::None, FieldValue::Text),
                });
                out
            }
            _ => Vec::new(),
        }
    }
}
