//! Stage `plan`, the vocabulary of operations: what an operation does ([`Action`]) and which
//! account it acts on or in ([`AccountRef`], with the addresses plans show). Pure.

use serde::{Deserialize, Serialize};

use crate::vocab::AccountKind;
use crate::vocab::address::AccountAddress;

/// What an operation does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Create an account.
    Create,
    /// Change fields of an account.
    Update,
    /// Set the external key of a matching unkeyed live account (and any differing fields).
    Adopt,
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
    /// Revoke a pending or expired invitation (prune).
    Revoke,
    /// Remove an active user (prune).
    RemoveUser,
    /// Remove a service (prune).
    RemoveService,
    /// Delete an account (prune-accounts).
    Delete,
}

impl Action {
    /// Every action, in summary order.
    pub const ALL: [Action; 12] = [
        Action::Create,
        Action::Adopt,
        Action::Update,
        Action::Invite,
        Action::Resend,
        Action::UpdateUser,
        Action::AddService,
        Action::UpdateService,
        Action::Revoke,
        Action::RemoveUser,
        Action::RemoveService,
        Action::Delete,
    ];

    /// The wire/display name (`add-service`).
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Adopt => "adopt",
            Action::Invite => "invite",
            Action::Resend => "resend",
            Action::UpdateUser => "update-user",
            Action::AddService => "add-service",
            Action::UpdateService => "update-service",
            Action::Revoke => "revoke",
            Action::RemoveUser => "remove-user",
            Action::RemoveService => "remove-service",
            Action::Delete => "delete",
        }
    }

    /// Terraform-style symbol: `+` create/invite/add, `~` update, `-` remove/delete,
    /// `>` adopt/resend.
    pub fn symbol(self) -> char {
        match self {
            Action::Create | Action::Invite | Action::AddService => '+',
            Action::Update | Action::UpdateUser | Action::UpdateService => '~',
            Action::Adopt | Action::Resend => '>',
            Action::Revoke | Action::RemoveUser | Action::RemoveService | Action::Delete => '-',
        }
    }

    /// Does it act on the account itself (rather than on a user or service in it)?
    pub fn is_account_action(self) -> bool {
        matches!(
            self,
            Action::Create | Action::Update | Action::Adopt | Action::Delete
        )
    }
}

/// The account an operation acts on or in.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AccountRef {
    /// The partner account itself (partner users).
    Partner,
    /// A customer, network or sub-account.
    Account {
        /// Its kind.
        kind: AccountKind,
        /// Its key (config key or live external key), when it has one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        key: Option<String>,
        /// Its live id; absent for an account this plan creates (resolved by key at apply).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
    },
}

impl AccountRef {
    /// The account's address: `partner`, `customer.contoso`, `network[id=acc_1]`.
    pub fn address(&self) -> String {
        self.account_address().to_string()
    }

    /// The account's address, typed.
    pub fn account_address(&self) -> AccountAddress {
        match self {
            AccountRef::Partner => AccountAddress::Partner,
            AccountRef::Account { kind, key, id } => {
                AccountAddress::of(*kind, key.as_deref(), id.as_deref())
            }
        }
    }

    /// The live id, if known at plan time.
    pub fn id(&self) -> Option<&str> {
        match self {
            AccountRef::Partner => None,
            AccountRef::Account { id, .. } => id.as_deref(),
        }
    }

    /// The key, if any.
    pub fn key(&self) -> Option<&str> {
        match self {
            AccountRef::Partner => None,
            AccountRef::Account { key, .. } => key.as_deref(),
        }
    }

    /// The kind (`None` for the partner).
    pub fn kind(&self) -> Option<AccountKind> {
        match self {
            AccountRef::Partner => None,
            AccountRef::Account { kind, .. } => Some(*kind),
        }
    }

    /// The address of a user of this account: `customer.contoso.user[jane@contoso.example]`.
    pub fn user_address(&self, email: &str) -> String {
        self.account_address().user(email).to_string()
    }

    /// The address of a service of this account: `customer.contoso.service[cards]`.
    pub fn service_address(&self, service_type: &str) -> String {
        self.account_address().service(service_type).to_string()
    }
}
