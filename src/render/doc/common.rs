//! Stage `render`, what the JSON documents share: the target, the partner, accounts as
//! operations name them, actions and their symbols. Pure.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Serialize;
use serde::ser::SerializeMap;

use crate::live::{Contact as LiveContact, PartnerInfo};
use crate::plan::{AccountRef as PlanAccountRef, Action as PlanAction};
use crate::provider::Target as ProviderTarget;
use crate::vocab::AccountKind;

/// Where partnerctl pointed, and the partner the token belongs to.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Target<'a> {
    /// The API endpoint's URL.
    pub endpoint: &'a str,
    /// Whether the endpoint is the embedded local sandbox (`--endpoint local`).
    pub embedded: bool,
    /// The partner the token belongs to.
    pub partner: Partner<'a>,
}

impl<'a> Target<'a> {
    /// The target of `target` for `partner`.
    pub fn new(target: &'a ProviderTarget, partner: &'a PartnerInfo) -> Self {
        Target {
            endpoint: &target.endpoint,
            embedded: target.embedded,
            partner: Partner {
                id: &partner.id,
                name: &partner.name,
                manageable: partner.manageable,
                support_level: &partner.support_level,
            },
        }
    }
}

/// The partner account.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Partner<'a> {
    /// Its live id.
    pub id: &'a str,
    /// Its display name.
    pub name: &'a str,
    /// `false`: the vendor lets the partner change nothing inside its customers, nor delete
    /// one.
    pub manageable: bool,
    /// The support level agreed with the vendor.
    pub support_level: &'a str,
}

/// A contact person.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Contact<'a> {
    /// Full name.
    pub name: &'a str,
    /// Email address.
    pub email: &'a str,
}

impl<'a> From<&'a LiveContact> for Contact<'a> {
    fn from(c: &'a LiveContact) -> Self {
        Contact {
            name: &c.name,
            email: &c.email,
        }
    }
}

/// The account an operation acts on (account actions) or in (users, services).
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum AccountRef<'a> {
    /// The partner account itself (its users).
    Partner,
    /// A customer, network or sub-account.
    Account {
        /// Its kind.
        kind: AccountKind,
        /// Its key (the configuration's key, or the live external key), when it has one.
        #[serde(skip_serializing_if = "Option::is_none")]
        #[schemars(with = "String")]
        key: Option<&'a str>,
        /// Its live id; absent for an account the plan creates.
        #[serde(skip_serializing_if = "Option::is_none")]
        #[schemars(with = "String")]
        id: Option<&'a str>,
    },
}

impl<'a> From<&'a PlanAccountRef> for AccountRef<'a> {
    fn from(r: &'a PlanAccountRef) -> Self {
        match r {
            PlanAccountRef::Partner => AccountRef::Partner,
            PlanAccountRef::Account { kind, key, id } => AccountRef::Account {
                kind: *kind,
                key: key.as_deref(),
                id: id.as_deref(),
            },
        }
    }
}

/// What an operation does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Create an account.
    Create,
    /// Set the external key of a matching live account without one (and any differing
    /// fields).
    Adopt,
    /// Change fields of an account.
    Update,
    /// Invite a user.
    Invite,
    /// Re-send an expired invitation.
    Resend,
    /// Change a user's name or role.
    UpdateUser,
    /// Add a service.
    AddService,
    /// Change a service's settings.
    UpdateService,
    /// Revoke a pending or expired invitation (`--prune`).
    Revoke,
    /// Remove an active user (`--prune`).
    RemoveUser,
    /// Remove a service (`--prune`).
    RemoveService,
    /// Delete an account (`--prune-accounts`).
    Delete,
}

impl From<PlanAction> for Action {
    fn from(a: PlanAction) -> Self {
        match a {
            PlanAction::Create => Action::Create,
            PlanAction::Adopt => Action::Adopt,
            PlanAction::Update => Action::Update,
            PlanAction::Invite => Action::Invite,
            PlanAction::Resend => Action::Resend,
            PlanAction::UpdateUser => Action::UpdateUser,
            PlanAction::AddService => Action::AddService,
            PlanAction::UpdateService => Action::UpdateService,
            PlanAction::Revoke => Action::Revoke,
            PlanAction::RemoveUser => Action::RemoveUser,
            PlanAction::RemoveService => Action::RemoveService,
            PlanAction::Delete => Action::Delete,
        }
    }
}

/// The number of operations of each action, in summary order, none for an action the plan
/// does not perform.
#[derive(Debug, Clone)]
pub struct ByAction(pub Vec<(PlanAction, usize)>);

impl Serialize for ByAction {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (action, n) in &self.0 {
            m.serialize_entry(action.as_str(), n)?;
        }
        m.end()
    }
}

impl JsonSchema for ByAction {
    fn schema_name() -> Cow<'static, str> {
        "ByAction".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let action = generator.subschema_for::<Action>();
        json_schema!({
            "type": "object",
            "propertyNames": action,
            "additionalProperties": { "type": "integer", "minimum": 1 },
        })
    }
}
