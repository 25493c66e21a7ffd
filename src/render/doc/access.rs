//! Stage `render`, the JSON access report as a typed document (`access --format json`,
//! `format_version` "1"): every grant of a person to an account, with its source. Pure.

use schemars::JsonSchema;
use serde::Serialize;

use crate::access::{Grant as AccessGrant, Source as AccessSource};
use crate::render::ACCESS_FORMAT_VERSION;
use crate::vocab::{Role, UserStatus};

/// Who reaches which account, and why, as `partnerctl access --format json` writes it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "partnerctl access report")]
pub struct AccessReport<'a> {
    /// The version of this format, bumped on incompatible changes.
    #[schemars(extend("const" = "1"))]
    pub format_version: &'static str,
    /// Where the grants come from: the configuration, or the live state (`--live`).
    #[schemars(extend("enum" = ["configuration", "live state"]))]
    pub origin: &'a str,
    /// One person reaching one account, a row each, grouped by account.
    pub grants: Vec<Grant<'a>>,
}

impl<'a> AccessReport<'a> {
    /// The report of `grants`, from `origin`.
    pub fn new(grants: &'a [AccessGrant], origin: &'a str) -> Self {
        AccessReport {
            format_version: ACCESS_FORMAT_VERSION,
            origin,
            grants: grants.iter().map(Grant::from).collect(),
        }
    }
}

/// Where a grant comes from.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case", tag = "type", content = "from")]
pub enum Source<'a> {
    /// The person is a user of the account itself.
    Direct,
    /// The person is a user of this ancestor (its address, or `partner`), and reaches the
    /// account through it.
    Inherited(&'a str),
}

/// One person reaching one account.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Grant<'a> {
    /// The account reached (`partner` for the partner account itself).
    pub account: &'a str,
    /// Its display name.
    pub account_name: &'a str,
    /// The person's email.
    pub email: &'a str,
    /// Their full name.
    pub name: &'a str,
    /// Their role where the grant comes from.
    pub role: Role,
    /// Direct, or inherited from which account.
    pub source: Source<'a>,
    /// Their invitation state (live state only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "UserStatus")]
    pub status: Option<UserStatus>,
    /// An admin: full control of the account.
    pub admin: bool,
    /// A live user the configuration does not list.
    pub unmanaged: bool,
}

impl<'a> From<&'a AccessGrant> for Grant<'a> {
    fn from(g: &'a AccessGrant) -> Self {
        Grant {
            account: &g.account,
            account_name: &g.account_name,
            email: &g.email,
            name: &g.name,
            role: g.role,
            source: match &g.source {
                AccessSource::Direct => Source::Direct,
                AccessSource::Inherited(from) => Source::Inherited(from),
            },
            status: g.status,
            admin: g.admin,
            unmanaged: g.unmanaged,
        }
    }
}
