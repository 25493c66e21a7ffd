//! Stage `live`: a snapshot of one partner's live state, in the provider-neutral shape planning
//! works on. Pure data: building it from the API is the provider's job, so vendor
//! dialects can be added without touching planning.

use std::any::Any;
use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::vocab::{AccountKind, Role, UserStatus};

/// The partner the token belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartnerInfo {
    /// Opaque id; customers' parent and the account of partner users.
    pub id: String,
    /// Display name.
    pub name: String,
    /// `false`: nothing inside customers may change, and no customer be deleted.
    pub manageable: bool,
    /// Support level agreed with the vendor.
    pub support_level: String,
}

/// A contact person.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Contact {
    /// Full name.
    pub name: String,
    /// Email address.
    pub email: String,
}

/// A live customer, network or sub-account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// Opaque id.
    pub id: String,
    /// Kind.
    pub kind: AccountKind,
    /// Parent account id; for customers the partner's id.
    pub parent_id: String,
    /// The config key, when set.
    pub external_key: Option<String>,
    /// Display name.
    pub name: String,
    /// Contact (customers).
    pub contact: Option<Contact>,
    /// Country code.
    pub country: Option<String>,
    /// IANA timezone.
    pub timezone: Option<String>,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// Entity tag for `If-Match`.
    pub etag: String,
    /// `false` (customers only): the vendor lets the partner change nothing inside it, nor
    /// delete it.
    #[serde(default = "manageable_by_default", skip_serializing_if = "is_true")]
    pub manageable: bool,
}

fn manageable_by_default() -> bool {
    true
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's signature
fn is_true(b: &bool) -> bool {
    *b
}

/// A live user or invitation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Opaque id.
    pub id: String,
    /// The account id, or the partner's id for partner users.
    pub account_id: String,
    /// Email as invited.
    pub email: String,
    /// Full name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Invitation state.
    pub status: UserStatus,
    /// Entity tag for `If-Match`.
    pub etag: String,
}

/// A live service on an account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Service {
    /// The account id.
    pub account_id: String,
    /// Catalog type.
    pub service_type: String,
    /// Settings.
    pub settings: serde_json::Map<String, serde_json::Value>,
    /// Entity tag.
    pub etag: String,
}

/// One entry of the service catalog.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceType {
    /// Type name, e.g. `cards`.
    pub name: String,
    /// Human description.
    pub description: String,
    /// JSON Schema of the settings.
    pub settings_schema: serde_json::Value,
}

/// API limits, when the provider reports them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Reads per minute.
    pub reads_per_minute: Option<u32>,
    /// Writes per minute.
    pub writes_per_minute: Option<u32>,
    /// Writes per day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub writes_per_day: Option<u32>,
    /// How long the API's "day" of `writes_per_day` lasts, in milliseconds (86,400,000;
    /// shorter against a sandbox that speeds time up).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub day_millis: Option<u64>,
}

/// Everything planning needs to know about the live side.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// The partner.
    pub partner: PartnerInfo,
    /// All accounts of the partner.
    pub accounts: Vec<Account>,
    /// All users and invitations, partner users included.
    pub users: Vec<User>,
    /// All services.
    pub services: Vec<Service>,
    /// The service catalog.
    pub catalog: Vec<ServiceType>,
    /// Limits, if reported.
    pub limits: Limits,
    /// What reading this snapshot took, when measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read: Option<ReadCost>,
    /// What the provider's read noted for its own later use (never saved).
    #[serde(skip)]
    pub private: Private,
}

/// What a provider's read noted beyond the shared model, for its own use when it executes the
/// operations planned from that read (the Nexudus provider: each login's id by email, so an
/// invitation needs no lookup first). The plan carries it from the snapshot to the apply;
/// every other stage passes it on unopened, and only the provider that made it can read it
/// ([`Private::get`] with its own type). It is not part of the live state: never saved (a
/// saved plan gets it again from the read `apply --plan` makes) and ignored by equality.
#[derive(Clone, Default)]
pub struct Private(Option<Arc<dyn Any + Send + Sync>>);

impl Private {
    /// Keeps `data`.
    pub fn new<T: Any + Send + Sync>(data: T) -> Self {
        Private(Some(Arc::new(data)))
    }

    /// The data, when there is some and it is a `T`.
    pub fn get<T: Any>(&self) -> Option<&T> {
        self.0.as_deref()?.downcast_ref()
    }
}

impl std::fmt::Debug for Private {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Private(..)"
        } else {
            "Private(none)"
        })
    }
}

impl PartialEq for Private {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for Private {}

/// What reading the live state took.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ReadCost {
    /// HTTP requests.
    pub requests: u64,
    /// Wall time, in seconds.
    pub seconds: f64,
}

impl Snapshot {
    /// An empty partner with the given catalog.
    pub fn empty(partner: PartnerInfo, catalog: Vec<ServiceType>) -> Self {
        Snapshot {
            partner,
            accounts: Vec::new(),
            users: Vec::new(),
            services: Vec::new(),
            catalog,
            limits: Limits::default(),
            read: None,
            private: Private::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_data_is_read_back_only_as_its_own_type_and_never_shown_or_saved() {
        #[derive(Debug, PartialEq)]
        struct Notes(u32);
        let p = Private::new(Notes(7));
        assert_eq!(p.get::<Notes>(), Some(&Notes(7)));
        assert_eq!(p.get::<u32>(), None);
        assert_eq!(Private::default().get::<Notes>(), None);
        assert_eq!(format!("{p:?}"), "Private(..)");
        assert_eq!(format!("{:?}", Private::default()), "Private(none)");
        let mut s = Snapshot::empty(
            PartnerInfo {
                id: "p".into(),
                name: "P".into(),
                manageable: true,
                support_level: "standard".into(),
            },
            Vec::new(),
        );
        let plain = s.clone();
        s.private = p;
        assert_eq!(s, plain, "not part of the live state");
        let json = serde_json::to_string(&s).unwrap();
        assert!(!json.contains("private"), "{json}");
        let back: Snapshot = serde_json::from_str(&json).unwrap();
        assert_eq!(back.private.get::<Notes>(), None);
    }
}
