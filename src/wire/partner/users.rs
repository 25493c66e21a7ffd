//! Wire types, users: roles, lifecycle states, users and their invite/patch bodies.

use serde::{Deserialize, Serialize};

/// Role of a user on an account.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Full control of the account and everything below it.
    Admin,
    /// Regular access.
    #[default]
    Member,
}

impl Role {
    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Member => "member",
        }
    }
}

/// Lifecycle of a user: `invited` until accepted (`active`) or timed out (`expired`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UserStatus {
    /// Invitation sent, not accepted yet.
    Invited,
    /// Invitation accepted.
    Active,
    /// Invitation not accepted in time; can be re-sent.
    Expired,
}

impl UserStatus {
    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::Invited => "invited",
            UserStatus::Active => "active",
            UserStatus::Expired => "expired",
        }
    }
}

/// A user (or pending invitation) on an account or on the partner itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Opaque id.
    pub id: String,
    /// The account (or partner) id the user belongs to.
    pub account_id: String,
    /// Email as invited (compared case-insensitively).
    pub email: String,
    /// Full name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Lifecycle state.
    pub status: UserStatus,
    /// Strong entity tag, quotes included.
    pub etag: String,
}

/// `POST /v1/accounts/{id}/users`: invite someone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserInvite {
    /// Email to invite.
    pub email: String,
    /// Full name.
    pub name: String,
    /// Role (default `member`).
    #[serde(default)]
    pub role: Role,
}

/// `PATCH /v1/users/{id}` (merge semantics).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    /// New full name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// New role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
}
